"""Account pages and the credentials API. Each view validates, calls one
service, and answers; every Cognito failure becomes a fixed message (the
detail is logged by accounts.cognito)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts import cognito
from accounts.cognito import CognitoError
from accounts.forms import (
    EMAIL_MAX,
    ConfirmForm,
    PasswordForgotForm,
    PasswordResetForm,
    ResendForm,
    SignInForm,
    SignUpForm,
    WEAK_PASSWORD,
)
from accounts.outbox import outbox_list
from accounts.ratelimit import address_key, too_many
from accounts.services import (
    GuestsDisabled,
    GuestsThrottled,
    SessionExpired,
    account_sign_up,
    identity_credentials_get,
    session_sign_in,
    session_sign_out,
)
from core.aws import s3_browser_endpoint
from core.deployment import deployment_get
from core.http import client_address, json_answer, json_error

log = logging.getLogger(__name__)

# What a person sees for each Cognito error they can cause.
MESSAGES = {
    "NotAuthorizedException": "Wrong email or password.",
    "UserNotFoundException": "Wrong email or password.",
    "UserNotConfirmedException": "Your account is not confirmed yet: enter the code we emailed you.",
    "PasswordResetRequiredException": "You need to choose a new password: use 'Forgot your password?'.",
    "InvalidPasswordException": WEAK_PASSWORD,
    "UsernameExistsException": "An account with this email already exists. Sign in, or reset your password.",
    "CodeMismatchException": "That code is not right. Check the email and try again.",
    "ExpiredCodeException": "That code has expired. Ask for a new one.",
    "LimitExceededException": "Too many attempts. Wait a few minutes and try again.",
    "TooManyRequestsException": "Too many attempts. Wait a few minutes and try again.",
    "TooManyFailedAttemptsException": "Too many attempts. Wait a few minutes and try again.",
    "InvalidParameterException": "Please check what you entered and try again.",
}
FALLBACK = "Something went wrong on our side. Please try again in a moment."
RATE_LIMITED = MESSAGES["TooManyRequestsException"]

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


def message_for(code: str) -> str:
    return MESSAGES.get(code, FALLBACK)


def _limited(request: HttpRequest, scope: str, email: str, limits: dict[str, tuple[int, int]]) -> int:
    """0, or the seconds to wait (Retry-After)."""
    client = address_key(client_address(request))
    keys = [("client", client), ("account+client", f"{email} {client}"), ("account", email)]
    return too_many(scope=scope, keys=keys, limits=limits)


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


def _attempt(
    request: HttpRequest,
    form: Form,
    *,
    scope: str,
    limits: dict[str, tuple[int, int]],
    call: Callable[[dict[str, Any]], object],
    harmless: tuple[str, ...] = (),
    same_as: dict[str, str] | None = None,
) -> bool:
    """The shape every account form shares: for a valid POST, count the attempt
    (SIGN_IN_LIMITS explains the counters), then make the one Cognito call. A
    failure becomes the form's fixed message (the detail is already logged);
    an error code in `harmless` counts as success, and one in `same_as` shows
    the other code's message. True when the call succeeded."""
    if request.method != "POST" or not form.is_valid():
        return False
    retry_after = _limited(request, scope, form.cleaned_data["email"], limits)
    if retry_after:
        form.add_error(None, RATE_LIMITED)
        form.status, form.retry_after = 429, retry_after  # type: ignore[attr-defined]
        return False
    try:
        call(form.cleaned_data)
    except CognitoError as exc:
        if exc.code in harmless:
            return True
        code = (same_as or {}).get(exc.code, exc.code)
        form.cognito_code = code  # type: ignore[attr-defined]
        form.add_error(None, message_for(code))
        return False
    return True


def _render(request: HttpRequest, template: str, form: Form, **context: Any) -> HttpResponse:
    """The form page; 400 after a failed POST (429 and Retry-After when rate-limited)."""
    status = getattr(form, "status", 400) if request.method == "POST" else 200
    response = render(request, template, {"form": form, **context}, status=status)
    if getattr(form, "retry_after", 0):
        response["Retry-After"] = str(form.retry_after)  # type: ignore[attr-defined]
    return response


