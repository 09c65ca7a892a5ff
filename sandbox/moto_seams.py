"""Every place the sandbox touches moto's internals, and nowhere else.

moto is the base we build on (user pools, STS, IAM, S3), but its public surface
is HTTP; our layer needs a few things HTTP cannot give it: the user pool's
signing keys and sign-out state, credentials minted through STS for a role,
the role and user policies to evaluate, a bucket's CORS rules. A moto upgrade
should only ever touch this file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

# moto reads this when its settings module is imported: without it every
# backend answers with `Access-Control-Allow-Origin: *`, which would hide a
# missing bucket CORS rule (the classic "works locally, fails on AWS").
os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"

from moto.cognitoidp import urls as cognitoidp_urls  # noqa: E402
from moto.cognitoidp.exceptions import NotAuthorizedError  # noqa: E402
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, cognitoidp_backends  # noqa: E402
from moto.cognitoidp.responses import CognitoIdpResponse  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from joserfc.jwk import RSAKey  # noqa: E402
from moto import __version__ as MOTO_VERSION  # noqa: E402, F401  (persistence records it)
from moto.s3.models import FakeKey, s3_backends  # noqa: E402
from moto.sts.models import sts_backends  # noqa: E402

from sandbox import user_pool_secret_hash  # noqa: E402
from sandbox.errors import AwsError  # noqa: E402
from sandbox.user_pool_keys import SigningKey  # noqa: E402

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
PARTITION = "aws"


# moto's backend module per service the gateway forwards to.
_BACKENDS = {"s3": "s3", "iam": "iam", "sts": "sts", "cognito-idp": "cognitoidp"}


class MotoApps:
    """moto's per-service Flask apps. The gateway already knows the service,
    so it skips moto's host-guessing dispatcher (a third of a request's time)."""

    def __init__(self) -> None:
        self._dispatcher = DomainDispatcherApplication(create_backend_app)

    def app_for(self, service: str) -> Any:
        backend = _BACKENDS[service]
        with self._dispatcher.lock:
            app = self._dispatcher.app_instances.get(backend)
            if app is None:
                app = self._dispatcher.app_instances[backend] = create_backend_app(backend)
            return app


# moto's handler keeps S3 metadata headers whose names contain underscores,
# recording their spelling under this environ key (the gateway carries it over).
RequestHandler = MotoRequestHandler
PRESERVED_HEADER_NAMES = "moto.preserved_header_names"


# --- user pools ---------------------------------------------------------------

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


# --- user pools: SECRET_HASH (the rule is in sandbox/user_pool_secret_hash.py) --------

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
    call = user_pool_secret_hash.presented(operation, params)
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
    user_pool_secret_hash.verify(call, client_secret=client.secret, username=username)


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


# moto answers these; ResendConfirmationCode is ours (user_pool_codes) and checks too.
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


# --- user pools: the published keys -----------------------------------------------------

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


def install_user_pool_fixes() -> None:
    """Make moto's user pools behave as AWS's do where Photoshare depends on
    it: each pool signs with its own key and publishes only that key, ID
    tokens carry the role claims, SECRET_HASH is required wherever AWS
    requires it, updates keep immutable settings, refreshes check SECRET_HASH
    against the pool username and refuse disabled users, and a reset password
    must meet the policy. Must run before moto's cognito-idp app is built
    (MotoApps builds it on the first request), since the app copies its URL map."""
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


# --- STS ------------------------------------------------------------------------

@dataclass(frozen=True)
class Minted:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime  # aware, UTC
    arn: str  # arn:aws:sts::<account>:assumed-role/<Role>/<session>
    user_id: str  # <role id>:<session>, the value of ${aws:userid}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def mint_role_session(*, role_arn: str, session_name: str, duration_seconds: int, region: str) -> Minted:
    """Temporary credentials for `role_arn`, minted by moto's STS so that
    `GetCallerIdentity` and every moto backend know them."""
    sts = sts_backends[ACCOUNT_ID][PARTITION]
    assumed = sts.assume_role_with_web_identity(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy=None,
        duration=duration_seconds,
        external_id=None,
    )
    return Minted(
        access_key_id=assumed.access_key_id,
        secret_access_key=assumed.secret_access_key,
        session_token=assumed.session_token,
        expiration=_aware(assumed.expiration),
        arn=assumed.arn,
        user_id=assumed.user_id,
    )


@dataclass(frozen=True)
class KnownKey:
    """An access key moto issued, as the request authorizer needs it."""

    secret_access_key: str
    session_token: str | None  # None for an IAM user's long-term key
    expiration: dt.datetime | None
    principal_arn: str  # the role ARN for a session, the user ARN for a user
    caller_arn: str
    user_id: str
    user_name: str | None
    active: bool = True


def known_key(access_key_id: str) -> KnownKey | None:
    """An STS session moto minted (e.g. `sts:AssumeRole`) or an IAM user's key."""
    assumed = sts_backends[ACCOUNT_ID][PARTITION].get_assumed_role_from_access_key(access_key_id)
    if assumed is not None:
        return KnownKey(
            secret_access_key=assumed.secret_access_key,
            session_token=assumed.session_token,
            expiration=_aware(assumed.expiration),
            principal_arn=assumed.role_arn,
            caller_arn=assumed.arn,
            user_id=assumed.user_id,
            user_name=None,
        )
    iam = iam_backends[ACCOUNT_ID][PARTITION]
    user = iam.get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
    return KnownKey(
        secret_access_key=key.secret_access_key,
        session_token=None,
        expiration=None,
        principal_arn=user.arn,
        caller_arn=user.arn,
        user_id=user.id,
        user_name=user.name,
        active=key.status == "Active",
    )


