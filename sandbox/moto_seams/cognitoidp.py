"""moto's user pools (cognito-idp), made to behave as AWS's do where
Photoshare depends on it.

- Each pool signs with a key pair of its own and publishes only that key:
  moto signs every pool's tokens with one key whose private half ships in the
  moto wheel, so anyone could mint a token any pool would accept.
- ID tokens carry `cognito:groups`, `cognito:roles` and
  `cognito:preferred_role`, which moto omits.
- SECRET_HASH is required wherever AWS requires it (the rule itself is in
  `sandbox/cognito_idp/secret_hash.py`).
- A user writes only the attributes her app client may write, and only ones
  the pool has, and her ID token carries only the custom attributes that
  client may read (`sandbox/cognito_idp/attributes.py`); moto lets her write
  any, and puts every one in every ID token.
- `UpdateUserPool` keeps the settings AWS fixes at creation; refreshes are
  checked against the pool username and refused for disabled users; a reset
  password must meet the pool's policy; `GlobalSignOut` finds the user
  however their name was spelled.
https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from moto.cognitoidp import urls as cognitoidp_urls
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolAttribute, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError

from sandbox.cognito_idp import secret_hash
from sandbox.cognito_idp.attributes import attributes_write_check, id_token_readable
from sandbox.cognito_idp.keys import SigningKey
from sandbox.errors import AwsError
from sandbox.moto_seams.core import ACCOUNT_ID


def _user_pool(region: str, pool_id: str) -> CognitoIdpUserPool | None:
    return cognitoidp_backends[ACCOUNT_ID][region].user_pools.get(pool_id)


def _signing_key(pool: CognitoIdpUserPool) -> SigningKey | None:
    return getattr(pool, "sandbox_signing_key", None)


def user_pool_jwks(region: str, pool_id: str) -> dict[str, Any] | None:
    """The public JWKS a user pool signs its tokens with (its own key, and only
    that), or None if no such pool."""
    pool = _user_pool(region, pool_id)
    key = _signing_key(pool) if pool is not None else None
    return None if key is None else {"keys": [key.public_jwk]}


def user_pool_verification_key(region: str, pool_id: str, kid: Any) -> Any | None:
    """The pool's public key object if `kid` is its key's, else None (moto's
    shared `dummy` key is nobody's)."""
    pool = _user_pool(region, pool_id)
    key = _signing_key(pool) if pool is not None else None
    return key.public if key is not None and kid == key.kid else None


def user_pool_signing_key_for_tests(region: str, pool_id: str) -> SigningKey | None:
    """A pool's private key, for tests running the sandbox in their own process
    that need a token the pool could have signed with one claim changed (what
    only a stolen key allows). Nothing serves it over HTTP or writes it
    anywhere but the 0600 state file."""
    pool = _user_pool(region, pool_id)
    return _signing_key(pool) if pool is not None else None


def user_pool_session_active(region: str, pool_id: str, *, sub: str, client_id: str, origin_jti: str) -> bool:
    """Whether the sign-in that issued a token (its `origin_jti`) still stands:
    the user exists and is enabled, and no global sign-out revoked the refresh
    token of that sign-in. This is what `ServerSideTokenCheck` asks the user pool."""
    pool = _user_pool(region, pool_id)
    if pool is None:
        return False
    for entry in pool.refresh_tokens.values():  # None once signed out
        if entry is not None and entry[0] == client_id and entry[2] == origin_jti:
            user = pool._get_user(entry[1])
            return user is not None and user.id == sub and user.enabled
    return False


def user_pool_of_client(client_id: str) -> tuple[str, str] | None:
    """(region, user pool ID) of an app client, or None."""
    for region, backend in cognitoidp_backends[ACCOUNT_ID].items():
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return region, pool.id
    return None


def _user(region: str, pool_id: str, username: str) -> Any:
    pool = _user_pool(region, pool_id)
    return pool._get_user(username) if pool is not None else None


def user_email(region: str, pool_id: str, username: str) -> str | None:
    user = _user(region, pool_id, username)
    if user is None:
        return None
    return next((a["Value"] for a in user.attributes if a["Name"] == "email"), None)


def user_status(region: str, pool_id: str, username: str) -> str | None:
    """UNCONFIRMED, CONFIRMED, ...; None if no such user."""
    user = _user(region, pool_id, username)
    return None if user is None else str(getattr(user.status, "value", user.status))


def user_mark_email_verified(region: str, pool_id: str, username: str) -> None:
    """Confirming sign-up with an emailed code verifies the address, as on AWS."""
    user = _user(region, pool_id, username)
    if user is not None:
        user.update_attributes([{"Name": "email_verified", "Value": "true"}])


def _role_claims(groups: set[Any]) -> dict[str, Any]:
    """`cognito:roles` (every group role) and `cognito:preferred_role` (the role of
    the group with the lowest Precedence; none when groups tied for it have
    different roles, as CreateGroup documents), which moto omits."""
    with_roles = sorted(
        (g for g in groups if g.role_arn),
        key=lambda g: (g.precedence if g.precedence is not None else float("inf"), g.group_name),
    )
    if not with_roles:
        return {}
    claims: dict[str, Any] = {"cognito:roles": [g.role_arn for g in with_roles]}
    first = with_roles[0]
    tied = {g.role_arn for g in with_roles if g.precedence == first.precedence}
    if len(tied) == 1:
        claims["cognito:preferred_role"] = first.role_arn
    return claims


_original_pool_init = CognitoIdpUserPool.__init__


def _pool_init_with_own_key(self: CognitoIdpUserPool, *args: Any, **kwargs: Any) -> None:
    """Every pool gets its own key pair at CreateUserPool, and moto's shipped
    key (which any moto user holds) is dropped so nothing can sign with it."""
    _original_pool_init(self, *args, **kwargs)
    self.sandbox_signing_key = SigningKey.generate()
    self.json_web_key = None


def _create_jwt_signed_by_pool(
    self: CognitoIdpUserPool,
    client_id: str,
    username: str,
    token_use: str,
    expires_in: int = 60 * 60,
    extra_data: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """moto's `create_jwt` (same claims), with the role claims in ID tokens, and
    signed with the pool's own key under its own `kid` instead of moto's."""
    user = self._get_user(username)
    extra_data = dict(extra_data or {})
    if token_use == "id":
        if user.groups:
            ordered = sorted(
                user.groups,
                key=lambda g: (g.precedence if g.precedence is not None else float("inf"), g.group_name),
            )
            extra_data["cognito:groups"] = [g.group_name for g in ordered]
        extra_data.update(_role_claims(user.groups))
        client = self.clients.get(client_id)
        extra_data = id_token_readable(extra_data, read_attributes=client.get_readable_fields() if client else None)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.{self.region}.amazonaws.com/{self.id}",
        "sub": user.id,
        "client_id" if token_use == "access" else "aud": client_id,
        "token_use": token_use,
        "iat": now,
        "auth_time": now,
        "exp": now + expires_in,
        "jti": str(uuid.uuid4()),
    }
    username_is_email = "email" in self.extended_config.get("UsernameAttributes", [])
    if token_use == "access":
        claims["username"] = user.id if username_is_email else username
    if token_use == "id":
        claims["cognito:username"] = user.id if username_is_email else username
        if username_is_email:
            claims["email"] = username
    claims.update(extra_data)
    key = _signing_key(self)
    if key is None:  # a pool restored without one is given one on load; never sign with moto's
        raise NotAuthorizedError("The user pool has no signing key.")
    return key.sign(claims), expires_in


# Settings AWS fixes when a user pool is created; UpdateUserPool cannot change them.
_IMMUTABLE_POOL_SETTINGS = ("UsernameAttributes", "UsernameConfiguration", "AliasAttributes")
_original_update_extended_config = CognitoIdpUserPool.update_extended_config


def _update_keeping_immutable(self: CognitoIdpUserPool, extended_config: dict[str, Any]) -> None:
    """moto's UpdateUserPool replaces the whole configuration, which would
    turn an email-sign-in pool into a username pool and lock users out."""
    kept = {k: self.extended_config[k] for k in _IMMUTABLE_POOL_SETTINGS if k in getattr(self, "extended_config", {})}
    _original_update_extended_config(self, {**(extended_config or {}), **kept})


_original_create_refresh_token = CognitoIdpUserPool.create_refresh_token
_original_tokens_from_refresh = CognitoIdpUserPool.create_tokens_from_refresh_token
_original_confirm_forgot_password = CognitoIdpBackend.confirm_forgot_password


def _refresh_token_for_pool_username(self: CognitoIdpUserPool, client_id: str, username: str) -> tuple[str, str]:
    """Record the user's pool username (the `sub` in an email sign-in pool), not
    what they typed: AWS checks a refresh's SECRET_HASH against that name."""
    user = self._get_user(username)
    return _original_create_refresh_token(self, client_id, user.username if user else username)


def _sign_out_any_spelling(self: CognitoIdpUserPool, username: str) -> None:
    """GlobalSignOut revokes the user's sessions however their name was given."""
    user = self._get_user(username)
    name = user.username if user else username
    for token, entry in list(self.refresh_tokens.items()):
        if entry is not None and entry[1] == name:
            self.refresh_tokens[token] = None
    for token, (_, signed_in) in list(self.access_tokens.items()):
        if signed_in == name:
            self.access_tokens.pop(token)


def _tokens_from_refresh_if_enabled(self: CognitoIdpUserPool, refresh_token: str) -> tuple[str, str, int]:
    entry = self.refresh_tokens.get(refresh_token)
    user = self._get_user(entry[1]) if entry else None
    if user is not None and not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    return _original_tokens_from_refresh(self, refresh_token)


def _confirm_forgot_password_with_policy(
    self: CognitoIdpBackend, client_id: str, username: str, password: str, confirmation_code: str
) -> None:
    """AWS applies the pool's password policy to a reset password; moto does not."""
    for pool in self.user_pools.values():
        if client_id in pool.clients:
            self._validate_password(pool.id, password)
            break
    _original_confirm_forgot_password(self, client_id, username, password, confirmation_code)


# --- user pools: who may write which attribute (the rule is in cognito_idp/attributes.py) ---

_original_update_user_attributes = CognitoIdpBackend.update_user_attributes
_original_sign_up = CognitoIdpBackend.sign_up


def _attributes_check(pool: CognitoIdpUserPool, client_id: str, attributes: list[dict[str, str]]) -> None:
    client = pool.clients.get(client_id)
    schema = {*pool.schema_attributes, *CognitoIdpUserPoolAttribute.STANDARD_SCHEMA}  # AWS pools always have the standard ones
    try:
        attributes_write_check(
            names=[a.get("Name", "") for a in attributes or []],
            schema=schema,
            write_attributes=client.extended_config.get("WriteAttributes") if client is not None else None,
        )
    except AwsError as error:  # moto renders its own error type as Cognito's JSON
        raise JsonRESTError(error.code, error.message) from None


def _update_user_attributes_as_permitted(self: CognitoIdpBackend, access_token: str, attributes: list[dict[str, str]]) -> None:
    for pool in self.user_pools.values():
        if access_token in pool.access_tokens:
            _attributes_check(pool, pool.access_tokens[access_token][0], attributes)
            break
    _original_update_user_attributes(self, access_token, attributes)


def _sign_up_as_permitted(
    self: CognitoIdpBackend, client_id: str, username: str, password: str, attributes: list[dict[str, str]]
) -> Any:
    for pool in self.user_pools.values():
        if client_id in pool.clients:
            _attributes_check(pool, client_id, attributes)
            break
    return _original_sign_up(self, client_id, username, password, attributes)


# --- user pools: SECRET_HASH (the rule is in sandbox/secret_hash.py) --------

def _client(client_id: str) -> tuple[CognitoIdpUserPool, Any] | tuple[None, None]:
    for backend in cognitoidp_backends[ACCOUNT_ID].values():
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return pool, pool.clients[client_id]
    return None, None


def user_pool_secret_hash_check(operation: str, params: Mapping[str, Any]) -> None:
    """Refuse (AwsError) a call that needs SECRET_HASH for a client with a
    secret and does not carry the right one. Calls for clients without a
    secret, unknown clients and unknown refresh tokens pass: moto answers those."""
    call = secret_hash.presented(operation, params)
    if call is None:
        return
    pool, client = _client(call.client_id)
    if client is None or not client.generate_secret:
        return
    username = call.username
    if call.refresh_token is not None:
        entry = pool.refresh_tokens.get(call.refresh_token)
        if entry is None:
            return  # moto refuses an unknown or revoked refresh token itself
        username = entry[1]  # recorded as the pool username (_refresh_token_for_pool_username)
    secret_hash.verify(call, client_secret=client.secret, username=username)


def _requiring_secret_hash(operation: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(self: CognitoIdpResponse) -> Any:
        try:
            params = self.parameters
        except ValueError:
            params = {}  # not JSON: moto's own parsing refuses it
        if isinstance(params, Mapping):
            try:
                user_pool_secret_hash_check(operation, params)
            except AwsError as error:  # moto renders its own error type as Cognito's JSON
                raise JsonRESTError(error.code, error.message) from None
        return handler(self)

    checked.__name__ = handler.__name__
    return checked


# moto answers these; ResendConfirmationCode is ours (cognito_idp/codes.py) and checks too.
_MOTO_SECRET_HASH_HANDLERS = {
    "SignUp": "sign_up",
    "ConfirmSignUp": "confirm_sign_up",
    "ForgotPassword": "forgot_password",
    "ConfirmForgotPassword": "confirm_forgot_password",
    "InitiateAuth": "initiate_auth",
    "AdminInitiateAuth": "admin_initiate_auth",
    "RespondToAuthChallenge": "respond_to_auth_challenge",
    "AdminRespondToAuthChallenge": "admin_respond_to_auth_challenge",
}
_ORIGINAL_HANDLERS = {name: getattr(CognitoIdpResponse, name) for name in _MOTO_SECRET_HASH_HANDLERS.values()}


# --- the published keys -------------------------------------------------------------

_JWKS_PATH = "{0}/(?P<user_pool_id>[^/]+)/.well-known/jwks.json$"
_OPENID_PATH = "{0}/(?P<user_pool_id>[^/]+)/.well-known/openid-configuration$"
_original_openid_configuration = cognitoidp_urls.url_paths[_OPENID_PATH]


def _pool_in_path(full_url: str) -> tuple[str, str]:
    pool_id = urlparse(full_url).path.strip("/").split("/")[0]
    return (pool_id.split("_", 1)[0] if "_" in pool_id else "us-east-1"), pool_id


def _no_such_pool(pool_id: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"message": f"User pool {pool_id} does not exist."}).encode()
    return 404, {"Content-Type": "application/json"}, body


def _serve_pool_jwks(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
    """`/<pool id>/.well-known/jwks.json`: that pool's own public key, nothing else."""
    region, pool_id = _pool_in_path(full_url)
    jwks = user_pool_jwks(region, pool_id)
    if jwks is None:
        return _no_such_pool(pool_id)
    return 200, {"Content-Type": "application/json"}, json.dumps(jwks).encode()


def _serve_openid_configuration(request: Any, full_url: str, headers: Any) -> Any:
    region, pool_id = _pool_in_path(full_url)
    if _user_pool(region, pool_id) is None:
        return _no_such_pool(pool_id)
    return _original_openid_configuration(request, full_url, headers)


def install() -> None:
    """Apply the fixes above. Must run before moto's cognito-idp app is built
    (MotoApps builds it on the first request), since the app copies the URL map."""
    CognitoIdpUserPool.__init__ = _pool_init_with_own_key  # type: ignore[method-assign]
    CognitoIdpUserPool.create_jwt = _create_jwt_signed_by_pool  # type: ignore[method-assign]
    cognitoidp_urls.url_paths[_JWKS_PATH] = _serve_pool_jwks
    cognitoidp_urls.url_paths[_OPENID_PATH] = _serve_openid_configuration
    for operation, name in _MOTO_SECRET_HASH_HANDLERS.items():
        setattr(CognitoIdpResponse, name, _requiring_secret_hash(operation, _ORIGINAL_HANDLERS[name]))
    CognitoIdpUserPool.update_extended_config = _update_keeping_immutable  # type: ignore[method-assign]
    CognitoIdpUserPool.create_refresh_token = _refresh_token_for_pool_username  # type: ignore[method-assign]
    CognitoIdpUserPool.sign_out = _sign_out_any_spelling  # type: ignore[method-assign]
    CognitoIdpUserPool.create_tokens_from_refresh_token = _tokens_from_refresh_if_enabled  # type: ignore[method-assign]
    CognitoIdpBackend.confirm_forgot_password = _confirm_forgot_password_with_policy  # type: ignore[method-assign]
    CognitoIdpBackend.update_user_attributes = _update_user_attributes_as_permitted  # type: ignore[method-assign]
    CognitoIdpBackend.sign_up = _sign_up_as_permitted  # type: ignore[method-assign]



def signing_keys_for_pools_without() -> list[str]:
    """State saved before pools had their own keys: each such pool gets a fresh
    key (a new `kid`), and tokens signed with moto's shared key, which that
    state's pools used, verify nowhere any more. Returns the pools' IDs."""
    upgraded = []
    for backend in cognitoidp_backends[ACCOUNT_ID].values():
        for pool in backend.user_pools.values():
            if _signing_key(pool) is None:
                pool.sandbox_signing_key = SigningKey.generate()
                upgraded.append(pool.id)
            pool.json_web_key = None
    return upgraded
