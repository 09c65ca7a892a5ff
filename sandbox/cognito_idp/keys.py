"""Each user pool's own token-signing key pair, as AWS gives every pool.

moto signs every pool's tokens with one private key that ships inside the
moto wheel (kid `dummy`), so anyone with moto installed could mint an ID
token any pool would accept, `cognito:preferred_role` included. The sandbox
makes one RSA key pair per pool when the pool is created, publishes only its
public half in that pool's JWKS under a `kid` of its own, and never trusts
moto's key.
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_SIZE = 2048  # bits, what Cognito's RS256 keys use; generating one takes ~50-100 ms
ALGORITHM = "RS256"


def _thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: a `kid` derived from the key itself, so it can never
    collide with another pool's or with moto's `dummy`."""
    canonical = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass(eq=False)
class SigningKey:
    """A pool's key pair. Only the PEM is persisted; the parsed key objects are
    built once per process and reused for every token."""

    private_pem: bytes
    _private: rsa.RSAPrivateKey | None = field(default=None, repr=False)
    _public_jwk: dict[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def generate(cls) -> "SigningKey":
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(private_pem=pem, _private=private)

    def __getstate__(self) -> dict[str, Any]:
        return {"private_pem": self.private_pem}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.private_pem, self._private, self._public_jwk = state["private_pem"], None, None

    @property
    def private(self) -> rsa.RSAPrivateKey:
        if self._private is None:
            loaded = serialization.load_pem_private_key(self.private_pem, password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            self._private = loaded
        return self._private

    @property
    def public(self) -> rsa.RSAPublicKey:
        return self.private.public_key()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The JWKS entry, shaped like Cognito's (alg, e, kid, kty, n, use)."""
        if self._public_jwk is None:
            entry = RSAAlgorithm.to_jwk(self.public, as_dict=True)
            self._public_jwk = {
                "alg": ALGORITHM,
                "e": entry["e"],
                "kid": _thumbprint(entry),
                "kty": "RSA",
                "n": entry["n"],
                "use": "sig",
            }
        return self._public_jwk

    @property
    def kid(self) -> str:
        return self.public_jwk["kid"]

    def sign(self, claims: dict[str, Any]) -> str:
        # Cognito's token header is exactly {kid, alg}: no `typ`.
        return jwt.encode(claims, self.private, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": None})
