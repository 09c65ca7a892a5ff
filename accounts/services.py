"""The pattern itself, as plain functions the views call: sign in through the
user pool, turn the ID token into an identity and credentials through the
identity pool's enhanced flow, and sign out.

Tokens live in the server-side session only; the browser gets nothing but
scoped, expiring AWS credentials from `identity_credentials_get`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.mail import send_mail
from django.http import HttpRequest

from accounts import cognito
from accounts.audit import audit_record
from accounts.cognito import CognitoError, Credentials
from accounts.models import AuditEvent, User
from accounts.ratelimit import address_key, too_many
from accounts.tokens import InvalidToken, id_token_verify
from core.deployment import deployment_get
from core.http import client_address

log = logging.getLogger(__name__)

SESSION_TOKENS = "cognito.tokens"
SESSION_GUEST_IDENTITY = "cognito.guest_identity_id"
SESSION_CREDENTIALS = "cognito.credentials"
REUSE_UNTIL = dt.timedelta(minutes=5)  # cached credentials are replaced this long before they expire
REFRESH_BEFORE = dt.timedelta(minutes=1)  # ID tokens are refreshed this long before they expire


class SignInFailed(CognitoError):
    """Cognito refused the sign-in, or answered with a token we cannot verify;
    `code` is AWS's error code (or "InvalidToken")."""


class SessionExpired(Exception):
    """The user's tokens could not be refreshed; they have been signed out."""


class GuestsDisabled(Exception):
    """This deployment gives guests no credentials."""


class GuestsThrottled(Exception):
    """This client address has had GUEST_IDENTITIES_PER_HOUR new guest
    identities already; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedCredentials:
    credentials: Credentials
    authenticated: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- signing up ------------------------------------------------------------------

EXISTING_ACCOUNT_SUBJECT = "Someone tried to sign up to Photoshare with your address"
EXISTING_ACCOUNT_BODY = """Someone just tried to create a Photoshare account with this email address, which already has one.

If it was you: sign in, or choose a new password with "Forgot your password?" on the sign-in page. If you never
confirmed your account, use the code we emailed you then, or ask for a new one on the confirmation page.

If it was not you, you need do nothing: your account is unchanged."""


def account_sign_up(*, email: str, password: str) -> None:
    """SignUp. For an address that already has an account, a quiet success:
    PreventUserExistenceErrors does not cover SignUp (Cognito still answers
    UsernameExistsException), so the app hides it, and tells the account's
    owner instead of the person at the form."""
    try:
        cognito.user_sign_up(email=email, password=password)
    except CognitoError as exc:
        if exc.code != "UsernameExistsException":
            raise
        _existing_account_notify(email=email)


def _existing_account_notify(*, email: str) -> None:
    # The app's own email (Cognito sends only codes), through EMAIL_BACKEND. A
    # failure is logged, not shown: the page must read the same either way.
    try:
        send_mail(EXISTING_ACCOUNT_SUBJECT, EXISTING_ACCOUNT_BODY, None, [email])
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        log.warning("could not send the existing-account notice: %s", exc)


# --- signing in and out -----------------------------------------------------------

def session_sign_in(*, request: HttpRequest, email: str, password: str) -> User:
    """USER_PASSWORD_AUTH, verify the ID token, log in (a new session key), and
    settle the user's identity (a guest of this session keeps its ID)."""
    try:
        tokens = cognito.user_sign_in(email=email, password=password)
    except CognitoError as exc:
        raise SignInFailed(exc.code, exc.detail) from exc
    user = authenticate(request, id_token=tokens.id_token)
    if user is None:  # the user pool answered with a token we cannot verify
        raise SignInFailed("InvalidToken")
    guest_identity = request.session.get(SESSION_GUEST_IDENTITY)
    login(request, user, backend="accounts.backends.CognitoBackend")  # rotates the session key
    claims = id_token_verify(tokens.id_token)
    request.session[SESSION_TOKENS] = {
        "id": tokens.id_token,
        "access": tokens.access_token,
        "refresh": tokens.refresh_token,
        "username": claims.get("cognito:username", claims["sub"]),
        "expires_at": claims["exp"],
    }
    request.session.pop(SESSION_GUEST_IDENTITY, None)
    request.session.pop(SESSION_CREDENTIALS, None)
    _identity_settle(request=request, user=user, id_token=tokens.id_token, guest_identity=guest_identity)
    return user


