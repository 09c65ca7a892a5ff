"""The provider's rules, without HTTP: authorization requests, the person's
choice, codes, tokens and userinfo. `routes.py` parses the HTTP around it.

What it enforces, and the attack each rule stops:
- a redirect URI registered for the client, exactly, else an error page and
  no redirect (OAuth 2.0, RFC 6749 section 4.1.2.1): an open redirector
  would hand codes to anyone;
- PKCE with S256 on every request (RFC 7636; required by the OAuth 2.0
  Security BCP, RFC 9700): a code intercepted on its way back is useless
  without the verifier only the client holds;
- a code lives 60 s, is bound to the client, the redirect URI and the PKCE
  challenge, and is used once; a second use also revokes the access token the
  first one got (RFC 6749 section 4.1.2), since a replayed code means it leaked;
- the person's choice is posted with the opaque ID of an authorization
  request kept here, never with the request's own fields, which a form would
  let anyone edit (another client, another redirect URI).

Everything lives in memory under one lock, each kind bounded in number:
expired entries go first, then the oldest. A restart forgets codes and
access tokens (ID tokens still verify: the key is kept with `--data-dir`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from sandbox.cognito_idp.keys import ALGORITHM, SigningKey
from sandbox.oidc.clients import Client
from sandbox.oidc.people import DEMO_PEOPLE, email_normalize, hosted_domain_of, subject_of

CODE_LIFETIME = 60  # seconds, as the brief and most providers allow (RFC 6749 recommends at most 10 minutes)
TOKEN_LIFETIME = 3600  # seconds, ID and access tokens, as Google's
PENDING_LIFETIME = 600  # seconds a sign-in page stays usable
MAX_PENDING = 1000  # authorization requests waiting for a person at once
MAX_CODES = 1000
MAX_TOKENS = 10_000
MAX_STATE = 1024  # characters of `state` and of `nonce`
SCOPES = ("openid", "email", "profile")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1


def issuer_check(issuer: str) -> None:
    """An issuer is an http(s) URL with no query or fragment (Discovery 1.0
    section 3), here the sandbox's by some name; ValueError otherwise."""
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or "#" in issuer or "?" in issuer:
        raise ValueError(f"the OIDC issuer {issuer!r} must be an http(s) URL without a query or fragment")
    if parts.path.rstrip("/") != "/_sandbox/oidc":  # the routes are there, whatever the name
        raise ValueError(f"the OIDC issuer {issuer!r} must end in /_sandbox/oidc, where the provider answers")


