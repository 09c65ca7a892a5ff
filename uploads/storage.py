"""The server's own access to the photo bucket: check that an upload
arrived, its size, type and version, read its first bytes, walk a prefix and
delete. It presigns nothing: browsers sign their own reads with their own
credentials, so IAM decides who sees what.

The only module where the server talks to S3, through core.aws's one S3
client (endpoint, timeouts, retries), shared by every thread. Every call
here needs what Django's storage API has no words for (versions, ranged
reads, batch deletes), so there is no storage class in between. Photo bytes
never pass through Django on the way in: the browser uploads them straight
to S3 with its own scoped credentials; the server only inspects and, when
needed, deletes.

The bucket keeps versions (`manage.py provision` turns versioning on), and
the owner may write their key again at any time. So every read here names
the version it means: the bytes checked are those of the version the stat
saw, and that version is what the photo is pinned to.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/RetrievingObjectVersions.html

Every function raises core.aws's AwsCallError (Unreachable, AccessDenied...)
when S3 fails, and logs it: callers show one fixed message.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from core.aws import AwsCallError, NotFound, aws_client, aws_errors
from core.deployment import deployment_get

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

DELETE_BATCH = 1000  # DeleteObjects' limit per request

# The null version is what an unversioned bucket stores: the next PUT replaces it.
_UNVERSIONED = (None, "", "null")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str  # as stored with the object (the uploader's Content-Type), lower case, no parameters
    version_id: str | None = None  # None when the bucket does not keep versions
    etag: str = ""  # as S3 gives it, quotes included: equal for byte-identical copies of one upload


def _logged(function: Callable[P, R]) -> Callable[P, R]:
    """S3's failures as core.aws exceptions, logged with the key or prefix."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with aws_errors(function.__name__):
                return function(*args, **kwargs)
        except AwsCallError as exc:
            log.warning("S3 %s of %s failed: %s %s", exc.operation, kwargs.get("key") or kwargs.get("prefix"), exc.code, exc.detail)
            raise

    return wrapper


def _bucket() -> str:
    return deployment_get().bucket


def _client() -> Any:
    # core.aws's one client for the server's S3, built once per configuration
    # and shared by every thread. Not S3Storage's: django-storages keeps a
    # boto3 session and resource per thread, and runserver (like gunicorn's
    # threads) serves each connection on a new thread, so every new
    # connection's first S3 call built one, at hundreds of milliseconds of
    # GIL each; fifty browsers registering at once waited 25 s for it.
    return aws_client("s3")


# HEAD of a version that is not stored: 404, or 400 for a malformed version ID.
_NO_SUCH_VERSION = {"NoSuchVersion", "400", "InvalidArgument"}


@_logged
def object_stat(*, key: str, version_id: str | None = None) -> StoredObject | None:
    """That version's (the current one's if None) size, type, version ID and
    ETag (one HEAD), or None when there is no such object or version."""
    version = {"VersionId": version_id} if version_id else {}
    try:
        with aws_errors("HeadObject"):
            answer = _client().head_object(Bucket=_bucket(), Key=key, **version)
    except NotFound:
        return None
    except AwsCallError as exc:
        if version_id and exc.code in _NO_SUCH_VERSION:
            return None
        raise
    version_id = answer.get("VersionId")
    return StoredObject(
        key=key,
        size=answer["ContentLength"],
        content_type=answer.get("ContentType", "").split(";", 1)[0].strip().lower(),
        version_id=None if version_id in _UNVERSIONED else version_id,
        etag=answer.get("ETag", ""),
    )


