"""HTTP helpers for the app's small API: JSON answers (never cached, errors
as {"error": ...}), JSON bodies read within limits, and the client address
every rate limit and audit record is keyed on."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

# Deeper than any body the app expects, far shallower than the ~1,000 levels
# at which Python's json module raises RecursionError (a 500) instead of ValueError.
JSON_MAX_DEPTH = 8  # levels of [ and {, the top-level object included
TOO_LARGE = "That request is too large."

View = Callable[..., HttpResponse]


def json_answer(data: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"  # credentials and private data: never in a cache
    return response


def json_error(message: str, status: int, *, allow: str | None = None, retry_after: int | None = None) -> JsonResponse:
    """A fixed, human message; the detail belongs in the log, not here."""
    response = json_answer({"error": message}, status=status)
    if allow:
        response["Allow"] = allow
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)  # seconds
    return response


def json_post(*, signed_in: str | None = None) -> Callable[[View], View]:
    """An API view that takes POST only (405 as JSON otherwise) and, when
    `signed_in` is a message, a signed-in user only (401 with it): the
    refusals an API client can read, where Django's decorators answer HTML
    or redirect to the sign-in page."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return json_error("Use POST.", 405, allow="POST")
            if signed_in and not request.user.is_authenticated:
                return json_error(signed_in, 401)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --- reading JSON bodies -------------------------------------------------------------------

class JsonBodyRefused(ValueError):
    """A body we will not use; `message` is for the person, `detail` for the log."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(detail)
        self.message = message
        self.detail = detail


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether [ and { nest deeper than `limit`, counted without recursion and
    skipping string contents exactly as JSON delimits strings."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def json_object_read(
    request: HttpRequest,
    *,
    max_bytes: int,
    required: dict[str, type],
    optional: dict[str, type] | None = None,
    invalid: str,
    max_depth: int = JSON_MAX_DEPTH,
) -> dict[str, Any]:
    """The request's body as a JSON object whose fields have the given types.

    Refused with JsonBodyRefused (message TOO_LARGE, or `invalid`) when the
    body is over `max_bytes` (the declared length is checked before anything
    is read), not UTF-8 (RFC 8259 section 8.1), nested deeper than
    `max_depth`, not JSON, not an object, or has a field of the wrong type.
    Fields not named are left as they are."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise _refused(request, invalid, f"Content-Length {declared[:20]!r}")
    if int(declared) > max_bytes:
        raise _refused(request, TOO_LARGE, f"declared length {declared} over {max_bytes}")
    body = request.body
    if len(body) > max_bytes:
        raise _refused(request, TOO_LARGE, f"{len(body)} bytes over {max_bytes}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(request, invalid, f"not UTF-8: {exc}") from None
    if _depth_exceeds(text, max_depth):
        raise _refused(request, invalid, f"nested deeper than depth {max_depth}")
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and int() past Python's 4,300-digit limit
        raise _refused(request, invalid, f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _refused(request, invalid, f"top level is {type(value).__name__}, not an object")
    for name, kind in required.items():
        if name not in value:
            raise _refused(request, invalid, f"missing field {name!r}")
    for name, kind in {**required, **(optional or {})}.items():
        # bool is a subclass of int, but true is not a number to a JSON client.
        if name in value and (not isinstance(value[name], kind) or isinstance(value[name], bool) and kind is not bool):
            raise _refused(request, invalid, f"field {name!r} is {type(value[name]).__name__}, not {kind.__name__}")
    _strings_check(request, value, invalid)
    return value


def _strings_check(request: HttpRequest, value: dict[str, Any], invalid: str) -> None:
    """A lone surrogate (\\ud800) parses into a str that cannot be encoded
    again, so it would fail later, in the database or a template."""
    for name, field in value.items():
        if isinstance(field, str):
            try:
                field.encode("utf-8")
            except UnicodeEncodeError:
                raise _refused(request, invalid, f"field {name!r} is not valid Unicode") from None


def _refused(request: HttpRequest, message: str, detail: str) -> JsonBodyRefused:
    log.info("refused the JSON body of %s %s: %s", request.method, request.path, detail)
    return JsonBodyRefused(message, detail)


# --- who is asking ----------------------------------------------------------------------------

def client_address(request: HttpRequest) -> str:
    """The address of the client, the one key for rate limits, the guest
    identity limit and the audit trail.

    REMOTE_ADDR, unless TRUSTED_PROXY_COUNT says how many reverse proxies (a
    load balancer, a CDN) stand in front of the app. Each of them appends the
    address it received the request from to X-Forwarded-For, so the client is
    the TRUSTED_PROXY_COUNT-th entry from the right; anything further left was
    written by the client and is not believed. A header shorter than that, or
    an entry that is not an IP address, means the request did not come the way
    the setting says: REMOTE_ADDR then, never a value the client chose."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:
        log.warning("X-Forwarded-For has %d entries, TRUSTED_PROXY_COUNT is %d: using REMOTE_ADDR", len(forwarded), proxies)
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        log.warning("X-Forwarded-For entry %r is not an IP address: using REMOTE_ADDR", candidate[:60])
        return remote
