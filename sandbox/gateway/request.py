"""What a request is, decided once: its service, operation and parameters.

The service comes from the signature's scope (what the caller signed), or,
unsigned, from `X-Amz-Target` or the Query API's `Version`; the operation
comes only from the place that service's protocol puts it: `X-Amz-Target`
for JSON, `Action` for Query, method and path for S3. A request whose signals
disagree (a target and an `Action`, a JSON protocol and a form body, a `Host`
naming another bucket) is refused, never guessed at.

moto reads the operation from `?Action=`, the form body, the JSON body and
`X-Amz-Target`, and the bucket from `Host`. Handed the request as received, it
could run something other than what was authorized (request smuggling), so
`moto_environ` rebuilds the request from the decision alone: fresh method and
path, parameters re-serialized, a neutral `Host`.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes, urlencode

import botocore.session

from sandbox import moto_seams, sigv4
from sandbox.errors import AwsError, Failure, failure_error
from sandbox.s3 import actions as s3_actions
from sandbox.s3 import checksums as s3_checksums

log = logging.getLogger("sandbox")

SERVED = ("s3", "iam", "sts", "cognito-idp", "cognito-identity", "dynamodb")
MAX_BODY = 256 * 1024 * 1024  # bytes; the sandbox holds request bodies in memory
_TARGETS = {
    "AWSCognitoIdentityService": "cognito-identity",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "DynamoDB_20120810": "dynamodb",
}
TARGET_PREFIX = {service: prefix for prefix, service in _TARGETS.items()}
_QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}  # the API version names the service
VERSION_OF = {service: version for version, service in _QUERY_VERSIONS.items()}
FORM = "application/x-www-form-urlencoded"  # the only body the Query protocol (iam, sts) accepts
_JSON_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"})
# The JSON protocol version each service's SDKs send, and so what moto is handed.
JSON_VERSION = {"dynamodb": "application/x-amz-json-1.0"}
MAX_JSON_DEPTH = 64  # levels; no Cognito request nests deeper than a handful
# DynamoDB items nest maps and lists up to 32 levels, two JSON levels each (`{"M": {"a": ...}}`), inside a request.
MAX_DYNAMODB_DEPTH = 2 * 32 + 8
_NEUTRAL_HOST = "localhost"  # what moto sees: path-style S3, and no region for it to read
WELL_KNOWN = re.compile(r"^/[\w-]+/\.well-known/(jwks\.json|openid-configuration)$")


@lru_cache(maxsize=None)
def unsigned_operations(service: str) -> frozenset[str]:
    """Operations AWS serves without a signature, from botocore's own models
    (GetId, InitiateAuth, AssumeRoleWithWebIdentity, ...)."""
    model = botocore.session.get_session().get_service_model(service)
    return frozenset(
        name
        for name in model.operation_names
        if model.operation_model(name).auth_type == "none"
        or model.operation_model(name).auth == ["smithy.api#noAuth"]
    )


@lru_cache(maxsize=None)
def operations(service: str) -> frozenset[str]:
    """Every operation the service has, from botocore's model: a target or
    `Action` naming anything else is refused before anyone sees it."""
    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


@dataclass
class Request:
    """A request as received, and what `classify` decided it is."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    service: str = "s3"
    operation: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    signed_region: str | None = None  # the credential scope's region, when signed
    payload: bytes | None = None  # an S3 body as moto must store it (decoded aws-chunked, rebuilt delete)
    streamed: sigv4.Streamed | None = None  # an aws-chunked body taken apart, for its chunk signatures and trailer
    # Chosen by the gateway before anything answers; the response, its decision and its trail record carry it.
    request_id: str = ""

    @property
    def query_dict(self) -> dict[str, str]:
        return {k: v for k, v in reversed(self.query)}


