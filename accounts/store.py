"""What a browser session holds of the Cognito flow, and nothing else does:
the user-pool tokens (or an OpenID Connect provider's ID token), a guest's
identity ID, and the last credentials issued.

Everything lives in Django's server-side session (the browser only holds its
key), under the three keys below. `CredentialStore` is the one place that
reads and writes them, so their shape and the reuse margin are defined once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from accounts.cognito import Credentials, Tokens

SESSION_TOKENS = "cognito.tokens"
SESSION_GUEST_IDENTITY = "cognito.guest_identity_id"
SESSION_CREDENTIALS = "cognito.credentials"
# Set when the session signed in with an emailed link: the developer user id
# the server asks the identity pool a token for (there are no user-pool tokens).
SESSION_DEVELOPER_USER = "cognito.developer_user_id"
# Set when the session signed in with an OpenID Connect provider (accounts.oidc):
# its ID token, which goes straight into the identity pool's Logins, and the
# claims the identity pool's role mapping reads (for the inspector).
SESSION_SSO = "cognito.sso"
# The ID token claims kept beside it: who, and what a Rules mapping may match.
SSO_CLAIMS = ("iss", "sub", "aud", "email", "email_verified", "hd", "iat", "exp")

# Cached credentials are replaced this long before they expire, so the
# browser never starts an upload with keys about to die under it.
REUSE_UNTIL = dt.timedelta(minutes=5)
# ID tokens are refreshed this long before they expire.
REFRESH_BEFORE = dt.timedelta(minutes=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class SessionTokens:
    """The user-pool tokens of a signed-in session. `username` is the
    user-pool username (the `sub` for email sign-in), which SECRET_HASH needs
    on refresh; `expires_at` is the ID token's `exp` (seconds since the epoch)."""

    id_token: str
    access_token: str
    refresh_token: str
    username: str
    expires_at: int

    def expiring(self, *, now: dt.datetime | None = None) -> bool:
        left = dt.datetime.fromtimestamp(self.expires_at, dt.timezone.utc) - (now or _now())
        return left <= REFRESH_BEFORE


@dataclass(frozen=True)
class SsoLogin:
    """An OpenID Connect provider's ID token and its verified claims.
    `provider` is the identity pool's `Logins` key for it (host and path).
    There is no refresh token, so the sign-in ends when the token does."""

    id_token: str
    provider: str
    claims: dict[str, Any]

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.claims["exp"], dt.timezone.utc)

    def expired(self, *, now: dt.datetime | None = None) -> bool:
        return self.expires_at <= (now or _now())


@dataclass(frozen=True)
class IssuedCredentials:
    credentials: Credentials
    authenticated: bool


class CredentialStore:
    """The Cognito state of one session. `session` is Django's
    `request.session` (any mutable mapping will do, which keeps the reuse rule
    testable without a server)."""

    def __init__(self, session: MutableMapping[str, Any]) -> None:
        self.session = session

    # --- user-pool tokens ------------------------------------------------------------

    @property
    def tokens(self) -> SessionTokens | None:
        stored = self.session.get(SESSION_TOKENS)
        if not stored or not stored.get("id"):
            return None
        return SessionTokens(
            id_token=stored["id"],
            access_token=stored["access"],
            refresh_token=stored["refresh"],
            username=stored["username"],
            expires_at=stored["expires_at"],
        )

    def tokens_keep(self, tokens: Tokens, claims: dict[str, Any]) -> None:
        """Keep tokens whose ID token has been verified into `claims`. A
        refresh returns no new refresh token, so the one held is kept."""
        held = self.session.get(SESSION_TOKENS) or {}
        self.session[SESSION_TOKENS] = {
            "id": tokens.id_token,
            "access": tokens.access_token,
            "refresh": tokens.refresh_token or held.get("refresh"),
            "username": claims.get("cognito:username", claims["sub"]),
            "expires_at": claims["exp"],
        }

    # --- a developer-authenticated user (emailed sign-in link) ---------------------------

    @property
    def developer_user_id(self) -> str:
        return self.session.get(SESSION_DEVELOPER_USER, "")

    @developer_user_id.setter
    def developer_user_id(self, developer_user_id: str) -> None:
        self.session[SESSION_DEVELOPER_USER] = developer_user_id

    # --- an OpenID Connect provider's sign-in (accounts.oidc) ---------------------------

    @property
    def sso(self) -> SsoLogin | None:
        stored = self.session.get(SESSION_SSO)
        if not stored or not stored.get("id_token"):
            return None
        return SsoLogin(id_token=stored["id_token"], provider=stored["provider"], claims=stored["claims"])

    def sso_keep(self, *, id_token: str, provider: str, claims: dict[str, Any]) -> SsoLogin:
        """Keep an ID token whose signature and claims have been verified into `claims`."""
        kept = {name: claims[name] for name in SSO_CLAIMS if name in claims}
        self.session[SESSION_SSO] = {"id_token": id_token, "provider": provider, "claims": kept}
        return SsoLogin(id_token=id_token, provider=provider, claims=kept)

    # --- a guest's identity -------------------------------------------------------------

    @property
    def guest_identity_id(self) -> str:
        return self.session.get(SESSION_GUEST_IDENTITY, "")

    @guest_identity_id.setter
    def guest_identity_id(self, identity_id: str) -> None:
        if identity_id:
            self.session[SESSION_GUEST_IDENTITY] = identity_id
        else:
            self.session.pop(SESSION_GUEST_IDENTITY, None)

    # --- issued credentials ----------------------------------------------------------------

    def credentials_keep(self, issued: Credentials, *, owner: int | None) -> None:
        """Cache credentials for whoever `owner` is (a user's pk, None for a guest)."""
        self.session[SESSION_CREDENTIALS] = {
            "identity_id": issued.identity_id,
            "access_key_id": issued.access_key_id,
            "secret_access_key": issued.secret_access_key,
            "session_token": issued.session_token,
            "expiration": issued.expiration.isoformat(),
            "authenticated": owner is not None,
            "user": owner,
        }

    def credentials_cached(self, *, owner: int | None, now: dt.datetime | None = None) -> IssuedCredentials | None:
        """The cached credentials, if they are `owner`'s and have more than
        REUSE_UNTIL left; otherwise None, and new ones must be issued."""
        cached = self.session.get(SESSION_CREDENTIALS)
        if not cached or cached["user"] != owner:
            return None
        expiration = dt.datetime.fromisoformat(cached["expiration"])
        if expiration - (now or _now()) <= REUSE_UNTIL:
            return None
        credentials = Credentials(
            identity_id=cached["identity_id"],
            access_key_id=cached["access_key_id"],
            secret_access_key=cached["secret_access_key"],
            session_token=cached["session_token"],
            expiration=expiration,
        )
        return IssuedCredentials(credentials, cached["authenticated"])

    def caller_arn(self, *, credentials: Credentials) -> str | None:
        """The STS caller ARN kept for these credentials (None if not asked yet)."""
        cached = self.session.get(SESSION_CREDENTIALS) or {}
        if cached.get("access_key_id") != credentials.access_key_id:
            return None
        return cached.get("caller_arn")

    def caller_arn_keep(self, *, credentials: Credentials, arn: str) -> None:
        """Keep STS's answer beside the credentials it is about, so it goes when they do."""
        cached = self.session.get(SESSION_CREDENTIALS)
        if cached and cached.get("access_key_id") == credentials.access_key_id:
            self.session[SESSION_CREDENTIALS] = {**cached, "caller_arn": arn}

    def credentials_forget(self) -> None:
        self.session.pop(SESSION_CREDENTIALS, None)
