"""The server's own access to the photo bucket, through Django's storage API
(django-storages' S3Storage): check that an upload arrived, its size, type
and version, read its first bytes, list a prefix, delete, and presign a
download.

The only module where the server talks to S3. Photo bytes never pass through
Django on the way in: the browser uploads them straight to S3 with its own
scoped credentials; the server only inspects and, when needed, deletes.

The bucket keeps versions (`manage.py provision` turns versioning on), and
the owner may write their key again at any time. So every read here names
the version it means: the bytes checked are those of the version the stat
saw, and a download URL is for one version, served with the type the server
decided (`response-content-type`), whatever the owner wrote since.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/RetrievingObjectVersions.html
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.config import Config
from django.conf import settings
from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage

from core.aws import SANDBOX_ADMIN_KEYS, settings_key
from core.deployment import deployment_get

log = logging.getLogger(__name__)

DOWNLOAD_URL_SECONDS = 600  # how long a presigned photo URL works


class StorageUnavailable(Exception):
    """S3 could not be reached or refused the server; details are logged."""


# The null version is what an unversioned bucket stores: the next PUT replaces it.
_UNVERSIONED = (None, "", "null")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str  # as stored with the object (the uploader's Content-Type), lower case, no parameters
    version_id: str | None = None  # None when the bucket does not keep versions


@dataclass(frozen=True)
class Listed:
    """A key under a prefix, with its versions."""

    key: str
    current: str | None  # the version a plain GET returns; None when the key was deleted (a delete marker)
    versions: frozenset[str]  # every version still stored, current or not


@cache
def _storage_for(bucket: str, settings_key: tuple[Any, ...], endpoint: str | None) -> S3Storage:
    mode, _, region, connect, read, attempts = settings_key
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
    return _storage_for(deployment_get().bucket, settings_key(), settings.AWS_ENDPOINT_URL)


def _browser_storage() -> S3Storage:
    """For presigning only (no request leaves the server): a URL is signed for
    the host the browser will send it to, which locally is not the server's."""
    endpoint = settings.AWS_BROWSER_ENDPOINT_URL or settings.AWS_ENDPOINT_URL
    return _storage_for(deployment_get().bucket, settings_key(), endpoint)


def _client(storage: S3Storage) -> Any:
    return storage.connection.meta.client


def _guarded(action: str, key: str, call: Any) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        log.warning("S3 %s of %s failed: %s", action, key, exc)
        raise StorageUnavailable(action) from exc


def object_stat(*, key: str) -> StoredObject | None:
    """The current version's size, type and version ID (one HEAD), or None
    when the key has no object (never written, or deleted)."""
    storage = _storage()

    def head() -> dict[str, Any] | None:
        try:
            return _client(storage).head_object(Bucket=storage.bucket_name, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    answer = _guarded("stat", key, head)
    if answer is None:
        return None
    version_id = answer.get("VersionId")
    return StoredObject(
        key=key,
        size=answer["ContentLength"],
        content_type=answer.get("ContentType", "").split(";", 1)[0].strip().lower(),
        version_id=None if version_id in _UNVERSIONED else version_id,
    )


def object_head_bytes(*, key: str, count: int, version_id: str | None = None) -> bytes:
    """The first `count` bytes of that version (of the current one if None).
    A ranged GET: the storage API's open() would download the whole photo to
    read 16 bytes."""
    storage = _storage()
    version = {"VersionId": version_id} if version_id else {}
    return _guarded(
        "read",
        key,
        lambda: _client(storage)
        .get_object(Bucket=storage.bucket_name, Key=key, Range=f"bytes=0-{count - 1}", **version)["Body"]
        .read(count),
    )


DELETE_BATCH = 1000  # DeleteObjects' limit per request


def object_delete(*, key: str) -> int:
    """Delete the key for good: every version and delete marker, so nothing of
    it is left to restore or to serve. A plain DeleteObject on a versioned
    bucket only hides the object behind a delete marker. Returns how many
    versions went."""
    storage = _storage()
    client = _client(storage)

    def versions() -> list[dict[str, str]]:
        found = []
        for page in client.get_paginator("list_object_versions").paginate(Bucket=storage.bucket_name, Prefix=key):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry["Key"] == key:  # the prefix also matches longer keys
                    found.append({"Key": key, "VersionId": entry["VersionId"]})
        return found

    def delete(batch: list[dict[str, str]]) -> None:
        answer = client.delete_objects(Bucket=storage.bucket_name, Delete={"Objects": batch, "Quiet": True})
        if answer.get("Errors"):
            raise ClientError({"Error": answer["Errors"][0]}, "DeleteObjects")

    found = _guarded("list versions", key, versions)
    for start in range(0, len(found), DELETE_BATCH):
        batch = found[start : start + DELETE_BATCH]
        _guarded("delete", key, lambda: delete(batch))
    return len(found)


def objects_list(*, prefix: str) -> dict[str, Listed]:
    """Keys directly under `prefix` (which ends with '/'), with their versions:
    one ListObjectVersions listing, not a request per key."""
    storage = _storage()

    def listing() -> dict[str, Listed]:
        current: dict[str, str | None] = {}
        versions: dict[str, set[str]] = {}
        pages = _client(storage).get_paginator("list_object_versions").paginate(
            Bucket=storage.bucket_name, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for version in page.get("Versions", []):
                versions.setdefault(version["Key"], set()).add(version["VersionId"])
                if version.get("IsLatest"):
                    current[version["Key"]] = version["VersionId"]
            for marker in page.get("DeleteMarkers", []):
                versions.setdefault(marker["Key"], set())
                if marker.get("IsLatest"):
                    current[marker["Key"]] = None
        return {
            key: Listed(key=key, current=current.get(key), versions=frozenset(found))
            for key, found in versions.items()
            if key != prefix  # a "folder" object made by a console is no photo
        }

    return _guarded("list", prefix, listing)


def object_download_url(*, key: str, content_type: str, version_id: str | None = None) -> str:
    """A presigned GET URL for the browser, valid DOWNLOAD_URL_SECONDS, for
    that version only, and served as `content_type` inline whatever type the
    uploader stored: S3 answers with the response-* values the URL carries.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"""
    if not content_type.startswith("image/"):
        raise ValueError(f"refusing to serve {key} as {content_type!r}: photos are served as image/* only")
    parameters = {"ResponseContentType": content_type, "ResponseContentDisposition": "inline"}
    if version_id:
        parameters["VersionId"] = version_id
    storage = _browser_storage()
    return _guarded("presign", key, lambda: storage.url(key, parameters=parameters))
