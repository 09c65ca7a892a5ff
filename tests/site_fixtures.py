"""Deployments for tests that need one, shared by every test directory
through `pytest_plugins` in tests/conftest.py.

- `provisioned`: a deployment of the test's own (about two seconds), always
  deprovisioned afterwards so the shared sandbox does not fill up.
- `site`: the same with the demo users alice, bob and carol.
- `shared_site`: one deployment for the whole run, with the Django settings of
  a test pointed at it. Tests that change a user (password, sign-out
  everywhere, sign-up) make their own with `make_user` or sign up a fresh
  email, so no test depends on another's leftovers."""

from __future__ import annotations

import collections
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests
from django.core.cache import cache
from django.test import Client, override_settings

from accounts import cognito
from core.aws import aws_client
from infra.demo_users import demo_users_seed
from infra.provision import deployment_deprovision, deployment_provision
from core.deployment import Deployment
from tests.actors import STRONG_PASSWORD, SsoProvider, page_sign_in, sso_provider, user_create
from tests.sandbox_kit import SandboxKit, start_kit

# The settings that say which deployment and where; restored for the teardown,
# since a test may switch them (PHOTOSHARE_AWS='aws', an unreachable endpoint...).
_WHICH = (
    "PHOTOSHARE_NAME",
    "PHOTOSHARE_BUCKET",
    "PHOTOSHARE_DEPLOYMENT_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_BROWSER_ENDPOINT_URL",
    "AWS_REGION",
)


def browser_endpoint(kit: SandboxKit) -> str:
    """The sandbox as the browser reaches it: on localhost, not the app's 127.0.0.1."""
    return kit.endpoint.replace("://127.0.0.1:", "://localhost:")


def _ignore(line: str) -> None:
    pass


@pytest.fixture
def deployment_cleanup(aws_settings):
    """aws_settings, and whatever gets provisioned under them removed at the end."""
    which = {name: getattr(aws_settings, name) for name in _WHICH}
    yield aws_settings
    with override_settings(PHOTOSHARE_AWS="local", AWS_MAX_ATTEMPTS=3, **which):
        deployment_deprovision(report=_ignore)


@pytest.fixture
def provisioned(deployment_cleanup) -> Deployment:
    """A freshly provisioned deployment in the sandbox, under aws_settings."""
    return deployment_provision(report=_ignore)


SHORT_CODE_TTL = 1  # seconds a code lasts in the short-lived sandbox
SHORT_CREDENTIALS_TTL = 240  # seconds: less than the five minutes before expiry when the app stops reusing


@pytest.fixture
def site(provisioned, db):
    """The deployment (user pool, identity pool, bucket) with alice, bob and carol."""
    demo_users_seed(report=lambda line: None)
    return provisioned


@pytest.fixture(scope="session")
def _shared_deployment(sandbox: SandboxKit, tmp_path_factory) -> Iterator[tuple[dict[str, Any], Deployment]]:
    name = f"a{uuid.uuid4().hex[:10]}"
    values = {
        "PHOTOSHARE_AWS": "local",
        "PHOTOSHARE_NAME": name,
        "PHOTOSHARE_BUCKET": f"{name}-photos",
        "PHOTOSHARE_DEPLOYMENT_FILE": tmp_path_factory.mktemp("shared-site") / "deployment.json",
        "AWS_ENDPOINT_URL": sandbox.endpoint,
        "AWS_BROWSER_ENDPOINT_URL": browser_endpoint(sandbox),
    }
    with override_settings(**values):
        deployment = deployment_provision(report=_ignore)
        demo_users_seed(report=_ignore)
    yield values, deployment
    with override_settings(**values):
        deployment_deprovision(report=_ignore)


@pytest.fixture
def shared_site(_shared_deployment, settings, db) -> Deployment:
    """One deployment (with alice, bob and carol) for every account test, and
    this test's settings pointed at it."""
    values, deployment = _shared_deployment
    for name, value in values.items():
        setattr(settings, name, value)
    return deployment


@pytest.fixture(autouse=True)
def _fresh_attempt_counters() -> None:
    """Rate-limit counters live in the process's cache; each test starts at zero
    (every test client comes from 127.0.0.1, so the per-IP limit is shared)."""
    cache.clear()


@pytest.fixture(scope="session")
def short_lived_sandbox() -> Iterator[SandboxKit]:
    """A second sandbox whose codes expire after a second and whose
    credentials last four minutes. moto's backends are process-wide, so it
    serves the same pools as `sandbox`."""
    with start_kit(code_ttl=SHORT_CODE_TTL, credentials_ttl=SHORT_CREDENTIALS_TTL) as kit:
        yield kit


@pytest.fixture
def make_user(shared_site: Deployment, sandbox: SandboxKit) -> Callable[..., str]:
    """Create a confirmed user of the shared pool that no other test has
    touched, as an administrator would; returns the email (password
    STRONG_PASSWORD unless given)."""

    def make(password: str = STRONG_PASSWORD) -> str:
        return user_create(sandbox, user_pool_id=shared_site.user_pool_id, password=password)

    return make


