""""Sign in with Winter Corp SSO": an OpenID Connect provider straight into
the identity pool, with no user pool in between.

mozilla-django-oidc does the relying party's work (the authorization
request with `state`, `nonce` and PKCE S256, the code exchange, the RS256
check against the provider's JWKS); this module adapts it to Photoshare:

- its settings come from ours (OIDC_ISSUER, OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET) and from the issuer's discovery document, fetched
  server-side and kept for DISCOVERY_FOR seconds;
- the ID token is verified once, here, and more strictly than the library
  does by default: `iss` must be OIDC_ISSUER and `aud` our client ID (the
  library checks neither), `exp`, `iat` and `sub` must be present;
- a person is the Django user keyed on (`iss`, `sub`), never matched by
  email: an email is not an identity across issuers, and matching on it
  would let any provider that lets people type an address sign in as
  someone else;
- no userinfo call: the verified ID token carries what the app shows, and
  its claims are exactly what the identity pool will see (`hd`).

Every failure becomes `SsoFailed` with a reason for the log; the view shows
one fixed message.
https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.backends import email_is_verified
from core.db import row_insert
from infra.provision import oidc_provider_name

log = logging.getLogger(__name__)

TIMEOUT = (5, 10)  # seconds: connect, read; every request to the provider
DISCOVERY_FOR = 3600  # seconds a fetched discovery document is used before it is fetched again
RETRY_AFTER = 10  # seconds after a failed fetch before the next try: a provider that is down costs one request, not one per click
CLOCK_LEEWAY = 30  # seconds of clock difference tolerated on exp/iat
SCOPES = "openid email"
# uuid5 of (issuer, sub) in a namespace of our own: the Django username of an
# SSO user, the same for the same person every time, so two first sign-ins
# at once collide on the username instead of making two users.
USERNAME_NAMESPACE = uuid.UUID("3b0c7f0e-9a5d-5c1e-8e2b-61f4a0d2c7a9")
USERNAME_PREFIX = "oidc:"


class SsoFailed(Exception):
    """Signing in with the provider did not work; `reason` is for the log."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str


_discovered: dict[str, tuple[float, Endpoints]] = {}
_failed: dict[str, float] = {}  # url -> when its last fetch failed
_lock = threading.Lock()


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def issuer() -> str:
    """OIDC_ISSUER as tokens name it (no trailing slash)."""
    return settings.OIDC_ISSUER.rstrip("/")


def provider_name() -> str:
    """The identity pool's `Logins` key for the provider: its host and path."""
    return oidc_provider_name()


