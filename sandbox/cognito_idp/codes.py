"""The codes a user pool would have emailed, kept so local sign-up works
like AWS's.

moto accepts any confirmation or password-reset code. Cognito sends a
six-digit code by email and refuses a wrong one (`CodeMismatchException`),
an old one (`ExpiredCodeException`) and, after a few wrong tries, any
(`LimitExceededException`). The sandbox issues real codes, checks them, and
keeps the messages in an outbox (`GET /_sandbox/outbox`, loopback only) so a
workshop participant can finish sign-up without email.
https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sandbox import moto_seams
from sandbox.errors import AwsError

SIGN_UP, PASSWORD_RESET = "sign-up", "password-reset"
LIFETIME = {SIGN_UP: 24 * 3600, PASSWORD_RESET: 3600}  # seconds: AWS's validity for each kind of code
MAX_WRONG = 5  # wrong tries before a code is locked
OUTBOX_SIZE = 500  # messages kept, newest first

# Operation -> kind of code it issues (on success) or checks (before it runs).
# ResendConfirmationCode is ours entirely (moto does not implement it).
ISSUES = {"SignUp": SIGN_UP, "ForgotPassword": PASSWORD_RESET}
CHECKS = {"ConfirmSignUp": SIGN_UP, "ConfirmForgotPassword": PASSWORD_RESET}
CODED = ISSUES.keys() | CHECKS.keys()

_TEXT = {
    SIGN_UP: ("Your verification code", "Your confirmation code is {code}"),
    PASSWORD_RESET: ("Your password reset code", "Your password reset code is {code}"),
}


@dataclass
class _Code:
    code: str
    expires_at: float
    wrong: int = 0


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str
    kind: str
    code: str
    user_pool_id: str
    sent_at: float


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[tuple[str, str, str], _Code] = {}  # (pool, username, kind) -> code
        self.outbox: deque[Message] = deque(maxlen=OUTBOX_SIZE)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"codes": dict(self.codes), "outbox": list(self.outbox)}

    def restore(self, saved: Mapping[str, Any]) -> None:
        with self.lock:
            self.codes = dict(saved["codes"])
            self.outbox = deque(saved["outbox"], maxlen=OUTBOX_SIZE)


STATE = _State()


def _target(params: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(region, pool, username) the call is about, if its client is known."""
    client_id, username = params.get("ClientId"), params.get("Username")
    if not isinstance(client_id, str) or not isinstance(username, str):
        return None
    found = moto_seams.cognitoidp.user_pool_of_client(client_id)
    return (*found, username.lower()) if found else None


def code_check(operation: str, params: Mapping[str, Any]) -> None:
    """Refuse a confirmation whose code is wrong, expired or locked. A caller
    without the client's SECRET_HASH is refused first, so it cannot spend the
    user's tries and lock the code."""
    moto_seams.cognitoidp.user_pool_secret_hash_check(operation, params)
    kind = CHECKS[operation]
    target = _target(params)
    submitted = params.get("ConfirmationCode")
    if target is None:
        return  # moto answers the unknown client itself
    _, pool_id, username = target
    with STATE.lock:
        entry = STATE.codes.get((pool_id, username, kind))
        if entry is None:
            raise AwsError("CodeMismatchException", "Invalid verification code provided, please try again.")
        if entry.wrong >= MAX_WRONG:
            raise AwsError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
        if time.time() > entry.expires_at:
            raise AwsError("ExpiredCodeException", "Invalid code provided, please request a code again.")
        if not isinstance(submitted, str) or not secrets.compare_digest(submitted, entry.code):
            entry.wrong += 1
            raise AwsError("CodeMismatchException", "Invalid verification code provided, please try again.")


def resend_confirmation_code(params: Mapping[str, Any], *, lifetime: int | None = None) -> dict[str, Any]:
    """Cognito's ResendConfirmationCode: a fresh sign-up code for an unconfirmed user."""
    target = _target(params)
    if target is None:
        raise AwsError("ResourceNotFoundException", "User pool client does not exist.")
    moto_seams.cognitoidp.user_pool_secret_hash_check("ResendConfirmationCode", params)
    region, pool_id, username = target
    status = moto_seams.cognitoidp.user_status(region, pool_id, username)
    if status is None:
        raise AwsError("UserNotFoundException", "Username/client id combination not found.")
    if status != "UNCONFIRMED":
        raise AwsError("InvalidParameterException", "User is already confirmed.")
    to = _issue(region, pool_id, username, SIGN_UP, lifetime)
    masked = f"{to[0]}***@{to.split('@', 1)[1]}" if "@" in to else "***"
    return {"CodeDeliveryDetails": {"Destination": masked, "DeliveryMedium": "EMAIL", "AttributeName": "email"}}


def _issue(region: str, pool_id: str, username: str, kind: str, lifetime: int | None) -> str:
    code = f"{secrets.randbelow(1_000_000):06d}"
    subject, body = _TEXT[kind]
    to = moto_seams.cognitoidp.user_email(region, pool_id, username) or username
    with STATE.lock:
        STATE.codes[(pool_id, username, kind)] = _Code(code=code, expires_at=time.time() + (lifetime or LIFETIME[kind]))
        STATE.outbox.appendleft(
            Message(to=to, subject=subject, body=body.format(code=code), kind=kind, code=code, user_pool_id=pool_id, sent_at=time.time())
        )
    return to


def code_after(operation: str, params: Mapping[str, Any], *, lifetime: int | None = None) -> None:
    """After a successful call: issue and 'email' a code, or retire a used one.
    `lifetime` (seconds) overrides AWS's validity, for expiry tests."""
    target = _target(params)
    if target is None:
        return
    region, pool_id, username = target
    if operation in CHECKS:
        with STATE.lock:
            STATE.codes.pop((pool_id, username, CHECKS[operation]), None)
        if operation == "ConfirmSignUp":
            moto_seams.cognitoidp.user_mark_email_verified(region, pool_id, username)
        return
    if moto_seams.cognitoidp.user_status(region, pool_id, username) is None:
        return  # Cognito emails nobody about an address without an account
    _issue(region, pool_id, username, ISSUES[operation], lifetime)


def outbox(*, to: str | None = None) -> list[dict[str, Any]]:
    with STATE.lock:
        return [asdict(m) for m in STATE.outbox if to is None or m.to.lower() == to.lower()]
