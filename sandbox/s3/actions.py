"""Which IAM actions an S3 REST request needs, on which resources.

AWS authorizes S3 by action and ARN, not by URL: `ListBucket` is checked on
the bucket ARN with `s3:prefix` in the context, `CopyObject` needs
`s3:GetObject` on the source and `s3:PutObject` on the destination, every
multipart step but abort and list-parts is `s3:PutObject`, and a multi-object
delete is one `s3:DeleteObject` per key, each decided on its own: S3 deletes
the keys the caller may delete and lists the others, with `AccessDenied`,
in a `200` answer (`delete_result`).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-actions.html

Object tags reach IAM as condition keys, each only for the actions the
Service Authorization Reference lists it under (list_amazons3.html):
`s3:ExistingObjectTag/<key>` (the stored object's tags) for reads and tag or
ACL operations on an existing object, never for `PutObject` or
`DeleteObject` (one cannot grant an overwrite or a delete by the tags the
object has); `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` (the
tags the request sets) for `PutObject` (`x-amz-tagging` on a put, a copy or
`CreateMultipartUpload`) and `PutObject[Version]Tagging` (its body).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from sandbox import moto_seams
from sandbox.errors import AwsError

# (bucket, key, version ID or None) -> the stored object's tags, None when there is no such object.
TagLookup = Callable[[str, str, "str | None"], "Mapping[str, str] | None"]


@dataclass(frozen=True)
class Need:
    """One permission the request needs."""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    entry: int | None = None  # a multi-object delete's object, by its place in `DeleteRequest.objects`


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
    "object-lock": ("s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration", None),
    "replication": ("s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration", "s3:PutReplicationConfiguration"),
    "policyStatus": ("s3:GetBucketPolicyStatus", None, None),
    "accelerate": ("s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration", None),
    "requestPayment": ("s3:GetBucketRequestPayment", "s3:PutBucketRequestPayment", None),
}

# Object sub-resources: query parameter -> (GET action, PUT action, DELETE action).
_OBJECT_SUBRESOURCES = {
    "acl": ("s3:GetObjectAcl", "s3:PutObjectAcl", None),
    "tagging": ("s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging"),
    "retention": ("s3:GetObjectRetention", "s3:PutObjectRetention", None),
    "legal-hold": ("s3:GetObjectLegalHold", "s3:PutObjectLegalHold", None),
    "attributes": ("s3:GetObjectAttributes", None, None),
}

# The same sub-resources addressed to one version (`?versionId=`) are actions of their own.
_OBJECT_VERSION_SUBRESOURCES = {
    "acl": ("s3:GetObjectVersionAcl", "s3:PutObjectVersionAcl", None),
    "tagging": ("s3:GetObjectVersionTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectVersionTagging"),
}

# Query parameters that modify an operation rather than name a sub-resource.
# Any other parameter is a sub-resource we do not know, and is denied: an
# enforcer that guessed `ListBucket` for `?object-lock` once let it through.
_PARAMETERS = frozenset(
    {
        "prefix", "delimiter", "max-keys", "marker", "list-type", "continuation-token", "start-after",
        "fetch-owner", "encoding-type", "key-marker", "version-id-marker", "upload-id-marker", "max-uploads",
        "versionId", "uploadId", "partNumber", "max-parts", "part-number-marker", "x-id",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
    }
)

_UNKNOWN = "s3:UnsupportedRequest"  # no policy grants it, so unknown requests fail closed
MAX_DELETE_KEYS = 1000  # DeleteObjects' documented limit

_MALFORMED_XML = AwsError(
    "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema", 400
)


@dataclass(frozen=True)
class DeleteRequest:
    """A multi-object delete as the gateway read it; moto is handed exactly
    this, re-serialized, so it cannot delete a key that was not authorized."""

    objects: tuple[tuple[str, str | None], ...]  # (key, version ID)
    quiet: bool

    def only(self, entries: Iterable[int]) -> DeleteRequest:
        """The same request, for the objects at these places only."""
        return DeleteRequest(tuple(self.objects[i] for i in entries), self.quiet)

    def xml(self) -> bytes:
        parts = ["<Delete>", f"<Quiet>{'true' if self.quiet else 'false'}</Quiet>"]
        for key, version in self.objects:
            version_xml = f"<VersionId>{escape(version)}</VersionId>" if version is not None else ""
            parts.append(f"<Object><Key>{escape(key)}</Key>{version_xml}</Object>")
        parts.append("</Delete>")
        return "".join(parts).encode()


def _pick(actions: tuple[str | None, str | None, str | None], method: str) -> str:
    index = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}.get(method)
    return (actions[index] if index is not None else None) or _UNKNOWN


def _copy_source(value: str, object_tags: TagLookup) -> Need | None:
    path, _, query = value.partition("?")
    source = unquote(path).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        return None
    # Copying one version of the source reads that version, as GET ?versionId= does.
    version = next((v for n, v in parse_qsl(query, keep_blank_values=True) if n == "versionId"), None)
    action = "s3:GetObjectVersion" if version is not None else "s3:GetObject"
    return Need(action, object_arn(bucket, key), existing_tag_context(object_tags(bucket, key, version)))


# The object actions `s3:ExistingObjectTag/<key>` is defined for.
_EXISTING_TAG_ACTIONS = frozenset(
    {
        "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectVersionAcl",
        "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes",
        "s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
        "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
    }
)
# The object actions `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` are defined for.
_REQUEST_TAG_ACTIONS = frozenset({"s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"})


def existing_tag_context(tags: Mapping[str, str] | None) -> dict[str, Any]:
    """`s3:ExistingObjectTag/<key>` for each stored tag. IAM matches
    condition key names without regard to case, so the evaluator's context is
    keyed in lower case; the values keep theirs."""
    return {f"s3:existingobjecttag/{k.lower()}": v for k, v in (tags or {}).items()}


def request_tag_context(tags: list[tuple[str, str]] | None) -> dict[str, Any]:
    """`s3:RequestObjectTag/<key>` per tag the request sets, and
    `s3:RequestObjectTagKeys`, multi-valued, their keys; nothing when the
    request sets no tags, so `ForAnyValue:` fails and `ForAllValues:` holds."""
    if tags is None:
        return {}
    context: dict[str, Any] = {f"s3:requestobjecttag/{k.lower()}": v for k, v in tags}
    context["s3:requestobjecttagkeys"] = [k for k, _ in tags]
    return context


_DUPLICATE_TAG = AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)


def _unique(tags: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Refuse a key given twice, as S3 does: moto would keep one of them, and
    which one must not be a guess the policy decision depends on."""
    if len({k for k, _ in tags}) != len(tags):
        raise _DUPLICATE_TAG
    return tags


