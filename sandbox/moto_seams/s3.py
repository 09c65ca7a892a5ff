"""moto's S3: a bucket's CORS rules, its policy and its Block Public Access
settings, which the gateway applies itself.

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

from dataclasses import dataclass

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket, s3_backends

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION


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


def install() -> None:
    """moto's own bucket-policy check off: the gateway's decision stands."""
    FakeBucket.get_permission = _gateway_decided  # type: ignore[method-assign]
