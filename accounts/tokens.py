"""Verifying user-pool ID tokens on the server, the way AWS says to.

Checks, in order: RS256 signature with a key from the pool's JWKS (fetched
once and cached; an unknown `kid` triggers one refetch, which covers key
rotation), `iss` equal to this pool, `aud` equal to this app client,
`token_use` = `id` (an access token has no `aud` and a different use), and
`exp`. Anything else (`alg: none`, HS256 with the public key as secret, a
token from another pool) is refused.
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import jwt
from django.conf import settings

from accounts import cognito
from core.deployment import deployment_get

log = logging.getLogger(__name__)

JWKS_CACHE_SECONDS = 6 * 3600  # how long fetched signing keys are trusted before a refetch
CLOCK_LEEWAY = 30  # seconds of clock difference tolerated on exp/iat

_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()


class InvalidToken(Exception):
    """The token must not be trusted; the reason is for the log only."""


def _jwk_client(url: str) -> jwt.PyJWKClient:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = jwt.PyJWKClient(
                url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=settings.AWS_READ_TIMEOUT
            )
        return client


def id_token_verify(token: str) -> dict[str, Any]:
    """The claims of a valid ID token for this app client, or InvalidToken."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidToken("not a JWT")
    try:
        key = _jwk_client(cognito.jwks_url()).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=deployment_get().app_client_id,
            issuer=cognito.issuer(),
            leeway=CLOCK_LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
        raise InvalidToken(f"{type(exc).__name__}: {exc}") from exc
    if claims.get("token_use") != "id":
        raise InvalidToken(f"token_use is {claims.get('token_use')!r}, not 'id'")
    return claims
