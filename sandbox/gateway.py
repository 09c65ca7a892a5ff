"""The WSGI layer in front of moto: who is calling, may they, and who answers.

Every request goes through the same steps:
1. classify it (which service and operation) from its signature scope,
   `X-Amz-Target`, `Action` or, failing those, as S3;
2. authenticate it: verify the SigV4 signature, session token and expiry
   (unsigned requests only reach the APIs AWS leaves unsigned);
3. authorize it: evaluate the caller's IAM policies for each action it needs
   (the admin key is the account root and skips this);
4. answer it: Cognito Identity and the classic-flow STS call are ours,
   everything else is moto's, with CORS headers only as the bucket allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

import botocore.session

from sandbox import cors, identity_pool, moto_seams, s3_actions, sigv4, user_pool_codes
from sandbox.errors import AwsError, Failure, failure_error, render
from sandbox.iam_policy import Decision, evaluate
from sandbox.persistence import SharedLock
from sandbox.sessions import session_get
from sandbox.web_identity import assume_role_with_web_identity

log = logging.getLogger("sandbox")

SERVED = ("s3", "iam", "sts", "cognito-idp", "cognito-identity")
MAX_BODY = 256 * 1024 * 1024  # bytes; the sandbox holds request bodies in memory
_TARGETS = {"AWSCognitoIdentityService": "cognito-identity", "AWSCognitoIdentityProviderService": "cognito-idp"}
_QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}  # the API version names the service
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


def _read_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        size = int(length)
        if size > MAX_BODY:
            raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
        body = stream.read(size)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
    else:
        body = b""
    # moto reads the body again: hand it a fresh stream of known length.
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def _raw_path(environ: Mapping[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8"), safe="/~")


def _classify(request: Request, signature: sigv4.Signature | None) -> None:
    """Fill in the request's service, operation and parameters."""
    target = request.headers.get("x-amz-target", "")
    form = "application/x-www-form-urlencoded" in request.headers.get("content-type", "")
    form_params = dict(_split_query(request.body.decode("utf-8", "replace").replace("+", "%20"))) if form else {}
    if signature is not None:
        request.service = signature.service
        request.signed_region = signature.region
    elif target.split(".", 1)[0] in _TARGETS:
        request.service = _TARGETS[target.split(".", 1)[0]]
    elif form_params.get("Version") in _QUERY_VERSIONS:
        request.service = _QUERY_VERSIONS[form_params["Version"]]
    elif request.method == "GET" and _WELL_KNOWN.match(request.raw_path):
        request.service = "cognito-idp"
    if request.service not in SERVED:
        raise AwsError("InvalidAction", f"The sandbox does not serve {request.service!r}.", 400)
    if request.service in ("cognito-idp", "cognito-identity") and target:
        request.operation = target.split(".", 1)[1] if "." in target else None
        try:
            params = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise AwsError("SerializationException", "The request body is not valid JSON.", 400) from exc
        if not isinstance(params, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object.", 400)
        request.params = params
    elif request.service in ("iam", "sts"):
        request.params = {**request.query_dict, **form_params}
        request.operation = request.params.get("Action")


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
    ) -> None:
        self.credentials_ttl = credentials_ttl
        self.code_ttl = code_ttl
        self.admin_access_key_id = admin_access_key_id
        self.admin_secret_access_key = admin_secret_access_key
        self.default_region = default_region
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
            # The rest of an oversized body is still on the wire: end the connection.
            return self._send(start_response, request, error, [("Connection", "close")])
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
            signature = sigv4.parse(request.headers, request.query)
        except sigv4.Version2 as exc:
            _classify(request, None)
            raise AwsError(
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
                400,
            ) from exc
        except sigv4.Malformed as exc:
            log.info("malformed signature: %s", exc)
            _classify(request, None)
            raise failure_error(Failure.MALFORMED_AUTH, request.service) from exc
        _classify(request, signature)
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
            decision = evaluate(principal.policies, action=need.action, resource=need.resource, context=context)
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
        status: list[str] = []

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(line)
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(line, kept + cors_headers, exc_info)

        body = self.moto.app_for(request.service)(environ, start)
        if coded and status[0].startswith("2"):
            user_pool_codes.code_after(request.operation, request.params, lifetime=self.code_ttl)
        return body

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


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 501: "Not Implemented"}


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