def header_tags(headers: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """The tags of `x-amz-tagging` (URL query form, `k1=v1&k2=v2`), None without the header."""
    value = headers.get("x-amz-tagging")
    if value is None:
        return None
    return _unique(parse_qsl(value, keep_blank_values=True))


def body_tags(body: bytes) -> list[tuple[str, str]] | None:
    """The tags of a `PutObjectTagging` body (`<Tagging><TagSet><Tag>`), read
    as moto reads them to store them (surrounding whitespace stripped); None
    for a body that is not exactly that, which moto then refuses too, so no
    condition sees tags that are not the ones stored."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError):
        return None
    sets = list(root)
    if _local(root.tag) != "Tagging" or len(sets) != 1 or _local(sets[0].tag) != "TagSet":
        return None
    tags = []
    for tag in sets[0]:
        fields = {_local(el.tag): (el.text or "").strip() for el in tag}
        if _local(tag.tag) != "Tag" or "Key" not in fields or "Value" not in fields:
            return None
        tags.append((fields["Key"], fields["Value"]))
    return _unique(tags)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def delete_request(body: bytes) -> DeleteRequest:
    """The objects a `POST ?delete` names; MalformedXML, as S3 answers, for a
    body that is not `<Delete>` with 1 to 1,000 `<Object><Key>` entries."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError) as exc:
        raise _MALFORMED_XML from exc
    if _local(root.tag) != "Delete":
        raise _MALFORMED_XML
    objects: list[tuple[str, str | None]] = []
    quiet = False
    for child in root:
        name = _local(child.tag)
        if name == "Quiet":
            quiet = (child.text or "").strip().lower() == "true"
        elif name == "Object":
            fields = {_local(el.tag): el.text or "" for el in child}
            if "Key" not in fields or not fields["Key"]:
                raise _MALFORMED_XML
            objects.append((fields["Key"], fields.get("VersionId")))
        else:
            raise _MALFORMED_XML
    if not 1 <= len(objects) <= MAX_DELETE_KEYS:
        raise _MALFORMED_XML
    return DeleteRequest(tuple(objects), quiet)


def needs(
    *,
    method: str,
    raw_path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    object_tags: TagLookup = moto_seams.s3.object_tags,
) -> list[Need]:
    """Every permission the request needs; all must be allowed. `object_tags`
    reads a stored object's tags, for `s3:ExistingObjectTag/<key>`."""
    bucket, key = split_path(raw_path)
    known = _PARAMETERS | set(_BUCKET_SUBRESOURCES if key is None else _OBJECT_SUBRESOURCES) | {"uploads", "delete"}
    unknown = [name for name in query if name not in known and not name.startswith("X-Amz-")]
    if unknown:
        return [Need(_UNKNOWN, bucket_arn(bucket or "*") if key is None else object_arn(bucket or "*", key))]
    if bucket is None:
        return [Need("s3:ListAllMyBuckets", "*")]
    if key is None:
        return _bucket_needs(method, bucket, query, body)
    return [
        _with_tags(need, method, bucket, key, query, headers, body, object_tags)
        for need in _object_needs(method, bucket, key, query, headers, object_tags)
    ]


def _with_tags(
    need: Need,
    method: str,
    bucket: str,
    key: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    object_tags: TagLookup,
) -> Need:
    """The need with the tag condition keys its action is defined for. A
    PUT reads an object only as a copy's source, whose tags `_copy_source`
    has already put in its need."""
    if method == "PUT" and need.action in ("s3:GetObject", "s3:GetObjectVersion"):
        return need
    context = dict(need.context)
    if need.action in _EXISTING_TAG_ACTIONS:
        context.update(existing_tag_context(object_tags(bucket, key, query.get("versionId"))))
    if need.action in _REQUEST_TAG_ACTIONS:
        if need.action == "s3:PutObject":
            # A put, a copy or CreateMultipartUpload sets tags; a part or a completion does not.
            sets_tags = "uploadId" not in query and (method == "PUT" or "uploads" in query)
            context.update(request_tag_context(header_tags(headers) if sets_tags else None))
        else:
            context.update(request_tag_context(body_tags(body)))
    return Need(need.action, need.resource, context) if context else need


def _bucket_needs(method: str, bucket: str, query: dict[str, str], body: bytes) -> list[Need]:
    arn = bucket_arn(bucket)
    for name, actions in _BUCKET_SUBRESOURCES.items():
        if name in query:
            return [Need(_pick(actions, method), arn)]
    if method == "POST" and "delete" in query:
        return [
            Need("s3:DeleteObject" if version is None else "s3:DeleteObjectVersion", object_arn(bucket, key), entry=index)
            for index, (key, version) in enumerate(delete_request(body).objects)
        ]
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


def _object_needs(
    method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str], object_tags: TagLookup
) -> list[Need]:
    arn = object_arn(bucket, key)
    for name, actions in _OBJECT_SUBRESOURCES.items():
        if name in query:
            if "versionId" in query and name in _OBJECT_VERSION_SUBRESOURCES:
                actions = _OBJECT_VERSION_SUBRESOURCES[name]
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
            read = _copy_source(source, object_tags)
            required.insert(0, read if read is not None else Need(_UNKNOWN, arn))
        return required
    return [Need(_UNKNOWN, arn)]


