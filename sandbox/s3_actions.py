"""Which IAM actions an S3 REST request needs, on which resources.

AWS authorizes S3 by action and ARN, not by URL: `ListBucket` is checked on
the bucket ARN with `s3:prefix` in the context, `CopyObject` needs
`s3:GetObject` on the source and `s3:PutObject` on the destination, every
multipart step but abort and list-parts is `s3:PutObject`, and a multi-object
delete is one `s3:DeleteObject` per key.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-actions.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree import ElementTree


@dataclass(frozen=True)
class Need:
    """One permission the request needs."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def split_path(raw_path: str) -> tuple[str | None, str | None]:
    """(bucket, key) from a path-style request path."""
    path = unquote(raw_path.split("?", 1)[0]).lstrip("/")
    if not path:
        return None, None
    bucket, _, key = path.partition("/")
    return bucket, (key or None)


# Bucket sub-resources: query parameter -> (GET action, PUT action, DELETE action).
_BUCKET_SUBRESOURCES = {
    "cors": ("s3:GetBucketCORS", "s3:PutBucketCORS", "s3:PutBucketCORS"),
    "policy": ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
    "lifecycle": ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    "publicAccessBlock": ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    "acl": ("s3:GetBucketAcl", "s3:PutBucketAcl", None),
    "versioning": ("s3:GetBucketVersioning", "s3:PutBucketVersioning", None),
    "tagging": ("s3:GetBucketTagging", "s3:PutBucketTagging", "s3:PutBucketTagging"),
    "encryption": ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
    "ownershipControls": ("s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    "location": ("s3:GetBucketLocation", None, None),
    "uploads": ("s3:ListBucketMultipartUploads", None, None),
    "versions": ("s3:ListBucketVersions", None, None),
    "notification": ("s3:GetBucketNotification", "s3:PutBucketNotification", None),
    "website": ("s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite"),
    "logging": ("s3:GetBucketLogging", "s3:PutBucketLogging", None),
}

# Object sub-resources: query parameter -> (GET action, PUT action, DELETE action).
_OBJECT_SUBRESOURCES = {
    "acl": ("s3:GetObjectAcl", "s3:PutObjectAcl", None),
    "tagging": ("s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging"),
    "retention": ("s3:GetObjectRetention", "s3:PutObjectRetention", None),
    "legal-hold": ("s3:GetObjectLegalHold", "s3:PutObjectLegalHold", None),
    "attributes": ("s3:GetObjectAttributes", None, None),
}

_UNKNOWN = "s3:UnsupportedRequest"  # no policy grants it, so unknown requests fail closed


def _pick(actions: tuple[str | None, str | None, str | None], method: str) -> str:
    index = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}.get(method)
    return (actions[index] if index is not None else None) or _UNKNOWN


def _copy_source(value: str) -> Need | None:
    source = unquote(value.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        return None
    return Need("s3:GetObject", object_arn(bucket, key))


def _delete_keys(body: bytes) -> list[str] | None:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]


def needs(
    *, method: str, raw_path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> list[Need]:
    """Every permission the request needs; all must be allowed."""
    bucket, key = split_path(raw_path)
    if bucket is None:
        return [Need("s3:ListAllMyBuckets", "*")]
    if key is None:
        return _bucket_needs(method, bucket, query, body)
    return _object_needs(method, bucket, key, query, headers)


def _bucket_needs(method: str, bucket: str, query: dict[str, str], body: bytes) -> list[Need]:
    arn = bucket_arn(bucket)
    for name, actions in _BUCKET_SUBRESOURCES.items():
        if name in query:
            return [Need(_pick(actions, method), arn)]
    if method == "POST" and "delete" in query:
        keys = _delete_keys(body)
        if keys is None:
            return [Need(_UNKNOWN, arn)]
        return [Need("s3:DeleteObject", object_arn(bucket, k)) for k in keys]
    if method in ("GET", "HEAD"):
        context = {
            f"s3:{name}": query[param]
            for name, param in (("prefix", "prefix"), ("delimiter", "delimiter"), ("max-keys", "max-keys"))
            if param in query
        }
        return [Need("s3:ListBucket", arn, context)]
    if method == "PUT":
        return [Need("s3:CreateBucket", arn)]
    if method == "DELETE":
        return [Need("s3:DeleteBucket", arn)]
    return [Need(_UNKNOWN, arn)]


def _object_needs(method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]) -> list[Need]:
    arn = object_arn(bucket, key)
    for name, actions in _OBJECT_SUBRESOURCES.items():
        if name in query:
            return [Need(_pick(actions, method), arn)]
    if "uploadId" in query:
        if method == "DELETE":
            return [Need("s3:AbortMultipartUpload", arn)]
        if method == "GET":
            return [Need("s3:ListMultipartUploadParts", arn)]
    if method in ("GET", "HEAD"):
        return [Need("s3:GetObjectVersion" if "versionId" in query else "s3:GetObject", arn)]
    if method == "DELETE":
        return [Need("s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject", arn)]
    if method == "POST" and ("uploads" in query or "uploadId" in query):
        return [Need("s3:PutObject", arn)]  # CreateMultipartUpload, CompleteMultipartUpload
    if method == "PUT":
        required = [Need("s3:PutObject", arn)]  # PutObject, UploadPart, and the write side of a copy
        source = headers.get("x-amz-copy-source")
        if source is not None:
            read = _copy_source(source)
            required.insert(0, read if read is not None else Need(_UNKNOWN, arn))
        return required
    return [Need(_UNKNOWN, arn)]
