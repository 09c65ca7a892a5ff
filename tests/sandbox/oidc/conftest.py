"""A sandbox with two OIDC clients registered, and a relying party's side of
the code flow (`Flow`), spoken over HTTP with `requests` only."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.sandbox_kit import SandboxKit, start_kit

APP = "photoshare-web"
APP_SECRET = "app-secret-0123456789"
APP_REDIRECT = "http://127.0.0.1:8000/accounts/oidc/callback/"
OTHER = "other-app"
OTHER_SECRET = "other-secret-0123456789"
OTHER_REDIRECT = "http://127.0.0.1:9000/callback?from=sandbox"
CLIENTS = [
    f"{APP}:{APP_SECRET}:{APP_REDIRECT},http://localhost:8000/accounts/oidc/callback/",
    f"{OTHER}:{OTHER_SECRET}:{OTHER_REDIRECT}",
]
TIMEOUT = 10  # seconds per request


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge), as a client makes them (RFC 7636 section 4)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """The relying party: authorize, choose a person, exchange the code."""

    issuer: str
    client_id: str = APP
    secret: str = APP_SECRET
    redirect_uri: str = APP_REDIRECT

    def authorize(self, **params: Any) -> requests.Response:
        """GET /authorize with the usual parameters, `params` overriding them (None drops one)."""
        self.verifier, challenge = pkce()
        base = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": "openid email",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        base.update(params)
        self.sent = {k: v for k, v in base.items() if v is not None}
        return requests.get(f"{self.issuer}/authorize", params=self.sent, allow_redirects=False, timeout=TIMEOUT)

    def request_id(self, **params: Any) -> str:
        page = self.authorize(**params)
        assert page.status_code == 200, page.text
        return re.search(r'name="request" value="([^"]+)"', page.text).group(1)

    def sign_in(self, request_id: str, email: str | None = None, **extra: str) -> requests.Response:
        data = {"request": request_id, **({"email": email} if email is not None else {}), **extra}
        return requests.post(f"{self.issuer}/sign-in", data=data, allow_redirects=False, timeout=TIMEOUT)

    def code(self, email: str = "dana@wintercorp.com", **params: Any) -> str:
        answer = self.sign_in(self.request_id(**params), email)
        assert answer.status_code == 303, answer.text
        return query_of(answer.headers["Location"])["code"]

    def exchange(self, code: str, *, verifier: str | None = None, method: str = "basic", **fields: str) -> requests.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier or self.verifier,
            **fields,
        }
        auth = None
        if method == "basic":
            auth = (self.client_id, self.secret)
        elif method == "post":
            data |= {"client_id": self.client_id, "client_secret": self.secret}
        return requests.post(f"{self.issuer}/token", data=data, auth=auth, timeout=TIMEOUT)

    def tokens(self, email: str = "dana@wintercorp.com", **params: Any) -> dict[str, Any]:
        answer = self.exchange(self.code(email, **params))
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="session")
def oidc_sandbox() -> Iterator[SandboxKit]:
    """A sandbox of its own with the clients above registered (the session's
    `sandbox` has none)."""
    with start_kit(oidc_clients=CLIENTS) as kit:
        yield kit


@pytest.fixture(scope="session")
def issuer(oidc_sandbox: SandboxKit) -> str:
    return f"{oidc_sandbox.endpoint}/_sandbox/oidc"


@pytest.fixture
def flow(issuer: str) -> Flow:
    return Flow(issuer=issuer)