def _identity_settle(*, request: HttpRequest, user: User, id_token: str, guest_identity: str | None) -> None:
    """Give the user their identity ID once: their guest identity if this
    session had one (AWS links the login to it), otherwise GetId's answer."""
    if user.identity_id:
        return
    if guest_identity:
        try:
            issued = cognito.identity_credentials_issue(identity_id=guest_identity, id_token=id_token)
        except CognitoError as exc:  # the login already has another identity, or the guest one is gone
            log.info("could not link guest identity %s: %s", guest_identity, exc.code)
        else:
            user.identity_id = issued.identity_id
            user.save(update_fields=["identity_id"])
            _audit_issued(request, issued, authenticated=True)
            _cache(request, issued, authenticated=True)
            return
    user.identity_id = cognito.identity_id_get(id_token=id_token)
    user.save(update_fields=["identity_id"])


def session_sign_out(*, request: HttpRequest) -> None:
    """GlobalSignOut (so the tokens die everywhere), then flush the session."""
    tokens = request.session.get(SESSION_TOKENS) or {}
    if tokens.get("access"):
        try:
            cognito.user_sign_out_everywhere(access_token=tokens["access"])
        except CognitoError as exc:  # already revoked or expired: signing out locally is what matters
            log.info("GlobalSignOut failed: %s", exc.code)
    logout(request)


def _fresh_id_token(request: HttpRequest) -> str:
    """The session's ID token, refreshed when it is about to expire. A failed
    refresh (revoked, expired refresh token) signs the user out."""
    tokens: dict[str, Any] = request.session.get(SESSION_TOKENS) or {}
    if not tokens.get("id"):
        logout(request)
        raise SessionExpired("no tokens in session")
    if dt.datetime.fromtimestamp(tokens["expires_at"], dt.timezone.utc) - _now() > REFRESH_BEFORE:
        return tokens["id"]
    try:
        fresh = cognito.user_tokens_refresh(refresh_token=tokens["refresh"], username=tokens["username"])
        claims = id_token_verify(fresh.id_token)
    except (CognitoError, InvalidToken, KeyError) as exc:
        log.info("token refresh failed, signing out: %s", exc)
        session_sign_out(request=request)
        raise SessionExpired(str(exc)) from exc
    if claims["sub"] != request.user.username:
        session_sign_out(request=request)
        raise SessionExpired("refreshed token is for another user")
    request.session[SESSION_TOKENS] = {**tokens, "id": fresh.id_token, "access": fresh.access_token, "expires_at": claims["exp"]}
    return fresh.id_token


# --- credentials --------------------------------------------------------------------

def _cache(request: HttpRequest, issued: Credentials, *, authenticated: bool) -> None:
    request.session[SESSION_CREDENTIALS] = {
        "identity_id": issued.identity_id,
        "access_key_id": issued.access_key_id,
        "secret_access_key": issued.secret_access_key,
        "session_token": issued.session_token,
        "expiration": issued.expiration.isoformat(),
        "authenticated": authenticated,
        "user": request.user.pk if authenticated else None,
    }


def _cached(request: HttpRequest) -> IssuedCredentials | None:
    cached = request.session.get(SESSION_CREDENTIALS)
    if not cached:
        return None
    owner = request.user.pk if request.user.is_authenticated else None
    expiration = dt.datetime.fromisoformat(cached["expiration"])
    if cached["user"] != owner or expiration - _now() <= REUSE_UNTIL:
        return None
    credentials = Credentials(
        identity_id=cached["identity_id"],
        access_key_id=cached["access_key_id"],
        secret_access_key=cached["secret_access_key"],
        session_token=cached["session_token"],
        expiration=expiration,
    )
    return IssuedCredentials(credentials, cached["authenticated"])


