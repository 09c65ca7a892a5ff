"""SECRET_HASH for an app client with a secret, so that only the server can
act for a user: every call AWS requires it on is refused without it or with a wrong one, and runs
with the right one; clients without a secret are unaffected. On AWS a missing
SECRET_HASH in AuthParameters / ChallengeResponses is "Client <id> is
configured for secret but secret was not received"; anything else is "Unable
to verify secret hash for client <id>".
https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html#cognito-user-pools-computing-secret-hash
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from tests.actors import secret_hash  # the app's own, checked against AWS's formula in tests/accounts/test_cognito.py
from tests.sandbox_kit import PASSWORD, Deployment, SandboxKit

NEW_PASSWORD = "Another-Horse-10"
TEMPORARY_PASSWORD = "Temporary-Horse-11"


@dataclass
class Confidential:
    """A user pool with a confidential app client, as Photoshare provisions it."""

    kit: SandboxKit
    dep: Deployment
    client_id: str
    secret: str

    def hash(self, username: str) -> str:
        return secret_hash(username, client_id=self.client_id, client_secret=self.secret)

    def variant(self, kind: str, username: str) -> str | None:
        """The SECRET_HASH a caller sends: none, one made without the secret, or the right one."""
        return {"missing": None, "wrong": secret_hash(username, client_id=self.client_id, client_secret="not-the-secret"), "right": self.hash(username)}[kind]

    def email(self) -> str:
        return f"user-{uuid.uuid4().hex[:10]}@example.com"

    def code(self, email: str, kind: str) -> str:
        messages = requests.get(f"{self.kit.endpoint}/_sandbox/outbox", params={"to": email}, timeout=10).json()["messages"]
        return next(m["code"] for m in messages if m["kind"] == kind)

    def signed_up(self) -> str:
        """An unconfirmed user with a sign-up code in the outbox."""
        email = self.email()
        self.kit.unsigned("cognito-idp").sign_up(
            ClientId=self.client_id, SecretHash=self.hash(email), Username=email, Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        return email

    def confirmed(self) -> str:
        email = self.email()
        self.dep.add_user(email)
        return email

    def must_change_password(self) -> str:
        email = self.email()
        self.kit.client("cognito-idp").admin_create_user(
            UserPoolId=self.dep.user_pool_id,
            Username=email,
            TemporaryPassword=TEMPORARY_PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        return email


@pytest.fixture(scope="module")
def pool(sandbox) -> Confidential:
    dep = sandbox.deployment(users=())
    client = sandbox.client("cognito-idp").create_user_pool_client(
        UserPoolId=dep.user_pool_id,
        ClientName="confidential",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    return Confidential(sandbox, dep, client["ClientId"], client["ClientSecret"])


def _with(params: dict[str, Any], name: str, value: str | None) -> dict[str, Any]:
    return {**params, name: value} if value is not None else params


# Each operation: prepare(pool) -> context; call(pool, context, kind) runs it
# with that kind of SECRET_HASH. A refused call must leave the context usable,
# so the same call with the right hash runs afterwards.

@dataclass(frozen=True)
class Operation:
    prepare: Callable[[Confidential], Any]
    call: Callable[[Confidential, Any, str], dict[str, Any]]
    in_map: bool  # SECRET_HASH goes inside AuthParameters / ChallengeResponses


def _sign_up(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    return p.kit.unsigned("cognito-idp").sign_up(
        **_with({"ClientId": p.client_id, "Username": email, "Password": PASSWORD}, "SecretHash", p.variant(kind, email))
    )


def _confirm_sign_up(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    params = {"ClientId": p.client_id, "Username": email, "ConfirmationCode": p.code(email, "sign-up")}
    return p.kit.unsigned("cognito-idp").confirm_sign_up(**_with(params, "SecretHash", p.variant(kind, email)))


def _resend(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    params = {"ClientId": p.client_id, "Username": email}
    return p.kit.unsigned("cognito-idp").resend_confirmation_code(**_with(params, "SecretHash", p.variant(kind, email)))


def _forgot(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    params = {"ClientId": p.client_id, "Username": email}
    return p.kit.unsigned("cognito-idp").forgot_password(**_with(params, "SecretHash", p.variant(kind, email)))


def _forgot_done(p: Confidential) -> str:
    email = p.confirmed()
    _forgot(p, email, "right")
    return email


def _confirm_forgot(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    params = {"ClientId": p.client_id, "Username": email, "ConfirmationCode": p.code(email, "password-reset"), "Password": NEW_PASSWORD}
    return p.kit.unsigned("cognito-idp").confirm_forgot_password(**_with(params, "SecretHash", p.variant(kind, email)))


def _password_auth(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    auth = _with({"USERNAME": email, "PASSWORD": PASSWORD}, "SECRET_HASH", p.variant(kind, email))
    return p.kit.unsigned("cognito-idp").initiate_auth(ClientId=p.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)


def _signed_in(p: Confidential) -> tuple[str, str]:
    """(pool username, refresh token): a refresh is hashed over the pool username (the sub here)."""
    result = _password_auth(p, p.confirmed(), "right")["AuthenticationResult"]
    sub = jwt.decode(result["IdToken"], options={"verify_signature": False})["cognito:username"]
    return sub, result["RefreshToken"]


def _refresh(p: Confidential, signed_in: tuple[str, str], kind: str) -> dict[str, Any]:
    username, refresh_token = signed_in
    auth = _with({"REFRESH_TOKEN": refresh_token}, "SECRET_HASH", p.variant(kind, username))
    return p.kit.unsigned("cognito-idp").initiate_auth(ClientId=p.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters=auth)


def _admin_auth(p: Confidential, email: str, kind: str) -> dict[str, Any]:
    auth = _with({"USERNAME": email, "PASSWORD": PASSWORD}, "SECRET_HASH", p.variant(kind, email))
    return p.kit.client("cognito-idp").admin_initiate_auth(
        UserPoolId=p.dep.user_pool_id, ClientId=p.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters=auth
    )


def _challenged(p: Confidential) -> tuple[str, str]:
    """(email, session) of a user asked for a new password."""
    email = p.must_change_password()
    auth = {"USERNAME": email, "PASSWORD": TEMPORARY_PASSWORD, "SECRET_HASH": p.hash(email)}
    result = p.kit.unsigned("cognito-idp").initiate_auth(ClientId=p.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
    assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    return email, result["Session"]


def _admin_challenged(p: Confidential) -> tuple[str, str]:
    email = p.must_change_password()
    result = p.kit.client("cognito-idp").admin_initiate_auth(
        UserPoolId=p.dep.user_pool_id, ClientId=p.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": TEMPORARY_PASSWORD, "SECRET_HASH": p.hash(email)},
    )
    assert result["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    return email, result["Session"]


def _new_password(email: str, p: Confidential, kind: str) -> dict[str, str]:
    return _with({"USERNAME": email, "NEW_PASSWORD": NEW_PASSWORD}, "SECRET_HASH", p.variant(kind, email))


def _respond(p: Confidential, challenged: tuple[str, str], kind: str) -> dict[str, Any]:
    email, session = challenged
    return p.kit.unsigned("cognito-idp").respond_to_auth_challenge(
        ClientId=p.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session, ChallengeResponses=_new_password(email, p, kind)
    )


def _admin_respond(p: Confidential, challenged: tuple[str, str], kind: str) -> dict[str, Any]:
    email, session = challenged
    return p.kit.client("cognito-idp").admin_respond_to_auth_challenge(
        UserPoolId=p.dep.user_pool_id, ClientId=p.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
        ChallengeResponses=_new_password(email, p, kind),
    )


OPERATIONS = {
    "SignUp": Operation(Confidential.email, _sign_up, in_map=False),
    "ConfirmSignUp": Operation(Confidential.signed_up, _confirm_sign_up, in_map=False),
    "ResendConfirmationCode": Operation(Confidential.signed_up, _resend, in_map=False),
    "ForgotPassword": Operation(Confidential.confirmed, _forgot, in_map=False),
    "ConfirmForgotPassword": Operation(_forgot_done, _confirm_forgot, in_map=False),
    "InitiateAuth-USER_PASSWORD_AUTH": Operation(Confidential.confirmed, _password_auth, in_map=True),
    "InitiateAuth-REFRESH_TOKEN_AUTH": Operation(_signed_in, _refresh, in_map=True),
    "AdminInitiateAuth-ADMIN_USER_PASSWORD_AUTH": Operation(Confidential.confirmed, _admin_auth, in_map=True),
    "RespondToAuthChallenge-NEW_PASSWORD_REQUIRED": Operation(_challenged, _respond, in_map=True),
    "AdminRespondToAuthChallenge-NEW_PASSWORD_REQUIRED": Operation(_admin_challenged, _admin_respond, in_map=True),
}


def refusal(p: Confidential, operation: Operation, kind: str) -> str:
    if kind == "missing" and operation.in_map:
        return f"Client {p.client_id} is configured for secret but secret was not received"
    return f"Unable to verify secret hash for client {p.client_id}"


@pytest.mark.parametrize("kind", ["missing", "wrong"])
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_missing_or_wrong_secret_hash_is_refused_and_the_right_one_runs(pool, name, kind):
    """Without SECRET_HASH, or with one made without the secret: NotAuthorizedException; then the right hash runs the same call."""
    operation = OPERATIONS[name]
    context = operation.prepare(pool)
    with pytest.raises(ClientError) as exc:
        operation.call(pool, context, kind)
    error = exc.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", refusal(pool, operation, kind))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert operation.call(pool, context, "right")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_refresh_hashed_over_the_typed_email_is_refused(pool):
    """A refresh's SECRET_HASH is over the pool username (the sub), not the email the user signed in with."""
    email = pool.confirmed()
    refresh_token = _password_auth(pool, email, "right")["AuthenticationResult"]["RefreshToken"]
    with pytest.raises(ClientError) as exc:
        _refresh(pool, (email, refresh_token), "right")
    assert exc.value.response["Error"]["Message"] == f"Unable to verify secret hash for client {pool.client_id}"


