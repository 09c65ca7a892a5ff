"""The server's own access to the photo bucket, through Django's storage API
(django-storages' S3Storage): check that an upload arrived and how big it is,
read its first bytes, list a prefix, delete, and presign a download.

The only module where the server talks to S3. Photo bytes never pass through
Django on the way in: the browser uploads them straight to S3 with its own
scoped credentials; the server only inspects and, when needed, deletes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage

from photoshare.aws import SANDBOX_ADMIN_KEYS, settings_key
from photoshare.deployment import deployment_get

log = logging.getLogger(__name__)

DOWNLOAD_URL_SECONDS = 600  # how long a presigned photo URL works


class StorageUnavailable(Exception):
    """S3 could not be reached or refused the server; details are logged."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


@cache
def _storage_for(bucket: str, settings_key: tuple[Any, ...]) -> S3Storage:
    mode, endpoint, region, connect, read, attempts = settings_key
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "region_name": region,
        "signature_version": "s3v4",
        "addressing_style": "path" if mode == "local" else "virtual",
        "querystring_auth": True,  # downloads are presigned: the bucket stays private
        "querystring_expire": DOWNLOAD_URL_SECONDS,
        "file_overwrite": False,
        "default_acl": None,
        # A client_config replaces the one S3Storage would build, so it must carry
        # the signature version and addressing style too (SigV2 URLs are refused).
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if mode == "local" else "virtual"},
            connect_timeout=connect,
            read_timeout=read,
            retries={"max_attempts": attempts, "mode": "standard"},
        ),
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if mode == "local":
        options["access_key"] = SANDBOX_ADMIN_KEYS["aws_access_key_id"]
        options["secret_key"] = SANDBOX_ADMIN_KEYS["aws_secret_access_key"]
    return S3Storage(**options)


def _storage() -> S3Storage:
    return _storage_for(deployment_get().bucket, settings_key())


def _guarded(action: str, key: str, call: Any) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        log.warning("S3 %s of %s failed: %s", action, key, exc)
        raise StorageUnavailable(action) from exc


def object_stat(*, key: str) -> StoredObject | None:
    """The object's size, or None when it is not there."""
    storage = _storage()
    if not _guarded("exists", key, lambda: storage.exists(key)):
        return None
    return StoredObject(key=key, size=_guarded("size", key, lambda: storage.size(key)))


def object_head_bytes(*, key: str, count: int) -> bytes:
    """The first `count` bytes. A ranged GET on the storage's bucket: the
    storage API's open() would download the whole photo to read 16 bytes."""
    storage = _storage()
    return _guarded(
        "read", key, lambda: storage.bucket.Object(key).get(Range=f"bytes=0-{count - 1}")["Body"].read(count)
    )


def object_delete(*, key: str) -> None:
    storage = _storage()
    _guarded("delete", key, lambda: storage.delete(key))


def objects_list(*, prefix: str) -> list[str]:
    """Keys directly under `prefix` (which ends with '/')."""
    storage = _storage()
    _, files = _guarded("list", prefix, lambda: storage.listdir(prefix))
    return [prefix + name for name in files]


def object_download_url(*, key: str) -> str:
    """A presigned GET URL, valid DOWNLOAD_URL_SECONDS."""
    storage = _storage()
    return _guarded("presign", key, lambda: storage.url(key))
