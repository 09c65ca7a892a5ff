"""accounts/oidc.py: the ID token checks mozilla-django-oidc leaves to us
(`iss`, `aud`, the required claims) and those it makes (the signature with
a key of the provider's JWKS, `nonce`), the discovery document's issuer,
and the username of an (iss, sub) pair.

Real tokens come from the sandbox's provider over HTTP. The table of claim
checks signs its tokens with a key of the test's own, handed straight to
`get_payload_data`: the provider's private key cannot be had over HTTP, and
which key verifies is the JWKS tests' concern, not this table's."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import SuspiciousOperation

from accounts import oidc
from tests.actors import SSO_CALLBACK, TEST_CLIENT_ORIGIN
from tests.sandbox.oidc.conftest import Flow


@pytest.fixture
def provider(sso_sandbox, settings):
    sso_sandbox.settings_apply(settings)
    return sso_sandbox


def _flow(provider) -> Flow:
    return Flow(issuer=provider.issuer, client_id=provider.client_id, secret=provider.client_secret, redirect_uri=TEST_CLIENT_ORIGIN + SSO_CALLBACK)


def test_a_real_id_token_verifies_against_the_providers_jwks(provider):
    """The sandbox's ID token for dana: signature from the JWKS, nonce, iss, aud; its claims come back."""
    claims = oidc.OidcBackend().verify_token(_flow(provider).tokens("dana@wintercorp.com", nonce="n-123")["id_token"], nonce="n-123")
    assert (claims["iss"], claims["aud"], claims["hd"], claims["email"]) == (provider.issuer, provider.client_id, "wintercorp.com", "dana@wintercorp.com")


def test_another_nonce_is_refused(provider):
    """A token minted for another authorization request (a replayed or injected one) fails the nonce check."""
    token = _flow(provider).tokens("dana@wintercorp.com", nonce="n-123")["id_token"]
    with pytest.raises(SuspiciousOperation):
        oidc.OidcBackend().verify_token(token, nonce="another")


def test_a_tampered_token_is_refused(provider):
    """frank's token with hd: wintercorp.com written into it (the signature kept): the JWKS key refuses it."""
    header, payload, signature = _flow(provider).tokens("frank@example.org", nonce="n")["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "hd": "wintercorp.com"}).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        oidc.OidcBackend().verify_token(f"{header}.{forged}.{signature}", nonce="n")


def test_a_key_not_in_the_jwks_is_refused(provider):
    """A token signed with some other key under a made-up kid: no key of the provider's matches."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(provider), key, algorithm="RS256", headers={"kid": "not-the-providers"})
    with pytest.raises(SuspiciousOperation):
        oidc.OidcBackend().verify_token(token, nonce="n")


def _claims(provider, **changes):
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": provider.client_id, "sub": "1234", "iat": now, "exp": now + 600, "nonce": "n"}
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


@pytest.mark.parametrize(
    "changes, refused",
    [
        pytest.param({}, None, id="valid"),
        pytest.param({"aud": "another-client"}, jwt.InvalidAudienceError, id="another-clients-token"),
        pytest.param({"aud": None}, jwt.MissingRequiredClaimError, id="no-aud"),
        pytest.param({"iss": "http://localhost:1/_sandbox/oidc"}, jwt.InvalidIssuerError, id="another-issuer"),
        pytest.param({"exp": int(time.time()) - 3600}, jwt.ExpiredSignatureError, id="expired"),
        pytest.param({"iat": None}, jwt.MissingRequiredClaimError, id="no-iat"),
        pytest.param({"sub": None}, jwt.MissingRequiredClaimError, id="no-sub"),
        pytest.param({"sub": ""}, oidc.SsoFailed, id="empty-sub"),
    ],
)
def test_the_claims_the_library_skips_are_checked(provider, changes, refused):
    """get_payload_data: iss is OIDC_ISSUER, aud our client ID, exp/iat/sub present; the signature RS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(provider, **changes), key, algorithm="RS256")
    if refused is None:
        assert oidc.OidcBackend().get_payload_data(token, key.public_key())["sub"] == "1234"
    else:
        with pytest.raises(refused):
            oidc.OidcBackend().get_payload_data(token, key.public_key())


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the secret is short for HMAC: that is no concern of an attacker's
def test_hs256_with_the_client_secret_is_refused(provider):
    """An HMAC token 'signed' with the shared client secret (alg confusion): RS256 only."""
    token = jwt.encode(_claims(provider), provider.client_secret, algorithm="HS256")
    with pytest.raises(jwt.InvalidAlgorithmError):
        oidc.OidcBackend().get_payload_data(token, provider.client_secret)


def test_a_discovery_document_naming_another_issuer_is_refused(provider, settings):
    """The sandbox reached as 127.0.0.1 names its issuer localhost: the document is not OIDC_ISSUER's."""
    settings.OIDC_ISSUER = provider.issuer.replace("//localhost:", "//127.0.0.1:")
    oidc.discovery_forget()
    with pytest.raises(oidc.SsoFailed, match="names the issuer"):
        oidc.endpoints()


def test_discovery_is_fetched_once(provider):
    """The endpoints are the issuer's, and kept: a second look does not fetch again."""
    first = oidc.endpoints()
    assert first.authorization == f"{provider.issuer}/authorize" and first.jwks == f"{provider.issuer}/jwks.json"
    assert oidc.endpoints() is first


def test_a_username_is_the_pair_not_the_email():
    """The same sub at two issuers is two people; the same pair is always one username."""
    a = oidc.username_for(iss="https://accounts.google.com", sub="42")
    assert a == oidc.username_for(iss="https://accounts.google.com", sub="42")
    assert a != oidc.username_for(iss="https://wintercorp.okta.com", sub="42")
    assert a.startswith("oidc:") and len(a) <= 150


def test_a_failed_discovery_is_not_retried_at_once(settings):
    """A provider answering 500: one fetch, and the next sign-ins within RETRY_AFTER do not fetch again."""
    fetched = []

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 -- http.server's name
            fetched.append(self.path)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.OIDC_ISSUER = f"http://127.0.0.1:{server.server_port}/_sandbox/oidc"
        oidc.discovery_forget()
        for _ in range(3):
            with pytest.raises(oidc.SsoFailed):
                oidc.endpoints()
        assert fetched == ["/_sandbox/oidc/.well-known/openid-configuration"]
    finally:
        server.shutdown()
        server.server_close()
