"""moto's S3: a bucket's CORS rules, which the gateway applies itself, and an
object's tags, which IAM conditions read, and whether a key exists, which a
conditional copy asks.

moto stores the rules `PutBucketCORS` sets, but answers preflights its own
way; the sandbox answers them exactly as the rules say (`sandbox/s3/cors.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.s3.models import FakeKey, s3_backends

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


def object_tags(bucket: str, key: str, version_id: str | None = None) -> dict[str, str] | None:
    """The tags stored on an object's current version (or on `version_id`),
    for `s3:ExistingObjectTag/<key>`; None when there is no such object or
    it is a delete marker. Read from moto's state, not through its API: no
    second request, and no side effect on the object (moto's own
    `get_object` rewinds the object's body)."""
    backend = s3_backends[ACCOUNT_ID][PARTITION]
    found = backend.buckets.get(bucket)
    if found is None:
        return None
    if version_id is None:
        stored = found.keys.get(key)
    else:
        stored = next((v for v in found.keys.getlist(key, default=[]) if str(v.version_id) == version_id), None)
    if not isinstance(stored, FakeKey):
        return None
    return backend.tagger.get_tag_dict_for_resource(stored.arn)


def object_exists(bucket: str, key: str) -> bool:
    """Whether the key has a current version that is an object (not a delete
    marker), as a conditional write asks."""
    found = s3_backends[ACCOUNT_ID][PARTITION].buckets.get(bucket)
    return found is not None and isinstance(found.keys.get(key), FakeKey)
