"""Every call Photoshare makes to Cognito: the user pool (sign-in, sign-up,
codes, sign-out) and the identity pool (`GetId`, `GetCredentialsForIdentity`).

The only module that talks to cognito-idp and cognito-identity. Calls have
explicit timeouts and retries (`core.aws.aws_client`), and every failure
becomes `CognitoError` with AWS's code, which views map to fixed messages.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.aws import AwsCallError, Unreachable, aws_client, aws_client_as, aws_errors, user_pool_provider_name
from core.deployment import deployment_get

log = logging.getLogger(__name__)


class CognitoError(Exception):
    """A Cognito refusal or failure; `code` is AWS's error code, or
    "Unreachable" when no answer came (views map codes to fixed messages)."""

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


@contextlib.contextmanager
def _cognito_errors(operation: str, *, refused_level: int = logging.INFO) -> Iterator[None]:
    """AWS's failures as CognitoError, logged: unreachable as a warning, a
    refusal at `refused_level` (a person's mistake is routine; a refusal of
    the server's own signed call means its policy is wrong)."""
    try:
        with aws_errors(operation):
            yield
    except Unreachable as exc:
        log.warning("cognito %s failed: %s", operation, exc.detail)
        raise CognitoError("Unreachable", exc.detail) from exc
    except AwsCallError as exc:
        log.log(refused_level, "cognito %s refused: %s %s", operation, exc.code, exc.detail)
        raise CognitoError(exc.code, exc.detail) from exc


def _call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    """Every operation used here is one AWS serves unsigned: the app client
    secret or the ID token, not AWS credentials, is what proves the caller."""
    with _cognito_errors(operation):
        return getattr(aws_client(service, signed=False), operation)(**params)


def secret_hash(username: str, *, client_id: str, client_secret: str) -> str:
    """SECRET_HASH for a confidential app client, Base64(HMAC-SHA256(secret,
    username + client ID)): proves the call comes from whoever holds the
    client secret, that is the server.
    https://docs.aws.amazon.com/cognito/latest/developerguide/signing-up-users-in-your-app.html#cognito-user-pools-computing-secret-hash"""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def jwks_url() -> str:
    """Where the user pool publishes its signing keys."""
    pool = deployment_get().user_pool_id
    if settings.AWS_ENDPOINT_URL:
        return f"{settings.AWS_ENDPOINT_URL}/{pool}/.well-known/jwks.json"
    return f"https://{user_pool_provider_name(user_pool_id=pool)}/.well-known/jwks.json"


def issuer() -> str:
    """The `iss` of the pool's tokens: its provider name with https:// in front."""
    return f"https://{user_pool_provider_name(user_pool_id=deployment_get().user_pool_id)}"


# --- user pool ------------------------------------------------------------------

def _user_pool_call(operation: str, *, username: str, **params: Any) -> dict[str, Any]:
    """A user-pool operation for this app client on behalf of `username`:
    every one of them needs the client ID and SECRET_HASH (InitiateAuth
    carries it in AuthParameters, the others as SecretHash)."""
    deployment = deployment_get()
    hashed = secret_hash(username, client_id=deployment.app_client_id, client_secret=deployment.app_client_secret)
    if operation == "initiate_auth":
        params["AuthParameters"] = {**params["AuthParameters"], "SECRET_HASH": hashed}
    else:
        params.update(SecretHash=hashed, Username=username)
    return _call("cognito-idp", operation, ClientId=deployment.app_client_id, **params)


def _tokens(result: dict[str, Any]) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:  # a challenge (new password, MFA) this app does not offer
        raise CognitoError("ChallengeRequired", str(result.get("ChallengeName")))
    return Tokens(auth["IdToken"], auth["AccessToken"], auth.get("RefreshToken"))


def user_sign_in(*, email: str, password: str) -> Tokens:
    result = _user_pool_call(
        "initiate_auth",
        username=email,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return _tokens(result)


def user_tokens_refresh(*, refresh_token: str, username: str) -> Tokens:
    """New ID and access tokens; `username` is the user-pool username (the sub
    for email sign-in pools), which SECRET_HASH must use here."""
    result = _user_pool_call(
        "initiate_auth", username=username, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
    )
    tokens = _tokens(result)
    return Tokens(tokens.id_token, tokens.access_token, refresh_token)


def user_sign_up(*, email: str, password: str) -> None:
    _user_pool_call("sign_up", username=email, Password=password, UserAttributes=[{"Name": "email", "Value": email}])


def user_sign_up_confirm(*, email: str, code: str) -> None:
    _user_pool_call("confirm_sign_up", username=email, ConfirmationCode=code)


def user_code_resend(*, email: str) -> None:
    _user_pool_call("resend_confirmation_code", username=email)


def user_password_forgot(*, email: str) -> None:
    _user_pool_call("forgot_password", username=email)


def user_password_reset(*, email: str, code: str, password: str) -> None:
    _user_pool_call("confirm_forgot_password", username=email, ConfirmationCode=code, Password=password)


def user_sign_out_everywhere(*, access_token: str) -> None:
    """GlobalSignOut: revokes the refresh token and, through the identity
    pool's ServerSideTokenCheck, the ID token too."""
    _call("cognito-idp", "global_sign_out", AccessToken=access_token)


# --- identity pool ------------------------------------------------------------------

# The `Logins` key under which an identity pool takes back the OpenID token it
# issued itself (GetOpenIdTokenForDeveloperIdentity).
DEVELOPER_TOKEN_PROVIDER = "cognito-identity.amazonaws.com"


def _logins(id_token: str | None, provider: str | None = None) -> dict[str, Any]:
    """`Logins` for a user ({provider name: ID token}; the user pool's unless
    `provider` says otherwise); none for a guest."""
    return {"Logins": {provider or deployment_get().provider: id_token}} if id_token else {}


def identity_id_get(*, id_token: str | None, provider: str | None = None) -> str:
    """GetId: the identity for this login (stable), or a new guest identity.
    `provider` as for identity_credentials_issue."""
    pool_id = deployment_get().identity_pool_id
    return _call("cognito-identity", "get_id", IdentityPoolId=pool_id, **_logins(id_token, provider))["IdentityId"]


def identity_credentials_issue(*, identity_id: str, id_token: str | None, provider: str | None = None) -> Credentials:
    """GetCredentialsForIdentity, the enhanced flow: the one call that turns
    an identity (and, for a user, their ID token as a login) into temporary
    AWS credentials. Cognito, not the app, picks the role: the pool's
    authenticated or unauthenticated role, or the role mapping's; the role's
    trust policy must accept this pool's `aud` and the caller's `amr`.
    `provider` is the login's key when it is not the user pool's (a
    developer identity's token goes under DEVELOPER_TOKEN_PROVIDER, an
    OpenID Connect provider's ID token under the provider's host and path).
    https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html"""
    result = _call(
        "cognito-identity", "get_credentials_for_identity", IdentityId=identity_id, **_logins(id_token, provider)
    )
    c = result["Credentials"]
    return Credentials(
        identity_id=result["IdentityId"],
        access_key_id=c["AccessKeyId"],
        secret_access_key=c["SecretKey"],
        session_token=c["SessionToken"],
        expiration=c["Expiration"].astimezone(dt.timezone.utc),
    )


@dataclass(frozen=True)
class DeveloperToken:
    identity_id: str
    token: str  # an OpenID token of the identity pool's, for Logins[DEVELOPER_TOKEN_PROVIDER]


def developer_token_get(*, developer_user_id: str, identity_id: str = "") -> DeveloperToken:
    """GetOpenIdTokenForDeveloperIdentity: the identity of the app's own user
    `developer_user_id` (the same one every time), and a token that proves it.
    Unlike every other call here it is SIGNED with the server's credentials
    (infra/policies/server.json grants it on this pool only): the identity
    pool trusts the server's word for who the person is, so only the server
    may ask. `identity_id` (a guest's) links the user to that identity, if
    they have none yet.
    https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdTokenForDeveloperIdentity.html"""
    operation = "get_open_id_token_for_developer_identity"
    linking = {"IdentityId": identity_id} if identity_id else {}
    with _cognito_errors(operation, refused_level=logging.WARNING):
        result = aws_client("cognito-identity").get_open_id_token_for_developer_identity(
            IdentityPoolId=deployment_get().identity_pool_id,
            Logins={settings.PHOTOSHARE_DEVELOPER_PROVIDER: developer_user_id},
            **linking,
        )
    return DeveloperToken(identity_id=result["IdentityId"], token=result["Token"])


def credentials_caller_arn(*, credentials: Credentials) -> str:
    """STS GetCallerIdentity signed with these very credentials: the
    assumed-role ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`)
    of the role the identity pool chose for them. STS answers it for any
    valid credentials, with no permission needed.
    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
    sts = aws_client_as(
        "sts",
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
    )
    try:
        with aws_errors("GetCallerIdentity"):
            return sts.get_caller_identity()["Arn"]
    except AwsCallError as exc:
        log.info("sts GetCallerIdentity refused: %s %s", exc.code, exc.detail)
        raise CognitoError(exc.code, exc.detail) from exc


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
