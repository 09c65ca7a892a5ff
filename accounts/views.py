"""Account pages and the credentials API. Each view validates, counts the
attempt, makes its one call, and answers; every Cognito failure becomes a
fixed message (the detail is logged by accounts.cognito).

The pages that take a password or a code are `sensitive_post_parameters`
(an error report never shows them) and `never_cache` (a shared or
back-button cache never replays them)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import SuspiciousOperation
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.utils.decorators import method_decorator
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts import cognito
from accounts.audit import Requester
from accounts.cognito import CognitoError
from accounts.forms import (
    EMAIL_MAX,
    ConfirmForm,
    PasswordForgotForm,
    PasswordResetForm,
    ResendForm,
    SignInForm,
    SignInLinkForm,
    SignUpForm,
    WEAK_PASSWORD,
)
from accounts import magic_link, oidc
from accounts.magic_link import LinkRefused
from accounts.outbox import outbox_list
from accounts.ratelimit import address_key, too_many
from accounts.services import (
    GuestsDisabled,
    GuestsThrottled,
    SessionExpired,
    account_sign_up,
    developer_session_sign_in,
    identity_credentials_get,
    session_sign_in,
    session_sign_out,
    sso_session_sign_in,
)
from accounts.store import CredentialStore
from core.aws import s3_browser_endpoint
from core.deployment import deployment_get
from core.http import client_address, json_answer, json_error

log = logging.getLogger(__name__)

TOO_MANY = gettext_lazy("Too many attempts. Wait a few minutes and try again.")
WRONG_PASSWORD = gettext_lazy("Wrong email or password.")
# What a person sees for each Cognito error they can cause.
MESSAGES = {
    "NotAuthorizedException": WRONG_PASSWORD,
    "UserNotFoundException": WRONG_PASSWORD,
    "UserNotConfirmedException": gettext_lazy("Your account is not confirmed yet: enter the code we emailed you."),
    "PasswordResetRequiredException": gettext_lazy("You need to choose a new password: use 'Forgot your password?'."),
    "InvalidPasswordException": WEAK_PASSWORD,
    "UsernameExistsException": gettext_lazy("An account with this email already exists. Sign in, or reset your password."),
    "CodeMismatchException": gettext_lazy("That code is not right. Check the email and try again."),
    "ExpiredCodeException": gettext_lazy("That code has expired. Ask for a new one."),
    "LimitExceededException": TOO_MANY,
    "TooManyRequestsException": TOO_MANY,
    "TooManyFailedAttemptsException": TOO_MANY,
    "InvalidParameterException": gettext_lazy("Please check what you entered and try again."),
}
FALLBACK = gettext_lazy("Something went wrong on our side. Please try again in a moment.")
RATE_LIMITED = TOO_MANY
# authenticate() said no to tokens Cognito just issued: the account is
# deactivated in the admin (or, never seen, the token did not verify).
SIGN_IN_REFUSED = gettext_lazy("This account cannot sign in here. Contact the site's administrators.")

# (attempts, seconds) per counter, checked in this order, each only if the one
# before let the attempt through:
# - "client": one address trying many accounts (password spraying);
# - "account+client": one address guessing one account's password or code; the
#   tight one, so five failures lock out that client, not the account's owner;
# - "account": many addresses guessing one account (distributed guessing). Much
#   looser: one client can add at most 5 per 5 minutes (60 an hour) to it, so
#   no single client can use it up and lock the owner out.
SIGN_IN_LIMITS = {"client": (30, 60), "account+client": (5, 300), "account": (100, 3600)}
# The same for codes (confirm, reset) and for what emails one (sign-up, resend,
# forgot): guessing six digits, or flooding someone's inbox.
CODE_LIMITS = {"client": (30, 60), "account+client": (5, 300), "account": (100, 3600)}

# Errors that would say whether an account exists, and the answer they get
# instead: the one a stranger's email gets (AWS's PreventUserExistenceErrors,
# carried through to the pages).
LOOKS_LIKE_A_WRONG_CODE = {"UserNotFoundException": "CodeMismatchException", "NotAuthorizedException": "CodeMismatchException"}
# Errors that mean "no such account" (or one already confirmed, or one whose
# email was never verified) where the page must answer as if all went well.
RESEND_AS_SENT = ("UserNotFoundException", "InvalidParameterException")
FORGOT_AS_SENT = ("UserNotFoundException", "NotAuthorizedException", "InvalidParameterException")


def message_for(code: str) -> str:
    return MESSAGES.get(code, FALLBACK)


# --- what every account form shares -----------------------------------------------------

def _allowed(request: HttpRequest, form: Form, *, scope: str, limits: dict[str, tuple[int, int]]) -> bool:
    """A valid POST within the rate limits (SIGN_IN_LIMITS explains the
    counters); the attempt is counted. Past a limit the form carries the
    fixed message, a 429 and its Retry-After."""
    if request.method != "POST" or not form.is_valid():
        return False
    email, client = form.cleaned_data["email"], address_key(client_address(request))
    keys = [("client", client), ("account+client", f"{email} {client}"), ("account", email)]
    retry_after = too_many(scope=scope, keys=keys, limits=limits)
    if retry_after:
        form.add_error(None, RATE_LIMITED)
        form.status, form.retry_after = 429, retry_after  # type: ignore[attr-defined]
        return False
    return True


def _refuse(form: Form, code: str, same_as: dict[str, str] | None = None) -> None:
    """Show the fixed message for AWS's `code` (or for the code `same_as`
    says it must look like)."""
    code = (same_as or {}).get(code, code)
    form.cognito_code = code  # type: ignore[attr-defined]
    form.add_error(None, message_for(code))


def _render(request: HttpRequest, template: str, form: Form, **context: Any) -> HttpResponse:
    """The form page; 400 after a failed POST (429 and Retry-After when rate-limited)."""
    status = getattr(form, "status", 400) if request.method == "POST" else 200
    response = render(request, template, {"form": form, **context}, status=status)
    if getattr(form, "retry_after", 0):
        response["Retry-After"] = str(form.retry_after)  # type: ignore[attr-defined]
    return response


def _next_url(request: HttpRequest) -> str:
    """Where to go after sign-in: `next=` only if it stays on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _with_email(name: str, email: str) -> str:
    return f"{reverse(name)}?{urlencode({'email': email})}"


