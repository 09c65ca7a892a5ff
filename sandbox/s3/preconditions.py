"""Conditional writes: `If-None-Match` on `PutObject`,
`CompleteMultipartUpload` and `CopyObject` (the destination), which
Amplify's `preventOverwrite` sends.

S3 takes only `*` there ("Expects the '*' (asterisk) character", PutObject
API reference): the write fails with 412 `PreconditionFailed` when the key
exists (a delete marker is no object). moto already answers so for a put and
a completion, as S3 does (its XML names the `Condition`), but ignores the
header on a copy and overwrites: the gateway answers the copy itself. Any
other value (an ETag, as `If-None-Match` means on a GET) is refused by S3
with 501 `NotImplemented` (aws/aws-sdk-ruby#3144), where moto would ignore
it and overwrite: the gateway refuses it first.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sandbox import moto_seams
from sandbox.errors import AwsError

NOT_IMPLEMENTED = AwsError("NotImplemented", "A header you provided implies functionality that is not implemented", 501)
PRECONDITION_FAILED = AwsError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)

# Sub-resources a PUT may address instead of the object itself (tagging, ACL, ...).
_SUBRESOURCES = frozenset({"acl", "tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes"})


def _is_object_write(method: str, query: Mapping[str, str], key: str | None) -> bool:
    """PutObject or CopyObject (not a part or a sub-resource), or CompleteMultipartUpload."""
    if key is None or _SUBRESOURCES.intersection(query):
        return False
    if method == "PUT":
        return "uploadId" not in query and "partNumber" not in query
    return method == "POST" and "uploadId" in query


def write_check(
    *,
    method: str,
    bucket: str | None,
    key: str | None,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    exists: Callable[[str, str], bool] = moto_seams.s3.object_exists,
) -> None:
    """Refuse a write whose `If-None-Match` does not hold or is not one S3
    implements, before moto sees it; `exists` says whether a key has a
    current version."""
    value = headers.get("if-none-match")
    if value is None or bucket is None or not _is_object_write(method, query, key):
        return
    if value.strip() != "*":
        raise NOT_IMPLEMENTED
    if "x-amz-copy-source" in headers and exists(bucket, key or ""):
        raise PRECONDITION_FAILED
