"""The pattern itself, as plain functions the views call: sign in through the
user pool, turn the ID token into an identity and credentials through the
identity pool's enhanced flow, and sign out. Two other ways in end in the
same enhanced flow: an emailed link (a developer identity) and SSO (an
OpenID Connect provider's own ID token, `sso_session_sign_in`).

The path runs one way. The sign-in view has `CognitoBackend` verify the ID
token and passes its claims here; nothing in this module verifies a token
again, except the new one a refresh brings. Functions take domain values (a
user, the session's `CredentialStore`, the `Requester`), never the request:
the view is where HTTP ends, and the only session state touched is the store
the view hands in. Tokens live in the server-side session only; the browser
gets nothing but scoped, expiring AWS credentials from
`identity_credentials_get`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from accounts import cognito, oidc, tokens
from accounts.audit import Requester, audit_record
from accounts.cognito import CognitoError, Credentials, Tokens
from accounts.models import AuditEvent, User
from accounts.ratelimit import address_key, too_many
from accounts.store import CredentialStore, IssuedCredentials, SessionTokens, SsoLogin
from accounts.tokens import InvalidToken
from core.deployment import deployment_get

log = logging.getLogger(__name__)


class SessionExpired(Exception):
    """The user's tokens could not be refreshed (or there are none); the
    view must sign the session out."""


class GuestsDisabled(Exception):
    """This deployment gives guests no credentials."""


class GuestsThrottled(Exception):
    """This client address has had GUEST_IDENTITIES_PER_HOUR new guest
    identities already; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


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

def session_sign_in(
    *, user: User, tokens: Tokens, claims: dict, store: CredentialStore, requester: Requester
) -> None:
    """After the view's authenticate() and login(): keep the tokens (whose ID
    token `claims` were verified from), and settle the user's identity; a
    guest of this session hands over its identity ID."""
    store.tokens_keep(tokens, claims)
    store.credentials_forget()  # a guest's, or another user's
    identity_ensure(user=user, id_token=tokens.id_token, store=store, requester=requester)
    store.guest_identity_id = ""


def session_sign_out(*, store: CredentialStore) -> None:
    """GlobalSignOut, so the tokens die everywhere; the view then logs out,
    which empties the session."""
    held = store.tokens
    if held is not None:
        _sign_out_everywhere(held)


def _sign_out_everywhere(held: SessionTokens) -> None:
    try:
        cognito.user_sign_out_everywhere(access_token=held.access_token)
    except CognitoError as exc:  # already revoked or expired: signing out locally is what matters
        log.info("GlobalSignOut failed: %s", exc.code)


def _id_token_fresh(*, user: User, store: CredentialStore) -> str:
    """The session's ID token, refreshed (REFRESH_TOKEN_AUTH) when it is about
    to expire; the new one is verified, once. A refresh that fails (revoked,
    expired) revokes what is left and raises SessionExpired."""
    held = store.tokens
    if held is None:
        raise SessionExpired("no tokens in session")
    if not held.expiring():
        return held.id_token
    try:
        fresh = cognito.user_tokens_refresh(refresh_token=held.refresh_token, username=held.username)
        claims = tokens.id_token_verify(fresh.id_token)
    except (CognitoError, InvalidToken) as exc:
        log.info("token refresh failed, signing out: %s", exc)
        _sign_out_everywhere(held)
        raise SessionExpired(str(exc)) from exc
    if claims["sub"] != user.username:
        _sign_out_everywhere(held)
        raise SessionExpired("refreshed token is for another user")
    store.tokens_keep(fresh, claims)
    return fresh.id_token


def developer_session_sign_in(
    *, user: User, developer_user_id: str, store: CredentialStore, requester: Requester
) -> IssuedCredentials:
    """After the view's login() of a user who followed an emailed sign-in
    link: mark the session as the developer user's (it holds no user-pool
    tokens; the server asks the identity pool for a token whenever it needs
    credentials) and issue their first credentials at once, so a failure
    shows now, not on their first upload. A first sign-in from a guest
    session takes the guest's identity over, so their guest uploads stay
    theirs (as identity_ensure does for user-pool users)."""
    guest = store.guest_identity_id
    if guest and not user.identity_id:
        try:
            linked = cognito.developer_token_get(developer_user_id=developer_user_id, identity_id=guest)
        except CognitoError as exc:  # the guest identity is gone: they simply get a new one
            log.info("could not link guest identity %s: %s", guest, exc.code)
        else:
            user.identity_id = linked.identity_id
            user.save(update_fields=["identity_id"])
    store.credentials_forget()
    store.developer_user_id = developer_user_id
    store.guest_identity_id = ""
    return identity_credentials_get(user=user, store=store, requester=requester)