def _split_query(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


BAD_REQUEST = AwsError("BadRequest", "An error occurred when parsing the HTTP request.", 400)
_TOO_LARGE = AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
_INCOMPLETE = AwsError("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", 400)
_TIMEOUT = AwsError(
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period.",
    400,
)


def read_body(environ: Mapping[str, Any], *, limit: int = MAX_BODY) -> bytes:
    """The whole body, or an AwsError after which the connection must close
    (the rest of the body, if any, is still on the wire). Bounded in size;
    the server's socket timeout bounds the time a slow client can hold it.
    `limit` is smaller for routes that take only a small form (the OIDC provider)."""
    length = environ.get("CONTENT_LENGTH", "")
    chunked = bool(environ.get("wsgi.input_terminated"))
    stream = environ["wsgi.input"]
    if length and chunked:
        raise BAD_REQUEST  # two framings for one body: the classic request-smuggling setup
    if length and not (length.isascii() and length.isdigit()):
        raise BAD_REQUEST  # "abc", "-1" (which once read until the client hung up)
    try:
        if length:
            size = int(length)
            if size > limit:
                raise _TOO_LARGE
            body = stream.read(size) if size else b""
            if len(body) != size:
                raise _INCOMPLETE
            return body
        if chunked:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise _TOO_LARGE
            return body
    except TimeoutError as exc:
        raise _TIMEOUT from exc
    except (OSError, ValueError) as exc:  # werkzeug's de-chunker on bad framing
        log.info("unreadable body: %s", exc)
        raise BAD_REQUEST from exc
    return b""


def _raw_path(environ: Mapping[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace"), safe="/~")


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _form(body: bytes) -> list[tuple[str, str]]:
    """A url-encoded body's pairs; anything that is not strict UTF-8 is refused."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise AwsError("MalformedQueryString", "The request body is not a valid url-encoded form.", 400) from exc


def _depth(value: Any, limit: int) -> bool:
    """Whether `value` nests no deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return True


def _service_of(request: Request, signature: sigv4.Signature | None) -> str:
    """Which service the request is for. A signature's scope decides (it is
    what the caller signed); unsigned, the target's prefix or the Query API's
    `Version`; else S3. Later checks make the other signals agree with it."""
    if signature is not None:
        return signature.service
    target = request.headers.get("x-amz-target")
    if target is not None:
        # Any JSON service answers a bad target in the same format.
        return _TARGETS.get(target.split(".", 1)[0], "cognito-idp")
    versions = [v for k, v in request.query if k == "Version"]
    if _media_type(request.headers) == FORM:
        versions += [v for k, v in _form(request.body) if k == "Version"]
    if versions and versions[0] in _QUERY_VERSIONS:
        return _QUERY_VERSIONS[versions[0]]
    if request.method == "GET" and WELL_KNOWN.match(request.raw_path):
        return "cognito-idp"
    return "s3"


def classify(request: Request, signature: sigv4.Signature | None, *, own_hosts: frozenset[str] = frozenset()) -> None:
    """Fill in the request's service, operation and parameters: the one
    decision every later step, and moto, acts on."""
    request.service = _service_of(request, signature)
    if signature is not None:
        request.signed_region = signature.region
    if request.service not in SERVED:
        raise AwsError("InvalidAction", f"The sandbox does not serve {request.service!r}.", 400)
    if request.service in TARGET_PREFIX:
        _classify_json(request)
    elif request.service in VERSION_OF:
        _classify_query(request)
    else:
        _classify_s3(request, own_hosts)


class _DuplicateKey(ValueError):
    """A JSON object names one member twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey("a JSON object names a member twice")
    return result


def _classify_json(request: Request) -> None:
    """JSON protocol: `POST /`, the operation in `X-Amz-Target` only, a JSON object body."""
    target = request.headers.get("x-amz-target")
    if target is None and request.service == "cognito-idp" and request.method == "GET" and WELL_KNOWN.match(request.raw_path):
        return  # the public JWKS / OpenID configuration documents
    prefix, dot, operation = (target or "").partition(".")
    if not dot or prefix != TARGET_PREFIX[request.service] or operation not in operations(request.service):
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    if request.method != "POST":
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    if any(k in ("Action", "Version") for k, _ in request.query):
        raise failure_error(Failure.AMBIGUOUS, request.service)
    media = _media_type(request.headers)
    if (media and media not in _JSON_TYPES) or request.headers.get("content-encoding"):
        raise failure_error(Failure.UNREAD_BODY, request.service)
    try:
        params = json.loads(request.body or b"{}", object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        # Which of the two values a policy decision saw and which one moto
        # acts on must never be a question: refuse rather than pick one.
        raise failure_error(Failure.AMBIGUOUS, request.service) from exc
    except (ValueError, RecursionError) as exc:
        raise AwsError("SerializationException", "The request body is not valid JSON.", 400) from exc
    if not isinstance(params, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object.", 400)
    if not _depth(params, MAX_DYNAMODB_DEPTH if request.service == "dynamodb" else MAX_JSON_DEPTH):
        raise AwsError("SerializationException", "The request body nests too deeply.", 400)
    request.operation = operation
    request.params = params


def _classify_query(request: Request) -> None:
    """Query protocol: `Action` and its parameters in the URL or a url-encoded
    body (as AWS, no other encoding), each named once, and no `X-Amz-Target`."""
    if "x-amz-target" in request.headers:
        raise failure_error(Failure.AMBIGUOUS, request.service)
    if request.method not in ("GET", "POST"):
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    media = _media_type(request.headers)
    if request.headers.get("content-encoding") or (request.body and media != FORM) or media not in ("", FORM):
        raise failure_error(Failure.UNREAD_BODY, request.service)
    params: dict[str, str] = {}
    # The URL query was decoded for the signature, where `+` is a `+`; as
    # parameters, `+` is a space in both places, as moto and AWS read them.
    url_pairs = [(k, v.replace("+", " ")) for k, v in request.query if not k.startswith("X-Amz-")]
    for key, value in [*url_pairs, *_form(request.body)]:
        if params.get(key, value) != value:
            raise failure_error(Failure.AMBIGUOUS, request.service)  # e.g. ?Action=GetCallerIdentity, body AssumeRole
        params[key] = value
    version = params.get("Version", VERSION_OF[request.service])
    if params.get("Action") not in operations(request.service) or version != VERSION_OF[request.service]:
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    request.params = params
    request.operation = params["Action"]


def _path_style_host(host: str, own_hosts: frozenset[str]) -> bool:
    """Whether `Host` leaves the bucket to the path: `localhost`, an IP
    literal or the sandbox's own host name, with an optional port. Anything
    else (`B.localhost`, `B.s3.amazonaws.com`, a name we do not know) could
    be read as a virtual-hosted bucket B, so it is refused rather than guessed."""
    if not host:
        return True  # HTTP/1.0 without Host: nothing names a bucket
    if host.startswith("["):
        literal, _, port = host[1:].partition("]")
        port = port.removeprefix(":")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    else:
        name, _, port = host.partition(":")
        if name.lower() not in ("localhost", *own_hosts):
            try:
                ipaddress.IPv4Address(name)
            except ValueError:
                return False
    return not port or (port.isascii() and port.isdigit())


def _classify_s3(request: Request, own_hosts: frozenset[str]) -> None:
    """REST: the bucket and key from the path only; sub-resources, copy
    sources and multi-object deletes are read by `sandbox/s3/actions.py`."""
    if "x-amz-target" in request.headers:
        raise failure_error(Failure.AMBIGUOUS, "s3")
    if not _path_style_host(request.headers.get("host", ""), own_hosts):
        raise AwsError(
            "InvalidRequest", "The sandbox serves path-style requests only: http://<endpoint>/<bucket>/<key>.", 400
        )
    declared = request.headers.get("x-amz-content-sha256", "")
    chunked = "aws-chunked" in request.headers.get("content-encoding", "").lower()
    if declared in sigv4.STREAMING:
        length = request.headers.get("x-amz-decoded-content-length", "")
        if not (length.isascii() and length.isdigit()):
            raise AwsError("MissingContentLength", "You must provide the x-amz-decoded-content-length HTTP header.", 411)
        try:
            streamed = sigv4.decode_streaming(request.body, int(length), signed_chunks=declared != sigv4.UNSIGNED_TRAILER)
        except sigv4.BadChunk as exc:
            log.info("bad aws-chunked body: %s", exc)
            raise AwsError("IncompleteBody", "The aws-chunked body is malformed or shorter than declared.", 400) from exc
        s3_checksums.trailer_check(declared=declared, announced=request.headers.get("x-amz-trailer"), trailers=streamed.trailers)
        request.streamed, request.payload = streamed, streamed.payload
    elif chunked or declared.startswith("STREAMING-"):
        raise failure_error(Failure.UNREAD_BODY, "s3")  # aws-chunked in a form we do not decode
    bucket, key = s3_actions.split_path(request.raw_path)
    if request.method == "POST" and bucket and key is None and "delete" in request.query_dict:
        request.payload = s3_actions.delete_request(request.body).xml()


_HOP_HEADERS = frozenset(
    {"HTTP_HOST", "HTTP_CONNECTION", "HTTP_KEEP_ALIVE", "HTTP_TRANSFER_ENCODING", "HTTP_TE", "HTTP_UPGRADE", "HTTP_EXPECT"}
)
# Read by moto for the region or the operation: never forwarded as received.
_MOTO_SIGNALS = frozenset({"HTTP_USER_AGENT", "HTTP_X_AMZ_TARGET"})
_STREAMING_HEADERS = frozenset({"HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_X_AMZ_TRAILER"})
_ENVIRON_KEPT = (
    "wsgi.version", "wsgi.errors", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
    "SERVER_SOFTWARE", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", moto_seams.core.PRESERVED_HEADER_NAMES,
)


def _s3_query(request: Request) -> str:
    # The first value of each parameter, the one the S3 action mapper authorized.
    return "&".join(
        quote(k, safe="-_.~") + ("=" + quote(v, safe="-_.~") if v else "") for k, v in request.query_dict.items()
    )


def moto_environ(request: Request, environ: Mapping[str, Any]) -> dict[str, Any]:
    """The request moto executes, rebuilt from the classification alone."""
    fresh: dict[str, Any] = {k: environ[k] for k in _ENVIRON_KEPT if k in environ}
    fresh.update(
        {
            "wsgi.url_scheme": "http",
            "SERVER_NAME": _NEUTRAL_HOST,
            "SERVER_PORT": "80",
            "HTTP_HOST": _NEUTRAL_HOST,
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "sandbox.decision": (request.service, request.operation),
        }
    )
    if request.service == "s3":
        drop = _HOP_HEADERS | _MOTO_SIGNALS
        body = request.body if request.payload is None else request.payload
        fresh.update({k: v for k, v in environ.items() if k.startswith("HTTP_") and k not in drop})
        if request.headers.get("x-amz-content-sha256") in sigv4.STREAMING:
            for name in _STREAMING_HEADERS:
                fresh.pop(name, None)
            fresh["HTTP_X_AMZ_CONTENT_SHA256"] = sigv4.UNSIGNED_PAYLOAD  # already decoded and checked
            # A trailing checksum, already verified, reaches moto as the header it stores and returns.
            for name, value in s3_checksums.trailed(request.streamed).items():
                fresh["HTTP_" + name.upper().replace("-", "_")] = value
            kept = [e for e in fresh.get("HTTP_CONTENT_ENCODING", "").split(",") if e.strip() and e.strip() != "aws-chunked"]
            if kept:
                fresh["HTTP_CONTENT_ENCODING"] = ",".join(kept)
            else:
                fresh.pop("HTTP_CONTENT_ENCODING", None)
        path, query = request.raw_path, _s3_query(request)
        if environ.get("CONTENT_TYPE"):
            fresh["CONTENT_TYPE"] = environ["CONTENT_TYPE"]
    else:
        # Only what names the caller (moto's STS answers GetCallerIdentity from it).
        for name in ("HTTP_AUTHORIZATION", "HTTP_X_AMZ_DATE", "HTTP_X_AMZ_SECURITY_TOKEN"):
            if name in environ:
                fresh[name] = environ[name]
        path, query = "/", ""
        if request.service in VERSION_OF:
            params = {**request.params, "Action": request.operation, "Version": VERSION_OF[request.service]}
            body = urlencode(params).encode()
            fresh["CONTENT_TYPE"] = FORM
        elif request.operation is None:  # the well-known documents
            path, body = request.raw_path, b""
            fresh["HTTP_HOST"] = environ.get("HTTP_HOST", _NEUTRAL_HOST)  # jwks_uri is built from it
        else:
            # `&` and `=` only ever occur inside JSON strings, so escaping them
            # keeps the JSON and leaves moto's url-decoding of bodies nothing to find.
            text = json.dumps(request.params).replace("&", "\\u0026").replace("=", "\\u003d")
            body = text.encode()
            fresh["CONTENT_TYPE"] = JSON_VERSION.get(request.service, "application/x-amz-json-1.1")
            fresh["HTTP_X_AMZ_TARGET"] = f"{TARGET_PREFIX[request.service]}.{request.operation}"
    fresh["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
    fresh["RAW_URI"] = fresh["REQUEST_URI"] = path + (f"?{query}" if query else "")
    fresh["QUERY_STRING"] = query
    fresh["CONTENT_LENGTH"] = str(len(body))
    fresh["wsgi.input"] = io.BytesIO(body)
    return fresh




def request_from(environ: Mapping[str, Any]) -> Request:
    """The request line and headers; the body is read separately (`read_body`),
    since reading it can fail in ways that must close the connection."""
    return Request(
        method=environ["REQUEST_METHOD"],
        raw_path=_raw_path(environ),
        query=_split_query(environ.get("QUERY_STRING", "")),
        headers=_headers(environ),
        body=b"",
    )


def region_of(request: Request, default: str) -> str:
    """The region a request is for: its signature's scope, else the region an
    identity-pool or identity ID begins with, else the sandbox's."""
    if request.signed_region:
        return request.signed_region
    for name in ("IdentityPoolId", "IdentityId"):
        value = request.params.get(name)
        if isinstance(value, str) and ":" in value:
            return value.split(":", 1)[0]
    return default
