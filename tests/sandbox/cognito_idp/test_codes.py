"""Emailed codes: the sandbox issues them, keeps them in its outbox, and
refuses wrong, expired and over-tried ones as Cognito does."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import PASSWORD, SandboxKit, start_kit


def _sign_up(kit: SandboxKit, dep, email: str) -> None:
    kit.unsigned("cognito-idp").sign_up(
        ClientId=dep.client_id, Username=email, Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}]
    )


def _outbox(kit: SandboxKit, email: str) -> list[dict]:
    response = requests.get(f"{kit.endpoint}/_sandbox/outbox", params={"to": email}, timeout=5)
    response.raise_for_status()
    return response.json()["messages"]


def _email() -> str:
    return f"u{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture(scope="module")
def dep(sandbox):
    return sandbox.deployment(users=())


def test_sign_up_code_lands_in_the_outbox_and_confirms(sandbox, dep):
    """Sign-up 'emails' a six-digit code; the right code confirms and verifies the email."""
    email = _email()
    _sign_up(sandbox, dep, email)
    [message] = _outbox(sandbox, email)
    assert message["kind"] == "sign-up" and len(message["code"]) == 6 and message["code"] in message["body"]
    sandbox.unsigned("cognito-idp").confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=message["code"])
    user = sandbox.client("cognito-idp").admin_get_user(UserPoolId=dep.user_pool_id, Username=email)
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


@pytest.mark.parametrize("wrong", ["000000", "12345678", "abcdef"])
def test_a_wrong_sign_up_code_is_refused_and_the_user_stays_unconfirmed(sandbox, dep, wrong):
    """A wrong code is CodeMismatchException and confirms nothing."""
    email = _email()
    _sign_up(sandbox, dep, email)
    right = _outbox(sandbox, email)[0]["code"]
    if wrong == right:
        wrong = "999999" if right != "999999" else "111111"
    with pytest.raises(ClientError) as caught:
        sandbox.unsigned("cognito-idp").confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=wrong)
    assert caught.value.response["Error"]["Code"] == "CodeMismatchException"
    user = sandbox.client("cognito-idp").admin_get_user(UserPoolId=dep.user_pool_id, Username=email)
    assert user["UserStatus"] == "UNCONFIRMED"


def test_too_many_wrong_codes_lock_the_code(sandbox, dep):
    """After five wrong tries even the right code is LimitExceededException."""
    email = _email()
    _sign_up(sandbox, dep, email)
    right = _outbox(sandbox, email)[0]["code"]
    wrong = "000000" if right != "000000" else "111111"
    idp = sandbox.unsigned("cognito-idp")
    for _ in range(5):
        with pytest.raises(ClientError):
            idp.confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=wrong)
    with pytest.raises(ClientError) as caught:
        idp.confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=right)
    assert caught.value.response["Error"]["Code"] == "LimitExceededException"


@pytest.mark.parametrize(
    "who, code",
    [("confirmed", "InvalidParameterException"), ("unknown", "UserNotFoundException")],
)
def test_resend_is_refused_for_users_without_a_pending_sign_up(sandbox, dep, who, code):
    """ResendConfirmationCode for a confirmed or unknown user is refused as Cognito does."""
    email = _email()
    if who == "confirmed":
        dep.add_user(email)
    with pytest.raises(ClientError) as caught:
        sandbox.unsigned("cognito-idp").resend_confirmation_code(ClientId=dep.client_id, Username=email)
    assert caught.value.response["Error"]["Code"] == code
    assert _outbox(sandbox, email) == []


def test_resend_replaces_the_code(sandbox, dep):
    """ResendConfirmationCode sends a new code; the old one no longer works."""
    email = _email()
    _sign_up(sandbox, dep, email)
    idp = sandbox.unsigned("cognito-idp")
    idp.resend_confirmation_code(ClientId=dep.client_id, Username=email)
    newest, oldest = _outbox(sandbox, email)[:2]
    assert newest["code"] != oldest["code"]  # six random digits: equal once in a million runs
    with pytest.raises(ClientError) as caught:
        idp.confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=oldest["code"])
    assert caught.value.response["Error"]["Code"] == "CodeMismatchException"
    idp.confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=newest["code"])


def test_password_reset_needs_the_emailed_code(sandbox, dep):
    """ForgotPassword emails a code; a wrong one is refused, the right one sets the password."""
    email = _email()
    dep.add_user(email)
    idp = sandbox.unsigned("cognito-idp")
    idp.forgot_password(ClientId=dep.client_id, Username=email)
    [message] = [m for m in _outbox(sandbox, email) if m["kind"] == "password-reset"]
    wrong = "000000" if message["code"] != "000000" else "111111"
    with pytest.raises(ClientError) as caught:
        idp.confirm_forgot_password(ClientId=dep.client_id, Username=email, ConfirmationCode=wrong, Password="Another-Horse-7")
    assert caught.value.response["Error"]["Code"] == "CodeMismatchException"
    idp.confirm_forgot_password(
        ClientId=dep.client_id, Username=email, ConfirmationCode=message["code"], Password="Another-Horse-7"
    )
    dep.users[email] = "Another-Horse-7"
    assert dep.sign_in(email)["IdToken"]


def test_an_expired_code_is_refused():
    """A code past its lifetime is ExpiredCodeException (sandbox started with codes lasting 1 s)."""
    with start_kit(code_ttl=1) as kit:
        dep = kit.deployment(users=())
        email = _email()
        _sign_up(kit, dep, email)
        code = _outbox(kit, email)[0]["code"]
        time.sleep(1.5)
        with pytest.raises(ClientError) as caught:
            kit.unsigned("cognito-idp").confirm_sign_up(ClientId=dep.client_id, Username=email, ConfirmationCode=code)
        assert caught.value.response["Error"]["Code"] == "ExpiredCodeException"


def test_the_outbox_answers_get_only(sandbox):
    """The outbox is read-only."""
    response = requests.post(f"{sandbox.endpoint}/_sandbox/outbox", timeout=5)
    assert response.status_code == 403
