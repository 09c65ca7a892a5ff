"""The people every suite needs, made the way the app's users and an
administrator would make them, over HTTP only:

- users: `user_create` (as an administrator, confirmed, email verified);
- their tokens: `user_tokens` (InitiateAuth USER_PASSWORD_AUTH, with
  SECRET_HASH when the app client is confidential);
- identities and credentials: `identity_credentials` (the enhanced flow,
  GetId then GetCredentialsForIdentity, with Logins for a user and without
  for a guest), and `user_credentials` / `guest_credentials` for a
  Photoshare deployment;
- a browser signed in through the app's own sign-in page: `page_sign_in`;
- "Sign in with Winter Corp SSO" against the sandbox's OIDC provider:
  `sso_provider` (a sandbox whose provider knows the app's client),
  `sso_callback_url` (the code flow up to the provider's answer),
  `sso_client_sign_in` (a test client signed in, HTTP only) and
  `page_sso_sign_in` (a Playwright page signed in by clicking, as a person).

`secret_hash` is the app's own (accounts.cognito), so the tests compute
exactly what the server sends."""

from __future__ import annotations

import contextlib
import re
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.test import Client

from accounts.cognito import secret_hash
from core.deployment import Deployment
from tests.sandbox_kit import SandboxKit, as_boto3, start_kit

__all__ = [
    "STRONG_PASSWORD",
    "guest_credentials",
    "identity_credentials",
    "page_sign_in",
    "pool_identities",
    "secret_hash",
    "sign_in",
    "SsoProvider",
    "page_sso_sign_in",
    "sso_callback_url",
    "sso_client_sign_in",
    "sso_provider",
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


# --- "Sign in with Winter Corp SSO": the sandbox's OpenID Connect provider -------------------

SSO_CLIENT_ID = "photoshare-web"
SSO_CLIENT_SECRET = "sso-test-secret-0123456789"
SSO_CALLBACK = "/accounts/oidc/callback/"  # the route the app serves (and make run registers)
TEST_CLIENT_ORIGIN = "http://testserver"  # Django's test client's host
SSO_TIMEOUT = 10  # seconds per request to the provider


@dataclass(frozen=True)
class SsoProvider:
    """A running sandbox whose OIDC provider knows the app's client."""

    kit: SandboxKit
    issuer: str
    client_id: str = SSO_CLIENT_ID
    client_secret: str = SSO_CLIENT_SECRET

    def settings_apply(self, settings: Any) -> None:
        """Point the app (Django `settings`, e.g. pytest-django's fixture) at this provider."""
        from accounts.oidc import discovery_forget

        settings.OIDC_ISSUER = self.issuer
        settings.OIDC_CLIENT_ID = self.client_id
        settings.OIDC_CLIENT_SECRET = self.client_secret
        discovery_forget()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def sso_provider(*, app_origins: Iterable[str] = (TEST_CLIENT_ORIGIN,)) -> Iterator[SsoProvider]:
    """A sandbox of its own on 127.0.0.1 (moto's backends are process-wide:
    it serves the same pools as `sandbox`) whose provider's issuer is on
    localhost, as make run's is, and which knows the app's client with the
    callback of each of `app_origins` (the test client's, a live server's)."""
    port = _free_port()
    issuer = f"http://localhost:{port}/_sandbox/oidc"
    callbacks = ",".join(origin.rstrip("/") + SSO_CALLBACK for origin in app_origins)
    with start_kit(port=port, oidc_issuer=issuer, oidc_clients=[f"{SSO_CLIENT_ID}:{SSO_CLIENT_SECRET}:{callbacks}"]) as kit:
        yield SsoProvider(kit=kit, issuer=issuer)


def sso_callback_url(email: str, *, client: Client, next_url: str | None = None) -> str:
    """The code flow as far as the provider's answer: the app's start route
    (with `client`, whose session keeps state, nonce and verifier), the
    provider's sign-in page, `email` chosen there; returns the callback URL
    (path and query) the provider sends the browser back to, unvisited."""
    started = client.get("/accounts/oidc/start/", {"next": next_url} if next_url else {})
    assert started.status_code == 302, started.content.decode()[:2000]
    authorize = started["Location"]
    page = requests.get(authorize, timeout=SSO_TIMEOUT, allow_redirects=False)
    assert page.status_code == 200, page.text[:2000]
    request_id = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    sign_in_url = authorize.split("?", 1)[0].rsplit("/", 1)[0] + "/sign-in"
    chosen = requests.post(sign_in_url, data={"request": request_id, "email": email}, timeout=SSO_TIMEOUT, allow_redirects=False)
    assert chosen.status_code == 303, chosen.text[:2000]
    back = urlsplit(chosen.headers["Location"])
    return f"{back.path}?{back.query}"


def sso_client_sign_in(email: str, *, client: Client | None = None) -> Client:
    """A test client signed in through "Sign in with Winter Corp SSO" as
    `email` (a demo person such as dana@wintercorp.com, or any address), over
    HTTP only: a 302 from the app's callback or the test fails. The app must
    be pointed at the provider (`SsoProvider.settings_apply`) and provisioned
    with it (the `sso_site` fixture does both)."""
    client = client or Client()
    answer = client.get(sso_callback_url(email, client=client))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return client


def page_sso_sign_in(page: Any, base_url: str, email: str) -> None:
    """A Playwright `page` signed in as a person would: the sign-in page's
    SSO button, then `email`'s button on the provider's page (a demo person)
    or, for any other address, the provider's email form; waits until the
    app's header shows who is signed in."""
    page.goto(f"{base_url}/accounts/sign-in/")
    page.click("[data-testid=sso-sign-in]")
    person = page.locator(f"[data-testid=oidc-person][value='{email}']")
    person.or_(page.locator("[data-testid=oidc-email]")).first.wait_for()
    if person.count():
        person.click()
    else:
        page.fill("[data-testid=oidc-email]", email)
        page.click("[data-testid=oidc-continue]")
    page.wait_for_selector(".who")
