"""The sandbox's private routes, the one place Django reaches them.

The sandbox keeps what AWS does not show: why it allowed or refused each
request (`GET /_sandbox/decisions/<request id>`) and a CloudTrail-style trail
(`GET /_sandbox/trail`). They answer loopback clients only and exist only
locally, so the browser never calls them: it asks Django, which asks here
with the server's own sandbox endpoint. On AWS there is nothing to ask, and
every function raises `SandboxOnly` at once rather than trying a host that
would not answer.

Errors are `core.aws`'s, so callers handle them like any AWS call's: `NotFound`
for an unknown request id, `Unreachable` for no answer in time, `AwsCallError`
for an answer that is not what the routes promise.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import requests
from django.conf import settings

from core.aws import AwsCallError, NotFound, Unreachable, endpoint_url

log = logging.getLogger(__name__)

# What the sandbox puts in x-amz-request-id / x-amzn-RequestId: letters,
# digits and hyphens. Checked before any request is made, so nothing a
# browser sends becomes another path on the sandbox (`..`, `/`, `?`).
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
TRAIL_LIMIT_MAX = 1000  # records per call, the route's own maximum


class SandboxOnly(AwsCallError):
    """Asked for what only the local sandbox keeps, while running against AWS."""


def sandbox_available() -> bool:
    """Whether the server talks to the local sandbox (PHOTOSHARE_AWS=local)."""
    return settings.PHOTOSHARE_AWS == "local" and bool(endpoint_url("sandbox"))


def request_id_valid(request_id: str) -> bool:
    return bool(REQUEST_ID.fullmatch(request_id))


def decision(*, request_id: str) -> dict[str, Any]:
    """The sandbox's authorization decision for one request (camelCase JSON,
    as `/_sandbox/decisions/<id>` gives it). NotFound when the sandbox keeps
    none under that id (it keeps the last 1,000); ValueError for an id that
    cannot be one."""
    if not request_id_valid(request_id):
        raise ValueError("not a request id")
    answer = _get(f"/_sandbox/decisions/{request_id}", operation="SandboxDecision")
    if not isinstance(answer, dict) or "principal" not in answer:
        raise AwsCallError("BadAnswer", "a decision without a principal", operation="SandboxDecision")
    return answer


def trail(*, since: dt.datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """CloudTrail-format records with `eventTime >= since`, oldest first, at
    most `limit` (1 to 1,000)."""
    if not 1 <= limit <= TRAIL_LIMIT_MAX:
        raise ValueError(f"limit must be 1 to {TRAIL_LIMIT_MAX}")
    params: dict[str, str] = {"limit": str(limit)}
    if since is not None:
        params["since"] = since.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = _get("/_sandbox/trail", params=params, operation="SandboxTrail")
    records = answer.get("Records") if isinstance(answer, dict) else None
    if not isinstance(records, list):
        raise AwsCallError("BadAnswer", "a trail without Records", operation="SandboxTrail")
    return [record for record in records if isinstance(record, dict)]


def _get(path: str, *, operation: str, params: dict[str, str] | None = None) -> Any:
    if not sandbox_available():
        raise SandboxOnly("SandboxOnly", "the sandbox's routes exist only locally", operation=operation)
    url = f"{endpoint_url('sandbox').rstrip('/')}{path}"
    try:
        # The same explicit timeouts as every AWS call (seconds); no retries:
        # these are reads a person is waiting for, and the sandbox is local.
        response = requests.get(
            url, params=params, timeout=(settings.AWS_CONNECT_TIMEOUT, settings.AWS_READ_TIMEOUT), allow_redirects=False
        )
    except requests.RequestException as exc:
        log.warning("sandbox %s unreachable: %s", operation, exc)
        raise Unreachable(type(exc).__name__, str(exc), operation=operation) from exc
    if response.status_code == 404:
        raise NotFound("404", _error_of(response), operation=operation)
    if response.status_code != 200:
        log.warning("sandbox %s answered %s: %s", operation, response.status_code, response.text[:300])
        raise AwsCallError(str(response.status_code), _error_of(response), operation=operation)
    try:
        return response.json()
    except ValueError as exc:
        raise AwsCallError("BadAnswer", "not JSON", operation=operation) from exc


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:300]
    except (ValueError, AttributeError):
        return response.text[:300]
