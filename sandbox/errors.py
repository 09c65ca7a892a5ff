"""Errors as each AWS protocol spells them.

One failure (a bad signature, a denied action) looks different depending on
the service that refuses it: S3 answers REST-XML, IAM and STS answer the Query
protocol's `ErrorResponse`, Cognito answers JSON with `__type`. SDKs branch on
those codes, so the sandbox must use the same ones, not a generic 403.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any
from xml.sax.saxutils import escape

# Botocore's protocol names, per service the sandbox serves.
PROTOCOLS = {
    "s3": "rest-xml",
    "iam": "query",
    "sts": "query",
    "cognito-idp": "json",
    "cognito-identity": "json",
    "dynamodb": "json",
}

# DynamoDB (JSON 1.0) names its errors with the service framework's namespace,
# `com.amazon.coral.service#AccessDeniedException`, validation errors under
# `com.amazon.coral.validate#`, and its own under `com.amazonaws.dynamodb.v20120810#`
# (moto writes those); SDKs keep what follows the `#`. Its access-denied body
# spells the member `Message`, the others `message`.
_DYNAMODB_NAMESPACES = {"ValidationException": "com.amazon.coral.validate"}
_DYNAMODB_OWN = frozenset({"ResourceNotFoundException", "ResourceInUseException", "ConditionalCheckFailedException"})


def _json_type(code: str, service: str) -> str:
    if service != "dynamodb" or "#" in code:
        return code
    if code in _DYNAMODB_OWN:
        return f"com.amazonaws.dynamodb.v20120810#{code}"
    return f"{_DYNAMODB_NAMESPACES.get(code, 'com.amazon.coral.service')}#{code}"

QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


class AwsError(Exception):
    """A service error with the code, message and status AWS would send."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Failure(Enum):
    """Authentication and authorization failures common to every service."""

    MISSING_AUTH = "missing-auth"
    UNKNOWN_KEY = "unknown-key"
    BAD_TOKEN = "bad-token"
    EXPIRED_TOKEN = "expired-token"
    BAD_SIGNATURE = "bad-signature"
    SKEWED = "skewed"
    PRESIGN_EXPIRED = "presign-expired"
    MALFORMED_AUTH = "malformed-auth"
    ACCESS_DENIED = "access-denied"
    # The request itself, before anyone is authenticated:
    AMBIGUOUS = "ambiguous"  # two signals (target, Action, protocol) name different operations
    UNREAD_BODY = "unread-body"  # a body encoding the gateway does not parse for this protocol
    UNKNOWN_OPERATION = "unknown-operation"
    INVALID_INPUT = "invalid-input"  # parameters moto could not process (the detail is logged)


_SIG_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"

# (code, status, message) per failure and protocol, as the real services send them.
_TABLE: dict[Failure, dict[str, tuple[str, int, str]]] = {
    Failure.MISSING_AUTH: {
        "rest-xml": ("AccessDenied", 403, "Access Denied"),
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "json": ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
    },
    Failure.UNKNOWN_KEY: {
        "rest-xml": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN),
        "json": ("UnrecognizedClientException", 400, _INVALID_TOKEN),
    },
    Failure.BAD_TOKEN: {
        "rest-xml": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN),
        "json": ("UnrecognizedClientException", 400, _INVALID_TOKEN),
    },
    Failure.EXPIRED_TOKEN: {
        "rest-xml": ("ExpiredToken", 400, "The provided token has expired."),
        "query": ("ExpiredToken", 403, _EXPIRED_TOKEN),
        "json": ("ExpiredTokenException", 400, _EXPIRED_TOKEN),
    },
    Failure.BAD_SIGNATURE: {
        "rest-xml": ("SignatureDoesNotMatch", 403, _SIG_MESSAGE),
        "query": ("SignatureDoesNotMatch", 403, _SIG_MESSAGE),
        "json": ("InvalidSignatureException", 400, _SIG_MESSAGE),
    },
    Failure.SKEWED: {
        "rest-xml": (
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        ),
        "query": ("SignatureDoesNotMatch", 403, "Signature expired: the request time is too far from now."),
        "json": ("InvalidSignatureException", 400, "Signature expired: the request time is too far from now."),
    },
    Failure.PRESIGN_EXPIRED: {
        "rest-xml": ("AccessDenied", 403, "Request has expired"),
        "query": ("AccessDenied", 403, "Request has expired"),
        "json": ("AccessDeniedException", 400, "Request has expired"),
    },
    Failure.MALFORMED_AUTH: {
        "rest-xml": ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed."),
        "query": ("IncompleteSignature", 400, "The request signature does not conform to AWS standards."),
        "json": ("IncompleteSignatureException", 400, "The request signature does not conform to AWS standards."),
    },
    Failure.ACCESS_DENIED: {  # S3 too now names who, what and why for same-account denials
        "rest-xml": ("AccessDenied", 403, ""),
        "query": ("AccessDenied", 403, ""),
        "json": ("AccessDeniedException", 400, ""),
    },
}