def _initial_email(request: HttpRequest) -> dict[str, str]:
    return {"email": request.GET.get("email", "")[:EMAIL_MAX]}


# --- signing in and out -----------------------------------------------------------------

@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """USER_PASSWORD_AUTH, then Django's own authenticate() and login(): the
    backend verifies the ID token, and its claims go on to the service."""
    form = SignInForm(request.POST or None)
    if _allowed(request, form, scope="sign-in", limits=SIGN_IN_LIMITS):
        try:
            tokens = cognito.user_sign_in(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        except CognitoError as exc:
            if exc.code == "UserNotConfirmedException":
                messages.error(request, message_for(exc.code))
                return redirect(_with_email("accounts:confirm", form.cleaned_data["email"]))
            _refuse(form, exc.code)
        else:
            user = authenticate(request, id_token=tokens.id_token)
            if user is None:
                form.add_error(None, SIGN_IN_REFUSED)
            else:
                login(request, user, backend="accounts.backends.CognitoBackend")  # rotates the session key
                session_sign_in(
                    user=user,
                    tokens=tokens,
                    claims=user.id_claims,
                    store=CredentialStore(request.session),
                    requester=Requester.of(request),
                )
                return redirect(_next_url(request))
    return _render(request, "accounts/sign_in.html", form, next=_next_url(request), sso=oidc.sso_enabled())


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session_sign_out(store=CredentialStore(request.session))
    logout(request)
    return redirect("home")


# --- an emailed sign-in link (developer-authenticated identities) -------------------------

LINK_SENT = gettext_lazy(
    "If %(email)s can receive email, a sign-in link is on its way. It works once, for 15 minutes."
)
LINK_REFUSED = gettext_lazy("This sign-in link has expired or has been used already. Ask for a new one.")


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_request(request: HttpRequest) -> HttpResponse:
    """Every address gets the same answer: a link makes its account on first
    use, so there is no "unknown email" to give away, and a delivery failure
    is only logged. Rate-limited like the other pages that send email."""
    form = SignInLinkForm(request.POST or None)
    if _allowed(request, form, scope="sign-in-link", limits=CODE_LIMITS):
        email = form.cleaned_data["email"]
        use = reverse("accounts:sign-in-link-use")
        # build_absolute_uri takes the host from the request, which ALLOWED_HOSTS has vetted.
        magic_link.link_send(email=email, url_for=lambda token: request.build_absolute_uri(f"{use}?{urlencode({'token': token})}"))
        messages.info(request, LINK_SENT % {"email": email})
        return redirect("accounts:sign-in-link")
    return _render(request, "accounts/sign_in_link.html", form)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link_use(request: HttpRequest) -> HttpResponse:
    """GET shows a button, POST signs in: mail scanners that fetch every link
    must not use up (or use) a person's link. A bad, expired or used link is
    a 400 with one fixed message, and nothing is created."""
    token = (request.POST.get("token") if request.method == "POST" else request.GET.get("token")) or ""
    try:
        if request.method == "GET":
            email, _link_id = magic_link.link_read(token)
            return render(request, "accounts/sign_in_link_use.html", {"token": token, "email": email})
        email, link_id = magic_link.link_use(token)
    except LinkRefused as exc:
        log.info("sign-in link refused: %s", exc)
        return render(request, "accounts/sign_in_link_refused.html", {"error": LINK_REFUSED}, status=400)
    user = magic_link.developer_user_get_or_create(email=email)
    if not user.is_active:
        log.info("refused sign-in link of deactivated user %s", user.pk)
        return render(request, "accounts/sign_in_link_refused.html", {"error": SIGN_IN_REFUSED}, status=403)
    # CognitoBackend only for get_user on later requests (by pk, active only): the link was the proof.
    login(request, user, backend="accounts.backends.CognitoBackend")  # rotates the session key
    try:
        developer_session_sign_in(
            user=user,
            developer_user_id=magic_link.developer_user_id_for(email),
            store=CredentialStore(request.session),
            requester=Requester.of(request),
        )
    except CognitoError:  # logged by accounts.cognito; nothing signed in, the link usable again
        logout(request)
        magic_link.link_release(link_id)
        return render(request, "accounts/sign_in_link_refused.html", {"error": FALLBACK}, status=503)
    return redirect("home")


# --- "Sign in with Winter Corp SSO" (accounts.oidc) --------------------------------------

SSO_CANCELLED = gettext_lazy("Signing in with Winter Corp SSO was cancelled or refused there. Try again, or sign in another way.")
SSO_FAILED = gettext_lazy("We could not complete your sign-in with Winter Corp SSO. Please try again.")
SSO_NO_ACCESS = gettext_lazy("Winter Corp SSO signed you in, but Photoshare could not give you access. Contact the site's administrators.")
SSO_UNAVAILABLE = gettext_lazy("Winter Corp SSO is not answering right now. Try again in a moment, or sign in another way.")


def _sso_refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The sign-in page with one fixed message; the detail is in the log."""
    context = {"form": SignInForm(), "next": reverse("home"), "sso": oidc.sso_enabled(), "sso_error": message}
    return render(request, "accounts/sign_in.html", context, status=status)


@method_decorator(never_cache, name="dispatch")
class SsoStart(OIDCAuthenticationRequestView):
    """GET /accounts/oidc/start/: the library's authorization request (state,
    nonce and PKCE S256 kept in the session), to the issuer's authorize URL."""

    get_settings = staticmethod(oidc.library_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the library's reads the endpoint here, before a failure can be answered

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc.endpoints().authorization
        except oidc.SsoFailed as exc:
            log.warning("SSO sign-in not started: %s", exc)
            return _sso_refused(request, SSO_UNAVAILABLE, 503)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


@method_decorator(never_cache, name="dispatch")
class SsoCallback(OIDCAuthenticationCallbackView):
    """GET /accounts/oidc/callback/: the library checks `state` against the
    session and has OidcBackend exchange the code and verify the ID token;
    then the service gets the person's identity and first credentials. Any
    refusal on the way is the sign-in page with a fixed message, and signs
    no one in: a user made by this very sign-in is removed again."""

    get_settings = staticmethod(oidc.library_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.sso_enabled():
            raise Http404
        if request.GET.get("error"):  # the person cancelled, or the provider refused (OIDC Core 3.1.2.6)
            log.info("SSO provider answered %r: %r", request.GET["error"][:100], request.GET.get("error_description", "")[:300])
            states = request.session.get("oidc_states")
            if isinstance(states, dict):
                states.pop(request.GET.get("state", ""), None)  # a state is good for one answer
                request.session.modified = True
            return _sso_refused(request, SSO_CANCELLED, 400)
        if not (request.GET.get("code") and request.GET.get("state")):
            log.info("SSO callback without code and state")
            return _sso_refused(request, SSO_FAILED, 400)
        try:
            return super().get(request)
        except (oidc.SsoFailed, SuspiciousOperation) as exc:  # a state not ours, a token that does not check out
            log.warning("SSO sign-in refused: %s", exc)
            return _sso_refused(request, SSO_FAILED, 400)

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            log.info("refused SSO sign-in of deactivated user %s", user.pk)
            return _sso_refused(self.request, SIGN_IN_REFUSED, 403)
        log.info("SSO callback with no sign-in in progress in this session")
        return _sso_refused(self.request, SSO_FAILED, 400)

    def login_success(self) -> HttpResponse:
        request, user = self.request, self.user
        next_url = self.success_url  # kept by SsoStart, already checked to stay on this site
        login(request, user, backend="accounts.oidc.OidcBackend")  # rotates the session key
        try:
            sso_session_sign_in(
                user=user,
                id_token=user.sso_id_token,
                claims=user.id_claims,
                store=CredentialStore(request.session),
                requester=Requester.of(request),
            )
        except (CognitoError, SessionExpired) as exc:  # logged by accounts.cognito (and the audit trail)
            logout(request)
            if user.sso_created:
                user.delete()
            if getattr(exc, "code", "") == "Unreachable":
                return _sso_refused(request, FALLBACK, 503)
            return _sso_refused(request, SSO_NO_ACCESS, 403)
        # No refresh token: the session ends when the provider's ID token does.
        request.session.set_expiry(CredentialStore(request.session).sso.expires_at)
        return redirect(next_url)


sso_start = SsoStart.as_view()
sso_callback = SsoCallback.as_view()


# --- signing up and confirming ----------------------------------------------------------

@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if _allowed(request, form, scope="sign-up", limits=CODE_LIMITS):
        email = form.cleaned_data["email"]
        try:
            # An address that has an account gets this same answer (and its owner a notice).
            account_sign_up(email=email, password=form.cleaned_data["password"])
        except CognitoError as exc:
            _refuse(form, exc.code)
        else:
            messages.info(request, _("We emailed a six-digit code to %(email)s. Enter it to confirm your account.") % {"email": email})
            return redirect(_with_email("accounts:confirm", email))
    return _render(request, "accounts/sign_up.html", form)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST or None, initial=_initial_email(request))
    if _allowed(request, form, scope="confirm", limits=CODE_LIMITS):
        try:
            cognito.user_sign_up_confirm(email=form.cleaned_data["email"], code=form.cleaned_data["code"])
        except CognitoError as exc:
            _refuse(form, exc.code, same_as=LOOKS_LIKE_A_WRONG_CODE)
        else:
            messages.success(request, _("Your account is confirmed. You can sign in now."))
            return redirect("accounts:sign-in")
    resend = ResendForm(initial={"email": form["email"].value()})
    return _render(request, "accounts/confirm.html", form, resend=resend)


@require_POST
def confirm_resend(request: HttpRequest) -> HttpResponse:
    form = ResendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please enter the email you signed up with."))
        return redirect("accounts:confirm")
    email = form.cleaned_data["email"]
    if _allowed(request, form, scope="resend", limits=CODE_LIMITS):
        try:
            cognito.user_code_resend(email=email)
        except CognitoError as exc:
            if exc.code not in RESEND_AS_SENT:
                _refuse(form, exc.code)
    if form.non_field_errors():
        messages.error(request, form.non_field_errors()[0])
    else:
        messages.info(request, _("If %(email)s has an account waiting for confirmation, we emailed it a new code.") % {"email": email})
    return redirect(_with_email("accounts:confirm", email))


# --- a forgotten password ---------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    form = PasswordForgotForm(request.POST or None)
    if _allowed(request, form, scope="forgot", limits=CODE_LIMITS):
        email = form.cleaned_data["email"]
        try:
            cognito.user_password_forgot(email=email)
        except CognitoError as exc:
            if exc.code not in FORGOT_AS_SENT:
                _refuse(form, exc.code)
        if not form.non_field_errors():
            messages.info(request, _("If %(email)s has an account, we emailed it a code.") % {"email": email})
            return redirect(_with_email("accounts:password-reset-confirm", email))
    return _render(request, "accounts/password_forgot.html", form)


@sensitive_post_parameters("code", "password")
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None, initial=_initial_email(request))
    if _allowed(request, form, scope="reset", limits=CODE_LIMITS):
        data = form.cleaned_data
        try:
            cognito.user_password_reset(email=data["email"], code=data["code"], password=data["password"])
        except CognitoError as exc:
            _refuse(form, exc.code, same_as=LOOKS_LIKE_A_WRONG_CODE)
        else:
            messages.success(request, _("Your password is changed. Sign in with the new one."))
            return redirect("accounts:sign-in")
    return _render(request, "accounts/password_reset_confirm.html", form)