_S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_DELETED_FIELDS = ("Key", "VersionId", "DeleteMarker", "DeleteMarkerVersionId")
_ERROR_FIELDS = ("Key", "VersionId", "Code", "Message")
DENIED = ("AccessDenied", "Access Denied")  # S3's code and message for each refused key


def _element(name: str, fields: tuple[str, ...], values: dict[str, str]) -> str:
    inner = "".join(f"<{f}>{escape(values[f])}</{f}>" for f in fields if values.get(f) is not None)
    return f"<{name}>{inner}</{name}>"


def delete_result(
    *, refused: Iterable[tuple[str, str | None]], quiet: bool, answered: bytes | None = None
) -> bytes:
    """`<DeleteResult>` for a multi-object delete: what moto deleted (from its
    `answered` body; none if moto was not asked) and moto's own errors, then
    the keys refused by authorization. In quiet mode S3 lists errors only."""
    deleted: list[dict[str, str]] = []
    errors: list[dict[str, str]] = []
    if answered:
        root = ElementTree.fromstring(answered)
        for child in root:
            values = {_local(el.tag): el.text or "" for el in child}
            if _local(child.tag) == "Deleted":
                deleted.append(values)
            elif _local(child.tag) == "Error":
                errors.append(values)
    code, message = DENIED
    errors += [{"Key": key, "VersionId": version, "Code": code, "Message": message} for key, version in refused]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f'<DeleteResult xmlns="{_S3_NAMESPACE}">']
    if not quiet:
        parts += [_element("Deleted", _DELETED_FIELDS, d) for d in deleted]
    parts += [_element("Error", _ERROR_FIELDS, e) for e in errors]
    parts.append("</DeleteResult>")
    return "".join(parts).encode()