def _developer_credentials_issue(*, user: User, developer_user_id: str) -> Credentials:
    """The enhanced flow for a developer identity: GetOpenIdTokenForDeveloperIdentity
    (signed by the server, which vouches for the user), then
    GetCredentialsForIdentity with that token under `cognito-identity.amazonaws.com`,
    exactly where a user-pool user's ID token goes. A new token each time: it
    costs one call, lasts 15 minutes, and credentials are reused for most of
    their hour anyway (CredentialStore), so there is nothing worth keeping."""
    found = cognito.developer_token_get(developer_user_id=developer_user_id)
    if user.identity_id != found.identity_id:
        user.identity_id = found.identity_id
        user.save(update_fields=["identity_id"])
    return cognito.identity_credentials_issue(
        identity_id=found.identity_id, id_token=found.token, provider=cognito.DEVELOPER_TOKEN_PROVIDER
    )


def sso_session_sign_in(
    *, user: User, id_token: str, claims: dict, store: CredentialStore, requester: Requester
) -> IssuedCredentials:
    """After the view's login() of a user whose provider ID token
    accounts.oidc verified into `claims`: keep the token (there is no refresh
    token, so the sign-in ends when it does), take this session's guest
    identity over on a first sign-in, and issue the first credentials at
    once, so the identity pool's refusal shows now, not on the first upload."""
    sso = store.sso_keep(id_token=id_token, provider=oidc.provider_name(), claims=claims)
    store.credentials_forget()  # a guest's, or another user's
    if store.guest_identity_id and not user.identity_id:
        linked = _guest_identity_link(user=user, id_token=id_token, store=store, requester=requester, provider=sso.provider)
        if linked:
            user.identity_id = linked
            user.save(update_fields=["identity_id"])
    store.guest_identity_id = ""
    return identity_credentials_get(user=user, store=store, requester=requester)


def _sso_credentials_issue(*, user: User, sso: SsoLogin) -> Credentials:
    """The enhanced flow with the provider's own ID token under its host and
    path: GetId (once per user, kept on their row), then
    GetCredentialsForIdentity, where the pool's Rules mapping on the token's
    claims picks the role. An identity the pool no longer knows is replaced."""
    if sso.expired():
        raise SessionExpired("the OpenID Connect ID token has expired")
    login = {"id_token": sso.id_token, "provider": sso.provider}
    if not user.identity_id:
        user.identity_id = cognito.identity_id_get(**login)
        user.save(update_fields=["identity_id"])
    try:
        return cognito.identity_credentials_issue(identity_id=user.identity_id, **login)
    except CognitoError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
    log.warning("identity %s is unknown to the identity pool; getting a new one", user.identity_id)
    user.identity_id = cognito.identity_id_get(**login)
    user.save(update_fields=["identity_id"])
    return cognito.identity_credentials_issue(identity_id=user.identity_id, **login)


# --- identities -------------------------------------------------------------------------

def identity_ensure(
    *, user: User | None, id_token: str | None, store: CredentialStore, requester: Requester, stale: str = ""
) -> str:
    """The identity ID of `user` (with their ID token), or of this session's
    guest when `user` is None, getting one when there is none yet, or only
    `stale`, one the identity pool no longer knows.

    A user keeps theirs on their row: `GetId` with a login is stable, but
    each call costs a round trip and counts against AWS's throttle. A user
    without one who was a guest in this session links the guest identity
    (AWS adds the login to it, "Switching unauthenticated users to
    authenticated users"), so their guest uploads stay theirs. A guest keeps
    theirs in the session: `GetId` without a login makes a new identity on
    every call."""
    known = user.identity_id if user else store.guest_identity_id
    if known and known != stale:
        return known
    if user is None:
        identity_id = _guest_identity_new(requester)
        store.guest_identity_id = identity_id
        return identity_id
    linked = "" if stale else _guest_identity_link(user=user, id_token=id_token, store=store, requester=requester)
    user.identity_id = linked or cognito.identity_id_get(id_token=id_token)
    user.save(update_fields=["identity_id"])
    return user.identity_id


def _guest_identity_link(
    *, user: User, id_token: str | None, store: CredentialStore, requester: Requester, provider: str | None = None
) -> str:
    """GetCredentialsForIdentity on the guest identity with the user's login
    (the user pool's, or `provider`'s) links the two; "" when there is no
    guest identity or AWS refuses (the login has another identity already,
    or the guest one is gone). The credentials it brings are the user's:
    recorded and cached."""
    guest = store.guest_identity_id
    if not guest:
        return ""
    try:
        issued = cognito.identity_credentials_issue(identity_id=guest, id_token=id_token, provider=provider)
    except CognitoError as exc:
        log.info("could not link guest identity %s: %s", guest, exc.code)
        return ""
    _issued_record(issued, user=user, requester=requester, provider=provider or "")
    store.credentials_keep(issued, owner=user.pk)
    return issued.identity_id


