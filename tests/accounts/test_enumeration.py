"""No user enumeration, as AWS's PreventUserExistenceErrors intends: the
account pages answer alike (status, redirect, page, message) whether the
address has no account, a confirmed one or an unconfirmed one. Each case
compares an address in that state with a fresh address nobody uses, through
the test client against the sandbox; the existing owner's notice is checked
in Django's outbox and on /accounts/outbox/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client

from accounts.services import EXISTING_ACCOUNT_SUBJECT
from tests.actors import STRONG_PASSWORD

SIGN_UP, CONFIRM, RESEND = "/accounts/sign-up/", "/accounts/confirm/", "/accounts/confirm/resend/"
FORGOT, RESET = "/accounts/password-reset/", "/accounts/password-reset/confirm/"
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value|data-csrf-token)="[^"]*"')  # masked anew on every page
STATES = ["no account", "confirmed", "unconfirmed"]

# What a person can do with an address: flow -> (address -> the response, followed).
FLOWS: dict[str, Callable[[Client, str], object]] = {
    "sign up": lambda c, a: c.post(SIGN_UP, {"email": a, "password": STRONG_PASSWORD}, follow=True),
    "sign up, weak password": lambda c, a: c.post(SIGN_UP, {"email": a, "password": "weakpassword"}, follow=True),
    "resend the code": lambda c, a: c.post(RESEND, {"email": a}, follow=True),
    "confirm, wrong code": lambda c, a: c.post(CONFIRM, {"email": a, "code": "000000"}, follow=True),
    "forgot the password": lambda c, a: c.post(FORGOT, {"email": a}, follow=True),
    "reset, wrong code": lambda c, a: c.post(RESET, {"email": a, "code": "000000", "password": "Another-Password-7?"}, follow=True),
    "reset, weak password": lambda c, a: c.post(RESET, {"email": a, "code": "000000", "password": "weakpassword"}, follow=True),
}


def _fresh() -> str:
    return f"e{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def address_in(shared_site, make_user) -> Callable[[str], str]:
    """An address in the given state, of this test alone."""

    def make(state: str) -> str:
        if state == "confirmed":
            return make_user()
        address = _fresh()
        if state == "unconfirmed":
            Client().post(SIGN_UP, {"email": address, "password": STRONG_PASSWORD})
        return address

    return make


def _seen(response, address: str) -> tuple[int, list, str]:
    """What the person sees, with their address and the per-render CSRF token taken out."""
    def plain(text: str) -> str:
        return CSRF.sub("", text).replace(address, "<address>").replace(urlencode({"e": address})[2:], "<address>")

    chain = [(plain(url), status) for url, status in response.redirect_chain]
    return response.status_code, chain, plain(response.content.decode())


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("flow", FLOWS)
def test_the_answer_does_not_depend_on_the_account(address_in, flow, state):
    """Same status, redirects, page and message for this state as for an address nobody uses."""
    act, nobody = FLOWS[flow], _fresh()
    baseline = _seen(act(Client(), nobody), nobody)
    address = address_in(state)
    assert _seen(act(Client(), address), address) == baseline
    assert baseline[0] < 500


@pytest.mark.parametrize("state, notified", [("no account", False), ("confirmed", True), ("unconfirmed", True)])
def test_signing_up_with_a_taken_address_notifies_its_owner(address_in, state, notified):
    """An owner whose address is used to sign up gets the app's notice; a new address gets none."""
    address = address_in(state)
    mail.outbox.clear()
    Client().post(SIGN_UP, {"email": address, "password": STRONG_PASSWORD})
    notices = [m for m in mail.outbox if m.to == [address]]
    if notified:
        [notice] = notices
        assert notice.subject == EXISTING_ACCOUNT_SUBJECT
        assert "sign in" in notice.body and "Forgot your password?" in notice.body
    else:
        assert notices == []


def test_the_development_outbox_shows_the_apps_own_notices(shared_site, make_user, settings):
    """With the OutboxBackend, the notice is listed at /accounts/outbox/ next to Cognito's codes."""
    settings.EMAIL_BACKEND, settings.DEBUG = "accounts.outbox.OutboxBackend", True
    address = make_user()
    Client().post(SIGN_UP, {"email": address, "password": STRONG_PASSWORD})
    page = Client().get(f"/accounts/outbox/?{urlencode({'to': address})}").content.decode()
    assert EXISTING_ACCOUNT_SUBJECT in page and address in page and "Photoshare" in page


def test_a_failing_mail_server_changes_nothing_the_person_sees(shared_site, make_user, settings, caplog):
    """SMTP unreachable: sign-up with a taken address still answers 'check your email'; the failure is logged."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # discard port: refused
    address = make_user()
    response = Client().post(SIGN_UP, {"email": address, "password": STRONG_PASSWORD})
    assert response.status_code == 302 and response["Location"] == f"{CONFIRM}?{urlencode({'email': address})}"
    assert any("existing-account notice" in r.getMessage() for r in caplog.records)
