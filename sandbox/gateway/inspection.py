"""What the sandbox keeps about each request it serves, and the two routes
that hand it out (loopback clients only, like the outbox; neither exists on AWS):

    GET /_sandbox/decisions/<request id>   the authorization decision, explained
    GET /_sandbox/trail?since=<eventTime>&limit=<n>   CloudTrail records, oldest first

The gateway fills one `Exchange` per request as it goes (what the request
is, who sent it, what authorization decided or why it was refused before);
`Inspection` keeps the decision the moment it is made and the trail record
once the answer is known. `--no-inspection` (for `bench/sandbox_overhead.py`)
keeps neither, and the routes then answer 404.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.gateway.authentication import Principal
from sandbox.gateway.authorization import Verdict, needs
from sandbox.gateway.decisions import DecisionRecord, Decisions
from sandbox.gateway.faults import operation_name
from sandbox.gateway.request import VERSION_OF, Request
from sandbox.s3.actions import bucket_arn, object_arn, split_path
from sandbox.trail import records
from sandbox.trail.store import TrailStore

PRIVATE_PREFIX = "/_sandbox/"
DECISIONS_PREFIX = "/_sandbox/decisions/"
TRAIL_PATH = "/_sandbox/trail"
MAX_LIMIT = 1000  # records per /_sandbox/trail answer
DEFAULT_LIMIT = 100
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")  # S3's hex IDs and the others' UUIDs
_SINCE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_WEB_IDENTITY = "cognito-identity.amazonaws.com:"

StartResponse = Callable[..., Any]
log = logging.getLogger("sandbox")


@dataclass
class Exchange:
    """One request as the gateway learned it, step by step."""

    request: Request
    source_ip: str
    region: str = ""
    classified: bool = False
    signed_key: str | None = None  # the access key a signature named, even if it was refused
    principal: Principal | None = None
    verdict: Verdict | None = None
    refusal: AwsError | None = None  # the error the gateway answered with, if it refused
    event_name: str | None = None  # the API call's name, worked out once

    @property
    def recorded(self) -> bool:
        """API calls only: not the well-known JWKS documents, not what could not be classified."""
        return self.classified and (self.request.service == "s3" or bool(self.request.operation))


class Inspection:
    """The decisions and the trail of one gateway."""

    IDENTITIES = 4096  # userIdentity blocks remembered, one per caller

    def __init__(self, *, enabled: bool = True, trail_dir: Path | None = None) -> None:
        self.enabled = enabled
        self.decisions = Decisions()
        self.trail = TrailStore(trail_dir) if enabled else None
        # A caller's userIdentity is the same on each of their calls: made once, shared by their records.
        self._identities: dict[tuple[Any, ...], dict[str, Any]] = {}

    def close(self) -> None:
        if self.trail is not None:
            self.trail.close()

    def decision_keep(self, exchange: Exchange) -> None:
        """Keep the decision just made (or the refusal that preceded IAM) under the request's ID."""
        if not self.enabled or not exchange.recorded:
            return
        request = exchange.request
        try:
            self._decision_keep(exchange, request)
        except Exception:  # the request's own outcome must not depend on the record of it
            log.exception("no decision kept for %s %s", request.service, request.request_id)

    def _decision_keep(self, exchange: Exchange, request: Request) -> None:
        self.decisions.keep(
            DecisionRecord(
                request_id=request.request_id,
                time=dt.datetime.now(dt.timezone.utc),
                service=request.service,
                operation=_event_name(exchange),
                principal=exchange.principal,
                verdict=exchange.verdict,
                refusal=exchange.refusal if exchange.verdict is None else None,
            )
        )

    def trail_keep(self, exchange: Exchange, status: int, headers: list[tuple[str, str]], body: list[bytes]) -> None:
        """Keep the answered call in the trail. A record that cannot be made
        is logged, never turned into a failed request: the answer is already sent."""
        if self.trail is None or not exchange.recorded:
            return
        try:
            self.trail.append(_trail_record(exchange, status, headers, body, self._identity(exchange)))
        except Exception:
            log.exception("no trail record for %s %s", exchange.request.service, exchange.request.request_id)


