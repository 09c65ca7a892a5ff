"""A user writes only the attributes her app client may write, and only ones
the pool has, with her access token (UpdateUserAttributes) or at sign-up,
as on AWS; administrators are not limited."""

from __future__ import annotations

import uuid

import jwt
import pytest
from botocore.exceptions import ClientError

from tests.sandbox_kit import PASSWORD

UNAUTHORIZED = ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
NO_SUCH = "user.custom:nothing: Attribute does not exist in the schema."


@pytest.fixture(scope="module")
def dep(sandbox):
    """A pool with the custom attribute `custom:role`, and alice; its public client has no WriteAttributes."""
    dep = sandbox.deployment(users=("alice",))
    sandbox.client("cognito-idp").add_custom_attributes(
        UserPoolId=dep.user_pool_id, CustomAttributes=[{"Name": "role", "AttributeDataType": "String", "Mutable": True}]
    )
    return dep


def _client(sandbox, dep, write: list[str] | None, read: list[str] | None = None) -> str:
    """A public app client of the pool, with these WriteAttributes and ReadAttributes (None: left unset)."""
    options = {"WriteAttributes": write} if write is not None else {}
    options.update({"ReadAttributes": read} if read is not None else {})
    return sandbox.client("cognito-idp").create_user_pool_client(
        UserPoolId=dep.user_pool_id,
        ClientName=f"c-{uuid.uuid4().hex[:6]}",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        **options,
    )["UserPoolClient"]["ClientId"]


def _tokens(sandbox, client_id: str) -> dict[str, str]:
    return sandbox.unsigned("cognito-idp").initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "alice@example.com", "PASSWORD": PASSWORD}
    )["AuthenticationResult"]


def _refusal(call) -> tuple[str, str] | None:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    return None


@pytest.mark.parametrize(
    "write, name, refused",
    [
        (None, "given_name", None),  # unset: the standard attributes
        (None, "custom:role", UNAUTHORIZED),  # unset: no custom one
        (None, "email_verified", UNAUTHORIZED),  # only Cognito and administrators verify
        (["email"], "given_name", UNAUTHORIZED),
        (["email", "custom:role"], "custom:role", None),
        (["email"], "custom:nothing", ("InvalidParameterException", f"Invalid user attributes: {NO_SUCH}")),
    ],
)
def test_update_user_attributes_writes_only_what_the_client_may(sandbox, dep, write, name, refused):
    """UpdateUserAttributes with the user's access token: refused as AWS refuses, or written."""
    client_id = _client(sandbox, dep, write)
    value = f"v-{uuid.uuid4().hex[:6]}" if name != "email_verified" else "false"  # it is "true": would a user unverify it?
    access = _tokens(sandbox, client_id)["AccessToken"]
    idp = sandbox.unsigned("cognito-idp")
    outcome = _refusal(lambda: idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": name, "Value": value}]))
    assert outcome == refused
    user = sandbox.client("cognito-idp").admin_get_user(UserPoolId=dep.user_pool_id, Username="alice@example.com")
    stored = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (stored.get(name) == value) is (refused is None)


def test_a_written_custom_attribute_is_a_claim_of_the_next_id_token(sandbox, dep):
    """What a client may write, the user sets, and her next ID token carries it: why no role may be mapped from it."""
    client_id = _client(sandbox, dep, ["email", "custom:role"], read=["email", "custom:role"])
    idp = sandbox.unsigned("cognito-idp")
    access = _tokens(sandbox, client_id)["AccessToken"]
    idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "custom:role", "Value": "moderator"}])
    claims = jwt.decode(_tokens(sandbox, client_id)["IdToken"], options={"verify_signature": False})
    assert claims["custom:role"] == "moderator"


@pytest.mark.parametrize("write, refused", [(None, UNAUTHORIZED), (["email", "custom:role"], None)])
def test_sign_up_sets_only_writable_attributes(sandbox, dep, write, refused):
    """SignUp with custom:role: refused unless the client may write it."""
    client_id = _client(sandbox, dep, write)
    email = f"u{uuid.uuid4().hex[:8]}@example.com"
    attributes = [{"Name": "email", "Value": email}, {"Name": "custom:role", "Value": "moderator"}]
    idp = sandbox.unsigned("cognito-idp")
    assert _refusal(lambda: idp.sign_up(ClientId=client_id, Username=email, Password=PASSWORD, UserAttributes=attributes)) == refused


def test_administrators_write_any_attribute_of_the_schema(sandbox, dep):
    """AdminUpdateUserAttributes is not limited by any client's WriteAttributes."""
    admin = sandbox.client("cognito-idp")
    admin.admin_update_user_attributes(
        UserPoolId=dep.user_pool_id, Username="alice@example.com", UserAttributes=[{"Name": "custom:role", "Value": "admin-set"}]
    )
    user = admin.admin_get_user(UserPoolId=dep.user_pool_id, Username="alice@example.com")
    assert {"Name": "custom:role", "Value": "admin-set"} in user["UserAttributes"]


@pytest.mark.parametrize("read, carried", [(None, False), (["email"], False), (["email", "custom:role"], True)])
def test_an_id_token_carries_only_custom_attributes_its_client_may_read(sandbox, dep, read, carried):
    """custom:role, set by an administrator, is a claim only of ID tokens of clients that may read it."""
    sandbox.client("cognito-idp").admin_update_user_attributes(
        UserPoolId=dep.user_pool_id, Username="alice@example.com", UserAttributes=[{"Name": "custom:role", "Value": "x"}]
    )
    claims = jwt.decode(_tokens(sandbox, _client(sandbox, dep, None, read=read))["IdToken"], options={"verify_signature": False})
    assert ("custom:role" in claims) is carried