def _audit_issued(request: HttpRequest, issued: Credentials, *, authenticated: bool) -> None:
    audit_record(
        request=request,
        outcome=AuditEvent.Outcome.ISSUED,
        authenticated=authenticated,
        identity_id=issued.identity_id,
        provider=deployment_get().provider,
        expiration=issued.expiration,
    )


def identity_credentials_get(*, request: HttpRequest) -> IssuedCredentials:
    """Scoped AWS credentials for whoever is asking: the signed-in user's
    authenticated role, or a guest's unauthenticated role. Reused from the
    session until five minutes before they expire."""
    cached = _cached(request)
    if cached is not None:
        return cached
    authenticated = request.user.is_authenticated
    # Noted now: a failed refresh signs the user out before the refusal is recorded.
    asker = request.user if authenticated else None
    identity_id = request.user.identity_id if authenticated else ""
    try:
        if authenticated:
            id_token = _fresh_id_token(request)
            identity_id = request.user.identity_id or _identity_get(request, id_token)
            issued = _issue_healing(request, identity_id, id_token)
        else:
            if not settings.ALLOW_GUESTS:
                raise GuestsDisabled()
            identity_id = request.session.get(SESSION_GUEST_IDENTITY) or _guest_identity_new(request)
            issued = _issue_healing(request, identity_id, None)
    except (CognitoError, GuestsDisabled, SessionExpired) as exc:
        code = getattr(exc, "code", type(exc).__name__)
        audit_record(
            request=request,
            outcome=AuditEvent.Outcome.REFUSED,
            user=asker,
            authenticated=authenticated,
            identity_id=identity_id,
            provider=deployment_get().provider if authenticated else "",
            error_code=code,
        )
        raise
    _audit_issued(request, issued, authenticated=authenticated)
    _cache(request, issued, authenticated=authenticated)
    return IssuedCredentials(issued, authenticated)


def _identity_get(request: HttpRequest, id_token: str) -> str:
    identity_id = cognito.identity_id_get(id_token=id_token)
    request.user.identity_id = identity_id
    request.user.save(update_fields=["identity_id"])
    return identity_id


def _guest_identity_new(request: HttpRequest) -> str:
    """GetId without a login: a new identity on every call, kept in the session.
    Limited per client address: each one is a row in the identity pool, and
    AWS throttles GetId per account, so a flood of fresh sessions would
    otherwise end in errors for everyone (and a session, audit row each)."""
    retry_after = too_many(
        scope="guest-identity",
        keys=[("client", address_key(client_address(request)))],
        limits={"client": (settings.GUEST_IDENTITIES_PER_HOUR, 3600)},
    )
    if retry_after:
        log.info("new guest identity refused for %s: over GUEST_IDENTITIES_PER_HOUR", client_address(request))
        raise GuestsThrottled(retry_after)
    identity_id = cognito.identity_id_get(id_token=None)
    request.session[SESSION_GUEST_IDENTITY] = identity_id
    return identity_id


def _issue_healing(request: HttpRequest, identity_id: str, id_token: str | None) -> Credentials:
    """GetCredentialsForIdentity; an identity the pool no longer knows
    (deleted in the console, a reset sandbox) is replaced through GetId."""
    try:
        return cognito.identity_credentials_issue(identity_id=identity_id, id_token=id_token)
    except CognitoError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
    log.warning("identity %s is unknown to the identity pool; getting a new one", identity_id)
    replacement = _identity_get(request, id_token) if id_token else _guest_identity_new(request)
    return cognito.identity_credentials_issue(identity_id=replacement, id_token=id_token)
