"""moto's S3: a bucket's CORS rules, its policy and its Block Public Access
settings, which the gateway applies itself (moto's own policy check off); an
object's tags, which IAM conditions read, and whether a key exists, which a
conditional copy asks; and the stored checksums, returned as S3 returns them
(`install()`).

moto stores the rules `PutBucketCORS` sets, but answers preflights its own
way; the sandbox answers them exactly as the rules say (`sandbox/s3/cors.py`).

moto also checks a bucket's policy on its own, and wrongly: a Deny whose
action and resource match refuses every caller, the account root included,
whoever its `Principal` names, with a bare empty 403; and an unsigned GET is
refused unless the object's ACL is public. The gateway evaluates the bucket
policy with the caller's policies (`sandbox/s3/bucket_policies.py`) before
moto sees the request, so `install()` makes moto's check agree with whatever
the gateway let through.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import moto.s3.models as moto_s3_models
import moto.s3.responses as moto_s3_responses
from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket, FakeKey, s3_backends
from moto.s3.responses import S3Response

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION
from sandbox.s3 import checksums


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int | None


@dataclass(frozen=True)
class PublicAccessBlock:
    """A bucket's own Block Public Access settings (`PutPublicAccessBlock`)."""

    block_public_acls: bool
    ignore_public_acls: bool
    block_public_policy: bool
    restrict_public_buckets: bool


def _bucket(bucket: str) -> FakeBucket | None:
    return s3_backends[ACCOUNT_ID][PARTITION].buckets.get(bucket)


def bucket_cors(bucket: str) -> list[CorsRule] | None:
    """The bucket's CORS rules ([] when it has none), or None if no such bucket."""
    found = _bucket(bucket)
    if found is None:
        return None
    return [
        CorsRule(
            allowed_origins=tuple(rule.allowed_origins or ()),
            allowed_methods=tuple(rule.allowed_methods or ()),
            allowed_headers=tuple(rule.allowed_headers or ()),
            expose_headers=tuple(rule.exposed_headers or ()),
            max_age_seconds=int(rule.max_age_seconds) if rule.max_age_seconds else None,
        )
        for rule in found.cors
    ]


def bucket_policy(bucket: str) -> str | None:
    """The bucket's policy as JSON text, None when it has none (or there is no such bucket)."""
    found = _bucket(bucket)
    policy = found.policy if found is not None else None
    if not policy:
        return None
    return policy.decode("utf-8", "replace") if isinstance(policy, bytes) else str(policy)


def bucket_public_access_block(bucket: str) -> PublicAccessBlock | None:
    """The bucket's Block Public Access settings, None when it has none."""
    found = _bucket(bucket)
    block = found.public_access_block if found is not None else None
    if block is None:
        return None
    return PublicAccessBlock(
        block_public_acls=bool(block.block_public_acls),
        ignore_public_acls=bool(block.ignore_public_acls),
        block_public_policy=bool(block.block_public_policy),
        restrict_public_buckets=bool(block.restrict_public_buckets),
    )


