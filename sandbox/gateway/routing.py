"""The sandbox's WSGI application: every request goes through the same steps,
in this order.

1. read it: the body whole and bounded (`request.read_body`); moto's control
   plane (`/moto-api`) and absolute-form targets are refused, the outbox is
   answered (`outbox.py`), and so are the test faults (`faults.py`);
2. decide what it is, once (`request.classify`), and refuse it when its
   signals disagree;
3. authenticate it (`authentication.py`): unsigned requests only reach the
   APIs AWS leaves unsigned;
4. authorize it (`authorization.py`): the caller's IAM policies for each
   action it needs (the admin key is the account root and skips this);
5. answer it: Cognito Identity, the classic flow's STS call and
   `ResendConfirmationCode` are ours; everything else is moto's, handed a
   request rebuilt from step 2 (`request.moto_environ`), unless a test armed
   a fault for it (`faults.py`), with the user pool's
   emailed codes checked before and issued after, and CORS headers only as the
   bucket allows (`sandbox/s3/cors.py`).

Every answer carries the request ID the gateway chose once it knew the
service (S3's `x-amz-request-id`, the others' `x-amzn-RequestId`, and the
`<RequestId>` of XML bodies), whoever wrote the answer. The decision made in
step 4 is kept under that ID as it is made, and the call goes to the trail
once answered (`inspection.py`: `/_sandbox/decisions/<id>`, `/_sandbox/trail`).

Before all of this, and outside the lock persistence snapshots under, the
local OIDC provider answers `/_sandbox/oidc/*` (`sandbox/oidc/`): it is not
AWS, and an identity pool fetches its JWKS while holding that lock.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from sandbox import moto_seams, oidc
from sandbox.cognito_identity import responses as cognito_identity
from sandbox.cognito_idp import codes
from sandbox.errors import AwsError, Failure, failure_error, request_id_new, send
from sandbox.gateway import api_cors, authentication, authorization
from sandbox.gateway.faults import FAULTS_PATH, Faults, faults_answer
from sandbox.gateway.inspection import Exchange, Inspection, inspection_answer, private_route
from sandbox.gateway.outbox import OUTBOX_PATH, outbox_answer
from sandbox.gateway.request import (
    BAD_REQUEST,
    Request,
    classify,
    moto_environ,
    read_body,
    region_of,
    request_from,
    unsigned_operations,
)
from sandbox.persistence import SharedLock
from sandbox.s3 import actions as s3_actions
from sandbox.s3 import cors, preconditions
from sandbox.s3.actions import split_path
from sandbox.sts.assume_role import answer as sts_answer

log = logging.getLogger("sandbox")

StartResponse = Callable[..., Any]


class Gateway:
    """The WSGI application in front of moto. moto must be patched first
    (`moto_seams.install()`, which `SandboxServer` calls)."""

    def __init__(
        self,
        *,
        credentials_ttl: int = 3600,
        code_ttl: int | None = None,
        admin_access_key_id: str = "test",
        admin_secret_access_key: str = "test",
        default_region: str = "us-east-1",
        own_hosts: Iterable[str] = (),
        inspection: bool = True,
        trail_dir: Path | None = None,
        oidc_provider: oidc.Provider | None = None,
    ) -> None:
        self.credentials_ttl = credentials_ttl
        # The local OIDC provider (`/_sandbox/oidc`); set by SandboxServer once it knows its endpoint.
        self.oidc = oidc_provider
        self.code_ttl = code_ttl
        self.admin = authentication.AdminKey(admin_access_key_id, admin_secret_access_key)
        self.default_region = default_region
        # Host names, besides localhost and IP literals, that address this sandbox path-style.
        self.own_hosts = frozenset(h.lower() for h in own_hosts)
        self.moto = moto_seams.core.MotoApps()
        self.faults = Faults()  # armed by tests through POST /_sandbox/faults
        # Decisions and the trail; off only for bench/sandbox_overhead.py's comparison.
        self.inspection = Inspection(enabled=inspection, trail_dir=trail_dir)
        # Persistence snapshots the state between requests, never during one.
        self.lock = SharedLock()
        self._changes = 0
        self._changes_lock = threading.Lock()

    def change_count(self) -> int:
        """How many requests that may have changed state have completed."""
        return self._changes

    def close(self) -> None:
        """Write the trail's queued records."""
        self.inspection.close()

    # -- WSGI entry point
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append((line, list(headers)))
            return _no_write  # every answer here returns its body

        if oidc.oidc_route(environ):
            # Outside the lock: an identity pool fetches this JWKS while answering
            # a GetId inside it, and a snapshot waiting in between would deadlock them.
            return oidc.oidc_answer(self.oidc, environ, start_response)
        with self.lock.shared():
            result, exchange = self._handle(environ, start)
            try:
                body = list(result)  # moto's bodies are in memory already
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            line, headers = answered[-1]
            if exchange is not None:
                headers, body = _with_request_id(exchange.request, int(line[:3]), headers, body)
            start_response(line, headers)
            if exchange is not None:
                self.inspection.trail_keep(exchange, int(line[:3]), headers, body)
            if environ["REQUEST_METHOD"] not in ("GET", "HEAD", "OPTIONS"):
                with self._changes_lock:
                    self._changes += 1
        return body

    def _handle(self, environ: dict[str, Any], start_response: StartResponse) -> tuple[Iterable[bytes], Exchange | None]:
        """The answer, and the exchange to record (None for what is not an API call)."""
        request = request_from(environ)
        try:
            request.body = read_body(environ)
        except AwsError as error:
            # The rest of the body may still be on the wire: end the connection.
            return _refuse(start_response, request, error, [("Connection", "close")]), None
        if not request.raw_path.startswith("/"):
            # An absolute-form target (GET http://host/...) would name a second host.
            return _refuse(start_response, request, BAD_REQUEST), None
        if request.raw_path.startswith("/moto-api"):
            # moto's control plane (reset, seed data) would bypass every check here.
            return _refuse(start_response, request, AwsError("NotFound", "Not Found", 404)), None
        if request.raw_path == OUTBOX_PATH:
            return outbox_answer(request, environ, start_response), None
        if request.raw_path == FAULTS_PATH:
            return faults_answer(self.faults, request, environ, start_response), None
        if private_route(request.raw_path):
            return inspection_answer(self.inspection, request, environ, start_response), None
        bucket = split_path(request.raw_path)[0]
        origin = request.headers.get("origin")
        cors_headers = cors.response_headers(bucket, origin=origin, method=request.method) if origin else []
        if request.method == "OPTIONS":
            try:
                return _preflight(request, bucket, start_response), None
            except AwsError as error:
                return _refuse(start_response, request, error, cors_headers), None
        api_headers = api_cors.response_headers(origin=origin)
        exchange = Exchange(request=request, source_ip=environ.get("REMOTE_ADDR", ""))
        try:
            self._decide(request, environ, exchange)
            if request.service == "s3":  # an If-None-Match moto would ignore, and overwrite
                bucket, key = split_path(request.raw_path)
                preconditions.write_check(
                    method=request.method, bucket=bucket, key=key, query=request.query_dict, headers=request.headers
                )
            fault = self.faults.take(request)
            if fault is not None:
                log.info("injected fault %s for %s %s", fault.code, request.service, request.method)
                raise fault
        except AwsError as error:
            exchange.refusal = error
            return _refuse(start_response, request, error, cors_headers if request.service == "s3" else api_headers), exchange
        log.debug("decided %s %s", request.service, request.operation or request.method)
        if request.service != "s3":  # whoever answers, ours or moto's, as the APIs answer pages
            start_response, cors_headers = api_cors.adding(start_response, api_headers), []
        ours = self._answer_ourselves(request, start_response, exchange)
        if ours is not None:
            return ours, exchange
        if exchange.verdict is not None and exchange.verdict.deletes is not None:
            return self._delete_objects(request, environ, start_response, cors_headers, exchange), exchange
        return self._forward(request, environ, start_response, cors_headers, exchange), exchange

    def _decide(self, request: Request, environ: Mapping[str, Any], exchange: Exchange) -> None:
        """Steps 2 to 4: what the request is, who sent it, and whether they
        may. The decision is kept (inspection on) where it is made, here."""
        try:
            signature = authentication.signature_read(request, region=self.default_region, own_hosts=self.own_hosts)
            exchange.signed_key = signature.access_key_id if signature is not None else None
            classify(request, signature, own_hosts=self.own_hosts)
            exchange.classified = True
            exchange.region = region_of(request, self.default_region)
            request.request_id = request_id_new(request.service)
            if signature is None:
                authentication.unsigned_check(request)
                exchange.verdict = authorization.unsigned_authorize(
                    request,
                    context=authentication.anonymous_context(environ.get("REMOTE_ADDR", ""), region=exchange.region),
                    region=exchange.region,
                    explained=self.inspection.enabled,
                )
                if exchange.verdict.error is not None:
                    raise exchange.verdict.error
                return
            principal = authentication.principal_authenticate(
                request, signature, admin=self.admin, source_ip=environ.get("REMOTE_ADDR", "")
            )
            exchange.principal = principal
            reason = authorization.exemption(request, principal)
            if reason is not None:
                exchange.verdict = authorization.Verdict(allowed=True, exempt=reason)
                return
            exchange.verdict = authorization.request_authorize(
                request, principal, region=exchange.region, explained=self.inspection.enabled
            )
            if exchange.verdict.error is not None:
                raise exchange.verdict.error
        except AwsError as error:
            exchange.refusal = error
            raise
        finally:
            self.inspection.decision_keep(exchange)

    # -- answering
    def _answer_ourselves(
        self, request: Request, start_response: StartResponse, exchange: Exchange
    ) -> Iterable[bytes] | None:
        """The operations moto does not serve as AWS does; None for the rest."""
        region = region_of(request, self.default_region)
        if request.service == "cognito-identity":
            return _json(request, start_response, lambda: cognito_identity.dispatch(
                request.operation, request.params, region, credentials_ttl=self.credentials_ttl
            ))
        if request.service == "sts" and (request.operation == "AssumeRole" or request.operation in unsigned_operations("sts")):
            return _web_identity(request, start_response, region)
        if request.service == "cognito-idp" and request.operation == "ResendConfirmationCode":
            return _json(request, start_response, lambda: codes.resend_confirmation_code(request.params, lifetime=self.code_ttl))
        return None

    def _forward(
        self,
        request: Request,
        environ: dict[str, Any],
        start_response: StartResponse,
        cors_headers: list[tuple[str, str]],
        exchange: Exchange,
    ) -> Iterable[bytes]:
        """Let moto answer, with CORS headers only as the bucket allows, and
        with the user pool's emailed codes checked before and issued after."""
        coded = request.service == "cognito-idp" and request.operation in codes.CODED
        if coded and request.operation in codes.CHECKS:
            try:
                codes.code_check(request.operation, request.params)
            except AwsError as error:
                exchange.refusal = error
                return _refuse(start_response, request, error)
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
            exchange.refusal = failure_error(Failure.INVALID_INPUT, request.service)
            return _refuse(start_response, request, exchange.refusal, cors_headers)
        line, headers = answer[-1]
        if coded and line.startswith("2"):
            codes.code_after(request.operation, request.params, lifetime=self.code_ttl)
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        start_response(line, kept + cors_headers)
        return [body]

    def _delete_objects(
        self,
        request: Request,
        environ: dict[str, Any],
        start_response: StartResponse,
        cors_headers: list[tuple[str, str]],
        exchange: Exchange,
    ) -> Iterable[bytes]:
        """A multi-object delete as authorization decided it: moto is handed
        only the keys the caller may delete (none: moto is not asked), and the
        refused keys join moto's `<DeleteResult>` as `AccessDenied` errors."""
        verdict = exchange.verdict
        assert verdict is not None and verdict.deletes is not None
        answered: bytes | None = None
        if verdict.deletes.objects:
            request.payload = verdict.deletes.xml()
            answer: list[tuple[str, list[tuple[str, str]]]] = []

            def kept(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
                answer.append((line, headers))

            body = b"".join(self._forward(request, environ, kept, cors_headers, exchange))
            line, headers = answer[-1]
            if not line.startswith("200"):  # refused whole (moto's MalformedXML, a fault): as it came
                start_response(line, headers)
                return [body]
            answered = body
        try:
            result = s3_actions.delete_result(refused=verdict.refused, quiet=verdict.deletes.quiet, answered=answered)
        except ElementTree.ParseError:
            log.exception("moto's DeleteResult could not be read")
            exchange.refusal = failure_error(Failure.INVALID_INPUT, "s3")
            return _refuse(start_response, request, exchange.refusal, cors_headers)
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(result))), *cors_headers]
        start_response("200 OK", headers)
        return [result]


