"""accounts.cognito, the only module that talks to Cognito, called directly
against the sandbox: SECRET_HASH, refusals as `CognitoError` with AWS's code,
token refresh and revocation, GetId, and the local outbox."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import jwt
import pytest
import requests

from accounts import cognito
from accounts.cognito import CognitoError
from core.deployment import deployment_get
from sandbox.server import free_port
from tests.actors import STRONG_PASSWORD


def test_secret_hash_is_the_hmac_of_username_and_client_id(shared_site):
    """Base64(HMAC-SHA256(client secret, username + client id)), as Cognito documents it."""
    expected = hmac.new(
        shared_site.app_client_secret.encode(), ("alice@example.com" + shared_site.app_client_id).encode(), hashlib.sha256
    ).digest()
    computed = cognito.secret_hash(
        "alice@example.com", client_id=shared_site.app_client_id, client_secret=shared_site.app_client_secret
    )
    assert computed == base64.b64encode(expected).decode()


def test_issuer_and_jwks_are_this_pools(shared_site, sandbox):
    """The issuer names the pool on AWS's host; the JWKS comes from the sandbox and holds RS256 keys."""
    assert cognito.issuer() == f"https://cognito-idp.us-east-1.amazonaws.com/{shared_site.user_pool_id}"
    assert cognito.jwks_url() == f"{sandbox.endpoint}/{shared_site.user_pool_id}/.well-known/jwks.json"
    keys = requests.get(cognito.jwks_url(), timeout=5).json()["keys"]
    assert keys and all(k["alg"] == "RS256" and k["kty"] == "RSA" for k in keys)


def test_sign_in_returns_the_three_tokens(shared_site, make_user):
    """USER_PASSWORD_AUTH with SECRET_HASH: an ID token for this client, an access token, a refresh token."""
    email = make_user()
    tokens = cognito.user_sign_in(email=email, password=STRONG_PASSWORD)
    claims = jwt.decode(tokens.id_token, options={"verify_signature": False})
    assert (claims["email"], claims["aud"], claims["token_use"]) == (email, shared_site.app_client_id, "id")
    assert jwt.decode(tokens.access_token, options={"verify_signature": False})["token_use"] == "access"
    assert tokens.refresh_token


def test_a_refusal_becomes_a_cognito_error_with_aws_code(shared_site, make_user):
    """botocore's ClientError is turned into CognitoError carrying AWS's code and message."""
    with pytest.raises(CognitoError) as refused:
        cognito.user_sign_in(email=make_user(), password="Wrong-Password-1!")
    assert refused.value.code == "NotAuthorizedException"
    assert refused.value.detail == "Incorrect username or password."


def test_an_unreachable_endpoint_is_a_cognito_error_too(shared_site, settings):
    """No answer at all (sandbox down) is CognitoError('Unreachable'), not a botocore exception."""
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS, settings.AWS_CONNECT_TIMEOUT = 1, 1
    with pytest.raises(CognitoError) as failed:
        cognito.user_sign_in(email="alice@example.com", password=settings.DEMO_PASSWORD)
    assert failed.value.code == "Unreachable"
    with pytest.raises(CognitoError) as failed:
        cognito.outbox_messages(to="alice@example.com")
    assert failed.value.code == "Unreachable"


def test_refresh_gives_new_tokens_with_the_user_pool_username(shared_site, make_user):
    """REFRESH_TOKEN_AUTH with SECRET_HASH over the user-pool username (the sub, not the email) returns new tokens."""
    tokens = cognito.user_sign_in(email=make_user(), password=STRONG_PASSWORD)
    username = jwt.decode(tokens.id_token, options={"verify_signature": False})["cognito:username"]
    fresh = cognito.user_tokens_refresh(refresh_token=tokens.refresh_token, username=username)
    assert fresh.id_token != tokens.id_token and fresh.refresh_token == tokens.refresh_token


def test_global_sign_out_revokes_the_refresh_token(shared_site, make_user):
    """After GlobalSignOut the refresh token is refused (NotAuthorizedException)."""
    tokens = cognito.user_sign_in(email=make_user(), password=STRONG_PASSWORD)
    username = jwt.decode(tokens.id_token, options={"verify_signature": False})["cognito:username"]
    cognito.user_sign_out_everywhere(access_token=tokens.access_token)
    with pytest.raises(CognitoError) as refused:
        cognito.user_tokens_refresh(refresh_token=tokens.refresh_token, username=username)
    assert refused.value.code == "NotAuthorizedException"


def test_get_id_is_stable_per_login_and_new_per_guest(shared_site, make_user):
    """GetId with Logins answers the same identity every time; without, a new guest identity each call."""
    email = make_user()
    first = cognito.identity_id_get(id_token=cognito.user_sign_in(email=email, password=STRONG_PASSWORD).id_token)
    again = cognito.identity_id_get(id_token=cognito.user_sign_in(email=email, password=STRONG_PASSWORD).id_token)
    assert first == again
    assert len({cognito.identity_id_get(id_token=None) for _ in range(3)}) == 3


def test_credentials_for_an_identity_are_an_hour_long_and_utc(shared_site, make_user):
    """GetCredentialsForIdentity: keys for the identity asked, expiring in an hour, as an aware UTC datetime."""
    token = cognito.user_sign_in(email=make_user(), password=STRONG_PASSWORD).id_token
    identity_id = cognito.identity_id_get(id_token=token)
    issued = cognito.identity_credentials_issue(identity_id=identity_id, id_token=token)
    assert issued.identity_id == identity_id and issued.access_key_id.startswith("ASIA")
    assert issued.expiration.tzinfo == dt.timezone.utc
    ahead = issued.expiration - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=59) < ahead <= dt.timedelta(minutes=60)


def test_the_outbox_lists_the_codes_sent_to_an_address(shared_site, email):
    """After sign-up, outbox_messages(to=email) holds one sign-up message with its code in the body."""
    cognito.user_sign_up(email=email, password=STRONG_PASSWORD)
    [message] = cognito.outbox_messages(to=email)
    assert message["kind"] == "sign-up" and message["code"] in message["body"]
    assert message["user_pool_id"] == deployment_get().user_pool_id


def test_no_reset_code_is_emailed_for_an_unknown_address(shared_site, email):
    """Like AWS with PreventUserExistenceErrors: ForgotPassword for nobody succeeds, but nothing is 'emailed'."""
    cognito.user_password_forgot(email=email)
    assert cognito.outbox_messages(to=email) == []