# --- IAM ------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleView:
    arn: str
    name: str
    role_id: str
    trust_policy: str  # JSON text, parsed (and cached) by the evaluator
    policies: tuple[str, ...]  # inline and attached managed policy documents (JSON text)


def _default_document(managed: Any) -> str:
    return next(v.document for v in managed.versions if v.is_default)


def role_by_arn(arn: str) -> RoleView | None:
    iam = iam_backends[ACCOUNT_ID][PARTITION]
    try:
        role = iam.get_role_by_arn(arn)
    except Exception:  # moto raises its own IAMNotFoundException; absence is all we need
        return None
    documents = [*role.policies.values(), *(_default_document(p) for p in role.managed_policies.values())]
    trust = role.assume_role_policy_document
    return RoleView(
        arn=role.arn,
        name=role.name,
        role_id=role.id,
        trust_policy=trust if isinstance(trust, str) else json.dumps(trust),
        policies=tuple(documents),
    )


def user_policies(user_name: str) -> tuple[str, ...]:
    """An IAM user's inline, attached, and group policy documents."""
    iam = iam_backends[ACCOUNT_ID][PARTITION]
    user = iam.get_user(user_name)
    documents = [*user.policies.values(), *(_default_document(p) for p in user.managed_policies.values())]
    for group in iam.get_groups_for_user(user_name):
        documents += [*group.policies.values(), *(_default_document(p) for p in group.managed_policies.values())]
    return tuple(documents)


# --- S3 -------------------------------------------------------------------------

@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int | None


def bucket_cors(bucket: str) -> list[CorsRule] | None:
    """The bucket's CORS rules ([] when it has none), or None if no such bucket."""
    buckets = s3_backends[ACCOUNT_ID][PARTITION].buckets
    found = buckets.get(bucket)
    if found is None:
        return None
    return [
        CorsRule(
            allowed_origins=tuple(rule.allowed_origins or ()),
            allowed_methods=tuple(rule.allowed_methods or ()),
            allowed_headers=tuple(rule.allowed_headers or ()),
            expose_headers=tuple(rule.exposed_headers or ()),
            max_age_seconds=int(rule.max_age_seconds) if rule.max_age_seconds else None,
        )
        for rule in found.cors
    ]


