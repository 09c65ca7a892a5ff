"""The people every suite needs, made the way the app's users and an
administrator would make them, over HTTP only:

- users: `user_create` (as an administrator, confirmed, email verified);
- their tokens: `user_tokens` (InitiateAuth USER_PASSWORD_AUTH, with
  SECRET_HASH when the app client is confidential);
- identities and credentials: `identity_credentials` (the enhanced flow,
  GetId then GetCredentialsForIdentity, with Logins for a user and without
  for a guest), and `user_credentials` / `guest_credentials` for a
  Photoshare deployment;
- a browser signed in through the app's own sign-in page: `page_sign_in`.

`secret_hash` is the app's own (accounts.cognito), so the tests compute
exactly what the server sends."""

from __future__ import annotations

import uuid
from typing import Any

from django.test import Client

from accounts.cognito import secret_hash
from core.deployment import Deployment
from tests.sandbox_kit import SandboxKit, as_boto3

__all__ = [
    "STRONG_PASSWORD",
    "guest_credentials",
    "identity_credentials",
    "page_sign_in",
    "pool_identities",
    "secret_hash",
    "sign_in",
    "user_create",
    "user_credentials",
    "user_tokens",
]

STRONG_PASSWORD = "Fresh-Password-42!"  # meets the pool's policy (12+, upper, lower, digit, symbol)


# --- users --------------------------------------------------------------------------------

def user_create(kit: SandboxKit, *, user_pool_id: str, email: str | None = None, password: str = STRONG_PASSWORD) -> str:
    """A confirmed user with a verified email and a permanent password, as an
    administrator makes one (AdminCreateUser, no invitation email); returns
    the email, a fresh one unless given."""
    email = email or f"u{uuid.uuid4().hex[:10]}@example.com"
    idp = kit.client("cognito-idp")
    idp.admin_create_user(
        UserPoolId=user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=user_pool_id, Username=email, Password=password, Permanent=True)
    return email


def user_tokens(
    kit: SandboxKit, *, client_id: str, email: str, password: str, client_secret: str | None = None
) -> dict[str, Any]:
    """USER_PASSWORD_AUTH's AuthenticationResult (IdToken, AccessToken,
    RefreshToken...), sent unsigned as a browser or the app's server would."""
    parameters = {"USERNAME": email, "PASSWORD": password}
    if client_secret is not None:
        parameters["SECRET_HASH"] = secret_hash(email, client_id=client_id, client_secret=client_secret)
    result = kit.unsigned("cognito-idp").initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters
    )
    return result["AuthenticationResult"]


def sign_in(kit: SandboxKit, deployment: Deployment, *, email: str, password: str) -> dict[str, Any]:
    """`user_tokens` for a user of a Photoshare deployment (confidential client)."""
    return user_tokens(
        kit,
        client_id=deployment.app_client_id,
        client_secret=deployment.app_client_secret,
        email=email,
        password=password,
    )


def page_sign_in(email: str, password: str = STRONG_PASSWORD, client: Client | None = None) -> Client:
    """A test client signed in through the app's sign-in page (a 302 or the test fails)."""
    client = client or Client()
    response = client.post("/accounts/sign-in/", {"email": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


# --- identities and credentials -------------------------------------------------------------

def identity_credentials(
    kit: SandboxKit, *, identity_pool_id: str, logins: dict[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """The enhanced flow: (identity ID, boto3 credential kwargs). With `logins`
    ({provider name: ID token}) a user's identity, without them a new guest."""
    identity = kit.unsigned("cognito-identity")
    extra: dict[str, Any] = {"Logins": logins} if logins else {}
    identity_id = identity.get_id(IdentityPoolId=identity_pool_id, **extra)["IdentityId"]
    credentials = identity.get_credentials_for_identity(IdentityId=identity_id, **extra)["Credentials"]
    return identity_id, as_boto3(credentials)


def user_credentials(kit: SandboxKit, deployment: Deployment, *, email: str, password: str) -> tuple[str, dict[str, str]]:
    """(identity ID, boto3 credential kwargs) for a signed-in user of a Photoshare deployment."""
    id_token = sign_in(kit, deployment, email=email, password=password)["IdToken"]
    return identity_credentials(kit, identity_pool_id=deployment.identity_pool_id, logins={deployment.provider: id_token})


def guest_credentials(kit: SandboxKit, deployment: Deployment) -> tuple[str, dict[str, str]]:
    """(identity ID, boto3 credential kwargs) for a new guest of a Photoshare deployment."""
    return identity_credentials(kit, identity_pool_id=deployment.identity_pool_id)


def pool_identities(kit: SandboxKit, identity_pool_id: str) -> list[dict[str, Any]]:
    """Every identity of the pool, as ListIdentities pages them (the admin key)."""
    client, found, token = kit.client("cognito-identity"), [], None
    while True:
        page = client.list_identities(IdentityPoolId=identity_pool_id, MaxResults=60, **({"NextToken": token} if token else {}))
        found += page["Identities"]
        token = page.get("NextToken")
        if not token:
            return found