def _gateway_decided(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    """moto asks this before deleting each key of a multi-object delete and
    before every object request (a DENIED is its bare 403; anything but
    PERMITTED refuses an unsigned GET of a private object). The gateway has
    already decided both, with the bucket policy, and handed moto only what
    it allowed."""
    return PermissionResult.PERMITTED


def _stored_key(bucket: str, key: str, version_id: str | None) -> FakeKey | None:
    """The object at `key` (its current version, or `version_id`), None for none or a delete marker."""
    found = _bucket(bucket)
    if found is None:
        return None
    if version_id is None:
        stored = found.keys.get(key)
    else:
        stored = next((v for v in found.keys.getlist(key, default=[]) if str(v.version_id) == version_id), None)
    return stored if isinstance(stored, FakeKey) else None


def object_tags(bucket: str, key: str, version_id: str | None = None) -> dict[str, str] | None:
    """The tags stored on an object's current version (or on `version_id`),
    for `s3:ExistingObjectTag/<key>`; None when there is no such object or
    it is a delete marker. Read from moto's state, not through its API: no
    second request, and no side effect on the object (moto's own
    `get_object` rewinds the object's body)."""
    stored = _stored_key(bucket, key, version_id)
    if stored is None:
        return None
    return s3_backends[ACCOUNT_ID][PARTITION].tagger.get_tag_dict_for_resource(stored.arn)


def object_exists(bucket: str, key: str) -> bool:
    """Whether the key has a current version that is an object (not a delete
    marker), as a conditional write asks."""
    return _stored_key(bucket, key, None) is not None


# -- checksums: what moto stores, returned as S3 returns it -------------------------------


def _qualified(stored: FakeKey) -> str:
    """The object's checksum as S3 returns it: `<base64>-<parts>` for a multipart upload's composite one."""
    if stored.checksum_type == "COMPOSITE":
        return f"{stored.checksum_value}-{stored.checksum_parts}"
    return str(stored.checksum_value)


def _compute_checksum(original: Callable[..., bytes]) -> Callable[..., bytes]:
    """moto's `compute_checksum`, with a real CRC32C: without the optional
    `crc32c` package moto computes a CRC32 under that name, which would make a
    multipart upload's composite CRC32C wrong (its parts' checksums are
    recomputed at completion)."""

    def compute(body: bytes, algorithm: str, encode_base64: bool = True) -> bytes:
        if algorithm != "CRC32C":
            return original(body, algorithm, encode_base64=encode_base64)
        digest = checksums.crc32c(bytes(body))
        return base64.b64encode(digest) if encode_base64 else digest

    return compute


def _get_checksum(original: Callable[..., tuple[str, str | None]]) -> Callable[..., tuple[str, str | None]]:
    """moto keeps an upload's checksum only when `x-amz-sdk-checksum-algorithm`
    names it; a checksum sent by value alone (boto3's `ChecksumCRC32=...`,
    which the gateway has verified) is stored and echoed too, as S3 does."""

    @functools.wraps(original)
    def get_checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        algorithm, value = original(self, response_headers)
        if algorithm:
            return algorithm, value
        for name in (*checksums.ALGORITHMS, *checksums.UNCHECKED):
            given = self.headers.get(f"x-amz-checksum-{name}")
            if given:
                response_headers[f"x-amz-checksum-{name}"] = given
                return name.upper(), given
        return algorithm, value

    return get_checksum


def _head_object(original: Callable[..., Any]) -> Callable[..., Any]:
    """HeadObject with `x-amz-checksum-mode: ENABLED` as GetObject answers
    it: moto's HEAD drops a multipart object's `-<parts>` and its
    `x-amz-checksum-type`."""

    @functools.wraps(original)
    def head_object(self: Any, bucket_name: str, query: dict[str, Any], key_name: str, headers: dict[str, Any]) -> Any:
        status, response_headers, body = original(self, bucket_name, query, key_name, headers)
        if status not in (200, 206) or headers.get("x-amz-checksum-mode") != "ENABLED" or query.get("partNumber"):
            return status, response_headers, body
        stored = _stored_key(bucket_name, key_name, query.get("versionId", [None])[0])
        if stored is not None and stored.checksum_algorithm and stored.checksum_value:
            response_headers[f"x-amz-checksum-{stored.checksum_algorithm.lower()}"] = _qualified(stored)
            if stored.checksum_type:
                response_headers["x-amz-checksum-type"] = stored.checksum_type
        return status, response_headers, body

    return head_object


_RESULT_END = "</CompleteMultipartUploadResult>"


def _key_response_post(original: Callable[..., Any]) -> Callable[..., Any]:
    """CompleteMultipartUpload's answer with the object's checksum and its
    type (`<ChecksumCRC32>…-<parts></ChecksumCRC32><ChecksumType>COMPOSITE`),
    as S3 answers it; moto computes and stores them but leaves them out."""

    @functools.wraps(original)
    def key_response_post(self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str) -> Any:
        status, response_headers, answer = original(self, request, body, bucket_name, query, key_name)
        upload_id = (query.get("uploadId") or [None])[0]
        if status != 200 or upload_id is None:
            return status, response_headers, answer
        stored = _stored_key(bucket_name, key_name, None)
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        completed = stored is not None and stored.multipart is not None and stored.multipart.id == upload_id
        if not completed or not stored.checksum_algorithm or not stored.checksum_value or _RESULT_END not in text:
            return status, response_headers, answer
        name = f"Checksum{stored.checksum_algorithm.upper()}"
        extra = f"<{name}>{escape(_qualified(stored))}</{name}>"
        if stored.checksum_type:
            extra += f"<ChecksumType>{escape(stored.checksum_type)}</ChecksumType>"
        text = text.replace(_RESULT_END, extra + _RESULT_END, 1)
        fixed = text.encode() if isinstance(answer, bytes) else text
        if "content-length" in response_headers:
            response_headers["content-length"] = str(len(text.encode()))
        return status, response_headers, fixed

    return key_response_post


def install() -> None:
    """moto's own bucket-policy check off, so the gateway's decision stands;
    checksums as S3 returns them (see each wrapper). Idempotent only through
    `moto_seams.install()`, which runs this once per process."""
    FakeBucket.get_permission = _gateway_decided  # type: ignore[method-assign]
    moto_s3_models.compute_checksum = _compute_checksum(moto_s3_models.compute_checksum)
    moto_s3_responses.compute_checksum = _compute_checksum(moto_s3_responses.compute_checksum)
    S3Response._get_checksum = _get_checksum(S3Response._get_checksum)
    S3Response.head_object = _head_object(S3Response.head_object)
    S3Response._key_response_post = _key_response_post(S3Response._key_response_post)
