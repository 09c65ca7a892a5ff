"""moto's S3: a bucket's CORS rules, which the gateway applies itself.

moto stores the rules `PutBucketCORS` sets, but answers preflights its own
way; the sandbox answers them exactly as the rules say (`sandbox/s3/cors.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.s3.models import s3_backends

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int | None


def bucket_cors(bucket: str) -> list[CorsRule] | None:
    """The bucket's CORS rules ([] when it has none), or None if no such bucket."""
    found = s3_backends[ACCOUNT_ID][PARTITION].buckets.get(bucket)
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
