"""Signing in as the app's users would, to get real identity-pool
credentials: InitiateAuth (USER_PASSWORD_AUTH with SECRET_HASH, since the app
client is confidential), then GetId and GetCredentialsForIdentity with Logins.
Guests skip the first step and send no Logins."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.deployment import Deployment
from tests.sandbox_kit import SandboxKit, as_boto3


def secret_hash(*, username: str, client_id: str, client_secret: str) -> str:
    """Base64(HMAC-SHA256(secret, username + client id)), as Cognito wants it."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_in(kit: SandboxKit, deployment: Deployment, *, email: str, password: str) -> dict[str, str]:
    """The AuthenticationResult (IdToken, AccessToken, RefreshToken...)."""
    result = kit.unsigned("cognito-idp").initiate_auth(
        ClientId=deployment.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": email,
            "PASSWORD": password,
            "SECRET_HASH": secret_hash(
                username=email, client_id=deployment.app_client_id, client_secret=deployment.app_client_secret
            ),
        },
    )
    return result["AuthenticationResult"]


def user_credentials(kit: SandboxKit, deployment: Deployment, *, email: str, password: str) -> tuple[str, dict[str, str]]:
    """(identity ID, boto3 credential kwargs) for a signed-in user."""
    logins = {deployment.provider: sign_in(kit, deployment, email=email, password=password)["IdToken"]}
    identity = kit.unsigned("cognito-identity")
    identity_id = identity.get_id(IdentityPoolId=deployment.identity_pool_id, Logins=logins)["IdentityId"]
    credentials = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    return identity_id, as_boto3(credentials)


def guest_credentials(kit: SandboxKit, deployment: Deployment) -> tuple[str, dict[str, str]]:
    identity = kit.unsigned("cognito-identity")
    identity_id = identity.get_id(IdentityPoolId=deployment.identity_pool_id)["IdentityId"]
    credentials = identity.get_credentials_for_identity(IdentityId=identity_id)["Credentials"]
    return identity_id, as_boto3(credentials)
