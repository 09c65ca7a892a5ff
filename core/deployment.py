"""The IDs of the provisioned deployment, as the rest of the app reads them.

`manage.py provision` writes them to `PHOTOSHARE_DEPLOYMENT_FILE` (git-ignored,
readable by the owner only, since it holds the app client secret). On AWS they
may come from the environment instead (`COGNITO_USER_POOL_ID`, ...), which
wins over the file. The file is read once per process, and again only when
it changes.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.aws import user_pool_provider_name
from core.env import env_str


@dataclass(frozen=True)
class Deployment:
    user_pool_id: str
    app_client_id: str
    app_client_secret: str
    identity_pool_id: str
    bucket: str
    authenticated_role_arn: str
    unauthenticated_role_arn: str
    moderator_role_arn: str
    # Issue 16. Empty when no OIDC provider is configured (OIDC_ISSUER empty on
    # AWS); absent from a file written before them, which means "run provision".
    team_role_arn: str = ""
    oidc_provider_arn: str = ""
    # Issue 17: the albums table `<name>-albums`. Never empty; absent from an
    # older file, which again means "run provision".
    albums_table: str = ""

    @property
    def provider(self) -> str:
        """The identity pool's login key for this user pool."""
        return user_pool_provider_name(user_pool_id=self.user_pool_id)


# Field -> environment variable that overrides the file.
ENVIRONMENT = {
    "user_pool_id": "COGNITO_USER_POOL_ID",
    "app_client_id": "COGNITO_APP_CLIENT_ID",
    "app_client_secret": "COGNITO_APP_CLIENT_SECRET",
    "identity_pool_id": "COGNITO_IDENTITY_POOL_ID",
}


# Fields whose empty value means "not configured"; they must still be present.
MAY_BE_EMPTY = ("team_role_arn", "oidc_provider_arn")


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ImproperlyConfigured(f"{path} is not valid JSON ({exc}); run `manage.py provision` to rewrite it.") from exc
    return data if isinstance(data, dict) else {}


# The file as last read, and what it was (path, inode, size, mtime) when read.
_loaded: tuple[tuple[object, ...], dict[str, str]] | None = None
_loading = threading.Lock()


def _file_values(path: Path) -> dict[str, str]:
    """The file's values, read again only when the file changed.

    Every sign-in and credentials request needs the deployment, so parsing
    the file each time would cost several reads a request; one `os.stat`
    tells whether it changed. `deployment_save` replaces the file (a new
    inode), and an edit by hand changes its mtime or size."""
    global _loaded
    try:
        status = os.stat(path)
        signature: tuple[object, ...] = (str(path), status.st_ino, status.st_size, status.st_mtime_ns)
    except FileNotFoundError:
        signature = (str(path), None)
    with _loading:
        if _loaded is None or _loaded[0] != signature:
            _loaded = (signature, _read(path))
        return dict(_loaded[1])


def deployment_get() -> Deployment:
    """The current deployment; fails naming the first missing value."""
    data = _file_values(Path(settings.PHOTOSHARE_DEPLOYMENT_FILE))
    for field_name, variable in ENVIRONMENT.items():
        value = env_str(variable, "")
        if value:
            data[field_name] = value
    values = {}
    for f in fields(Deployment):
        value = data.get(f.name)
        if not isinstance(value, str) or (not value and f.name not in MAY_BE_EMPTY):
            source = ENVIRONMENT.get(f.name)
            hint = f" or set {source}" if source else ""
            raise ImproperlyConfigured(
                f"Deployment value {f.name!r} is missing from {settings.PHOTOSHARE_DEPLOYMENT_FILE}: "
                f"run `python manage.py provision`{hint}."
            )
        values[f.name] = value
    return Deployment(**values)


def deployment_save(deployment: Deployment) -> Path:
    """Write the IDs atomically, readable by the owner only."""
    path = Path(settings.PHOTOSHARE_DEPLOYMENT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # the mode above applies only if no leftover .tmp existed
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(deployment), handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path
