"""The account pages through the Django test client against the sandbox:
sign up and confirm (with resend), sign in, sign out, forgotten password,
the fixed message for every error a user can cause, rate limits, `next=`,
and the CSP every page carries."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client
from django.utils.html import escape

from accounts import cognito
from accounts.cognito import CognitoError
from accounts.models import User
from accounts.store import SESSION_TOKENS
from accounts.views import CODE_LIMITS, MESSAGES, SIGN_IN_LIMITS
from tests.actors import STRONG_PASSWORD
from tests.site_fixtures import browser_endpoint

SIGN_UP, CONFIRM, RESEND = "/accounts/sign-up/", "/accounts/confirm/", "/accounts/confirm/resend/"
SIGN_IN, SIGN_OUT = "/accounts/sign-in/", "/accounts/sign-out/"
FORGOT, RESET = "/accounts/password-reset/", "/accounts/password-reset/confirm/"
NEW_PASSWORD = "Another-Password-7?"


def shows(response: HttpResponse, message: str) -> bool:
    return escape(str(message)) in response.content.decode()


def with_email(path: str, email: str) -> str:
    return f"{path}?{urlencode({'email': email})}"


def user_status(sandbox, deployment, email: str) -> str:
    return sandbox.client("cognito-idp").admin_get_user(UserPoolId=deployment.user_pool_id, Username=email)["UserStatus"]


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def clear_of_window_edge(window: int, needed: float = 5.0) -> None:
    """The app counts attempts in fixed windows of `window` seconds; start a
    burst far enough from a window's end that all of it is counted together."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 0.05)


# --- sign up and confirm --------------------------------------------------------------------