# --- the trail record of one exchange ------------------------------------------------------


    def _identity(self, exchange: Exchange) -> dict[str, Any]:
        p = exchange.principal
        key = (exchange.request.service == "s3", exchange.signed_key) if p is None else (p.access_key_id, p.arn, p.issued)
        identity = self._identities.get(key)
        if identity is None:
            if len(self._identities) >= self.IDENTITIES:
                self._identities.clear()
            identity = self._identities[key] = _identity(exchange)
        return identity


def _event_name(exchange: Exchange) -> str:
    if exchange.event_name is None:
        exchange.event_name = _name_of(exchange.request, exchange.region)
    return exchange.event_name


def _name_of(request: Request, region: str) -> str:
    if request.service != "s3":
        return request.operation or ""
    name = operation_name(request)
    if name is not None:
        return name
    try:  # a bucket sub-resource: its IAM action names the API call (s3:GetBucketCORS -> GetBucketCORS)
        action = needs(request, region=region)[0].action
        if action == "s3:ListBucket":  # a listing with parameters operation_name does not list (encoding-type)
            return "ListObjectsV2" if request.query_dict.get("list-type") == "2" else "ListObjects"
        return action.split(":", 1)[1]
    except (AwsError, IndexError):
        return request.method


def _identity(exchange: Exchange) -> dict[str, Any]:
    p = exchange.principal
    account = moto_seams.ACCOUNT_ID
    if p is None:
        return records.user_identity(
            kind=None, arn=None, account_id=account, access_key_id=exchange.signed_key, service=exchange.request.service
        )
    web = None
    if p.identity_id is not None:
        web = {name: p.context.get(_WEB_IDENTITY + name) for name in ("amr", "aud", "sub")}
    return records.user_identity(
        kind=p.kind,
        arn=p.arn,
        account_id=account,
        access_key_id=p.access_key_id,
        user_id=p.user_id,
        user_name=p.user_name,
        role_arn=p.role_arn,
        role_id=p.role_id,
        role_name=p.role_name,
        creation_date=p.issued.strftime("%Y-%m-%dT%H:%M:%SZ") if p.issued else None,
        web_identity=web,
    )


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _trail_record(
    exchange: Exchange, status: int, headers: list[tuple[str, str]], chunks: list[bytes], identity: dict[str, Any]
) -> dict[str, Any]:
    request = exchange.request
    name = _event_name(exchange)
    size = sum(len(c) for c in chunks)
    # Only answers the record reads from are joined: never an object's body.
    body = b"".join(chunks) if request.service != "s3" or status >= 300 else b""
    if exchange.refusal is not None:
        code, message = exchange.refusal.code, exchange.refusal.message
    else:
        code, message = records.error_of(status, body)
    additional = resources = None
    if request.service == "s3":
        bucket, key = split_path(request.raw_path)
        parameters: dict[str, Any] = {"bucketName": bucket} if bucket else {}
        parameters["Host"] = request.headers.get("host", "")
        if key is not None:
            parameters["key"] = key
        parameters.update({k: v for k, v in request.query_dict.items() if not k.startswith("X-Amz-")})
        elements = None
        if status < 300:
            kept = {h: _header(headers, h) for h in ("x-amz-version-id", "x-amz-server-side-encryption")}
            elements = {h: v for h, v in kept.items() if v is not None} or None
        additional = {"bytesTransferredIn": len(request.body), "bytesTransferredOut": size}
        if exchange.signed_key is not None:
            method = "AuthHeader" if "authorization" in request.headers else "QueryString"
            additional = {"SignatureVersion": "SigV4", "AuthenticationMethod": method, **additional}
        if bucket:
            resources = [{"accountId": moto_seams.ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": bucket_arn(bucket)}]
            if key is not None:
                resources.insert(0, {"type": "AWS::S3::Object", "ARN": object_arn(bucket, key)})
    else:
        params = dict(request.params)
        if request.service in VERSION_OF:
            params = {k: v for k, v in params.items() if k not in ("Action", "Version")}
        if request.service == "dynamodb":
            # Below the top level are attribute names, which are data: kept as written.
            parameters = {k[:1].lower() + k[1:]: v for k, v in params.items()} or None
        else:
            parameters = records.camel(params) or None
        elements = None
        if status < 300 and records.wants_response(name):
            elements = records.query_elements(body, name) if request.service in VERSION_OF else records.json_elements(body)
    return records.record(
        service=request.service,
        event_name=name,
        region=exchange.region,
        source_ip=exchange.source_ip,
        user_agent=request.headers.get("user-agent", ""),
        identity=identity,
        request_id=request.request_id,
        account_id=moto_seams.ACCOUNT_ID,
        request_parameters=parameters,
        response_elements=elements,
        error_code=code,
        error_message=message,
        additional=additional,
        resources=resources,
    )


# --- the routes ---------------------------------------------------------------------------


def private_route(raw_path: str) -> bool:
    return raw_path.startswith(PRIVATE_PREFIX) or raw_path == PRIVATE_PREFIX.rstrip("/")


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _json(start_response: StartResponse, line: str, data: Any, extra: tuple[tuple[str, str], ...] = ()) -> list[bytes]:
    body = json.dumps(data).encode()
    start_response(line, [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra])
    return [body]


def _since(value: str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if not _SINCE.fullmatch(value):
        raise ValueError("since")
    return dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)  # ValueError: 2026-13-40


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit()) or len(value) > 4 or not 1 <= int(value) <= MAX_LIMIT:
        raise ValueError("limit")
    return int(value)


def inspection_answer(
    inspection: Inspection, request: Request, environ: Mapping[str, Any], start_response: StartResponse
) -> list[bytes]:
    """`/_sandbox/decisions/<id>`, `/_sandbox/trail` and any other `/_sandbox/` path (404)."""
    if not _loopback(environ.get("REMOTE_ADDR", "")):
        return _json(start_response, "403 Forbidden", {"error": "The sandbox's own routes answer loopback clients only."})
    if request.method != "GET":
        return _json(start_response, "405 Method Not Allowed", {"error": "Only GET is answered here."}, (("Allow", "GET"),))
    path = request.raw_path
    if path != TRAIL_PATH and not path.startswith(DECISIONS_PREFIX):
        return _json(start_response, "404 Not Found", {"error": "The sandbox has no such route."})
    if not inspection.enabled:
        return _json(start_response, "404 Not Found", {"error": "This sandbox keeps no decisions or trail (--no-inspection)."})
    if path == TRAIL_PATH:
        query = request.query_dict
        try:
            since = _since(query.get("since"))
        except ValueError:
            return _json(start_response, "400 Bad Request", {"error": "since must be an ISO 8601 UTC time, e.g. 2026-12-01T10:02:03Z."})
        try:
            limit = _limit(query.get("limit"))
        except ValueError:
            return _json(start_response, "400 Bad Request", {"error": f"limit must be a whole number from 1 to {MAX_LIMIT}."})
        assert inspection.trail is not None
        return _json(start_response, "200 OK", {"Records": inspection.trail.query(since=since, limit=limit)})
    request_id = path[len(DECISIONS_PREFIX):]
    if not _REQUEST_ID.fullmatch(request_id):
        return _json(start_response, "400 Bad Request", {"error": "That is not a request id."})
    record = inspection.decisions.get(request_id)
    if record is None:
        return _json(start_response, "404 Not Found", {"error": "No decision is kept for that request id."})
    return _json(start_response, "200 OK", record.as_json())
