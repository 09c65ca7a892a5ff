"""Which lab is applied, as `manage.py lab apply` recorded it in
PHOTOSHARE_LABS_FILE. Every page's banner reads it, so it is read again only
when the file changes (one `os.stat` a page, no AWS call); `lab list` asks
the live deployment instead."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

_loaded: tuple[tuple[object, ...], int | None] | None = None
_loading = threading.Lock()


def _path() -> Path:
    return Path(settings.PHOTOSHARE_LABS_FILE)


def _parse(path: Path) -> int | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the labs record %s: %s", path, exc)
        return None
    number = data.get("applied") if isinstance(data, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def applied_lab_number() -> int | None:
    """The number of the lab recorded as applied, or None."""
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
        return _loaded[1]


def applied_lab_record(number: int | None) -> None:
    """Record `number` as applied (None: no lab), replacing the file atomically."""
    path = _path()
    if number is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"applied": number}) + "\n")
    os.replace(temporary, path)