def _preflight(request: Request, bucket: str | None, start_response: StartResponse) -> Iterable[bytes]:
    """A CORS preflight (no signature): for a bucket or an object, answered
    from the bucket's rules alone; for the endpoint's root, where the APIs
    other than S3 are posted, answered as those APIs do (`api_cors.py`)."""
    asked = {
        "origin": request.headers.get("origin"),
        "method": request.headers.get("access-control-request-method"),
        "request_headers": request.headers.get("access-control-request-headers", ""),
    }
    headers = cors.preflight(bucket, **asked) if bucket else api_cors.preflight(**asked)
    start_response("200 OK", [*headers, ("Content-Length", "0")])
    return [b""]


def _json(request: Request, start_response: StartResponse, call: Callable[[], dict[str, Any]]) -> Iterable[bytes]:
    """Answer a JSON-protocol operation we implement ourselves."""
    try:
        result = call()
    except AwsError as error:
        log.info("%s %s refused: %s", request.service, request.operation, error)
        return _refuse(start_response, request, error)
    body = json.dumps(result).encode()
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))])
    return [body]


def _web_identity(request: Request, start_response: StartResponse, region: str) -> Iterable[bytes]:
    """The STS calls the sandbox serves itself: `AssumeRole` and the classic
    flow's `AssumeRoleWithWebIdentity`, whose session policies it keeps (SAML
    has no provider here)."""
    try:
        body = sts_answer(request.operation, request.params, region=region)
    except AwsError as error:
        log.info("sts %s refused: %s", request.operation, error)
        return _refuse(start_response, request, error)
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _refuse(
    start_response: StartResponse, request: Request, error: AwsError, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    request.request_id = request.request_id or request_id_new(request.service)
    return send(
        start_response, error, request.service, head=request.method == "HEAD", extra=extra or (), request_id=request.request_id
    )


def _no_write(data: bytes) -> None:
    raise RuntimeError("the gateway's answers return their body; nothing writes")


_REQUEST_ID_HEADERS = frozenset({"x-amz-request-id", "x-amzn-requestid"})
_XML_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")
_REWRITTEN = 64 * 1024  # bytes: S3 error bodies up to this size get the request ID; larger ones are objects


def _with_request_id(
    request: Request, status: int, headers: list[tuple[str, str]], body: list[bytes]
) -> tuple[list[tuple[str, str]], list[bytes]]:
    """The answer with the gateway's request ID, whoever wrote it: the
    header the service's SDK reads, and the `<RequestId>` of Query-protocol
    bodies and S3 errors (moto writes IDs of its own)."""
    request.request_id = request.request_id or request_id_new(request.service)
    name = "x-amz-request-id" if request.service == "s3" else "x-amzn-RequestId"
    kept = [(k, v) for k, v in headers if k.lower() not in _REQUEST_ID_HEADERS]
    # Query bodies are API answers of any length; S3's are objects unless they are small error documents.
    query = request.service in ("iam", "sts")
    if query or (request.service == "s3" and status >= 300):
        if len(body) == 1 and (query or len(body[0]) <= _REWRITTEN) and b"<RequestId>" in body[0]:
            text = _XML_REQUEST_ID.sub(f"<RequestId>{request.request_id}</RequestId>".encode(), body[0], count=1)
            if len(text) != len(body[0]):
                kept = [(k, str(len(text)) if k.lower() == "content-length" else v) for k, v in kept]
            body = [text]
    return [*kept, (name, request.request_id)], body
