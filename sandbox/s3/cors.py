"""S3 CORS exactly as the bucket's configuration says, and nothing more.

A browser uploading straight to S3 sends a preflight for `PUT` with the
`authorization`, `x-amz-*` and `content-type` headers, and can only read the
`ETag` of the answer if the rule exposes it. Serving a blanket
`Access-Control-Allow-Origin: *` locally would hide a missing rule until the
first deploy, so the sandbox answers only what the rules allow.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
"""

from __future__ import annotations

import re
from functools import lru_cache

from sandbox.errors import AwsError
from sandbox.moto_seams.s3 import CorsRule, bucket_cors

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)


@lru_cache(maxsize=512)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE)


def _matches(patterns: tuple[str, ...], value: str) -> bool:
    return any(_wildcard(p).fullmatch(value) for p in patterns)


def _rule_for(rules: list[CorsRule], origin: str, method: str, headers: list[str]) -> CorsRule | None:
    for rule in rules:
        if (
            _matches(rule.allowed_origins, origin)
            and method in rule.allowed_methods
            and all(_matches(rule.allowed_headers, h) for h in headers)
        ):
            return rule
    return None


def _headers(rule: CorsRule, origin: str) -> list[tuple[str, str]]:
    any_origin = rule.allowed_origins == ("*",)
    out = [
        ("Access-Control-Allow-Origin", "*" if any_origin else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if not any_origin:
        out.append(("Access-Control-Allow-Credentials", "true"))
    if rule.expose_headers:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    return out


def preflight(bucket: str | None, *, origin: str | None, method: str | None, request_headers: str) -> list[tuple[str, str]]:
    """The CORS headers answering an `OPTIONS` preflight, or an AwsError (403)."""
    if not bucket or not origin or not method:
        raise AwsError("BadRequest", "Insufficient information. Origin request header needed.", 400)
    rules = bucket_cors(bucket)
    if rules is None:
        raise AwsError("AccessForbidden", "CORSResponse: Bucket not found", 403)
    if not rules:
        raise AwsError("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", 403)
    requested = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
    rule = _rule_for(rules, origin, method, requested)
    if rule is None:
        raise AwsError("AccessForbidden", _NOT_ALLOWED, 403)
    headers = _headers(rule, origin)
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    return headers


def response_headers(bucket: str | None, *, origin: str | None, method: str) -> list[tuple[str, str]]:
    """CORS headers for an actual (non-preflight) request, if a rule allows it."""
    if not bucket or not origin:
        return []
    rule = _rule_for(bucket_cors(bucket) or [], origin, method, [])
    return _headers(rule, origin) if rule else []