def endpoints() -> Endpoints:
    """The provider's endpoints from its discovery document, whose `issuer`
    must be OIDC_ISSUER exactly (OpenID Connect Discovery 1.0 section 4.3:
    otherwise another issuer's keys could be passed off as this one's).
    A successful fetch is kept for DISCOVERY_FOR seconds; after a failed
    one, nobody's sign-in fetches again for RETRY_AFTER seconds."""
    if not sso_enabled():
        raise SsoFailed("OIDC_ISSUER is not set")
    url = f"{issuer()}/.well-known/openid-configuration"
    with _lock:
        held = _discovered.get(url)
        if held and time.monotonic() - held[0] < DISCOVERY_FOR:
            return held[1]
        if time.monotonic() - _failed.get(url, float("-inf")) < RETRY_AFTER:
            raise SsoFailed(f"discovery document {url}: failed less than {RETRY_AFTER} s ago, not fetched again yet")
    try:
        response = requests.get(url, timeout=TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
        if document.get("issuer") != issuer():
            raise SsoFailed(f"the discovery document at {url} names the issuer {document.get('issuer')!r}")
        found = Endpoints(
            authorization=str(document["authorization_endpoint"]),
            token=str(document["token_endpoint"]),
            jwks=str(document["jwks_uri"]),
        )
    except (requests.RequestException, ValueError, KeyError, AttributeError, SsoFailed) as exc:
        with _lock:
            _failed[url] = time.monotonic()
        if isinstance(exc, SsoFailed):
            raise
        raise SsoFailed(f"discovery document {url}: {type(exc).__name__}: {exc}") from exc
    with _lock:
        _discovered[url] = (time.monotonic(), found)
        _failed.pop(url, None)
    return found


def discovery_forget() -> None:
    """Drop the cached documents (tests that move the issuer)."""
    with _lock:
        _discovered.clear()
        _failed.clear()


def library_setting(name: str, *default: Any) -> Any:
    """The settings mozilla-django-oidc asks for, from ours: one place says
    how Photoshare configures it (both its backend and its views ask here)."""
    values = {
        "OIDC_RP_CLIENT_ID": lambda: settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": lambda: settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SIGN_ALGO": lambda: "RS256",
        "OIDC_RP_SCOPES": lambda: SCOPES,
        "OIDC_USE_NONCE": lambda: True,
        "OIDC_USE_PKCE": lambda: True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": lambda: "S256",
        "OIDC_TIMEOUT": lambda: TIMEOUT,
        "OIDC_PROXY": lambda: None,
        "OIDC_VERIFY_SSL": lambda: True,
        "OIDC_TOKEN_USE_BASIC_AUTH": lambda: True,  # client_secret_basic: the secret stays out of logged form bodies
        "OIDC_AUTHENTICATION_CALLBACK_URL": lambda: "accounts:oidc-callback",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": lambda: endpoints().authorization,
        "OIDC_OP_TOKEN_ENDPOINT": lambda: endpoints().token,
        "OIDC_OP_JWKS_ENDPOINT": lambda: endpoints().jwks,
        "OIDC_OP_USER_ENDPOINT": lambda: None,  # never called: see get_or_create_user
        "OIDC_STORE_ID_TOKEN": lambda: False,  # the service keeps it (accounts.store)
        "OIDC_STORE_ACCESS_TOKEN": lambda: False,
        "OIDC_CREATE_USER": lambda: True,
    }
    if name in values:
        return values[name]()
    if default:
        return default[0]
    raise KeyError(name)


def username_for(*, iss: str, sub: str) -> str:
    return USERNAME_PREFIX + str(uuid.uuid5(USERNAME_NAMESPACE, f"{iss}\n{sub}"))


class OidcBackend(OIDCAuthenticationBackend):
    """The library's backend for the code flow, keyed on (`iss`, `sub`).

    Its __init__ is skipped: it reads every endpoint at construction, and
    Django constructs backends on every request (get_user), so a provider
    that is down, or no OIDC_ISSUER at all, would break every page. The
    endpoints are read when a sign-in needs them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: D107 - see the class
        self.UserModel = get_user_model()

    get_settings = staticmethod(library_setting)

    # The attributes the library's methods read, resolved when they do.
    OIDC_RP_CLIENT_ID = property(lambda self: library_setting("OIDC_RP_CLIENT_ID"))
    OIDC_RP_CLIENT_SECRET = property(lambda self: library_setting("OIDC_RP_CLIENT_SECRET"))
    OIDC_RP_SIGN_ALGO = property(lambda self: library_setting("OIDC_RP_SIGN_ALGO"))
    OIDC_RP_IDP_SIGN_KEY = None
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: library_setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: library_setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = None

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        """The library's code flow; None when this is not an SSO callback (the
        password sign-in asks every backend too). Whatever goes wrong on the
        way (the provider's refusal of the code, a key or a claim that does
        not check out, no answer) is SsoFailed."""
        if request is None or "nonce" not in kwargs or "id_token" in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except SuspiciousOperation as exc:
            raise SsoFailed(f"refused: {exc}") from exc
        except requests.HTTPError as exc:  # the token endpoint's refusal, with its body
            raise SsoFailed(f"token endpoint: {exc}") from exc
        except requests.RequestException as exc:
            raise SsoFailed(f"provider unreachable: {type(exc).__name__}: {exc}") from exc
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:  # a token or key that is not what it claims
            raise SsoFailed(f"token refused: {type(exc).__name__}: {exc}") from exc

    def get_payload_data(self, token: Any, key: Any) -> dict[str, Any]:
        """The ID token's claims, checked as OIDC Core 3.1.3.7 says: the
        signature (RS256 only, `alg` already matched by the library), `iss`,
        `aud`, `exp`, `iat`; the library itself skips `iss` and `aud`, and a
        token for another client (or from another issuer with a key of its
        own) would otherwise pass. `nonce` the library checks next."""
        if not isinstance(token, str):
            raise SsoFailed("the token answer has no id_token")
        signing_key = getattr(key, "key", key)  # a PyJWK from retrieve_matching_jwk
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=["RS256"],
            audience=settings.OIDC_CLIENT_ID,
            issuer=issuer(),
            leeway=CLOCK_LEEWAY,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise SsoFailed("the ID token's sub is not a string")
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        """The user for the verified claims `payload`, made on first sign-in
        (one INSERT, as accounts.backends does). The token and its claims
        ride on the user, for the view to hand to the service once."""
        user, created = self._user_get_or_create(iss=payload["iss"], sub=payload["sub"], claims=payload)
        if not created:
            self.update_user(user, payload)
        user.sso_created = created
        user.sso_id_token = id_token
        user.id_claims = payload
        return user

    def _user_get_or_create(self, *, iss: str, sub: str, claims: dict[str, Any]) -> tuple[Any, bool]:
        users = self.UserModel.objects
        found = users.filter(oidc_issuer=iss, oidc_subject=sub).first()
        if found is not None:
            return found, False
        email = claims.get("email", "") if email_is_verified(claims) else ""
        user = self.UserModel(username=username_for(iss=iss, sub=sub), oidc_issuer=iss, oidc_subject=sub, email=email[:254])
        user.set_unusable_password()  # they sign in at their provider only
        try:
            row_insert(user)
        except IntegrityError:  # the same person's first sign-in in another request, just now
            return users.get(oidc_issuer=iss, oidc_subject=sub), False
        return user, True

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        """The display name is the email, once the provider says it is verified."""
        email = claims.get("email", "")
        if email_is_verified(claims) and email and user.email != email:
            user.email = email[:254]
            user.save(update_fields=["email"])
        return user

    def get_user(self, user_id: int) -> Any:
        """As accounts.backends: a user deactivated in the admin is nobody."""
        try:
            user = self.UserModel.objects.get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None
        return user if getattr(user, "is_active", True) else None