def _initial_email(request: HttpRequest) -> dict[str, str]:
    return {"email": request.GET.get("email", "")[:EMAIL_MAX]}


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    signed_in = _attempt(
        request,
        form,
        scope="sign-in",
        limits=SIGN_IN_LIMITS,
        call=lambda data: session_sign_in(request=request, email=data["email"], password=data["password"]),
    )
    if signed_in:
        return redirect(_next_url(request))
    if getattr(form, "cognito_code", "") == "UserNotConfirmedException":
        messages.error(request, message_for("UserNotConfirmedException"))
        return redirect(_with_email("accounts:confirm", form.cleaned_data["email"]))
    return _render(request, "accounts/sign_in.html", form, next=_next_url(request))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    session_sign_out(request=request)
    return redirect("home")


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if _attempt(
        request,
        form,
        scope="sign-up",
        limits=CODE_LIMITS,
        # An address that has an account gets this same answer (and its owner a notice).
        call=lambda data: account_sign_up(email=data["email"], password=data["password"]),
    ):
        email = form.cleaned_data["email"]
        messages.info(request, f"We emailed a six-digit code to {email}. Enter it to confirm your account.")
        return redirect(_with_email("accounts:confirm", email))
    return _render(request, "accounts/sign_up.html", form)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmForm(request.POST or None, initial=_initial_email(request))
    if _attempt(
        request,
        form,
        scope="confirm",
        limits=CODE_LIMITS,
        call=lambda data: cognito.user_sign_up_confirm(email=data["email"], code=data["code"]),
        same_as=LOOKS_LIKE_A_WRONG_CODE,
    ):
        messages.success(request, "Your account is confirmed. You can sign in now.")
        return redirect("accounts:sign-in")
    resend = ResendForm(initial={"email": form["email"].value()})
    return _render(request, "accounts/confirm.html", form, resend=resend)


@require_POST
def confirm_resend(request: HttpRequest) -> HttpResponse:
    form = ResendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please enter the email you signed up with.")
        return redirect("accounts:confirm")
    email = form.cleaned_data["email"]
    if _attempt(
        request,
        form,
        scope="resend",
        limits=CODE_LIMITS,
        call=lambda data: cognito.user_code_resend(email=email),
        # No account, or one already confirmed: the same answer as a code sent.
        harmless=("UserNotFoundException", "InvalidParameterException"),
    ):
        messages.info(request, f"If {email} has an account waiting for confirmation, we emailed it a new code.")
    else:
        messages.error(request, form.non_field_errors()[0])
    return redirect(_with_email("accounts:confirm", email))


@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    form = PasswordForgotForm(request.POST or None)
    if _attempt(
        request,
        form,
        scope="forgot",
        limits=CODE_LIMITS,
        call=lambda data: cognito.user_password_forgot(email=data["email"]),
        # The same answer whether or not the account exists: no user enumeration.
        # (InvalidParameterException: an account whose email was never verified.)
        harmless=("UserNotFoundException", "NotAuthorizedException", "InvalidParameterException"),
    ):
        email = form.cleaned_data["email"]
        messages.info(request, f"If {email} has an account, we emailed it a code.")
        return redirect(_with_email("accounts:password-reset-confirm", email))
    return _render(request, "accounts/password_forgot.html", form)


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None, initial=_initial_email(request))
    if _attempt(
        request,
        form,
        scope="reset",
        limits=CODE_LIMITS,
        call=lambda data: cognito.user_password_reset(email=data["email"], code=data["code"], password=data["password"]),
        same_as=LOOKS_LIKE_A_WRONG_CODE,
    ):
        messages.success(request, "Your password is changed. Sign in with the new one.")
        return redirect("accounts:sign-in")
    return _render(request, "accounts/password_reset_confirm.html", form)


def outbox(request: HttpRequest) -> HttpResponse:
    """Development only: the emails the user pool would have sent, and the app's own."""
    if not (settings.DEBUG and settings.PHOTOSHARE_AWS == "local"):
        raise Http404
    found, sandbox_answered = outbox_list(to=request.GET.get("to", "")[:EMAIL_MAX] or None)
    error = "" if sandbox_answered else "The sandbox is not answering. Is `make run` still running?"
    return render(request, "accounts/outbox.html", {"messages_sent": found, "error": error})


# --- the credentials API --------------------------------------------------------------

def api_credentials(request: HttpRequest) -> JsonResponse:
    """POST /api/credentials: scoped, expiring AWS credentials for the browser."""
    if request.method != "POST":
        return json_error("Use POST.", 405, allow="POST")
    try:
        issued = identity_credentials_get(request=request)
    except GuestsDisabled:
        return json_error("Sign in to get access: this site gives guests no credentials.", 403)
    except GuestsThrottled as exc:
        return json_error(
            "Too many new guest visits from your network. Wait a while and try again, or sign in.",
            429,
            retry_after=exc.retry_after,
        )
    except SessionExpired:
        return json_error("Your session has ended. Please sign in again.", 401)
    except CognitoError as exc:
        if exc.code == "NotAuthorizedException":
            return json_error("Access was refused. Please sign in again.", 403)
        return json_error("Could not get credentials right now. Please try again.", 503)
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
            "endpoint": s3_browser_endpoint(),
            "authenticated": issued.authenticated,
        }
    )