class PageError(Exception):
    """Shown to the person on an error page, never sent to a redirect URI:
    the client or the redirect URI cannot be trusted (or the page expired)."""

    def __init__(self, error: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {message}")
        self.error, self.message, self.status = error, message, status


class RedirectError(Exception):
    """Sent back to the client's (verified) redirect URI as `?error=`."""

    def __init__(self, error: str, description: str, *, location: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.location = error, description, location


class OAuthError(Exception):
    """A token or userinfo endpoint error, answered as JSON (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, *, status: int = 400, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status, self.headers = error, description, status, list(headers)


class EmailRefused(Exception):
    """The typed address will not do; the sign-in page is shown again."""


@dataclass(frozen=True)
class Pending:
    """An authorization request waiting for the person to choose who they are."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    state: str | None
    nonce: str | None
    expires: float


@dataclass
class Grant:
    """An authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    code_challenge: str
    nonce: str | None
    email: str
    auth_time: int
    expires: float
    used: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccessToken:
    client_id: str
    email: str
    scope: tuple[str, ...]
    expires: float


V = TypeVar("V")


class Provider:
    """One OIDC provider: its issuer, clients, key, hosted domains and state."""

    def __init__(
        self,
        *,
        issuer: str,
        clients: Mapping[str, Client],
        key: SigningKey | Callable[[], SigningKey],
        hosted_domains: Iterable[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.clients = dict(clients)
        # A key, or how to make one when first needed: generating takes ~100 ms, and most
        # sandboxes (every test's) never sign anything.
        self._key, self._key_lock = key, threading.Lock()
        self.hosted_domains = frozenset(hosted_domains)
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, Pending] = {}
        self._grants: dict[str, Grant] = {}
        self._tokens: dict[str, AccessToken] = {}

    @property
    def key(self) -> SigningKey:
        with self._key_lock:
            if not isinstance(self._key, SigningKey):
                self._key = self._key()
            return self._key

    # -- the public documents
    def discovery(self) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0, section 3."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["iss", "aud", "azp", "sub", "email", "email_verified", "hd", "name", "nonce", "iat", "exp", "auth_time"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk]}

    # -- authorize: the request, then the person's choice
    def authorization_begin(self, params: list[tuple[str, str]]) -> tuple[str, Pending]:
        """Check an authorization request; the opaque ID it is kept under, and it.
        Raises PageError until the client and redirect URI are known good,
        RedirectError after."""
        values: dict[str, list[str]] = {}
        for name, value in params:
            if value:  # "sent without a value MUST be treated as if they were omitted" (RFC 6749 section 3.1)
                values.setdefault(name, []).append(value)
        client_ids, redirect_uris = values.get("client_id", []), values.get("redirect_uri", [])
        if len(client_ids) != 1 or client_ids[0] not in self.clients:
            raise PageError("invalid_client", "The app that sent you here is not registered with this sign-in service.")
        client = self.clients[client_ids[0]]
        if len(redirect_uris) != 1 or not client.redirects_to(redirect_uris[0]):
            raise PageError("redirect_uri_mismatch", "The app that sent you here asked to return to an address it did not register.")
        redirect_uri = redirect_uris[0]
        states = values.get("state", [])
        state = states[0] if len(states) == 1 and len(states[0]) <= MAX_STATE else None  # never echo an oversized one

        def refuse(error: str, description: str) -> RedirectError:
            return RedirectError(error, description, location=self._redirect(redirect_uri, error=error, error_description=description, state=state))

        # Descriptions are fixed texts: nothing the request says is reflected to the client's page.
        if any(len(given) > 1 for given in values.values()):
            raise refuse("invalid_request", "A parameter is given more than once.")
        one = {name: given[0] for name, given in values.items()}
        if "request" in one:
            raise refuse("request_not_supported", "Request objects are not supported.")
        if "request_uri" in one:
            raise refuse("request_uri_not_supported", "request_uri is not supported.")
        if "response_type" not in one:
            raise refuse("invalid_request", "response_type is required.")
        if one["response_type"] != "code":
            raise refuse("unsupported_response_type", "Only response_type=code is supported.")
        if one.get("response_mode", "query") != "query":
            raise refuse("invalid_request", "Only response_mode=query is supported.")
        scope = tuple(dict.fromkeys(one.get("scope", "").split()))
        if "openid" not in scope:
            raise refuse("invalid_scope", "scope must include openid.")
        unknown = [s for s in scope if s not in SCOPES]
        if unknown:
            raise refuse("invalid_scope", f"Only these scopes are supported: {' '.join(SCOPES)}.")
        if "code_challenge" not in one:
            raise refuse("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.")
        if one.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "code_challenge_method must be S256.")
        if not _CHALLENGE.fullmatch(one["code_challenge"]):
            raise refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters).")
        if len(one.get("state", "")) > MAX_STATE or len(one.get("nonce", "")) > MAX_STATE:
            raise refuse("invalid_request", f"state and nonce may be at most {MAX_STATE} characters.")
        if "none" in one.get("prompt", "").split():
            raise refuse("login_required", "This provider always shows its sign-in page.")
        pending = Pending(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            code_challenge=one["code_challenge"],
            state=one.get("state"),
            nonce=one.get("nonce"),
            expires=self.clock() + PENDING_LIFETIME,
        )
        request_id = secrets.token_urlsafe(32)
        with self._lock:
            _room(self._pending, MAX_PENDING, self.clock(), lambda p: p.expires)
            self._pending[request_id] = pending
        return request_id, pending

    def pending(self, request_id: str) -> Pending:
        """The waiting request, or the PageError for one expired or used."""
        with self._lock:
            pending = self._pending.get(request_id)
        if pending is None or pending.expires <= self.clock():
            raise _expired()
        return pending

    def sign_in(self, *, request_id: str, email: str) -> str:
        """The person chose `email`: the redirect to the client with a code.
        EmailRefused leaves the request waiting for a better address."""
        self.pending(request_id)
        address = email_normalize(email)
        if address is None:
            raise EmailRefused("That is not an email address this sign-in service accepts.")
        now = self.clock()
        with self._lock:
            pending = self._pending.pop(request_id, None)  # taken once, under the lock: a double submit gets one code
            if pending is None or pending.expires <= now:
                raise _expired()
            code = secrets.token_urlsafe(32)
            _room(self._grants, MAX_CODES, now, lambda g: g.expires)
            self._grants[code] = Grant(
                client_id=pending.client_id,
                redirect_uri=pending.redirect_uri,
                scope=pending.scope,
                code_challenge=pending.code_challenge,
                nonce=pending.nonce,
                email=address,
                auth_time=int(now),
                expires=now + CODE_LIFETIME,
            )
        return self._redirect(pending.redirect_uri, code=code, state=pending.state, iss=self.issuer)

    def cancel(self, *, request_id: str) -> str:
        """The person declined: `access_denied` to the client (Core 1.0 section 3.1.2.6)."""
        with self._lock:
            pending = self._pending.pop(request_id, None)
        if pending is None or pending.expires <= self.clock():
            raise _expired()
        return self._redirect(
            pending.redirect_uri, error="access_denied", error_description="The person declined to sign in.", state=pending.state
        )

    # -- token
    def client_authenticate(self, *, client_id: str, secret: str) -> Client:
        client = self.clients.get(client_id)
        # Compared in constant time, and against something even for an unknown client.
        expected = client.secret if client is not None else secrets.token_urlsafe(16)
        if not hmac.compare_digest(secret.encode(), expected.encode()) or client is None:
            raise OAuthError("invalid_client", "Client authentication failed.", status=401)
        return client

    def token(self, *, client: Client, params: Mapping[str, str]) -> dict[str, Any]:
        """The authorization-code grant for an authenticated client."""
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required.")
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "Only grant_type=authorization_code is supported.")
        for name in ("code", "redirect_uri", "code_verifier"):
            if not params.get(name):
                raise OAuthError("invalid_request", f"{name} is required.")
        if not _VERIFIER.fullmatch(params["code_verifier"]):
            raise OAuthError("invalid_request", "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~.")
        now = self.clock()
        with self._lock:
            grant = self._grants.get(params["code"])
            if grant is None or grant.expires <= now:
                raise OAuthError("invalid_grant", "The authorization code is invalid or expired.")
            if grant.used:
                for token in grant.access_tokens:  # the code leaked: what it bought is revoked too
                    self._tokens.pop(token, None)
                raise OAuthError("invalid_grant", "The authorization code has already been used.")
            grant.used = True  # any attempt uses it up: no guessing the verifier one try at a time
            if grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "The authorization code was issued to another client.")
            if params["redirect_uri"] != grant.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request.")
            if not hmac.compare_digest(_s256(params["code_verifier"]), grant.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")
            access_token = secrets.token_urlsafe(32)
            _room(self._tokens, MAX_TOKENS, now, lambda t: t.expires)
            self._tokens[access_token] = AccessToken(
                client_id=client.client_id, email=grant.email, scope=grant.scope, expires=now + TOKEN_LIFETIME
            )
            grant.access_tokens.append(access_token)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": " ".join(grant.scope),
            "id_token": self.key.sign(self._id_claims(grant, now=int(now))),
        }

    def _id_claims(self, grant: Grant, *, now: int) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "azp": grant.client_id,
            **self._person_claims(grant.email, grant.scope),
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "auth_time": grant.auth_time,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return claims

    def _person_claims(self, email: str, scope: tuple[str, ...]) -> dict[str, Any]:
        # email and email_verified whatever the scope (Google gives them only for `email`): the app keys rules on them.
        claims: dict[str, Any] = {"sub": subject_of(email), "email": email, "email_verified": True}
        hd = hosted_domain_of(email, self.hosted_domains)
        if hd is not None:
            claims["hd"] = hd
        name = next((p.name for p in DEMO_PEOPLE if p.email == email), None)
        if "profile" in scope and name is not None:
            claims["name"] = name
        return claims

    # -- userinfo
    def userinfo(self, *, access_token: str) -> dict[str, Any]:
        with self._lock:
            token = self._tokens.get(access_token)
        if token is None or token.expires <= self.clock():
            raise OAuthError(
                "invalid_token",
                "The access token is invalid or expired.",
                status=401,
                headers=[("WWW-Authenticate", 'Bearer error="invalid_token", error_description="The access token is invalid or expired."')],
            )
        return self._person_claims(token.email, token.scope)

    @staticmethod
    def _redirect(uri: str, **params: str | None) -> str:
        """`uri` with `params` added to its query (a registered URI may have one of its own)."""
        query = urlencode({k: v for k, v in params.items() if v is not None})
        joiner = "&" if urlsplit(uri).query else ("" if uri.endswith("?") else "?")
        return f"{uri}{joiner}{query}"


def _expired() -> PageError:
    return PageError("expired", "This sign-in page has expired or was already used. Go back to the app and sign in again.")


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _room(entries: dict[str, V], limit: int, now: float, expires: Callable[[V], float]) -> None:
    """Make room for one more entry: drop the expired ones, then the oldest
    (dicts keep insertion order). Bounded by the entries' number."""
    for key in [k for k, v in entries.items() if expires(v) <= now]:
        del entries[key]
    while len(entries) >= limit:
        del entries[next(iter(entries))]
