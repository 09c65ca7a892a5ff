"""Which lab is applied, as `manage.py lab apply` recorded it in
PHOTOSHARE_LABS_FILE. Every page's banner reads it, so it is read again only
when the file changes (one `os.stat` a page, no AWS call); `lab list` asks
the live deployment instead.

The record names the identity pool it was made for: after `make reset` and a
fresh provision the old record no longer matches, and no banner claims a lab
the new deployment does not have."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

Applied = tuple[int, str]  # (lab number, identity pool ID)
_loaded: tuple[tuple[object, ...], Applied | None] | None = None
_loading = threading.Lock()


def _path() -> Path:
    return Path(settings.PHOTOSHARE_LABS_FILE)


def _parse(path: Path) -> Applied | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the labs record %s: %s", path, exc)
        return None
    if not isinstance(data, dict):
        return None
    number, pool = data.get("applied"), data.get("identity_pool_id")
    if not isinstance(number, int) or isinstance(number, bool) or not isinstance(pool, str):
        return None
    return number, pool


def applied_lab_number(*, identity_pool_id: str) -> int | None:
    """The number of the lab recorded as applied to this identity pool's deployment, or None."""
    global _loaded
    path = _path()
    try:
        status = os.stat(path)
        signature: tuple[object, ...] = (str(path), status.st_ino, status.st_size, status.st_mtime_ns)
    except OSError:
        signature = (str(path), None)
    with _loading:
        if _loaded is None or _loaded[0] != signature:
            _loaded = (signature, _parse(path))
        found = _loaded[1]
    return found[0] if found and found[1] == identity_pool_id else None


def applied_lab_record(number: int | None, *, identity_pool_id: str = "") -> None:
    """Record `number` as applied to this deployment (None: no lab), replacing the file atomically."""
    path = _path()
    if number is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"applied": number, "identity_pool_id": identity_pool_id}) + "\n")
    os.replace(temporary, path)