def test_hash_of_another_username_is_refused(pool):
    """The right secret over another user's name does not sign alice in."""
    email, other = pool.confirmed(), pool.confirmed()
    with pytest.raises(ClientError) as exc:
        pool.kit.unsigned("cognito-idp").initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD, "SECRET_HASH": pool.hash(other)},
        )
    assert exc.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_wrong_hashes_do_not_spend_the_codes_tries(pool):
    """Ten confirmations without the secret, each with a wrong code, leave the code usable: only the server can lock it."""
    email = pool.signed_up()
    idp = pool.kit.unsigned("cognito-idp")
    for attempt in range(10):
        with pytest.raises(ClientError) as exc:
            idp.confirm_sign_up(ClientId=pool.client_id, Username=email, ConfirmationCode=f"{attempt:06d}")
        assert exc.value.response["Error"]["Code"] == "NotAuthorizedException"
    _confirm_sign_up(pool, email, "right")
    assert _password_auth(pool, email, "right")["AuthenticationResult"]["IdToken"]


def test_raw_sign_up_without_secret_hash_is_a_json_400(pool):
    """Over plain HTTP, SignUp without SecretHash is a 400 in Cognito's JSON error format, and no user is made."""
    email = pool.email()
    response = requests.post(
        pool.kit.endpoint,
        data=json.dumps({"ClientId": pool.client_id, "Username": email, "Password": PASSWORD}),
        headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp", "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {"__type": "NotAuthorizedException", "message": f"Unable to verify secret hash for client {pool.client_id}"}
    with pytest.raises(ClientError) as exc:
        pool.kit.client("cognito-idp").admin_get_user(UserPoolId=pool.dep.user_pool_id, Username=email)
    assert exc.value.response["Error"]["Code"] == "UserNotFoundException"


@pytest.mark.parametrize("flow", ["SignUp", "InitiateAuth"])
def test_client_without_secret_needs_no_hash(sandbox, flow):
    """A public app client (no secret) signs up and signs in without SECRET_HASH, as before."""
    dep = sandbox.deployment(users=("alice",))
    idp = sandbox.unsigned("cognito-idp")
    if flow == "SignUp":
        email = f"new-{dep.suffix}@example.com"
        assert idp.sign_up(ClientId=dep.client_id, Username=email, Password=PASSWORD)["UserSub"]
    else:
        assert dep.sign_in("alice")["IdToken"]
