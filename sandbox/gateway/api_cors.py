"""CORS for the AWS APIs other than S3 (STS, IAM, Cognito, DynamoDB), which
a browser may call signed with its own credentials: the inspector asks STS
`GetCallerIdentity` who its credentials are, the albums page writes its
items to DynamoDB. All of them are posted to the endpoint's root, so one
preflight answer serves them all.

These APIs answer any origin, with no per-account rules as S3's buckets
have: what authenticates a call is its SigV4 signature, never a cookie, so
no credentials mode is offered and a page of another origin gains nothing it
could not do with the keys themselves. AWS's own browser SDK marks each of
these services as callable from a browser ("cors": true in aws-sdk-js's
apis/metadata.json, https://github.com/aws/aws-sdk-js/blob/master/apis/metadata.json).
The headers exposed are those AWS's JSON APIs expose to pages: the request
ID (which the inspector hands to the sandbox's decisions), the error type,
and DynamoDB's `x-amz-crc32` (the body's checksum, which AWS's browser SDK
checks on every DynamoDB answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.errors import AwsError

StartResponse = Callable[..., Any]

METHODS = ("GET", "POST")  # the query protocol takes both; the JSON protocol POST
EXPOSE = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage", "x-amz-crc32", "Date")
MAX_AGE = 3000  # seconds a browser may cache a preflight's answer
_HEADER_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def preflight(*, origin: str | None, method: str | None, request_headers: str) -> list[tuple[str, str]]:
    """The answer to an `OPTIONS` preflight aimed at an API, or an AwsError (400)."""
    if not origin or not method:
        raise AwsError("BadRequest", "Insufficient information. Origin request header needed.", 400)
    if method.upper() not in METHODS:
        raise AwsError("BadRequest", f"Method {method[:20]!r} is not allowed here.", 400)
    requested = [h.strip().lower() for h in request_headers.split(",") if h.strip()]
    if any(not set(h) <= _HEADER_NAME for h in requested):
        raise AwsError("BadRequest", "Access-Control-Request-Headers names something that is not a header.", 400)
    headers = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", ", ".join(METHODS)),
        ("Access-Control-Max-Age", str(MAX_AGE)),
    ]
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    return headers


def response_headers(*, origin: str | None) -> list[tuple[str, str]]:
    """CORS headers for an actual API call from a page."""
    if not origin:
        return []
    return [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", ", ".join(EXPOSE))]


def adding(start_response: StartResponse, headers: list[tuple[str, str]]) -> StartResponse:
    """`start_response` with these headers added to the answer, whoever writes it."""
    if not headers:
        return start_response

    def wrapped(status: str, response_headers: list[tuple[str, str]], *args: Any) -> Any:
        present = {name.lower() for name, _ in response_headers}
        return start_response(status, [*response_headers, *(h for h in headers if h[0].lower() not in present)], *args)

    return wrapped