@pytest.fixture
def sign_in(shared_site: Deployment) -> Callable[..., Client]:
    """Sign `email` in through the sign-in page; returns the test client."""
    return page_sign_in


@pytest.fixture
def outbox(sandbox: SandboxKit) -> Callable[..., list[str]]:
    """The codes the sandbox 'emailed' to an address, newest first, of one kind
    ('sign-up' or 'password-reset')."""

    def codes(email: str, kind: str) -> list[str]:
        response = requests.get(f"{sandbox.endpoint}/_sandbox/outbox", params={"to": email}, timeout=5)
        response.raise_for_status()
        return [m["code"] for m in response.json()["messages"] if m["kind"] == kind]

    return codes


@pytest.fixture
def email() -> str:
    """An address no account uses yet."""
    return f"n{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def identity_calls(shared_site: Deployment) -> Iterator[collections.Counter]:
    """How often the app called each cognito-identity operation during the
    test. A botocore event hook on the app's own client counts them; every
    call still goes to the sandbox."""
    calls: collections.Counter = collections.Counter()

    def count(model: Any, **kwargs: Any) -> None:
        calls[model.name] += 1

    client = aws_client("cognito-identity", signed=False)  # the one accounts.cognito uses
    client.meta.events.register("before-call.cognito-identity", count)
    yield calls
    client.meta.events.unregister("before-call.cognito-identity", count)


# --- "Sign in with Winter Corp SSO" (issue 16) -----------------------------------------

@pytest.fixture(scope="session")
def sso_sandbox() -> Iterator[SsoProvider]:
    """A sandbox whose OIDC provider knows the app's client, with the test
    client's callback (tests.actors.sso_provider)."""
    with sso_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def sso_live_sandbox(live_server) -> Iterator[SsoProvider]:
    """The same, with the live server's callback, for browser tests."""
    with sso_provider(app_origins=[live_server.url]) as provider:
        yield provider


@pytest.fixture
def sso_site(deployment_cleanup, sso_sandbox: SsoProvider, db) -> Deployment:
    """A deployment of the test's own provisioned with the SSO provider (its
    IAM OIDC provider, the team role and the Rules mapping on `hd`), and the
    app pointed at it: sign in with tests.actors.sso_client_sign_in."""
    sso_sandbox.settings_apply(deployment_cleanup)
    return deployment_provision(report=_ignore)


@pytest.fixture
def sso_live_site(live_server, deployment_cleanup, sso_live_sandbox: SsoProvider, transactional_db) -> Deployment:
    """`sso_site` for a live server (its origin in the bucket's CORS rule),
    with the demo users too: sign in with tests.actors.page_sso_sign_in."""
    sso_live_sandbox.settings_apply(deployment_cleanup)
    deployment_cleanup.APP_ORIGINS = [live_server.url]
    deployment = deployment_provision(report=_ignore)
    demo_users_seed(report=_ignore)
    return deployment


# --- forging tokens ------------------------------------------------------------------

def _pool_signing_key(issuer: str) -> Any:
    """The private key of the pool that issued a token. Each pool has its own,
    which only the sandbox holds; this reads it from the sandbox running in the
    test process (a stand-in for a stolen key, which cannot be had over HTTP).
    Re-signing a real token's claims with it gives a token the pool could have
    issued, differing in exactly the claim a test changes."""
    from sandbox import moto_seams

    region, pool_id = issuer.rsplit("/", 1)[-1].split("_", 1)[0], issuer.rsplit("/", 1)[-1]
    return moto_seams.cognitoidp.user_pool_signing_key_for_tests(region, pool_id)


class Forge:
    """Real tokens of alice from the shared pool, and ways to forge others."""

    POOL_KID = "dummy"  # moto's shared key's kid, which no pool's JWKS lists

    def __init__(self, tokens: Any) -> None:
        self.tokens = tokens
        key = _pool_signing_key(self.claims()["iss"])
        self.pool_key, self.pool_kid = key.private, key.kid

    def claims(self, token: str | None = None) -> dict[str, Any]:
        return jwt.decode(token or self.tokens.id_token, options={"verify_signature": False})

    def sign(self, claims: dict[str, Any], *, key: Any = None, kid: str | None = None, algorithm: str = "RS256") -> str:
        headers = {"kid": self.pool_kid if kid is None else kid}
        return jwt.encode(claims, self.pool_key if key is None else key, algorithm=algorithm, headers=headers)

    def resigned(self, **changes: Any) -> str:
        """Alice's ID token claims with `changes` (None removes a claim), signed by the pool's key."""
        claims = self.claims()
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.sign(claims)


@pytest.fixture
def forge(shared_site: Deployment, settings) -> Forge:
    return Forge(cognito.user_sign_in(email="alice@example.com", password=settings.DEMO_PASSWORD))
