"""The WSGI layer in front of moto: who is calling, may they, and who answers.

Every request goes through the same steps:
1. classify it, once: the service from its signature scope (or, unsigned,
   `X-Amz-Target` or `Version`), the operation from the one place that
   service's protocol puts it; a request whose signals disagree is refused;
2. authenticate it: verify the SigV4 signature, session token and expiry
   (unsigned requests only reach the APIs AWS leaves unsigned);
3. authorize it: evaluate the caller's IAM policies for each action it needs
   (the admin key is the account root and skips this);
4. answer it: Cognito Identity and the classic-flow STS call are ours,
   everything else is moto's, with CORS headers only as the bucket allows.
   moto is handed a request rebuilt from what step 1 decided (method, path,
   parameters, a neutral Host), never the one received: moto reads the
   operation from `?Action=`, the form body, the JSON body and
   `X-Amz-Target`, and the bucket from `Host`, and would otherwise run
   something other than what was authorized (issue 8, findings 1, 2 and 5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes, urlencode

import botocore.session

from sandbox import cors, identity_pool, moto_seams, s3_actions, sigv4, user_pool_codes
from sandbox.errors import AwsError, Failure, failure_error, render, wrong_region_error
from iampolicy import Decision, Mode, evaluate
from sandbox.persistence import SharedLock
from sandbox.sessions import session_get
from sandbox.web_identity import assume_role_with_web_identity

log = logging.getLogger("sandbox")

SERVED = ("s3", "iam", "sts", "cognito-idp", "cognito-identity")
MAX_BODY = 256 * 1024 * 1024  # bytes; the sandbox holds request bodies in memory
_TARGETS = {"AWSCognitoIdentityService": "cognito-identity", "AWSCognitoIdentityProviderService": "cognito-idp"}
_TARGET_PREFIX = {service: prefix for prefix, service in _TARGETS.items()}
_QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}  # the API version names the service
_VERSION_OF = {service: version for version, service in _QUERY_VERSIONS.items()}
FORM = "application/x-www-form-urlencoded"  # the only body the Query protocol (iam, sts) accepts
_JSON_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"})
MAX_JSON_DEPTH = 64  # levels; no Cognito request nests deeper than a handful
_NEUTRAL_HOST = "localhost"  # what moto sees: path-style S3, and no region for it to read
_WELL_KNOWN = re.compile(r"^/[\w-]+/\.well-known/(jwks\.json|openid-configuration)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
OUTBOX_PATH = "/_sandbox/outbox"  # GET: the emails Cognito would have sent (loopback clients only)


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

    @property
    def query_dict(self) -> dict[str, str]:
        return {k: v for k, v in reversed(self.query)}


@dataclass(frozen=True)
class Principal:
    """Who signed the request, with what IAM evaluates for them."""

    arn: str  # the caller, as error messages name it
    admin: bool
    policies: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)


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


_BAD_REQUEST = AwsError("BadRequest", "An error occurred when parsing the HTTP request.", 400)
_TOO_LARGE = AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
_INCOMPLETE = AwsError("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", 400)
_TIMEOUT = AwsError(
    "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout period.",
    400,
)


def _read_body(environ: Mapping[str, Any]) -> bytes:
    """The whole body, or an AwsError after which the connection must close
    (the rest of the body, if any, is still on the wire). Bounded in size;
    the server's socket timeout bounds the time a slow client can hold it."""
    length = environ.get("CONTENT_LENGTH", "")
    chunked = bool(environ.get("wsgi.input_terminated"))
    stream = environ["wsgi.input"]
    if length and chunked:
        raise _BAD_REQUEST  # two framings for one body: the classic request-smuggling setup
    if length and not (length.isascii() and length.isdigit()):
        raise _BAD_REQUEST  # "abc", "-1" (which once read until the client hung up)
    try:
        if length:
            size = int(length)
            if size > MAX_BODY:
                raise _TOO_LARGE
            body = stream.read(size) if size else b""
            if len(body) != size:
                raise _INCOMPLETE
            return body
        if chunked:
            body = stream.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise _TOO_LARGE
            return body
    except TimeoutError as exc:
        raise _TIMEOUT from exc
    except (OSError, ValueError) as exc:  # werkzeug's de-chunker on bad framing
        log.info("unreadable body: %s", exc)
        raise _BAD_REQUEST from exc
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
    if request.method == "GET" and _WELL_KNOWN.match(request.raw_path):
        return "cognito-idp"
    return "s3"