@_logged
def object_first_bytes(*, key: str, count: int) -> tuple[StoredObject, bytes] | None:
    """The current version's size, type, version ID and ETag with its first
    `count` bytes, from one ranged GET, or None when there is no such object.
    One answer describes one version, so the bytes are those of the version
    described, however often the owner writes the key meanwhile; and one
    call instead of a HEAD then a GET halves what registration costs."""
    try:
        with aws_errors("GetObject"):
            answer = _client().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{count - 1}")
    except NotFound:
        return None
    except AwsCallError as exc:
        if exc.code != "InvalidRange":
            raise
        stat = object_stat(key=key)  # an empty object has no byte 0 to range over
        return (stat, b"") if stat is not None else None
    with answer["Body"] as body:
        head = body.read(count)
    # "bytes 0-262143/20971520": the object's whole size follows the slash.
    whole = answer.get("ContentRange", "").rpartition("/")[2]
    version_id = answer.get("VersionId")
    stat = StoredObject(
        key=key,
        size=int(whole) if whole.isdigit() else answer["ContentLength"],
        content_type=answer.get("ContentType", "").split(";", 1)[0].strip().lower(),
        version_id=None if version_id in _UNVERSIONED else version_id,
        etag=answer.get("ETag", ""),
    )
    return stat, head


@_logged
def object_delete(*, key: str) -> int:
    """Delete the key for good: every version and delete marker, so nothing of
    it is left to restore or to serve. A plain DeleteObject on a versioned
    bucket only hides the object behind a delete marker. Returns how many
    versions went."""
    client, bucket = _client(), _bucket()
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if entry["Key"] == key:  # the prefix also matches longer keys
                found.append({"Key": key, "VersionId": entry["VersionId"]})
    for start in range(0, len(found), DELETE_BATCH):
        batch = found[start : start + DELETE_BATCH]
        answer = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if answer.get("Errors"):  # a 200 that names the keys it could not delete
            error = answer["Errors"][0]
            raise AwsCallError(error.get("Code", "Unknown"), error.get("Message", ""), operation="DeleteObjects")
    return len(found)


@_logged
def object_digest(*, key: str, version_id: str) -> str:
    """SHA-256 of that version's bytes, streamed. For comparing a copy with a
    multipart upload, whose ETag is not an MD5 of its bytes, so a byte-identical
    CopyObject gets another ETag on AWS."""
    digest = hashlib.sha256()
    body = _client().get_object(Bucket=_bucket(), Key=key, VersionId=version_id)["Body"]
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Walked:
    """A key anywhere under a prefix, with its versions and when its current one was written."""

    key: str
    current: str | None  # None when the key was deleted (a delete marker is current)
    versions: frozenset[str]  # every version still stored, current or not
    modified: dt.datetime | None  # the current version's LastModified; None when deleted


@_logged
def objects_walk(*, prefix: str) -> dict[str, Walked]:
    """Every key under `prefix`, sub-folders (thumbs/) included, with its
    versions: for `manage.py reconcile`, never on a request's path."""
    versions: dict[str, set[str]] = {}
    current: dict[str, tuple[str | None, dt.datetime | None]] = {}
    for page in _client().get_paginator("list_object_versions").paginate(Bucket=_bucket(), Prefix=prefix):
        for version in page.get("Versions", []):
            versions.setdefault(version["Key"], set()).add(version["VersionId"])
            if version.get("IsLatest"):
                current[version["Key"]] = (version["VersionId"], version.get("LastModified"))
        for marker in page.get("DeleteMarkers", []):
            versions.setdefault(marker["Key"], set())
            if marker.get("IsLatest"):
                current[marker["Key"]] = (None, None)
    walked = {}
    for key, found in versions.items():
        version_id, modified = current.get(key, (None, None))
        walked[key] = Walked(key=key, current=version_id, versions=frozenset(found), modified=modified)
    return {
        key: item
        for key, item in walked.items()
        if not key.endswith("/")  # a "folder" object made by a console is no photo
    }


@dataclass(frozen=True)
class Upload:
    """A multipart upload begun and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: dt.datetime


@_logged
def uploads_incomplete(*, prefix: str) -> list[Upload]:
    """The multipart uploads still open under `prefix`; their parts are billed until aborted."""
    found = []
    for page in _client().get_paginator("list_multipart_uploads").paginate(Bucket=_bucket(), Prefix=prefix):
        for upload in page.get("Uploads", []):
            found.append(Upload(key=upload["Key"], upload_id=upload["UploadId"], initiated=upload["Initiated"]))
    return found