_TABLE.update({
    Failure.AMBIGUOUS: {
        "rest-xml": ("InvalidRequest", 400, "The request names its operation in more than one way."),
        "query": ("InvalidAction", 400, "The request names its operation in more than one way."),
        "json": ("SerializationException", 400, "The request names its operation in more than one way."),
    },
    Failure.UNREAD_BODY: {
        "rest-xml": ("InvalidRequest", 400, "The request body's encoding is not accepted."),
        "query": ("InvalidAction", 400, "Request bodies must be application/x-www-form-urlencoded."),
        "json": ("SerializationException", 400, "Request bodies must be a JSON object (application/x-amz-json-1.1)."),
    },
    Failure.UNKNOWN_OPERATION: {
        "rest-xml": ("NotImplemented", 501, "A header you provided implies functionality that is not implemented."),
        "query": ("InvalidAction", 400, "The action or operation requested is invalid. Verify that the action is typed correctly."),
        "json": ("UnknownOperationException", 400, "The operation is not known to this service."),
    },
    Failure.INVALID_INPUT: {
        "rest-xml": ("InvalidArgument", 400, "The request's parameters are missing or invalid."),
        "query": ("ValidationError", 400, "The request's parameters are missing or invalid."),
        "json": ("InvalidParameterException", 400, "The request's parameters are missing or invalid."),
    },
})


def wrong_region_error(service: str, region: str, expected: str, *, presigned: bool) -> AwsError:
    """A credential scope for another region, as each service words it: S3
    names both regions, the others only say the scope is wrong."""
    protocol = PROTOCOLS.get(service, "rest-xml")
    if protocol == "rest-xml" and presigned:
        return AwsError(
            "AuthorizationQueryParametersError",
            f"Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{expected}'",
            400,
        )
    if protocol == "rest-xml":
        return AwsError(
            "AuthorizationHeaderMalformed",
            f"The authorization header is malformed; the region '{region}' is wrong; expecting '{expected}'",
            400,
        )
    if protocol == "query":
        return AwsError("SignatureDoesNotMatch", "Credential should be scoped to a valid region.", 403)
    return AwsError("InvalidSignatureException", "Credential should be scoped to a valid region.", 400)


def failure_error(failure: Failure, service: str, *, detail: str = "") -> AwsError:
    """The AwsError `service` sends for `failure`; `detail` fills empty messages
    (a same-account denial names the principal, action and resource)."""
    code, status, message = _TABLE[failure][PROTOCOLS.get(service, "rest-xml")]
    if service == "dynamodb" and failure is Failure.INVALID_INPUT:
        code = "ValidationException"  # DynamoDB has no InvalidParameterException: every bad input is this
    return AwsError(code, message or detail or "Access Denied", status)


def request_id_new(service: str) -> str:
    """A request ID as the service spells them: S3's 16 upper-case hex
    digits, a UUID for the others. The gateway picks it before anything
    answers, so the response, the decision and the trail share it. IDs name
    requests, they guard nothing, so they come from `random`, not from
    `os.urandom` (a system call per request)."""
    if service == "s3":
        return f"{random.getrandbits(64):016X}"
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def render(
    error: AwsError, service: str, *, head: bool = False, request_id: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for `error` in `service`'s protocol."""
    request_id = request_id or request_id_new(service)
    protocol = PROTOCOLS.get(service, "rest-xml")
    if protocol == "json":
        member = "Message" if service == "dynamodb" and error.code == "AccessDeniedException" else "message"
        body = json.dumps({"__type": _json_type(error.code, service), member: error.message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", error.code),
            ("x-amzn-RequestId", request_id),
        ]
    elif protocol == "query":
        namespace = QUERY_NAMESPACES.get(service, "")
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>sandbox</HostId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    if head:  # HEAD responses carry the status only, as S3 does
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return error.status, headers, body


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 411: "Length Required", 501: "Not Implemented"}


def send(
    start_response: Callable[..., Any],
    error: AwsError,
    service: str,
    *,
    head: bool = False,
    extra: Sequence[tuple[str, str]] = (),
    request_id: str | None = None,
) -> list[bytes]:
    """Answer a WSGI request with `error`, in `service`'s protocol."""
    status, headers, body = render(error, service, head=head, request_id=request_id)
    start_response(f"{status} {_REASONS.get(status, 'Error')}", [*headers, *extra])
    return [body]