def _classify(request: Request, signature: sigv4.Signature | None, *, own_hosts: frozenset[str] = frozenset()) -> None:
    """Fill in the request's service, operation and parameters: the one
    decision every later step, and moto, acts on."""
    request.service = _service_of(request, signature)
    if signature is not None:
        request.signed_region = signature.region
    if request.service not in SERVED:
        raise AwsError("InvalidAction", f"The sandbox does not serve {request.service!r}.", 400)
    if request.service in _TARGET_PREFIX:
        _classify_json(request)
    elif request.service in _VERSION_OF:
        _classify_query(request)
    else:
        _classify_s3(request, own_hosts)


def _classify_json(request: Request) -> None:
    """JSON protocol: `POST /`, the operation in `X-Amz-Target` only, a JSON object body."""
    target = request.headers.get("x-amz-target")
    if target is None and request.service == "cognito-idp" and request.method == "GET" and _WELL_KNOWN.match(request.raw_path):
        return  # the public JWKS / OpenID configuration documents
    prefix, dot, operation = (target or "").partition(".")
    if not dot or prefix != _TARGET_PREFIX[request.service] or operation not in operations(request.service):
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    if request.method != "POST":
        raise failure_error(Failure.UNKNOWN_OPERATION, request.service)
    if any(k in ("Action", "Version") for k, _ in request.query):
        raise failure_error(Failure.AMBIGUOUS, request.service)
    media = _media_type(request.headers)
    if (media and media not in _JSON_TYPES) or request.headers.get("content-encoding"):
        raise failure_error(Failure.UNREAD_BODY, request.service)
    try:
        params = json.loads(request.body or b"{}")
    except (ValueError, RecursionError) as exc:
        raise AwsError("SerializationException", "The request body is not valid JSON.", 400) from exc
    if not isinstance(params, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object.", 400)
    if not _depth(params, MAX_JSON_DEPTH):
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
    version = params.get("Version", _VERSION_OF[request.service])
    if params.get("Action") not in operations(request.service) or version != _VERSION_OF[request.service]:
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
    sources and multi-object deletes are read by s3_actions."""
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
            request.payload = sigv4.decode_streaming(request.body, int(length))
        except sigv4.BadChunk as exc:
            log.info("bad aws-chunked body: %s", exc)
            raise AwsError("IncompleteBody", "The aws-chunked body is malformed or shorter than declared.", 400) from exc
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
    "SERVER_SOFTWARE", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", moto_seams.PRESERVED_HEADER_NAMES,
)


def _s3_query(request: Request) -> str:
    # The first value of each parameter, the one s3_actions authorized.
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
        if request.service in _VERSION_OF:
            params = {**request.params, "Action": request.operation, "Version": _VERSION_OF[request.service]}
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
            fresh["CONTENT_TYPE"] = "application/x-amz-json-1.1"
            fresh["HTTP_X_AMZ_TARGET"] = f"{_TARGET_PREFIX[request.service]}.{request.operation}"
    fresh["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
    fresh["RAW_URI"] = fresh["REQUEST_URI"] = path + (f"?{query}" if query else "")
    fresh["QUERY_STRING"] = query
    fresh["CONTENT_LENGTH"] = str(len(body))
    fresh["wsgi.input"] = io.BytesIO(body)
    return fresh


# --- authentication ---------------------------------------------------------------

@dataclass(frozen=True)
class _Key:
    secret: str
    session_token: str | None
    expiration: dt.datetime | None
    principal: Principal


def _base_context(now: dt.datetime, request: Request, environ: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:epochtime": str(int(now.timestamp())),
        "aws:securetransport": "false",
        "aws:sourceip": environ.get("REMOTE_ADDR", ""),
        "aws:principalaccount": moto_seams.ACCOUNT_ID,
    }


def _scope_service(request: Request) -> str:
    """The service a malformed signature claims, for the format of its refusal only."""
    credential = request.query_dict.get("X-Amz-Credential", "")
    match = re.search(r"Credential=([^,\s]+)", request.headers.get("authorization", ""))
    parts = (match[1] if match else credential).split("/")
    return parts[3] if len(parts) == 5 and parts[3] in SERVED else "s3"


class Gateway:
    """The sandbox's WSGI application."""

    def __init__(
        self,
        *,
        credentials_ttl: int = 3600,
        code_ttl: int | None = None,
        admin_access_key_id: str = "test",
        admin_secret_access_key: str = "test",
        default_region: str = "us-east-1",
        own_hosts: Iterable[str] = (),
    ) -> None:
        self.credentials_ttl = credentials_ttl
        self.code_ttl = code_ttl
        self.admin_access_key_id = admin_access_key_id
        self.admin_secret_access_key = admin_secret_access_key
        self.default_region = default_region
        # Host names, besides localhost and IP literals, that address this sandbox path-style.
        self.own_hosts = frozenset(h.lower() for h in own_hosts)
        self.moto = moto_seams.MotoApps()
        moto_seams.install_user_pool_fixes()
        # Persistence snapshots the state between requests, never during one.
        self.lock = SharedLock()
        self._changes = 0
        self._changes_lock = threading.Lock()

    def change_count(self) -> int:
        """How many requests that may have changed state have completed."""
        return self._changes

    # -- WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self.lock.shared():
            result = self._handle(environ, start_response)
            try:
                body = list(result)  # moto's bodies are in memory already
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if environ["REQUEST_METHOD"] not in ("GET", "HEAD", "OPTIONS"):
                with self._changes_lock:
                    self._changes += 1
        return body

    def _handle(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(
            method=environ["REQUEST_METHOD"],
            raw_path=_raw_path(environ),
            query=_split_query(environ.get("QUERY_STRING", "")),
            headers=_headers(environ),
            body=b"",
        )
        try:
            request.body = _read_body(environ)
        except AwsError as error:
            # The rest of the body may still be on the wire: end the connection.
            return self._send(start_response, request, error, [("Connection", "close")])
        if not request.raw_path.startswith("/"):
            # An absolute-form target (GET http://host/...) would name a second host.
            return self._send(start_response, request, _BAD_REQUEST, [])
        if request.raw_path.startswith("/moto-api"):
            # moto's control plane (reset, seed data) would bypass every check here.
            return self._send(start_response, request, AwsError("NotFound", "Not Found", 404), [])
        if request.raw_path == OUTBOX_PATH:
            return self._outbox(request, environ, start_response)
        bucket = s3_actions.split_path(request.raw_path)[0]
        origin = request.headers.get("origin")
        cors_headers = cors.response_headers(bucket, origin=origin, method=request.method) if origin else []
        try:
            if request.method == "OPTIONS":
                return self._preflight(request, bucket, start_response)
            self._check(request, environ)
        except AwsError as error:
            return self._send(start_response, request, error, cors_headers if request.service == "s3" else [])
        log.debug("decided %s %s", request.service, request.operation or request.method)
        ours = self._answer_ourselves(request)
        if ours is not None:
            return ours(start_response)
        return self._forward(request, environ, start_response, cors_headers if request.service == "s3" else [])

    @staticmethod
    def _preflight(request: Request, bucket: str | None, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """A CORS preflight, answered from the bucket's rules alone (no signature)."""
        headers = cors.preflight(
            bucket,
            origin=request.headers.get("origin"),
            method=request.headers.get("access-control-request-method"),
            request_headers=request.headers.get("access-control-request-headers", ""),
        )
        start_response("200 OK", [*headers, ("Content-Length", "0")])
        return [b""]

    def _check(self, request: Request, environ: Mapping[str, Any]) -> None:
        try:
            signature = sigv4.parse(request.headers, request.query, region=self.default_region)
        except sigv4.Version2 as exc:
            _classify(request, None, own_hosts=self.own_hosts)
            raise AwsError(
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
                400,
            ) from exc
        except sigv4.WrongRegion as exc:
            request.service = _scope_service(request)
            log.info("signed for region %r", exc.region)
            presigned = "authorization" not in request.headers
            raise wrong_region_error(request.service, exc.region, self.default_region, presigned=presigned) from exc
        except sigv4.Malformed as exc:
            log.info("malformed signature: %s", exc)
            request.service = _scope_service(request)
            raise failure_error(Failure.MALFORMED_AUTH, request.service) from exc
        _classify(request, signature, own_hosts=self.own_hosts)
        if signature is None:
            if request.service == "cognito-idp" and request.operation is None:
                return  # the public JWKS / OpenID configuration documents
            if request.operation in unsigned_operations(request.service):
                return
            log.info("unsigned %s %s refused", request.service, request.operation or request.raw_path)
            raise failure_error(Failure.MISSING_AUTH, request.service)
        principal = self._authenticate(request, signature, environ)
        if principal.admin or (request.service == "sts" and request.operation == "GetCallerIdentity"):
            return
        if request.operation in unsigned_operations(request.service):
            return  # public APIs stay public when signed
        self._authorize(request, principal)

    def _key(self, access_key_id: str) -> _Key | None:
        if access_key_id == self.admin_access_key_id:
            root = f"arn:aws:iam::{moto_seams.ACCOUNT_ID}:root"
            return _Key(self.admin_secret_access_key, None, None, Principal(arn=root, admin=True))
        session = session_get(access_key_id)
        if session is not None:
            c = session.credentials
            role = moto_seams.role_by_arn(session.role_arn)
            context = {
                **session.context,
                "aws:userid": c.user_id,
                "aws:principalarn": session.role_arn,
                "aws:principaltype": "AssumedRole",
            }
            principal = Principal(arn=c.arn, admin=False, policies=role.policies if role else (), context=context)
            return _Key(c.secret_access_key, c.session_token, c.expiration, principal)
        known = moto_seams.known_key(access_key_id)
        if known is None or not known.active:
            return None
        if known.user_name is None:
            role = moto_seams.role_by_arn(known.principal_arn)
            policies = role.policies if role else ()
            context = {"aws:principaltype": "AssumedRole"}
        else:
            policies = moto_seams.user_policies(known.user_name)
            context = {"aws:principaltype": "User", "aws:username": known.user_name}
        context.update({"aws:userid": known.user_id, "aws:principalarn": known.principal_arn})
        principal = Principal(arn=known.caller_arn, admin=False, policies=policies, context=context)
        return _Key(known.secret_access_key, known.session_token, known.expiration, principal)

    def _authenticate(self, request: Request, signature: sigv4.Signature, environ: Mapping[str, Any]) -> Principal:
        service = request.service
        now = dt.datetime.now(dt.timezone.utc)
        key = self._key(signature.access_key_id)
        if key is None:
            log.info("unknown access key %s", signature.access_key_id)
            raise failure_error(Failure.UNKNOWN_KEY, service)
        if key.session_token is not None:
            if signature.session_token is None:  # a temporary key is unknown without its token
                log.info("temporary key %s sent without its session token", signature.access_key_id)
                raise failure_error(Failure.UNKNOWN_KEY, service)
            if not hmac.compare_digest(signature.session_token.encode(), key.session_token.encode()):
                log.info("wrong session token for %s", signature.access_key_id)
                raise failure_error(Failure.BAD_TOKEN, service)
        if key.expiration is not None and key.expiration <= now:
            raise failure_error(Failure.EXPIRED_TOKEN, service)
        if service == "s3" and not signature.presigned and "x-amz-content-sha256" not in request.headers:
            raise AwsError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
        computed = sigv4.expected(
            signature,
            secret=key.secret,
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            payload_hash=sigv4.payload_hash(signature, request.headers, request.body),
        )
        if not sigv4.matches(signature, computed):
            log.info("signature mismatch for %s %s", request.method, request.raw_path)
            raise failure_error(Failure.BAD_SIGNATURE, service)
        if signature.presigned:
            if now > signature.time + dt.timedelta(seconds=signature.expires_seconds or 0):
                raise failure_error(Failure.PRESIGN_EXPIRED, service)
        elif abs(now - signature.time) > sigv4.MAX_SKEW:
            raise failure_error(Failure.SKEWED, service)
        declared = request.headers.get("x-amz-content-sha256", "")
        if service == "s3" and _HEX64.match(declared) and hashlib.sha256(request.body).hexdigest() != declared:
            raise AwsError(
                "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400
            )
        context = {**_base_context(now, request, environ), **key.principal.context}
        return Principal(arn=key.principal.arn, admin=key.principal.admin, policies=key.principal.policies, context=context)

    # -- authorization
    def _authorize(self, request: Request, principal: Principal) -> None:
        if request.service == "s3":
            needs = s3_actions.needs(
                method=request.method,
                raw_path=request.raw_path,
                query=request.query_dict,
                headers=request.headers,
                body=request.body,
            )
        else:
            action = f"{request.service}:{request.operation}"
            needs = [s3_actions.Need(action, _resource(request, self._region(request)))]
        for need in needs:
            context = {**principal.context, **need.context}
            decision = evaluate(principal.policies, action=need.action, resource=need.resource, context=context, mode=Mode.ENFORCE)
            if not decision.allowed:
                why = "with an explicit deny in an identity-based policy" if decision is Decision.DENY else (
                    f"because no identity-based policy allows the {need.action} action"
                )
                detail = f"User: {principal.arn} is not authorized to perform: {need.action} on resource: {need.resource} {why}"
                log.info("denied: %s", detail)
                raise failure_error(Failure.ACCESS_DENIED, request.service, detail=detail)

    def _region(self, request: Request) -> str:
        if request.signed_region:
            return request.signed_region
        for name in ("IdentityPoolId", "IdentityId"):
            value = request.params.get(name)
            if isinstance(value, str) and ":" in value:
                return value.split(":", 1)[0]
        return self.default_region

    # -- answering
    def _answer_ourselves(self, request: Request) -> Callable[[Callable[..., Any]], Iterable[bytes]] | None:
        if request.service == "cognito-identity":
            return lambda start: self._identity_pool(request, start)
        if request.service == "sts" and request.operation in unsigned_operations("sts"):
            return lambda start: self._web_identity(request, start)
        if request.service == "cognito-idp" and request.operation == "ResendConfirmationCode":
            return lambda start: self._json(
                request, start, lambda: user_pool_codes.resend_confirmation_code(request.params, lifetime=self.code_ttl)
            )
        return None

    def _identity_pool(self, request: Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        operation = identity_pool.OPERATIONS.get(request.operation or "")
        region = self._region(request)

        def call() -> dict[str, Any]:
            if operation is None:
                raise AwsError("UnknownOperationException", f"Unknown operation {request.operation}", 400)
            if operation is identity_pool.get_credentials_for_identity:
                return operation(request.params, region, credentials_ttl=self.credentials_ttl)
            return operation(request.params, region)

        return self._json(request, start_response, call)

    def _json(
        self, request: Request, start_response: Callable[..., Any], call: Callable[[], dict[str, Any]]
    ) -> Iterable[bytes]:
        """Answer a JSON-protocol operation we implement ourselves."""
        try:
            result = call()
        except AwsError as error:
            log.info("%s %s refused: %s", request.service, request.operation, error)
            return self._send(start_response, request, error, [])
        body = json.dumps(result).encode()
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
        return [body]

    def _web_identity(self, request: Request, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            if request.operation != "AssumeRoleWithWebIdentity":
                raise AwsError("InvalidAction", "The sandbox has no SAML provider.", 400)
            body = assume_role_with_web_identity(request.params, region=self._region(request))
        except AwsError as error:
            log.info("sts %s refused: %s", request.operation, error)
            return self._send(start_response, request, error, [])
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def _forward(
        self,
        request: Request,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        cors_headers: list[tuple[str, str]],
    ) -> Iterable[bytes]:
        """Let moto answer, with CORS headers only as the bucket allows, and
        with the user pool's emailed codes checked before and issued after."""
        coded = request.service == "cognito-idp" and request.operation in user_pool_codes.CODED
        if coded and request.operation in user_pool_codes.CHECKS:
            try:
                user_pool_codes.code_check(request.operation, request.params)
            except AwsError as error:
                return self._send(start_response, request, error, [])
        answer: list[tuple[str, list[tuple[str, str]]]] = []

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.append((line, headers))
            return lambda data: None  # moto's apps return their body; nothing writes

        try:
            result = self.moto.app_for(request.service)(moto_environ(request, environ), start)
            try:
                body = b"".join(result)  # held until moto's status is known to be no crash
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # moto fails on some inputs AWS would refuse (a missing parameter)
            log.exception("moto failed on %s %s", request.service, request.operation)
            answer.clear()
        if not answer or answer[-1][0].startswith("5"):
            log.warning("moto could not serve %s %s", request.service, request.operation)
            return self._send(start_response, request, failure_error(Failure.INVALID_INPUT, request.service), cors_headers)
        line, headers = answer[-1]
        if coded and line.startswith("2"):
            user_pool_codes.code_after(request.operation, request.params, lifetime=self.code_ttl)
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        start_response(line, kept + cors_headers)
        return [body]

    @staticmethod
    def _outbox(request: Request, environ: Mapping[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The messages Cognito would have emailed, for this machine only."""
        if request.method != "GET" or not environ.get("REMOTE_ADDR", "").startswith("127."):
            return Gateway._send(start_response, request, AwsError("AccessDenied", "Access Denied", 403), [])
        body = json.dumps({"messages": user_pool_codes.outbox(to=request.query_dict.get("to"))}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _send(
        start_response: Callable[..., Any], request: Request, error: AwsError, extra: list[tuple[str, str]]
    ) -> Iterable[bytes]:
        status, headers, body = render(error, request.service, head=request.method == "HEAD")
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers + extra)
        return [body]


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 411: "Length Required", 501: "Not Implemented"}


def _resource(request: Request, region: str) -> str:
    """The ARN a non-S3 call acts on, where the request names one."""
    params = request.params
    account = moto_seams.ACCOUNT_ID
    if request.service == "cognito-identity":
        return identity_pool.resource_arn(params, region)
    if request.service == "cognito-idp" and isinstance(params.get("UserPoolId"), str):
        return f"arn:aws:cognito-idp:{region}:{account}:userpool/{params['UserPoolId']}"
    if request.service == "iam":
        if params.get("RoleName"):
            return f"arn:aws:iam::{account}:role/{params['RoleName']}"
        if params.get("UserName"):
            return f"arn:aws:iam::{account}:user/{params['UserName']}"
        if params.get("PolicyArn"):
            return params["PolicyArn"]
    if request.service == "sts" and params.get("RoleArn"):
        return params["RoleArn"]
    return "*"