# --- persistence ------------------------------------------------------------------
# The sandbox keeps its state by pickling moto's backends for the services it
# serves. Two kinds of moto object need help: moto's own signing key object
# (joserfc's RSAKey, which pickle cannot handle; it is moto's shared key, which
# no pool may use, so it is never written) and S3 objects, whose bodies are
# stored as files named by content, so a large photo is written once rather
# than on every snapshot. Each pool's own key (SigningKey) pickles as its PEM.

_SNAPSHOT = {"cognito-idp": cognitoidp_backends, "iam": iam_backends, "s3": s3_backends}


def backends_snapshot() -> dict[str, Any]:
    """The moto state to persist (issued STS sessions are left out on purpose)."""
    state: dict[str, Any] = {name: dict(backends[ACCOUNT_ID]) for name, backends in _SNAPSHOT.items()}
    state["s3-bucket-accounts"] = dict(s3_backends.bucket_accounts)
    return state


def backends_restore(state: dict[str, Any]) -> list[str]:
    """Install saved state; returns the IDs of the user pools that were given
    a key of their own because they were saved without one."""
    for name, backends in _SNAPSHOT.items():
        for region, backend in state[name].items():
            backends[ACCOUNT_ID][region] = backend
    s3_backends.bucket_accounts.update(state["s3-bucket-accounts"])
    return _keys_for_pools_without()


def _keys_for_pools_without() -> list[str]:
    """State saved before pools had their own keys: each such pool gets a fresh
    key (a new `kid`), and tokens signed with moto's shared key, which that
    state's pools used, verify nowhere any more."""
    upgraded = []
    for backend in cognitoidp_backends[ACCOUNT_ID].values():
        for pool in backend.user_pools.values():
            if _signing_key(pool) is None:
                pool.sandbox_signing_key = SigningKey.generate()
                upgraded.append(pool.id)
            pool.json_web_key = None
    return upgraded


def _user_pool_signing_key() -> None:
    """What a saved pool's `json_web_key` (moto's shared key) loads as: nothing.
    Snapshots written before pools had their own keys name this function."""
    return None


def _object_with_body(state: dict[str, Any], ref: str) -> FakeKey:
    """Stands in the pickle for an S3 object; SnapshotUnpickler swaps in a
    version that reads the body `ref` from the data directory."""
    raise pickle.UnpicklingError("S3 objects can only be loaded by SnapshotUnpickler")


def _object_from(state: dict[str, Any], body: bytes) -> FakeKey:
    key = FakeKey.__new__(FakeKey)
    key.__setstate__({**state, "value": body})
    return key


def body_ref(key: FakeKey) -> str:
    """A file name for an object's body: its MD5 (the ETag of a single PUT) and size."""
    return f"{key.etag.strip(chr(34))}-{key.size}"


class SnapshotPickler(pickle.Pickler):
    """Pickles moto state, handing each S3 object body to `store_body(ref, read)`."""

    def __init__(self, file: Any, *, store_body: Callable[[str, Callable[[], bytes]], None]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._store_body = store_body

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):  # moto's shared key: never persisted
            return (_user_pool_signing_key, ())
        if isinstance(obj, FakeKey):
            ref = body_ref(obj)
            self._store_body(ref, lambda: obj.value)
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            return (_object_with_body, (state, ref))
        if isinstance(obj, type(threading.Lock())):
            return (threading.Lock, ())
        if isinstance(obj, type(threading.RLock())):
            return (threading.RLock, ())
        return NotImplemented



class SnapshotUnpickler(pickle.Unpickler):
    """Loads what SnapshotPickler wrote, reading bodies with `load_body(ref)`."""

    def __init__(self, file: Any, *, load_body: Callable[[str], bytes]) -> None:
        super().__init__(file)
        self._load_body = load_body

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, "_object_with_body"):
            return lambda state, ref: _object_from(state, self._load_body(ref))
        return super().find_class(module, name)