def _guest_identity_new(requester: Requester) -> str:
    """GetId without a login. Limited per client address: each one is a row
    in the identity pool, and AWS throttles GetId per account, so a flood of
    fresh sessions would otherwise end in errors for everyone (and a
    session and audit row each)."""
    retry_after = too_many(
        scope="guest-identity",
        keys=[("client", address_key(requester.address))],
        limits={"client": (settings.GUEST_IDENTITIES_PER_HOUR, 3600)},
    )
    if retry_after:
        log.info("new guest identity refused for %s: over GUEST_IDENTITIES_PER_HOUR", requester.address)
        raise GuestsThrottled(retry_after)
    return cognito.identity_id_get(id_token=None)


# --- credentials --------------------------------------------------------------------

def identity_credentials_get(*, user: User | None, store: CredentialStore, requester: Requester) -> IssuedCredentials:
    """Scoped AWS credentials for whoever is asking: the signed-in `user`'s
    role, or a guest's (`user` None) unauthenticated role. Reused from the
    session until REUSE_UNTIL before they expire, except past the end of an
    SSO sign-in, which ends with its ID token. Every issue and refusal is
    recorded in the audit trail.

    Three kinds of signed-in user, by what the session holds: user-pool
    tokens (the password sign-in), a developer user id (an emailed link), or
    an OpenID Connect provider's ID token (SSO)."""
    owner = user.pk if user else None
    developer_user_id = store.developer_user_id if user else ""
    sso = store.sso if user else None
    if sso is None or not sso.expired():
        cached = store.credentials_cached(owner=owner)
        if cached is not None:
            return cached
    identity_id = user.identity_id if user else store.guest_identity_id
    try:
        if developer_user_id:  # signed in with an emailed link: no user-pool tokens
            issued = _developer_credentials_issue(user=user, developer_user_id=developer_user_id)
        elif sso is not None:  # signed in with SSO: the provider's ID token, no user pool
            issued = _sso_credentials_issue(user=user, sso=sso)
        else:
            if user:
                id_token: str | None = _id_token_fresh(user=user, store=store)
            elif settings.ALLOW_GUESTS:
                id_token = None
            else:
                raise GuestsDisabled()
            identity_id = identity_ensure(user=user, id_token=id_token, store=store, requester=requester)
            issued = _credentials_issue(identity_id=identity_id, user=user, id_token=id_token, store=store, requester=requester)
    except (CognitoError, GuestsDisabled, SessionExpired) as exc:
        audit_record(
            requester=requester,
            outcome=AuditEvent.Outcome.REFUSED,
            user=user,
            authenticated=user is not None,
            identity_id=identity_id,
            provider=_provider(developer_user_id, sso) if user else "",
            error_code=getattr(exc, "code", type(exc).__name__),
        )
        raise
    _issued_record(issued, user=user, requester=requester, provider=_provider(developer_user_id, sso))
    store.credentials_keep(issued, owner=owner)
    return IssuedCredentials(issued, user is not None)


def _credentials_issue(
    *, identity_id: str, user: User | None, id_token: str | None, store: CredentialStore, requester: Requester
) -> Credentials:
    """GetCredentialsForIdentity; an identity the pool no longer knows
    (deleted in the console, a reset sandbox) is replaced through GetId."""
    try:
        return cognito.identity_credentials_issue(identity_id=identity_id, id_token=id_token)
    except CognitoError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
    log.warning("identity %s is unknown to the identity pool; getting a new one", identity_id)
    replacement = identity_ensure(user=user, id_token=id_token, store=store, requester=requester, stale=identity_id)
    return cognito.identity_credentials_issue(identity_id=replacement, id_token=id_token)


def _provider(developer_user_id: str, sso: SsoLogin | None = None) -> str:
    """The login a signed-in user's credentials come through, for the trail."""
    if developer_user_id:
        return settings.PHOTOSHARE_DEVELOPER_PROVIDER
    return sso.provider if sso is not None else deployment_get().provider


def _issued_record(issued: Credentials, *, user: User | None, requester: Requester, provider: str = "") -> None:
    audit_record(
        requester=requester,
        outcome=AuditEvent.Outcome.ISSUED,
        user=user,
        authenticated=user is not None,
        identity_id=issued.identity_id,
        provider=provider or deployment_get().provider,
        expiration=issued.expiration,
    )
