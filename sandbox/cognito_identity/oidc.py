"""Checking the ID tokens of an OpenID Connect provider presented in `Logins`
(the key is the provider's host and path, as IAM names it), as the identity
pool does for the providers in its `OpenIdConnectProviderARNs`.

The token must be signed (RS256) by a key of the provider's JWKS, name the
provider's URL as `iss` and one of the IAM provider's `ClientIDList` as `aud`,
and not be expired.
https://docs.aws.amazon.com/cognito/latest/developerguide/open-id.html

Fetching the keys is the one place the sandbox makes an outbound request on a
caller's behalf, so it is kept narrow (SSRF): only the discovery document of
a provider registered in IAM (an admin's act, not a caller's), then the
`jwks_uri` it names, if that is https or http on a loopback host; no
redirects, no proxies, FETCH_LIMIT bytes and FETCH_SECONDS each at most.
Keys are cached by `kid`; a token with a `kid` not in the cache refetches
once, and a refetch that fails or still does not find it holds further
refetches back for REFETCH_AFTER seconds, so a stream of made-up `kid`s (or
a provider that is down) costs one request, not one per token.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import RSAAlgorithm

from sandbox import moto_seams
from sandbox.cognito_identity.exceptions import UNSUPPORTED_PROVIDER, not_authorized
from sandbox.cognito_identity.models import IdentityPool, Login

log = logging.getLogger("sandbox")

FETCH_LIMIT = 64 * 1024  # bytes, a discovery document or a JWKS
FETCH_SECONDS = 3.0  # whole fetch, connect to last byte
KEYS_FOR = 3600  # seconds a fetched JWKS is trusted before it is fetched again
REFETCH_AFTER = 10  # seconds between refetches that did not find a kid
MAX_KEYS = 20  # keys kept per provider
RSA_BITS = (2048, 8192)  # accepted modulus sizes

BAD_SIGNATURE = "Invalid login token. Couldn't verify signed token."
WRONG_ISSUER = "Invalid login token. Issuer doesn't match providerName"


class FetchError(Exception):
    """The provider's discovery document or keys could not be had; the message is for the log."""


# --- fetching, bounded -------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        raise FetchError(f"{req.full_url} redirects ({code}); redirects are not followed")


# No ProxyHandler entries: an environment proxy would send the request elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _allowed_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname) and "@" not in parts.netloc
    return parts.scheme == "http" and bool(parts.hostname) and "@" not in parts.netloc and moto_seams.iam.loopback_host(parts.hostname)


def fetch_json(url: str) -> dict[str, Any]:
    """A JSON object from `url`, within FETCH_LIMIT bytes and FETCH_SECONDS."""
    if not _allowed_url(url):
        raise FetchError(f"{url!r} is neither https nor http on a loopback host")
    deadline = time.monotonic() + FETCH_SECONDS
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _OPENER.open(request, timeout=FETCH_SECONDS) as response:
            if response.status != 200:
                raise FetchError(f"{url} answered {response.status}")
            chunks, size = [], 0
            while size <= FETCH_LIMIT:
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} took longer than {FETCH_SECONDS} s")
                chunk = response.read1(8192)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if size > FETCH_LIMIT:
        raise FetchError(f"{url} is larger than {FETCH_LIMIT} bytes")
    try:
        document = json.loads(b"".join(chunks))
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        raise FetchError(f"{url} is not JSON") from exc
    if not isinstance(document, dict):
        raise FetchError(f"{url} is not a JSON object")
    return document


def _public_keys(jwks: dict[str, Any]) -> dict[str, Any]:
    """kid -> RSA public key, for the JWKS's signing keys this sandbox accepts."""
    keys: dict[str, Any] = {}
    listed = jwks.get("keys")
    for jwk in listed if isinstance(listed, list) else []:
        if len(keys) >= MAX_KEYS:
            break
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
            continue
        try:
            key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.InvalidKeyError, ValueError, TypeError, KeyError, OverflowError) as exc:
            log.info("JWKS key %r skipped: %s", jwk.get("kid"), exc)
            continue
        if hasattr(key, "key_size") and RSA_BITS[0] <= key.key_size <= RSA_BITS[1] and not hasattr(key, "private_numbers"):
            keys[jwk["kid"]] = key
    return keys


