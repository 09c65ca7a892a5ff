"""`id_token_verify`: a user-pool ID token is trusted only when it is signed
with the pool's RS256 key and names this pool, this app client, `token_use`
id, and an `exp` still ahead. Every other token is refused.

Attacks are built from alice's real tokens: tampered in place, re-signed with
a key of ours, or re-signed with the pool's own key (see `Forge`) so that
exactly one claim is wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts import cognito, tokens
from accounts.tokens import CLOCK_LEEWAY, InvalidToken, id_token_verify
from tests.site_fixtures import Forge
from tests.sandbox_kit import SandboxKit

OUR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload_replaced(token: str, **changes: str) -> str:
    """The same header and signature around an edited payload."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _hs256_with_public_key(f: Forge) -> str:
    """The classic key-confusion forgery: HMAC-signed with the pool's public key as the secret."""
    secret = f.pool_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": Forge.POOL_KID}).encode())
    payload = _b64(json.dumps(f.claims()).encode())
    signature = _b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def _another_pool(f: Forge, kit: SandboxKit) -> str:
    """A genuine ID token from a second user pool in the same sandbox (same moto key, other issuer)."""
    return kit.deployment(users=("alice",)).id_token("alice")


def _another_app_client(f: Forge, kit: SandboxKit) -> str:
    """A genuine ID token for alice from another app client of this very pool."""
    pool_id = f.claims()["iss"].rsplit("/", 1)[1]
    idp = kit.client("cognito-idp")
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="not-photoshare", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    try:
        from django.conf import settings

        return kit.unsigned("cognito-idp").initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice@example.com", "PASSWORD": settings.DEMO_PASSWORD},
        )["AuthenticationResult"]["IdToken"]
    finally:
        idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)


def _ago(seconds: int) -> int:
    return int(time.time()) - seconds


# Scenario -> how to make the token from alice's real ones (and the sandbox).
ATTACKS: dict[str, Callable[[Forge, SandboxKit], str]] = {
    "payload edited, signature kept (another sub)": lambda f, k: _payload_replaced(f.tokens.id_token, sub="00000000-0000-0000-0000-000000000000"),
    "payload edited, signature kept (another email)": lambda f, k: _payload_replaced(f.tokens.id_token, email="bob@example.com"),
    "signature stripped": lambda f, k: f.tokens.id_token.rsplit(".", 1)[0] + ".",
    "alg none": lambda f, k: jwt.encode(f.claims(), None, algorithm="none", headers={"kid": Forge.POOL_KID}),
    "HS256 with the pool's public key as secret": lambda f, k: _hs256_with_public_key(f),
    "re-signed with our own RSA key under the pool's kid": lambda f, k: f.sign(f.claims(), key=OUR_KEY),
    "re-signed with our own RSA key under a new kid": lambda f, k: f.sign(f.claims(), key=OUR_KEY, kid="ours"),
    "pool's key but RS512": lambda f, k: f.sign(f.claims(), algorithm="RS512"),
    "genuine token from another user pool": _another_pool,
    "issuer of another pool": lambda f, k: f.resigned(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
    "issuer of this pool in another region": lambda f, k: f.resigned(iss=f.claims()["iss"].replace("us-east-1.", "eu-west-1.")),
    "genuine token from another app client": _another_app_client,
    "audience of another app client": lambda f, k: f.resigned(aud="someotherclient"),
    "access token used as an ID token": lambda f, k: f.tokens.access_token,
    "ID token claims with token_use access": lambda f, k: f.resigned(token_use="access"),
    "no token_use": lambda f, k: f.resigned(token_use=None),
    "expired an hour ago": lambda f, k: f.resigned(iat=_ago(7200), exp=_ago(3600)),
    "expired just beyond the clock leeway": lambda f, k: f.resigned(exp=_ago(CLOCK_LEEWAY + 5)),
    "no exp": lambda f, k: f.resigned(exp=None),
    "no sub": lambda f, k: f.resigned(sub=None),
    "no aud": lambda f, k: f.resigned(aud=None),
    "not a JWT": lambda f, k: "not-a-token",
    "two parts only": lambda f, k: f.tokens.id_token.rsplit(".", 1)[0],
    "empty": lambda f, k: "",
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_or_foreign_tokens_are_refused(forge, sandbox, attack):
    """Each forged, foreign, misused or expired token raises InvalidToken."""
    token = ATTACKS[attack](forge, sandbox)
    with pytest.raises(InvalidToken):
        id_token_verify(token)


# Scenario -> changes to alice's claims that must still verify.
GENUINE = {
    "alice's token as issued": None,
    "re-signed unchanged by the pool's key (the forgery control)": {},
    "expired within the clock leeway": {"exp": -(CLOCK_LEEWAY - 10)},
}


@pytest.mark.parametrize("case", GENUINE)
def test_genuine_tokens_verify_to_their_claims(forge, case):
    """A token the pool issued for this app client verifies and yields alice's claims."""
    changes = GENUINE[case]
    if changes is None:
        token = forge.tokens.id_token
    else:
        token = forge.resigned(**{k: _ago(-v) if k == "exp" else v for k, v in changes.items()})
    claims = id_token_verify(token)
    assert claims["email"] == "alice@example.com"
    assert claims["token_use"] == "id"
    assert claims["sub"] == forge.claims()["sub"]


def test_signing_keys_are_fetched_once_for_many_verifications(forge, monkeypatch):
    """The JWKS is fetched on first use and cached: ten verifications, one fetch."""
    fetched: list[str] = []
    fetch = jwt.PyJWKClient.fetch_data

    def counting_fetch(self):  # a spy: the real fetch still happens
        fetched.append(self.uri)
        return fetch(self)

    monkeypatch.setattr(tokens, "_clients", {})
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", counting_fetch)
    for _ in range(10):
        id_token_verify(forge.tokens.id_token)
    assert fetched == [cognito.jwks_url()]