def test_sign_up_emails_a_code_that_confirms_the_account(shared_site, sandbox, email, outbox, sign_in):
    """Sign up, take the code from the outbox, confirm, then sign in as the new user."""
    client = Client()
    response = client.post(SIGN_UP, {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 302 and response["Location"] == with_email(CONFIRM, email)
    assert user_status(sandbox, shared_site, email) == "UNCONFIRMED"
    [code] = outbox(email, "sign-up")

    response = client.post(CONFIRM, {"email": email, "code": code})
    assert response.status_code == 302 and response["Location"] == SIGN_IN
    assert user_status(sandbox, shared_site, email) == "CONFIRMED"
    sign_in(email, client=client)
    assert User.objects.get(email=email).username == client.session[SESSION_TOKENS]["username"]


def test_a_wrong_confirmation_code_is_refused_with_the_fixed_message(shared_site, sandbox, email, outbox):
    """A wrong code: 400, 'That code is not right', no AWS detail, and the account stays unconfirmed."""
    client = Client()
    client.post(SIGN_UP, {"email": email, "password": STRONG_PASSWORD})
    [code] = outbox(email, "sign-up")
    response = client.post(CONFIRM, {"email": email, "code": other_code(code)})
    assert response.status_code == 400
    assert shows(response, MESSAGES["CodeMismatchException"])
    assert "Invalid verification code" not in response.content.decode()
    assert user_status(sandbox, shared_site, email) == "UNCONFIRMED"


def test_resend_emails_a_new_code_and_only_the_new_one_confirms(shared_site, sandbox, email, outbox):
    """Resend replaces the code: the old one is refused, the new one confirms."""
    client = Client()
    client.post(SIGN_UP, {"email": email, "password": STRONG_PASSWORD})
    response = client.post(RESEND, {"email": email}, follow=True)
    assert response.redirect_chain == [(with_email(CONFIRM, email), 302)]
    assert shows(response, f"If {email} has an account waiting for confirmation, we emailed it a new code.")
    new, old = outbox(email, "sign-up")

    assert client.post(CONFIRM, {"email": email, "code": old}).status_code == 400
    response = client.post(CONFIRM, {"email": email, "code": new})
    assert response.status_code == 302
    assert user_status(sandbox, shared_site, email) == "CONFIRMED"


def test_the_confirm_page_is_prefilled_from_the_link(shared_site, email):
    """/accounts/confirm/?email=... fills in the email of both forms."""
    response = Client().get(with_email(CONFIRM, email))
    assert response.status_code == 200
    assert response.content.decode().count(f'value="{email}"') == 2


# --- sign in --------------------------------------------------------------------------------


def test_sign_in_rotates_the_session_key(shared_site, make_user):
    """The session a guest had before signing in is replaced by a new key (no session fixation)."""
    client = Client()
    client.post("/api/credentials")  # a guest session with its identity
    before = client.cookies["sessionid"].value
    response = client.post(SIGN_IN, {"email": make_user(), "password": STRONG_PASSWORD})
    assert response.status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.get(session_key=after).get_decoded()["_auth_user_id"]


def test_tokens_stay_in_the_server_side_session(shared_site, make_user):
    """After sign-in the tokens are in the session, and no page, API answer or cookie carries them."""
    email = make_user()
    client = Client()
    responses = [client.get(SIGN_IN), client.post(SIGN_IN, {"email": email, "password": STRONG_PASSWORD})]
    responses += [client.get("/"), client.post("/api/credentials"), client.get(SIGN_IN), client.get(CONFIRM)]
    tokens = client.session[SESSION_TOKENS]
    assert {"id", "access", "refresh"} <= tokens.keys() and all(tokens[k] for k in ("id", "access", "refresh"))
    assert email in responses[2].content.decode()  # the home page says who is signed in

    secrets = [tokens["id"], tokens["access"], tokens["refresh"]]
    for response in responses:
        body = response.content.decode()
        assert not any(secret in body for secret in secrets)
        assert "eyJ" not in body  # no JWT of any kind
        for cookie in response.cookies.values():
            assert cookie.key in {"sessionid", "csrftoken"}
            assert not any(secret in cookie.value for secret in secrets)
    assert client.cookies["sessionid"]["httponly"]


def test_signing_in_with_a_differently_cased_email_is_the_same_user(shared_site, make_user, sign_in):
    """Emails are case-insensitive: ALICE@… signs in the same user-pool user."""
    email = make_user()
    sign_in(email.upper())
    sign_in(email)
    assert User.objects.filter(email=email).count() == 1


# --- sign out -------------------------------------------------------------------------------


def test_sign_out_is_post_only(shared_site, make_user, sign_in):
    """GET /accounts/sign-out/ is 405 and leaves the user signed in."""
    client = sign_in(make_user())
    assert client.get(SIGN_OUT).status_code == 405
    assert client.session.get("_auth_user_id")


def test_sign_out_flushes_the_session_and_revokes_the_tokens_everywhere(shared_site, make_user, sign_in):
    """POST sign-out: session emptied, and GlobalSignOut makes the old refresh and ID tokens useless."""
    client = sign_in(make_user())
    tokens = dict(client.session[SESSION_TOKENS])
    identity_id = User.objects.get().identity_id
    old_session = client.cookies["sessionid"].value

    response = client.post(SIGN_OUT)
    assert response.status_code == 302 and response["Location"] == "/"
    assert SESSION_TOKENS not in client.session and "_auth_user_id" not in client.session
    assert not Session.objects.filter(session_key=old_session).exists()
    with pytest.raises(CognitoError) as refused:
        cognito.user_tokens_refresh(refresh_token=tokens["refresh"], username=tokens["username"])
    assert refused.value.code == "NotAuthorizedException"
    with pytest.raises(CognitoError) as refused:  # ServerSideTokenCheck: the ID token died with the sign-in
        cognito.identity_credentials_issue(identity_id=identity_id, id_token=tokens["id"])
    assert refused.value.code == "NotAuthorizedException"


# --- forgotten password ---------------------------------------------------------------------


def test_forgotten_password_code_then_new_password_then_sign_in(shared_site, make_user, outbox, sign_in):
    """Reset: a code is emailed, code + new password change it, the new one signs in and the old one no longer does."""
    email = make_user()
    client = Client()
    response = client.post(FORGOT, {"email": email})
    assert response.status_code == 302 and response["Location"] == with_email(RESET, email)
    [code] = outbox(email, "password-reset")

    response = client.post(RESET, {"email": email, "code": code, "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == SIGN_IN
    sign_in(email, NEW_PASSWORD)
    response = Client().post(SIGN_IN, {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 400 and shows(response, MESSAGES["NotAuthorizedException"])


def _forgot(email: str) -> tuple[HttpResponse, list[str]]:
    response = Client().post(FORGOT, {"email": email}, follow=True)
    return response, [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("account", ["existing", "unknown"])
def test_forgotten_password_answers_alike_for_unknown_emails(shared_site, make_user, email, account):
    """No enumeration: an unknown email gets the same status, redirect and words as a real one."""
    address = make_user() if account == "existing" else email
    response, flashed = _forgot(address)
    assert response.status_code == 200
    assert response.redirect_chain == [(with_email(RESET, address), 302)]
    assert flashed == [f"If {address} has an account, we emailed it a code."]


# --- every error message a user can cause ---------------------------------------------------


@dataclass
class Ctx:
    client: Client
    make_user: Callable[..., str]
    email: str
    outbox: Callable[..., list[str]]
    short: Any  # the sandbox whose codes expire after a second
    settings: Any


def _signed_up(ctx: Ctx) -> str:
    """A new, unconfirmed account; returns its sign-up code."""
    ctx.client.post(SIGN_UP, {"email": ctx.email, "password": STRONG_PASSWORD})
    return ctx.outbox(ctx.email, "sign-up")[0]


def _unconfirmed_sign_in(ctx: Ctx) -> HttpResponse:
    _signed_up(ctx)
    response = ctx.client.post(SIGN_IN, {"email": ctx.email, "password": STRONG_PASSWORD}, follow=True)
    assert response.redirect_chain == [(with_email(CONFIRM, ctx.email), 302)]
    return response


def _reset_requested(ctx: Ctx) -> tuple[str, str]:
    email = ctx.make_user()
    ctx.client.post(FORGOT, {"email": email})
    return email, ctx.outbox(email, "password-reset")[0]


def _expired_sign_up_code(ctx: Ctx) -> HttpResponse:
    ctx.settings.AWS_ENDPOINT_URL = ctx.short.endpoint  # this sandbox's codes last a second
    code = _signed_up(ctx)
    time.sleep(1.2)
    return ctx.client.post(CONFIRM, {"email": ctx.email, "code": code})


def _expired_reset_code(ctx: Ctx) -> HttpResponse:
    ctx.settings.AWS_ENDPOINT_URL = ctx.short.endpoint
    email, code = _reset_requested(ctx)
    time.sleep(1.2)
    return ctx.client.post(RESET, {"email": email, "code": code, "password": NEW_PASSWORD})


def _wrong_reset_code(ctx: Ctx) -> HttpResponse:
    email, code = _reset_requested(ctx)
    return ctx.client.post(RESET, {"email": email, "code": other_code(code), "password": NEW_PASSWORD})


def _weak_new_password(ctx: Ctx) -> HttpResponse:
    email, code = _reset_requested(ctx)
    return ctx.client.post(RESET, {"email": email, "code": code, "password": "weakpassword"})


def _too_many_sign_ins(ctx: Ctx) -> HttpResponse:
    email = ctx.make_user()
    attempts, window = SIGN_IN_LIMITS["account+client"]
    clear_of_window_edge(window)
    for _ in range(attempts):
        assert ctx.client.post(SIGN_IN, {"email": email, "password": "Wrong-Password-1!"}).status_code == 400
    return ctx.client.post(SIGN_IN, {"email": email, "password": "Wrong-Password-1!"})


def _too_many_codes(ctx: Ctx) -> HttpResponse:
    code = _signed_up(ctx)
    attempts, window = CODE_LIMITS["account+client"]
    clear_of_window_edge(window)
    for _ in range(attempts):
        ctx.client.post(CONFIRM, {"email": ctx.email, "code": other_code(code)})
    return ctx.client.post(CONFIRM, {"email": ctx.email, "code": code})


# Scenario -> (what the user does, the MESSAGES key shown, status, AWS detail that must not show).
ERRORS: dict[str, tuple[Callable[[Ctx], HttpResponse], str, int, str]] = {
    "wrong password": (
        lambda c: c.client.post(SIGN_IN, {"email": c.make_user(), "password": "Wrong-Password-1!"}),
        "NotAuthorizedException", 400, "Incorrect username or password",
    ),
    "unknown email at sign-in": (
        lambda c: c.client.post(SIGN_IN, {"email": c.email, "password": STRONG_PASSWORD}),
        "UserNotFoundException", 400, "User does not exist",
    ),
    "unconfirmed account (shown on the confirm page it redirects to)": (
        _unconfirmed_sign_in, "UserNotConfirmedException", 200, "User is not confirmed",
    ),
    "weak password at sign-up": (
        lambda c: c.client.post(SIGN_UP, {"email": c.email, "password": "weakpassword"}),
        "InvalidPasswordException", 400, "password policy",
    ),
    "weak new password at reset": (_weak_new_password, "InvalidPasswordException", 400, "password policy"),
    "wrong sign-up code": (
        lambda c: c.client.post(CONFIRM, {"email": c.email, "code": other_code(_signed_up(c))}),
        "CodeMismatchException", 400, "Invalid verification code",
    ),
    "wrong reset code": (_wrong_reset_code, "CodeMismatchException", 400, "Invalid verification code"),
    "expired sign-up code": (_expired_sign_up_code, "ExpiredCodeException", 400, "request a code again"),
    "expired reset code": (_expired_reset_code, "ExpiredCodeException", 400, "request a code again"),
    "too many sign-ins for one account (the app's limit)": (_too_many_sign_ins, "TooManyRequestsException", 429, ""),
    "too many codes for one account (the app's limit)": (_too_many_codes, "TooManyRequestsException", 429, ""),
}


@pytest.mark.parametrize("scenario", ERRORS)
def test_each_error_a_user_can_cause_shows_its_fixed_message(
    shared_site, make_user, email, outbox, short_lived_sandbox, settings, scenario
):
    """The page shows the fixed message for the Cognito error (right status), never AWS's own words."""
    action, code, status, detail = ERRORS[scenario]
    response = action(Ctx(Client(), make_user, email, outbox, short_lived_sandbox, settings))
    assert response.status_code == status
    assert shows(response, MESSAGES[code]), response.content.decode()[-1500:]
    if detail:
        assert detail not in response.content.decode()


def test_the_detail_of_a_refusal_is_logged(shared_site, make_user, caplog):
    """The user sees 'Wrong email or password.'; the log has AWS's code and words."""
    Client().post(SIGN_IN, {"email": make_user(), "password": "Wrong-Password-1!"})
    assert any(
        "NotAuthorizedException" in r.getMessage() and "Incorrect username or password" in r.getMessage()
        for r in caplog.records
        if r.name == "accounts.cognito"
    )


# --- rate limits ----------------------------------------------------------------------------


def test_the_sixth_sign_in_from_one_client_is_refused_even_with_the_right_password(shared_site, make_user):
    """Five wrong passwords, then the right one from the same client: 429 with Retry-After, not signed in, Cognito not asked."""
    email = make_user()
    client = Client()
    attempts, window = SIGN_IN_LIMITS["account+client"]
    clear_of_window_edge(window)
    for _ in range(attempts):
        client.post(SIGN_IN, {"email": email, "password": "Wrong-Password-1!"})
    response = client.post(SIGN_IN, {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= window
    assert shows(response, MESSAGES["TooManyRequestsException"])
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email=email).exists()


def test_too_many_sign_ins_from_one_ip_are_refused(shared_site, make_user):
    """Past the per-IP limit, even a new account's correct sign-in from that IP gets 429; another IP does not."""
    attempts, window = SIGN_IN_LIMITS["client"]
    clear_of_window_edge(window)
    client = Client(REMOTE_ADDR="198.51.100.9")
    for i in range(attempts):
        client.post(SIGN_IN, {"email": f"spray{i}@example.com", "password": "Wrong-Password-1!"})
    email = make_user()
    response = client.post(SIGN_IN, {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 429 and shows(response, MESSAGES["TooManyRequestsException"])
    assert Client(REMOTE_ADDR="198.51.100.10").post(SIGN_IN, {"email": email, "password": STRONG_PASSWORD}).status_code == 302


# --- next= ----------------------------------------------------------------------------------

# next= value -> where sign-in must land.
NEXT = {
    "https://evil.example": "/",
    "//evil.example": "/",
    "https://evil.example/accounts/sign-in/": "/",
    "http://testserver.evil.example/": "/",
    "///evil.example": "/",
    "/\\evil.example": "/",
    "javascript:alert(1)": "/",
    "/accounts/password-reset/": "/accounts/password-reset/",
    "http://testserver/accounts/confirm/": "http://testserver/accounts/confirm/",
}


@pytest.mark.parametrize("how", ["form field", "query string"])
@pytest.mark.parametrize("next_url", NEXT)
def test_next_only_redirects_within_the_site(shared_site, make_user, next_url, how):
    """After sign-in, next= is followed only when it stays on this site; anything else lands on /."""
    data = {"email": make_user(), "password": STRONG_PASSWORD}
    if how == "form field":
        response = Client().post(SIGN_IN, {**data, "next": next_url})
    else:
        response = Client().post(f"{SIGN_IN}?{urlencode({'next': next_url})}", data)
    assert response.status_code == 302
    assert response["Location"] == NEXT[next_url]


def test_the_sign_in_page_never_echoes_a_foreign_next(shared_site):
    """GET /accounts/sign-in/?next=https://evil.example renders next=/ in the form."""
    response = Client().get(f"{SIGN_IN}?{urlencode({'next': 'https://evil.example'})}")
    assert "evil.example" not in response.content.decode()
    assert '<input type="hidden" name="next" value="/">' in response.content.decode()


# --- password pages: not in error reports, not in caches -----------------------------------

# page -> the POST fields that must never appear in an error report.
SECRET_FIELDS = {SIGN_IN: ["password"], SIGN_UP: ["password"], CONFIRM: ["code"], RESET: ["code", "password"]}
SECRET = "Hunter2-Secret-Value!"


@pytest.mark.parametrize("page", SECRET_FIELDS)
def test_an_error_report_hides_the_passwords_and_codes_posted_to_a_page(shared_site, page):
    """Django's error reporter, given the request a page handled, shows its password and code fields as stars."""
    from django.views.debug import ExceptionReporter

    data = {"email": "not an email", **{field: SECRET for field in SECRET_FIELDS[page]}}
    response = Client().post(page, data)
    assert response.status_code == 400
    report = ExceptionReporter(response.wsgi_request, None, None, None).get_traceback_text()
    assert SECRET not in report
    assert "not an email" in report and report.count("********************") >= len(SECRET_FIELDS[page])


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", [SIGN_IN, SIGN_UP, CONFIRM, FORGOT, RESET])
def test_password_and_code_pages_are_never_cached(shared_site, page, method):
    """Every page that takes a password, a code or an email answers with never_cache's headers."""
    response = getattr(Client(), method)(page, {"email": "not an email"} if method == "post" else None)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-cache", "no-store", "must-revalidate", "private", "max-age=0"} <= cache_control
    assert "Expires" in response


# --- Content Security Policy ----------------------------------------------------------------


def _csp(response: HttpResponse) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("page", ["/", SIGN_IN, SIGN_UP, CONFIRM, FORGOT, RESET])
def test_pages_carry_a_csp_without_inline_script_that_lets_the_browser_reach_the_sandbox(shared_site, sandbox, page):
    """CSP on every page: script-src has no 'unsafe-inline'/'unsafe-eval', connect-src is the app and the endpoint; no inline <script>."""
    response = Client().get(page)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(csp.get("default-src", []) + csp["script-src"])
    assert set(csp["connect-src"]) == {"'self'", browser_endpoint(sandbox)}
    assert csp["frame-ancestors"] == ["'none'"]
    # json_script data blocks are not scripts (the browser never runs them); anything else must load from a file.
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", response.content.decode())
    assert not re.search(r"\son[a-z]+=", response.content.decode())  # no inline event handlers either


def test_the_credentials_endpoint_points_the_browser_where_connect_src_allows(shared_site, sandbox):
    """The S3 endpoint handed to the browser is in the page's connect-src."""
    client = Client()
    endpoint = client.post("/api/credentials").json()["endpoint"]
    assert endpoint in _csp(client.get("/"))["connect-src"]


# --- the outbox page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "debug, aws, status", [(True, "local", 200), (False, "local", 404), (True, "aws", 404)], ids=["dev", "no-debug", "on-aws"]
)
def test_the_outbox_page_is_for_local_development_only(shared_site, email, outbox, settings, debug, aws, status):
    """/accounts/outbox/ lists the codes with DEBUG and the sandbox, and is 404 otherwise."""
    Client().post(SIGN_UP, {"email": email, "password": STRONG_PASSWORD})
    [code] = outbox(email, "sign-up")
    settings.DEBUG, settings.PHOTOSHARE_AWS = debug, aws
    response = Client().get(f"/accounts/outbox/?{urlencode({'to': email})}")
    assert response.status_code == status
    if status == 200:
        assert code in response.content.decode() and email in response.content.decode()


# --- nothing answers 500 --------------------------------------------------------------------

ODD = "\u202e\x00<script>" + "é" * 300
# (method, path, data): odd input for every account page.
HOSTILE_INPUT = [
    ("post", path, data)
    for path in (SIGN_IN, SIGN_UP, CONFIRM, RESEND, FORGOT, RESET)
    for data in (
        {},
        {"email": ODD, "password": ODD, "code": ODD},
        {"email": "a@" + "b" * 300 + ".example", "password": "x" * 10_000, "code": "1" * 7},
        {"email": "alice@example.com", "password": ["a", "b"], "code": "12345\n"},
        {"email": "ALICE@EXAMPLE.COM ", "password": "\x00" * 20, "code": "１２３４５６"},  # full-width digits
    )
] + [("get", f"{path}?email={ODD}&next={ODD}", {}) for path in (SIGN_IN, CONFIRM, RESET, "/accounts/outbox/")]


@pytest.mark.parametrize("method, path, data", HOSTILE_INPUT)
def test_odd_input_never_answers_500(shared_site, settings, method, path, data):
    """Odd, oversized and control-character input to every account page: a 4xx or a page, never a 500."""
    settings.DEBUG = True  # the outbox page too
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(path, data)
    assert response.status_code < 500, response.content.decode()[:500]
    assert "Traceback" not in response.content.decode()


def test_on_aws_connect_src_adds_the_regional_sts_endpoint_and_img_src_does_not(shared_site, settings):
    """The inspector's browser asks STS who its credentials are: STS's origin may be fetched, never loaded as an image."""
    settings.PHOTOSHARE_AWS, settings.AWS_ENDPOINT_URL, settings.AWS_BROWSER_ENDPOINT_URL = "aws", "", ""
    csp = _csp(Client().get(SIGN_IN))
    sts = f"https://sts.{settings.AWS_REGION}.amazonaws.com"
    assert sts in csp["connect-src"] and f"https://s3.{settings.AWS_REGION}.amazonaws.com" in csp["connect-src"]
    assert sts not in csp["img-src"]
