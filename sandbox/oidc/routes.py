"""HTTP for the provider under `/_sandbox/oidc`: strict parsing in, the
provider's rules (`provider.py`), and each refusal in the form its endpoint
owes: an error page for the browser-facing pages, an OAuth JSON error for
`token` and `userinfo` (RFC 6749 section 5.2, RFC 6750 section 3).

The gateway answers these routes before it takes its shared lock, since an
identity pool fetches this JWKS while answering a GetId inside that lock; a
snapshot waiting for the lock in between would deadlock them. Nothing here
touches moto, so nothing needs the lock.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from sandbox.errors import AwsError
from sandbox.gateway.request import read_body, request_from
from sandbox.oidc import pages
from sandbox.oidc.provider import EmailRefused, OAuthError, PageError, Provider, RedirectError

log = logging.getLogger("sandbox.oidc")

PREFIX = "/_sandbox/oidc"
MAX_FORM = 16 * 1024  # bytes; the largest form here (a token request) is well under 1 KiB
MAX_FIELDS = 32  # parameters in one query or form
FORM = "application/x-www-form-urlencoded"

StartResponse = Callable[..., Any]
_REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}


def oidc_route(environ: Mapping[str, Any]) -> bool:
    """Whether the request is for the provider, read from the raw path as
    every other route is (a percent-encoded path is not the provider's)."""
    if not environ.get("PATH_INFO", "").startswith(PREFIX):  # decoding keeps a literal prefix: most requests stop here
        return False
    raw_path = request_from(environ).raw_path
    return raw_path == PREFIX or raw_path.startswith(PREFIX + "/")


class _BadForm(ValueError):
    pass


def oidc_answer(provider: Provider | None, environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
    request = request_from(environ)
    route = request.raw_path[len(PREFIX) :]
    if provider is None:
        return _json(start_response, 404, {"error": "not_found", "error_description": "This sandbox has no OIDC provider."})
    try:
        body = read_body(environ, limit=MAX_FORM)
    except AwsError as error:  # the rest may still be on the wire: end the connection
        log.info("oidc %s: unreadable body: %s", route, error)
        return _json(start_response, 400, _oauth_body("invalid_request", "The request body is too large or malformed."), [("Connection", "close")])
    handler = _ROUTES.get(route)
    if handler is None:
        return _json(start_response, 404, {"error": "not_found", "error_description": "No such endpoint."})
    methods, answer = handler
    if request.method not in methods:
        return _json(start_response, 405, _oauth_body("invalid_request", f"Use {' or '.join(methods)}."), [("Allow", ", ".join(methods))])
    try:
        return answer(provider, request.method, environ, request.headers, body, start_response)
    except _BadForm as exc:
        log.info("oidc %s: bad form: %s", route, exc)
        if route in ("/token", "/userinfo"):
            return _json(start_response, 400, _oauth_body("invalid_request", "The parameters are not a valid url-encoded form."))
        return _page(start_response, provider, 400, "invalid_request", "The request's parameters could not be read.")


# -- the documents
def _discovery(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    return _json(start, 200, provider.discovery())


def _jwks(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    return _json(start, 200, provider.jwks())


def _stylesheet(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    start("200 OK", [("Content-Type", "text/css; charset=utf-8"), ("Content-Length", str(len(pages.STYLESHEET))), ("X-Content-Type-Options", "nosniff")])
    return [pages.STYLESHEET]


# -- the browser's pages
def _authorize(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    """GET with the query, or POST with a form (OIDC Core 1.0 section 3.1.2.1 allows both)."""
    params = _pairs(environ.get("QUERY_STRING", "")) if method == "GET" else _form(headers, body)
    try:
        request_id, pending = provider.authorization_begin(params)
    except PageError as error:
        log.info("oidc authorize refused with a page: %s (client_id %r)", error, _first(params, "client_id"))
        return _page(start, provider, error.status, error.error, error.message)
    except RedirectError as error:
        log.info("oidc authorize refused to the client: %s", error)
        return _redirect(start, error.location)
    page = pages.sign_in_page(issuer=provider.issuer, request_id=request_id, pending=pending)
    return _html(start, 200, page, form_target=pending.redirect_uri)


def _sign_in(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    fields = _unique(_form(headers, body))
    request_id = fields.get("request", "")
    try:
        if "cancel" in fields:
            return _redirect(start, provider.cancel(request_id=request_id))
        if "email" not in fields:
            pending = provider.pending(request_id)
            return _html(start, 400, pages.sign_in_page(issuer=provider.issuer, request_id=request_id, pending=pending,
                                                        problem="Choose a person or type an email address."), form_target=pending.redirect_uri)
        try:
            return _redirect(start, provider.sign_in(request_id=request_id, email=fields["email"]))
        except EmailRefused as refused:
            pending = provider.pending(request_id)
            page = pages.sign_in_page(
                issuer=provider.issuer, request_id=request_id, pending=pending, problem=str(refused), typed=fields["email"][:254]
            )
            return _html(start, 400, page, form_target=pending.redirect_uri)
    except PageError as error:
        log.info("oidc sign-in refused: %s", error)
        return _page(start, provider, error.status, error.error, error.message)


# -- the client's endpoints
def _token(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    basic = headers.get("authorization", "").partition(" ")[0].lower() == "basic"
    try:
        if not _media_type(headers) == FORM:
            raise OAuthError("invalid_request", f"The body must be {FORM}.")
        try:
            fields = _unique(_form(headers, body))
        except _BadForm as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        client_id, secret = _client_credentials(headers, fields)
        try:
            client = provider.client_authenticate(client_id=client_id, secret=secret)
        except OAuthError as error:
            if basic:  # RFC 6749 section 5.2: 401 with the scheme the client tried
                error.headers.append(("WWW-Authenticate", 'Basic realm="sandbox-oidc", charset="UTF-8"'))
            raise
        answer = provider.token(client=client, params=fields)
    except OAuthError as error:
        log.info("oidc token refused: %s", error)
        return _json(start, error.status, _oauth_body(error.error, error.description), error.headers)
    return _json(start, 200, answer)


def _client_credentials(headers: Mapping[str, str], fields: Mapping[str, str]) -> tuple[str, str]:
    """client_secret_basic or client_secret_post, exactly one of them
    (RFC 6749 section 2.3: a client MUST NOT use more than one method)."""
    authorization = headers.get("authorization")
    posted = "client_secret" in fields
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic" or posted:
            raise OAuthError("invalid_request", "Authenticate with one method: HTTP Basic or client_secret in the body.")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # not base64 (non-ASCII included), or not UTF-8
            raise OAuthError("invalid_client", "Client authentication failed.", status=401) from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise OAuthError("invalid_client", "Client authentication failed.", status=401)
        # The ID and secret are form-encoded before base64 (RFC 6749 section 2.3.1).
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if "client_id" in fields and fields["client_id"] != client_id:
            raise OAuthError("invalid_request", "client_id in the body is not the one authenticated.")
        return client_id, secret
    if posted and "client_id" in fields:
        return fields["client_id"], fields["client_secret"]
    raise OAuthError("invalid_client", "Client authentication failed: send client_secret_basic or client_secret_post.", status=401)


def _userinfo(provider: Provider, method: str, environ: Mapping[str, Any], headers: Mapping[str, str], body: bytes, start: StartResponse) -> list[bytes]:
    """The Bearer token in the Authorization header only (RFC 6750 section 2.1)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # No credentials at all: the challenge without an error code (RFC 6750 section 3.1).
        return _json(start, 401, _oauth_body("invalid_request", "Send the access token as Authorization: Bearer <token>."),
                     [("WWW-Authenticate", 'Bearer realm="sandbox-oidc"')])
    try:
        claims = provider.userinfo(access_token=token.strip())
    except OAuthError as error:
        log.info("oidc userinfo refused: %s", error)
        return _json(start, error.status, _oauth_body(error.error, error.description), error.headers)
    return _json(start, 200, claims)


_Handler = Callable[[Provider, str, Mapping[str, Any], Mapping[str, str], bytes, StartResponse], list[bytes]]
_ROUTES: dict[str, tuple[tuple[str, ...], _Handler]] = {
    "/.well-known/openid-configuration": (("GET",), _discovery),
    "/jwks.json": (("GET",), _jwks),
    "/sign-in.css": (("GET",), _stylesheet),
    "/authorize": (("GET", "POST"), _authorize),
    "/sign-in": (("POST",), _sign_in),
    "/token": (("POST",), _token),
    "/userinfo": (("GET", "POST"), _userinfo),
}


# -- parsing
def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadForm(str(exc)) from None
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise _BadForm("NUL in a parameter")
    return pairs


def _form(headers: Mapping[str, str], body: bytes) -> list[tuple[str, str]]:
    if body and _media_type(headers) != FORM:
        raise _BadForm(f"the body must be {FORM}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadForm("the body is not UTF-8") from None
    return _pairs(text)


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Each parameter at most once (RFC 6749 section 3.2)."""
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise _BadForm(f"{key} is given more than once")
        fields[key] = value
    return fields


def _first(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v[:100] for k, v in pairs if k == name), None)


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


# -- answers
def _oauth_body(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


def _json(
    start: StartResponse, status: int, data: Any, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    body = json.dumps(data).encode()
    # Token answers MUST NOT be cached (RFC 6749 section 5.1); nothing here needs to be.
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    start(f"{status} {_REASONS.get(status, 'Error')}", [*headers, *(extra or [])])
    return [body]


def _html(start: StartResponse, status: int, page: bytes, *, form_target: str | None = None) -> list[bytes]:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))), *pages.security_headers(form_target=form_target)]
    start(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [page]


def _page(start: StartResponse, provider: Provider, status: int, error: str, message: str) -> list[bytes]:
    return _html(start, status, pages.error_page(issuer=provider.issuer, error=error, message=message))


def _redirect(start: StartResponse, location: str) -> list[bytes]:
    start("303 See Other", [("Location", location), ("Content-Length", "0"), *pages.security_headers()])
    return [b""]
