"""A tiny OpenID Connect issuer for the tests, as an external provider (Google,
a company's SSO) looks to the identity pool: a discovery document and a JWKS
over HTTP on 127.0.0.1, and ID tokens signed with its own RSA key (pyjwt).

Only what the identity pool reads is served; the sign-in itself (authorize,
token) is the sandbox's own provider's business, not these tests'. `hits`
counts the requests for each path, so a test can see what the sandbox fetched.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def _key() -> tuple[str, rsa.RSAPrivateKey]:
    return f"k-{uuid.uuid4().hex[:8]}", rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    """The issuer at `url` (http://127.0.0.1:<port><path>). `published` are the
    keys its JWKS lists; `signing` the one tokens are signed with."""

    path: str = "/oidc"
    url: str = ""
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    signing: str = ""
    hits: Counter = field(default_factory=Counter)
    # Misbehaviour, for the fetch's limits: a redirect, a huge or slow JWKS, another issuer named.
    jwks_redirect_to: str | None = None
    jwks_padding: int = 0
    jwks_delay: float = 0.0
    discovery_issuer: str | None = None
    jwks_uri: str | None = None
    jwks_body: bytes | None = None  # served as the JWKS instead of the keys (not JSON, nested too deep, ...)

    def __post_init__(self) -> None:
        kid, key = _key()
        self.keys[kid] = key
        self.published.append(kid)
        self.signing = kid

    @property
    def name(self) -> str:
        """The provider's name: its URL without the scheme, as IAM and `Logins` name it."""
        return self.url.split("://", 1)[1]

    def rotate(self) -> str:
        """A new signing key, published beside the old ones."""
        kid, key = _key()
        self.keys[kid] = key
        self.published.append(kid)
        self.signing = kid
        return kid

    def token(self, *, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        """An ID token of this issuer; `claims` override iss, aud, sub, iat and exp (None drops one)."""
        now = int(time.time())
        body = {"iss": self.url, "aud": "photoshare-web", "sub": "user-1", "iat": now, "exp": now + 600, **claims}
        body = {k: v for k, v in body.items() if v is not None}
        kid = kid or self.signing
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid, **(headers or {})})

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            jwk = json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys, **({"padding": "x" * self.jwks_padding} if self.jwks_padding else {})}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        self.hits[path] += 1
        if path == f"{self.path}/.well-known/openid-configuration":
            body = {"issuer": self.discovery_issuer or self.url, "jwks_uri": self.jwks_uri or f"{self.url}/jwks"}
        elif path == f"{self.path}/jwks":
            if self.jwks_redirect_to:
                start_response("302 Found", [("Location", self.jwks_redirect_to)])
                return [b""]
            if self.jwks_delay:
                time.sleep(self.jwks_delay)
            if self.jwks_body is not None:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [self.jwks_body]
            body = self.jwks()
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


@contextlib.contextmanager
def issuer_running(path: str = "/oidc") -> Iterator[Issuer]:
    """An issuer on 127.0.0.1:<free port> for the duration of the block."""
    issuer = Issuer(path=path)
    server = make_server("127.0.0.1", 0, issuer, server_class=_Server, handler_class=_QuietHandler)
    issuer.url = f"http://127.0.0.1:{server.server_port}{path}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-issuer", daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
