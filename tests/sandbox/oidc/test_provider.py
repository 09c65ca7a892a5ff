"""The provider's lifetimes and bounds, driven through `Provider` itself with
a clock the test moves: the only way to pass 60 s (a code), 10 minutes (a
sign-in page) or an hour (an access token) without waiting. Everything else
is tested over HTTP in test_routes.py."""

from __future__ import annotations

import threading

import pytest

from sandbox.cognito_idp.keys import SigningKey
from sandbox.oidc import provider as oidc_provider
from sandbox.oidc.clients import client_parse
from sandbox.oidc.provider import OAuthError, PageError, Provider
from tests.sandbox.oidc.conftest import pkce, query_of

REDIRECT = "http://127.0.0.1:8000/cb"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider(key, clock) -> Provider:
    client = client_parse(f"app:app-secret-123:{REDIRECT}")
    return Provider(issuer="http://127.0.0.1:1/_sandbox/oidc", clients={"app": client}, key=key, hosted_domains=["wintercorp.com"], clock=clock)


def begin(provider: Provider) -> tuple[str, str]:
    verifier, challenge = pkce()
    params = [("client_id", "app"), ("redirect_uri", REDIRECT), ("response_type", "code"), ("scope", "openid"),
              ("code_challenge", challenge), ("code_challenge_method", "S256")]
    return provider.authorization_begin(params)[0], verifier


def code_of(provider: Provider) -> tuple[str, str]:
    request_id, verifier = begin(provider)
    return query_of(provider.sign_in(request_id=request_id, email="dana@wintercorp.com"))["code"], verifier


def exchange(provider: Provider, code: str, verifier: str) -> dict:
    return provider.token(client=provider.clients["app"], params={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})


@pytest.mark.parametrize(("after", "accepted"), [(59, True), (60, False), (3600, False)])
def test_a_code_lives_sixty_seconds(provider, clock, after, accepted):
    code, verifier = code_of(provider)
    clock.now += after
    if accepted:
        assert exchange(provider, code, verifier)["id_token"]
    else:
        with pytest.raises(OAuthError) as refused:
            exchange(provider, code, verifier)
        assert refused.value.error == "invalid_grant"


def test_a_sign_in_page_expires_after_ten_minutes(provider, clock):
    request_id, _ = begin(provider)
    clock.now += oidc_provider.PENDING_LIFETIME
    with pytest.raises(PageError) as refused:
        provider.sign_in(request_id=request_id, email="dana@wintercorp.com")
    assert refused.value.error == "expired"


def test_an_access_token_lives_an_hour(provider, clock):
    code, verifier = code_of(provider)
    token = exchange(provider, code, verifier)["access_token"]
    clock.now += 3599
    assert provider.userinfo(access_token=token)["email"] == "dana@wintercorp.com"
    clock.now += 1
    with pytest.raises(OAuthError) as refused:
        provider.userinfo(access_token=token)
    assert (refused.value.error, refused.value.status) == ("invalid_token", 401)


def test_pending_requests_are_bounded(provider, monkeypatch):
    """Past the limit the oldest waiting request goes, not the memory."""
    monkeypatch.setattr(oidc_provider, "MAX_PENDING", 3)
    first, _ = begin(provider)
    for _ in range(3):
        last, _ = begin(provider)
    assert len(provider._pending) == 3
    with pytest.raises(PageError):
        provider.pending(first)
    assert provider.pending(last).client_id == "app"


def test_a_double_submit_gets_one_code(provider):
    """Two posts of one sign-in page at once: one redirect with a code, one expired page."""
    request_id, _ = begin(provider)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def submit() -> None:
        barrier.wait()
        try:
            results.append("code" if "code=" in provider.sign_in(request_id=request_id, email="dana@wintercorp.com") else "?")
        except PageError:
            results.append("expired")

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == ["code"] + ["expired"] * 7
