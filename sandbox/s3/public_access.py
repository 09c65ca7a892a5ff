"""Block Public Access for a bucket's policy: which policies are public, and
what `BlockPublicPolicy` and `RestrictPublicBuckets` do about them.

A policy is public when one of its Allow statements grants to everyone (`*`,
`{"AWS": "*"}`, or a `NotPrincipal`) without a condition that pins it to
fixed values of a key that names who or where the caller is: a principal's
account, ARN, organisation or user ID, the source ARN, account, VPC or VPC
endpoint, an access point, a KMS key, or `aws:SourceIp` no wider than /8
(IPv4) or /32 (IPv6). A value with a wildcard or a policy variable is not
fixed; a negated operator (`StringNotEquals`), `...IfExists` and
`ForAllValues:` hold when the key is absent, so they pin nothing either.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status

`BlockPublicPolicy` refuses a `PutBucketPolicy` whose policy is public
(existing policies stay). `RestrictPublicBuckets` makes a bucket whose policy
is public answer only principals of the bucket owner's account: the sandbox
has one account, so it is the anonymous caller whose grants are ignored.
Only the bucket's own settings are read; the sandbox does not serve the
account-level ones (`s3control`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from iampolicy.conditions import as_list
from sandbox import moto_seams

# Condition keys (lower-cased) whose fixed values make a grant to `*` non-public.
_PINNING_KEYS = frozenset(
    {
        "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:principalorgpaths", "aws:userid",
        "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce",
        "aws:sourceorgid", "aws:sourceorgpaths", "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
_PINNING_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_WIDEST = {4: 8, 6: 32}  # shortest prefix per IP version that still pins aws:SourceIp


def _fixed(value: Any) -> bool:
    text = str(value)
    return bool(text) and not any(mark in text for mark in ("*", "?", "${"))


def _narrow_cidr(value: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return network.prefixlen >= _WIDEST[network.version]


def _pinned(condition: Any) -> bool:
    """Whether a statement's Condition limits it to fixed callers or places."""
    if not isinstance(condition, Mapping):
        return False
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            continue
        name = str(operator).lower()
        if name.endswith("ifexists") or name.startswith("forallvalues:"):
            continue
        name = name.removeprefix("foranyvalue:")
        for key, values in block.items():
            listed = as_list(values)
            if not listed:
                continue
            key = str(key).lower()
            if key == "aws:sourceip" and name == "ipaddress" and all(_narrow_cidr(v) for v in listed):
                return True
            if key in _PINNING_KEYS and name in _PINNING_OPERATORS and all(_fixed(v) for v in listed):
                return True
    return False


def _to_everyone(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True  # "everyone except": anonymous callers included
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in [str(v) for v in as_list(principal.get("AWS"))]


@lru_cache(maxsize=256)
def policy_is_public(document: str) -> bool:
    """Whether a bucket policy (JSON text) is public as S3 defines it."""
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError):
        return False
    statements = parsed.get("Statement", []) if isinstance(parsed, Mapping) else []
    return any(
        isinstance(s, Mapping) and s.get("Effect") == "Allow" and _to_everyone(s) and not _pinned(s.get("Condition"))
        for s in as_list(statements)
    )


def blocks_public_policy(bucket: str) -> bool:
    """Whether `PutBucketPolicy` must refuse a public policy on this bucket."""
    block = moto_seams.s3.bucket_public_access_block(bucket)
    return block is not None and block.block_public_policy


def restricts_public_bucket(bucket: str, document: str) -> bool:
    """Whether this bucket's public policy grants nothing to the anonymous caller."""
    block = moto_seams.s3.bucket_public_access_block(bucket)
    return block is not None and block.restrict_public_buckets and policy_is_public(document)


def blocked_message(principal_arn: str, resource: str) -> str:
    """S3's words when BlockPublicPolicy refuses a policy."""
    return (
        f'User: {principal_arn} is not authorized to perform: s3:PutBucketPolicy on resource: "{resource}" '
        "because public policies are blocked by the BlockPublicPolicy block public access setting."
    )
