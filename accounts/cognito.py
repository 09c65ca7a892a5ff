"""Every call Photoshare makes to Cognito: the user pool (sign-in, sign-up,
codes, sign-out) and the identity pool (`GetId`, `GetCredentialsForIdentity`).

The only module that talks to cognito-idp and cognito-identity. Calls have
explicit timeouts and retries (core.aws), and botocore's ClientError
becomes `CognitoError` with AWS's code, which views map to fixed messages.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from core.aws import client_kwargs, settings_key
from core.deployment import deployment_get

log = logging.getLogger(__name__)


class CognitoError(Exception):
    """A Cognito refusal or failure; `code` is AWS's error code."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None  # not returned again on refresh


@dataclass(frozen=True)
class Credentials:
    identity_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime  # aware, UTC


@cache
def _client_for(service: str, settings_key: tuple[Any, ...]) -> Any:
    # boto3 clients are thread-safe and costly to build: one per service and
    # AWS configuration (tests switch endpoints between deployments).
    return boto3.client(service, **client_kwargs(signed=False))


def _client(service: str) -> Any:
    return _client_for(service, settings_key())


def _call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    """Every operation used here is one AWS serves unsigned (the app client
    secret, not AWS credentials, is what proves the caller)."""
    client = _client(service)
    try:
        return getattr(client, operation)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        log.info("cognito %s refused: %s %s", operation, error.get("Code"), error.get("Message"))
        raise CognitoError(error.get("Code", "Unknown"), error.get("Message", "")) from exc
    except BotoCoreError as exc:
        log.warning("cognito %s failed: %s", operation, exc)
        raise CognitoError("Unreachable", str(exc)) from exc


def secret_hash(username: str) -> str:
    """SECRET_HASH for a confidential app client: proves the call comes from
    the server that holds the client secret."""
    deployment = deployment_get()
    digest = hmac.new(
        deployment.app_client_secret.encode(), (username + deployment.app_client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def jwks_url() -> str:
    """Where the user pool publishes its signing keys."""
    pool = deployment_get().user_pool_id
    if settings.AWS_ENDPOINT_URL:
        return f"{settings.AWS_ENDPOINT_URL}/{pool}/.well-known/jwks.json"
    return f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{pool}/.well-known/jwks.json"


def issuer() -> str:
    return f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{deployment_get().user_pool_id}"


# --- user pool ------------------------------------------------------------------

def _tokens(result: dict[str, Any]) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:  # a challenge (new password, MFA) this app does not offer
        raise CognitoError("ChallengeRequired", str(result.get("ChallengeName")))
    return Tokens(auth["IdToken"], auth["AccessToken"], auth.get("RefreshToken"))


def user_sign_in(*, email: str, password: str) -> Tokens:
    deployment = deployment_get()
    result = _call(
        "cognito-idp",
        "initiate_auth",
        ClientId=deployment.app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password, "SECRET_HASH": secret_hash(email)},
    )
    return _tokens(result)


def user_tokens_refresh(*, refresh_token: str, username: str) -> Tokens:
    """New ID and access tokens; `username` is the user-pool username (the sub
    for email sign-in pools), which SECRET_HASH must use here."""
    deployment = deployment_get()
    result = _call(
        "cognito-idp",
        "initiate_auth",
        ClientId=deployment.app_client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token, "SECRET_HASH": secret_hash(username)},
    )
    tokens = _tokens(result)
    return Tokens(tokens.id_token, tokens.access_token, refresh_token)


def user_sign_up(*, email: str, password: str) -> None:
    deployment = deployment_get()
    _call(
        "cognito-idp",
        "sign_up",
        ClientId=deployment.app_client_id,
        SecretHash=secret_hash(email),
        Username=email,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )


def user_sign_up_confirm(*, email: str, code: str) -> None:
    deployment = deployment_get()
    _call(
        "cognito-idp",
        "confirm_sign_up",
        ClientId=deployment.app_client_id,
        SecretHash=secret_hash(email),
        Username=email,
        ConfirmationCode=code,
    )


def user_code_resend(*, email: str) -> None:
    deployment = deployment_get()
    _call(
        "cognito-idp",
        "resend_confirmation_code",
        ClientId=deployment.app_client_id,
        SecretHash=secret_hash(email),
        Username=email,
    )


def user_password_forgot(*, email: str) -> None:
    deployment = deployment_get()
    _call(
        "cognito-idp", "forgot_password", ClientId=deployment.app_client_id, SecretHash=secret_hash(email), Username=email
    )


def user_password_reset(*, email: str, code: str, password: str) -> None:
    deployment = deployment_get()
    _call(
        "cognito-idp",
        "confirm_forgot_password",
        ClientId=deployment.app_client_id,
        SecretHash=secret_hash(email),
        Username=email,
        ConfirmationCode=code,
        Password=password,
    )


def user_sign_out_everywhere(*, access_token: str) -> None:
    """GlobalSignOut: revokes the refresh token and, through the identity
    pool's ServerSideTokenCheck, the ID token too."""
    _call("cognito-idp", "global_sign_out", AccessToken=access_token)


# --- identity pool ------------------------------------------------------------------

def _logins(id_token: str | None) -> dict[str, str]:
    return {deployment_get().provider: id_token} if id_token else {}


def identity_id_get(*, id_token: str | None) -> str:
    """GetId: the identity for this login (stable), or a new guest identity."""
    params: dict[str, Any] = {"IdentityPoolId": deployment_get().identity_pool_id}
    if id_token:
        params["Logins"] = _logins(id_token)
    return _call("cognito-identity", "get_id", **params)["IdentityId"]


def identity_credentials_issue(*, identity_id: str, id_token: str | None) -> Credentials:
    """GetCredentialsForIdentity (enhanced flow): Cognito picks the role."""
    params: dict[str, Any] = {"IdentityId": identity_id}
    if id_token:
        params["Logins"] = _logins(id_token)
    result = _call("cognito-identity", "get_credentials_for_identity", **params)
    c = result["Credentials"]
    return Credentials(
        identity_id=result["IdentityId"],
        access_key_id=c["AccessKeyId"],
        secret_access_key=c["SecretKey"],
        session_token=c["SessionToken"],
        expiration=c["Expiration"].astimezone(dt.timezone.utc),
    )


# --- the sandbox's outbox (local development only) --------------------------------------

def outbox_messages(*, to: str | None = None) -> list[dict[str, Any]]:
    """The emails the user pool would have sent, as the sandbox kept them."""
    import requests  # only ever needed locally

    params = {"to": to} if to else {}
    try:
        response = requests.get(f"{settings.AWS_ENDPOINT_URL}/_sandbox/outbox", params=params, timeout=settings.AWS_READ_TIMEOUT)
        response.raise_for_status()
        return response.json()["messages"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise CognitoError("Unreachable", str(exc)) from exc