def keys_fetch(provider_url: str) -> dict[str, Any]:
    """The provider's signing keys: its discovery document (whose `issuer` must
    be the provider's URL), then the JWKS at its `jwks_uri`."""
    discovery = fetch_json(provider_url.rstrip("/") + "/.well-known/openid-configuration")
    if discovery.get("issuer") != provider_url:
        raise FetchError(f"the discovery document of {provider_url} names the issuer {discovery.get('issuer')!r}")
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise FetchError(f"the discovery document of {provider_url} has no jwks_uri")
    return _public_keys(fetch_json(jwks_uri))


# --- the cache ------------------------------------------------------------------------


@dataclass
class _Keys:
    keys: dict[str, Any] = field(default_factory=dict)
    fetched_at: float = float("-inf")
    missed_at: float = float("-inf")  # the last refetch that did not find the kid asked for
    lock: threading.Lock = field(default_factory=threading.Lock)


class KeyCache:
    """Each provider URL's keys; one fetch at a time per provider."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._providers: dict[str, _Keys] = {}

    def key(self, provider_url: str, kid: str) -> Any | None:
        with self._lock:
            entry = self._providers.setdefault(provider_url, _Keys())
        with entry.lock:
            now = time.monotonic()
            fresh = now - entry.fetched_at < KEYS_FOR
            if kid in entry.keys and fresh:
                return entry.keys[kid]
            if now - entry.missed_at < REFETCH_AFTER:
                return None  # a refetch just failed or missed: do not ask again yet
            try:
                entry.keys, entry.fetched_at = keys_fetch(provider_url), time.monotonic()
            except FetchError as exc:
                log.warning("OpenID Connect keys not fetched: %s", exc)
                entry.missed_at = time.monotonic()
                return None
            if kid not in entry.keys:
                entry.missed_at = entry.fetched_at
            return entry.keys.get(kid)

    def clear(self) -> None:
        with self._lock:
            self._providers.clear()


KEYS = KeyCache()


# --- the token --------------------------------------------------------------------------


def oidc_provider_of(pool: IdentityPool, provider: str) -> moto_seams.iam.OidcProviderView | None:
    """The IAM provider `provider` (a `Logins` key) names, when this pool lists it."""
    arn = moto_seams.iam.oidc_provider_arn(provider)
    if arn not in pool.description.get("OpenIdConnectProviderARNs", []):
        return None
    return moto_seams.iam.oidc_provider(arn)


def oidc_login_verify(oidc: moto_seams.iam.OidcProviderView, token: Any) -> Login:
    """The login an OpenID Connect ID token proves, or NotAuthorizedException."""
    if not isinstance(token, str):
        raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from exc
    # The issuer is compared first: it says whose keys to fetch.
    if unverified.get("iss") != oidc.url:
        raise not_authorized(WRONG_ISSUER)
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or len(kid) > 256:
        raise not_authorized(BAD_SIGNATURE)
    key = KEYS.key(oidc.url, kid)
    if key is None:
        raise not_authorized(BAD_SIGNATURE)
    try:
        claims = jwt.decode(
            token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False, "verify_iss": False}
        )
    except jwt.InvalidTokenError as exc:
        raise not_authorized(BAD_SIGNATURE) from exc
    for required in ("aud", "sub"):
        if not claims.get(required):
            raise not_authorized(f"Invalid login token. Missing a required claim: {required}")
    now = int(time.time())
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise not_authorized(f"Invalid login token. Token expired: {now} >= {claims.get('exp')}")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    client_id = next((a for a in audiences if isinstance(a, str) and a in oidc.client_ids), None)
    if client_id is None or not isinstance(claims["sub"], str):
        raise not_authorized(UNSUPPORTED_PROVIDER)
    return Login(provider=oidc.name, client_id=client_id, subject=claims["sub"], claims=claims, kind="oidc")