def outbox(request: HttpRequest) -> HttpResponse:
    """Development only: the emails the user pool would have sent, and the app's own."""
    if not (settings.DEBUG and settings.PHOTOSHARE_AWS == "local"):
        raise Http404
    found, sandbox_answered = outbox_list(to=request.GET.get("to", "")[:EMAIL_MAX] or None)
    error = "" if sandbox_answered else _("The sandbox is not answering. Is `make run` still running?")
    return render(request, "accounts/outbox.html", {"messages_sent": found, "error": error})


# --- the credentials API --------------------------------------------------------------

def api_credentials(request: HttpRequest) -> JsonResponse:
    """POST /api/credentials: scoped, expiring AWS credentials for the browser."""
    if request.method != "POST":
        return json_error(_("Use POST."), 405, allow="POST")
    user = request.user if request.user.is_authenticated else None
    try:
        issued = identity_credentials_get(user=user, store=CredentialStore(request.session), requester=Requester.of(request))
    except GuestsDisabled:
        return json_error(_("Sign in to get access: this site gives guests no credentials."), 403)
    except GuestsThrottled as exc:
        return json_error(
            _("Too many new guest visits from your network. Wait a while and try again, or sign in."),
            429,
            retry_after=exc.retry_after,
        )
    except SessionExpired:
        logout(request)  # the tokens are revoked or gone: from now on, a guest
        return json_error(_("Your session has ended. Please sign in again."), 401)
    except CognitoError as exc:
        if exc.code == "NotAuthorizedException":
            return json_error(_("Access was refused. Please sign in again."), 403)
        return json_error(_("Could not get credentials right now. Please try again."), 503)
    c = issued.credentials
    return json_answer(
        {
            "identityId": c.identity_id,
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key,
            "sessionToken": c.session_token,
            "expiration": c.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": settings.AWS_REGION,
            "bucket": deployment_get().bucket,
            "albumsTable": deployment_get().albums_table,  # issue 17: the browser's own DynamoDB table
            "endpoint": s3_browser_endpoint(),
            "authenticated": issued.authenticated,
        }
    )
