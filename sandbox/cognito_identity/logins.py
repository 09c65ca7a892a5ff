"""Checking the ID tokens presented in `Logins`, as the identity pool does
before it links or hands out anything: a user pool's here, an OpenID Connect
provider's in `oidc.py`.

The token must be signed by the user pool's own key (RS256), name that pool
as its issuer and one of the configured app clients as its `aud`, be an ID
token (an access token has no `aud`), not be expired and, with
`ServerSideTokenCheck`, come from a sign-in the user pool still honours.
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from sandbox import moto_seams
from sandbox.cognito_identity.exceptions import UNSUPPORTED_PROVIDER, invalid_parameter, not_authorized
from sandbox.cognito_identity.models import TOKEN_PROVIDER, IdentityPool, Login
from sandbox.cognito_identity.oidc import oidc_login_verify, oidc_provider_of

USER_POOL_PROVIDER = re.compile(r"^cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+_[0-9a-zA-Z]+)$")
MAX_LOGINS = 10  # providers per `Logins` map


def login_verify(pool: IdentityPool, provider: str, token: Any) -> Login:
    """The login `token` proves for `provider`, or NotAuthorizedException."""
    if provider == TOKEN_PROVIDER:  # the pool's own token, from GetOpenIdTokenForDeveloperIdentity
        from sandbox.cognito_identity import developer  # imported here: developer.py imports this module

        return developer.token_login(pool, token)
    oidc = oidc_provider_of(pool, provider) if isinstance(provider, str) else None
    if oidc is not None:
        return oidc_login_verify(oidc, token)
    if isinstance(provider, str) and moto_seams.iam.oidc_provider_arn(provider) in pool.description.get("OpenIdConnectProviderARNs", []):
        raise not_authorized(UNSUPPORTED_PROVIDER)  # listed by the pool, since deleted from IAM
    configured = [p for p in pool.description["CognitoIdentityProviders"] if p["ProviderName"] == provider]
    match = USER_POOL_PROVIDER.match(provider)
    if not configured or not match or not isinstance(token, str):
        raise not_authorized(UNSUPPORTED_PROVIDER if configured or match else "Invalid login token. Unsupported provider.")
    try:
        header = jwt.get_unverified_header(token)
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError as exc:
        raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from exc
    # The issuer says whose keys to verify with, so AWS compares it first: a
    # token of another pool is an issuer mismatch, not a bad signature.
    if issuer != f"https://{provider}":
        raise not_authorized("Invalid login token. Issuer doesn't match providerName")
    # Only the pool's own key verifies: a token signed with moto's shared key
    # (kid "dummy", whose private half ships in the moto wheel) finds none.
    key = moto_seams.cognitoidp.user_pool_verification_key(match["region"], match["pool"], header.get("kid"))
    if header.get("alg") != "RS256" or key is None:
        raise not_authorized("Invalid login token. Couldn't verify signed token.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iss": False},
        )
    except jwt.InvalidTokenError as exc:
        raise not_authorized("Invalid login token. Couldn't verify signed token.") from exc
    if "aud" not in claims:
        raise not_authorized("Invalid login token. Missing a required claim: aud")
    if claims.get("token_use") != "id":
        raise not_authorized("Invalid login token. Token is not an ID token.")
    now = int(time.time())
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise not_authorized(f"Invalid login token. Token expired: {now} >= {claims.get('exp')}")
    entry = next((p for p in configured if p["ClientId"] == claims["aud"]), None)
    if entry is None:
        raise not_authorized(UNSUPPORTED_PROVIDER)
    if entry["ServerSideTokenCheck"] and not moto_seams.cognitoidp.user_pool_session_active(
        match["region"], match["pool"], sub=claims.get("sub", ""), client_id=claims["aud"], origin_jti=claims.get("origin_jti", "")
    ):
        raise not_authorized("Invalid login token. Token has been revoked or the user no longer exists.")
    return Login(provider=provider, client_id=claims["aud"], subject=claims["sub"], claims=claims)


def logins_verify(pool: IdentityPool, logins: Any) -> list[Login]:
    """Every login of a `Logins` parameter, verified; [] for a guest."""
    if logins is None:
        return []
    if not isinstance(logins, dict) or len(logins) > MAX_LOGINS:
        raise invalid_parameter(f"Logins must be a map of at most {MAX_LOGINS} providers to tokens.")
    return [login_verify(pool, provider, token) for provider, token in logins.items()]
