"""SECRET_HASH, as Cognito requires it from an app client that has a secret.

A confidential client's secret lives on the server (Photoshare's Django);
every public call that acts for a user must carry
`Base64(HMAC-SHA256(client secret, username + client ID))`, so a browser or
script that only knows the client ID cannot sign up, sign in or reset
passwords around the server's rate limits. moto checks it in a few flows
only (SRP, refresh, MFA challenges); the sandbox checks it wherever AWS does.
https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html#cognito-user-pools-computing-secret-hash

This module is the rule alone (which operation, which parameter, over which
username); `sandbox/moto_seams/cognitoidp.py` applies it to moto's clients
and refresh tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.errors import AwsError

# Operations with a top-level `SecretHash` over the `Username` parameter.
TOP_LEVEL = frozenset({"SignUp", "ConfirmSignUp", "ForgotPassword", "ConfirmForgotPassword", "ResendConfirmationCode"})
# Operations with `SECRET_HASH` inside a parameter map, and that map's name.
IN_MAP = {
    "InitiateAuth": "AuthParameters",
    "AdminInitiateAuth": "AuthParameters",
    "RespondToAuthChallenge": "ChallengeResponses",
    "AdminRespondToAuthChallenge": "ChallengeResponses",
}
OPERATIONS = TOP_LEVEL | IN_MAP.keys()
REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})


@dataclass(frozen=True)
class Presented:
    """What a request offers for the check."""

    client_id: str
    secret_hash: str | None
    username: str | None  # None for a refresh: the user is the refresh token's
    refresh_token: str | None
    in_map: bool  # SECRET_HASH inside AuthParameters / ChallengeResponses


def presented(operation: str, params: Mapping[str, Any]) -> Presented | None:
    """The client, hash and username of a call that needs SECRET_HASH; None
    for any other call (or one too malformed for moto to run anyway)."""
    client_id = params.get("ClientId")
    if operation not in OPERATIONS or not isinstance(client_id, str):
        return None
    if operation in TOP_LEVEL:
        return Presented(client_id, _text(params.get("SecretHash")), _text(params.get("Username")), None, in_map=False)
    values = params.get(IN_MAP[operation])
    values = values if isinstance(values, Mapping) else {}
    if operation.endswith("InitiateAuth") and params.get("AuthFlow") in REFRESH_FLOWS:
        # AWS hashes a refresh over the user's pool username (the `sub` in an
        # email sign-in pool), whatever name the user typed at sign-in.
        return Presented(client_id, _text(values.get("SECRET_HASH")), None, _text(values.get("REFRESH_TOKEN")), in_map=True)
    return Presented(client_id, _text(values.get("SECRET_HASH")), _text(values.get("USERNAME")), None, in_map=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def secret_hash(*, client_secret: str, client_id: str, username: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(call: Presented, *, client_secret: str, username: str | None) -> None:
    """Refuse a missing or wrong hash with AWS's wording: an auth-parameter map
    without one says so, anything else cannot be verified."""
    if call.secret_hash is None and call.in_map:
        raise AwsError("NotAuthorizedException", f"Client {call.client_id} is configured for secret but secret was not received")
    expected = secret_hash(client_secret=client_secret, client_id=call.client_id, username=username) if username else None
    if call.secret_hash is None or expected is None or not hmac.compare_digest(call.secret_hash.encode(), expected.encode()):
        raise AwsError("NotAuthorizedException", f"Unable to verify secret hash for client {call.client_id}")
