"""Amazon Cognito Identity (identity pools), implemented in full.

moto's version is a stub (a new identity on every `GetId`, the same fixed keys
for everyone), so the sandbox serves this API itself. What it must get right,
because the whole Photoshare pattern rests on it:
- `GetId` verifies the user-pool ID token and returns the same identity for
  the same login, every time;
- `GetCredentialsForIdentity` only hands out credentials to the login linked
  to the identity, resolves the role as AWS documents it, and refuses a role
  whose trust policy does not name this pool;
- credentials are real STS sessions whose policies the gateway enforces with
  `${cognito-identity.amazonaws.com:sub}` = the identity ID.
https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.sessions import session_create
from sandbox.web_identity import openid_token_issue, trust_allows, web_identity_context

_USER_POOL_PROVIDER = re.compile(r"^cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+_[0-9a-zA-Z]+)$")
_POOL_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
_POOL_NAME = re.compile(r"^[\w\s+=,.@-]{1,128}$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/.+$")
_MATCH_TYPES = {"Equals", "Contains", "StartsWith", "NotEqual"}
MAX_LIST = 60  # ListIdentityPools / ListIdentities page-size ceiling

LOGINS_DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
UNSUPPORTED_PROVIDER = "Token is not from a supported provider of this identity pool."
NO_GUESTS = "Unauthenticated access is not supported for this identity pool."
BAD_POOL_CONFIG = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


def _not_authorized(message: str) -> AwsError:
    return AwsError("NotAuthorizedException", message)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


@dataclass
class IdentityPool:
    id: str
    description: dict[str, Any]  # as DescribeIdentityPool returns it
    roles: dict[str, str] = field(default_factory=dict)
    role_mappings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Identity:
    id: str
    pool_id: str
    logins: dict[str, str] = field(default_factory=dict)  # provider -> subject (the token's sub)
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)

    def describe(self) -> dict[str, Any]:
        return {
            "IdentityId": self.id,
            "Logins": sorted(self.logins),
            "CreationDate": self.created,
            "LastModifiedDate": self.modified,
        }


@dataclass(frozen=True)
class Login:
    """A verified user-pool ID token presented in `Logins`."""

    provider: str
    client_id: str
    subject: str
    claims: dict[str, Any]

    @property
    def amr(self) -> list[str]:
        return ["authenticated", self.provider, f"{self.provider}:CognitoSignIn:{self.subject}"]


class _State:
    """All identity pools of this process (moto's backends are process-wide too)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pools: dict[str, IdentityPool] = {}
        self.identities: dict[str, Identity] = {}
        self.linked: dict[tuple[str, str, str], str] = {}  # (pool, provider, subject) -> identity


    def snapshot(self) -> dict[str, Any]:
        """What persists across restarts: pools, identities and linked logins."""
        with self.lock:
            return {"pools": dict(self.pools), "identities": dict(self.identities), "linked": dict(self.linked)}

    def restore(self, saved: dict[str, Any]) -> None:
        with self.lock:
            self.pools, self.identities, self.linked = dict(saved["pools"]), dict(saved["identities"]), dict(saved["linked"])


STATE = _State()


# --- parameter checking ----------------------------------------------------------

def _require(params: Mapping[str, Any], name: str, kind: type = str) -> Any:
    value = params.get(name)
    if value is None:
        raise _invalid(f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null")
    if not isinstance(value, kind) or (kind is str and not value):
        raise _invalid(f"Invalid value for {name}.")
    return value


def _optional(params: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    value = params.get(name, default)
    if not isinstance(value, kind):
        raise _invalid(f"Invalid value for {name}.")
    return value


def _pool(pool_id: Any) -> IdentityPool:
    if not isinstance(pool_id, str) or not _POOL_ID.match(pool_id):
        raise _invalid("Invalid IdentityPoolId.")
    pool = STATE.pools.get(pool_id)
    if pool is None:
        raise AwsError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
    return pool


def _identity(identity_id: Any) -> Identity:
    if not isinstance(identity_id, str) or not _POOL_ID.match(identity_id):
        raise _invalid("Invalid IdentityId.")
    identity = STATE.identities.get(identity_id)
    if identity is None:
        raise AwsError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")
    return identity


def _pool_description(params: Mapping[str, Any], pool_id: str) -> dict[str, Any]:
    name = _require(params, "IdentityPoolName")
    if not _POOL_NAME.match(name):
        raise _invalid("IdentityPoolName may only contain letters, numbers, spaces and +=,.@-_")
    allow_guests = _require(params, "AllowUnauthenticatedIdentities", bool)
    providers = _optional(params, "CognitoIdentityProviders", list, [])
    for provider in providers:
        if not isinstance(provider, dict) or not isinstance(provider.get("ProviderName"), str) or not isinstance(provider.get("ClientId"), str):
            raise _invalid("Each CognitoIdentityProvider needs a ProviderName and a ClientId.")
        if not _USER_POOL_PROVIDER.match(provider["ProviderName"]):
            raise _invalid(f"Invalid provider name: {provider['ProviderName']}")
        if not isinstance(provider.get("ServerSideTokenCheck", False), bool):
            raise _invalid("Invalid value for ServerSideTokenCheck.")
    description = {
        "IdentityPoolId": pool_id,
        "IdentityPoolName": name,
        "AllowUnauthenticatedIdentities": allow_guests,
        "AllowClassicFlow": _optional(params, "AllowClassicFlow", bool, False),
        "SupportedLoginProviders": _optional(params, "SupportedLoginProviders", dict, {}),
        "DeveloperProviderName": params.get("DeveloperProviderName"),
        "OpenIdConnectProviderARNs": _optional(params, "OpenIdConnectProviderARNs", list, []),
        "CognitoIdentityProviders": [
            {
                "ProviderName": p["ProviderName"],
                "ClientId": p["ClientId"],
                "ServerSideTokenCheck": p.get("ServerSideTokenCheck", False),
            }
            for p in providers
        ],
        "SamlProviderARNs": _optional(params, "SamlProviderARNs", list, []),
        "IdentityPoolTags": _optional(params, "IdentityPoolTags", dict, {}),
    }
    return {k: v for k, v in description.items() if v is not None}


# --- login tokens -------------------------------------------------------------------

def _verify_login(pool: IdentityPool, provider: str, token: Any) -> Login:
    """Verify a user-pool ID token the way the identity pool does (RS256
    signature with the user pool's keys, issuer, `aud` among the configured
    app clients, `token_use`, expiry, and optionally the server-side check)."""
    configured = [p for p in pool.description["CognitoIdentityProviders"] if p["ProviderName"] == provider]
    match = _USER_POOL_PROVIDER.match(provider)
    if not configured or not match or not isinstance(token, str):
        raise _not_authorized(UNSUPPORTED_PROVIDER if configured or match else "Invalid login token. Unsupported provider.")
    try:
        header = jwt.get_unverified_header(token)
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError as exc:
        raise _not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from exc
    # The issuer says whose keys to verify with, so AWS compares it first: a
    # token of another pool is an issuer mismatch, not a bad signature.
    if issuer != f"https://{provider}":
        raise _not_authorized("Invalid login token. Issuer doesn't match providerName")
    # Only the pool's own key verifies: a token signed with moto's shared key
    # (kid "dummy", whose private half ships in the moto wheel) finds none.
    key = moto_seams.user_pool_verification_key(match["region"], match["pool"], header.get("kid"))
    if header.get("alg") != "RS256" or key is None:
        raise _not_authorized("Invalid login token. Couldn't verify signed token.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iss": False},
        )
    except jwt.InvalidTokenError as exc:
        raise _not_authorized("Invalid login token. Couldn't verify signed token.") from exc
    if "aud" not in claims:
        raise _not_authorized("Invalid login token. Missing a required claim: aud")
    if claims.get("token_use") != "id":
        raise _not_authorized("Invalid login token. Token is not an ID token.")
    now = int(time.time())
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise _not_authorized(f"Invalid login token. Token expired: {now} >= {claims.get('exp')}")
    entry = next((p for p in configured if p["ClientId"] == claims["aud"]), None)
    if entry is None:
        raise _not_authorized(UNSUPPORTED_PROVIDER)
    if entry["ServerSideTokenCheck"] and not moto_seams.user_pool_session_active(
        match["region"], match["pool"], sub=claims.get("sub", ""), client_id=claims["aud"], origin_jti=claims.get("origin_jti", "")
    ):
        raise _not_authorized("Invalid login token. Token has been revoked or the user no longer exists.")
    return Login(provider=provider, client_id=claims["aud"], subject=claims["sub"], claims=claims)


def _verify_logins(pool: IdentityPool, logins: Any) -> list[Login]:
    if logins is None:
        return []
    if not isinstance(logins, dict) or len(logins) > 10:
        raise _invalid("Logins must be a map of at most 10 providers to tokens.")
    return [_verify_login(pool, provider, token) for provider, token in logins.items()]


# --- role resolution ----------------------------------------------------------------

def _claim_matches(match_type: str, claim: Any, value: str) -> bool:
    values = [str(v) for v in claim] if isinstance(claim, list) else [str(claim)]
    if match_type == "Equals":
        return value in values
    if match_type == "Contains":
        return any(value in v for v in values)
    if match_type == "StartsWith":
        return any(v.startswith(value) for v in values)
    return value not in values  # NotEqual


def _mapped_role(pool: IdentityPool, login: Login, custom_role_arn: str | None) -> str | None:
    """The role for an authenticated login; None means the mapping denies."""
    mapping = pool.role_mappings.get(f"{login.provider}:{login.client_id}")
    default = pool.roles.get("authenticated")
    if mapping is None:
        return default
    ambiguous = default if mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole" else None
    if mapping["Type"] == "Token":
        roles = login.claims.get("cognito:roles") or []
        if custom_role_arn:
            if custom_role_arn not in roles:
                raise _not_authorized("The CustomRoleArn is not among the roles in the token (cognito:roles).")
            return custom_role_arn
        preferred = login.claims.get("cognito:preferred_role")
        if preferred:
            return preferred
        if len(roles) == 1:
            return roles[0]
        return ambiguous
    for rule in mapping["RulesConfiguration"]["Rules"]:
        claim = login.claims.get(rule["Claim"])
        if claim is None:
            continue  # a missing claim matches no rule, NotEqual included
        if _claim_matches(rule["MatchType"], claim, rule["Value"]):
            return rule["RoleARN"]
    return ambiguous


def _check_role_mappings(mappings: Any) -> dict[str, Any]:
    if mappings is None:
        return {}
    if not isinstance(mappings, dict) or len(mappings) > 10:
        raise _invalid("RoleMappings must be a map of at most 10 entries.")
    for key, mapping in mappings.items():
        provider, _, client = key.rpartition(":")
        if not _USER_POOL_PROVIDER.match(provider) or not client:
            raise _invalid(f"Invalid RoleMappings key {key}: expected cognito-idp.<region>.amazonaws.com/<userPoolId>:<clientId>")
        if not isinstance(mapping, dict) or mapping.get("Type") not in ("Token", "Rules"):
            raise _invalid("RoleMapping Type must be Token or Rules.")
        if mapping.get("AmbiguousRoleResolution") not in ("AuthenticatedRole", "Deny"):
            raise _invalid("AmbiguousRoleResolution must be AuthenticatedRole or Deny when Type is Token or Rules.")
        if mapping["Type"] == "Rules":
            rules = (mapping.get("RulesConfiguration") or {}).get("Rules")
            if not isinstance(rules, list) or not 1 <= len(rules) <= 25:
                raise _invalid("RulesConfiguration needs between 1 and 25 rules.")
            for rule in rules:
                if (
                    not isinstance(rule, dict)
                    or rule.get("MatchType") not in _MATCH_TYPES
                    or not all(isinstance(rule.get(k), str) and rule.get(k) for k in ("Claim", "Value", "RoleARN"))
                    or not _ROLE_ARN.match(rule["RoleARN"])
                ):
                    raise _invalid("Each rule needs Claim, MatchType (Equals, Contains, StartsWith, NotEqual), Value and a role ARN.")
    return mappings


# --- operations -----------------------------------------------------------------------

def create_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool_id = f"{region}:{uuid.uuid4()}"
    description = _pool_description(params, pool_id)
    with STATE.lock:
        STATE.pools[pool_id] = IdentityPool(id=pool_id, description=description)
    return description


def update_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    with STATE.lock:
        pool = _pool(params.get("IdentityPoolId"))
        pool.description = _pool_description(params, pool.id)
        return pool.description


def describe_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    return _pool(params.get("IdentityPoolId")).description


def delete_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    with STATE.lock:
        pool = _pool(params.get("IdentityPoolId"))
        del STATE.pools[pool.id]
        for identity_id in [i.id for i in STATE.identities.values() if i.pool_id == pool.id]:
            del STATE.identities[identity_id]
        for key in [k for k in STATE.linked if k[0] == pool.id]:
            del STATE.linked[key]
    return {}


def _page(items: list[Any], params: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    size = _require(params, "MaxResults", int)
    if not 1 <= size <= MAX_LIST:
        raise _invalid(f"MaxResults must be between 1 and {MAX_LIST}.")
    token = params.get("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError as exc:
        raise _invalid("Invalid NextToken.") from exc
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def list_identity_pools(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pools = [{"IdentityPoolId": p.id, "IdentityPoolName": p.description["IdentityPoolName"]} for p in STATE.pools.values()]
    page, next_token = _page(pools, params)
    return {"IdentityPools": page, **({"NextToken": next_token} if next_token else {})}


def set_identity_pool_roles(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    roles = _require(params, "Roles", dict)
    if set(roles) - {"authenticated", "unauthenticated"}:
        raise _invalid("Roles keys must be 'authenticated' or 'unauthenticated'.")
    if not all(isinstance(arn, str) and _ROLE_ARN.match(arn) for arn in roles.values()):
        raise _invalid("Roles values must be IAM role ARNs.")
    mappings = _check_role_mappings(params.get("RoleMappings"))
    with STATE.lock:
        pool = _pool(params.get("IdentityPoolId"))
        pool.roles = dict(roles)
        pool.role_mappings = dict(mappings)
    return {}


def get_identity_pool_roles(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params.get("IdentityPoolId"))
    result: dict[str, Any] = {"IdentityPoolId": pool.id, "Roles": pool.roles}
    if pool.role_mappings:
        result["RoleMappings"] = pool.role_mappings
    return result


def list_identities(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params.get("IdentityPoolId"))
    identities = [i.describe() for i in STATE.identities.values() if i.pool_id == pool.id]
    page, next_token = _page(identities, params)
    return {"IdentityPoolId": pool.id, "Identities": page, **({"NextToken": next_token} if next_token else {})}


def describe_identity(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    return _identity(params.get("IdentityId")).describe()


def get_id(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params.get("IdentityPoolId"))
    logins = _verify_logins(pool, params.get("Logins"))
    with STATE.lock:
        if not logins:
            if not pool.description["AllowUnauthenticatedIdentities"]:
                raise _not_authorized(NO_GUESTS)
            return {"IdentityId": _new_identity(pool, region).id}
        for login in logins:
            linked = STATE.linked.get((pool.id, login.provider, login.subject))
            if linked:
                return {"IdentityId": linked}
        identity = _new_identity(pool, region)
        for login in logins:
            _link(identity, login)
        return {"IdentityId": identity.id}


def _new_identity(pool: IdentityPool, region: str) -> Identity:
    identity = Identity(id=f"{region}:{uuid.uuid4()}", pool_id=pool.id)
    STATE.identities[identity.id] = identity
    return identity


def _link(identity: Identity, login: Login) -> None:
    identity.logins[login.provider] = login.subject
    identity.modified = time.time()
    STATE.linked[(identity.pool_id, login.provider, login.subject)] = identity.id


def _authorize_identity(identity: Identity, pool: IdentityPool, logins: list[Login]) -> Login | None:
    """Check `logins` against the identity and link new ones, as AWS does when
    a guest signs in; returns the login the credentials are for (None: guest)."""
    if not logins:
        if identity.logins:
            raise _not_authorized(LOGINS_DONT_MATCH)
        if not pool.description["AllowUnauthenticatedIdentities"]:
            raise _not_authorized(NO_GUESTS)
        return None
    for login in logins:
        linked = STATE.linked.get((pool.id, login.provider, login.subject))
        if linked is not None and linked != identity.id:
            raise _not_authorized(LOGINS_DONT_MATCH)
        if linked is None and login.provider in identity.logins:
            raise _not_authorized(LOGINS_DONT_MATCH)  # another user of the same provider
    for login in logins:
        if (pool.id, login.provider, login.subject) not in STATE.linked:
            _link(identity, login)
    return logins[0]


def _resolve(params: Mapping[str, Any]) -> tuple[Identity, IdentityPool, Login | None]:
    identity = _identity(params.get("IdentityId"))
    pool = _pool(identity.pool_id)
    logins = _verify_logins(pool, params.get("Logins"))
    return identity, pool, _authorize_identity(identity, pool, logins)


def get_credentials_for_identity(
    params: Mapping[str, Any], region: str, *, credentials_ttl: int
) -> dict[str, Any]:
    custom_role_arn = params.get("CustomRoleArn")
    if custom_role_arn is not None and (not isinstance(custom_role_arn, str) or not _ROLE_ARN.match(custom_role_arn)):
        raise _invalid("CustomRoleArn must be an IAM role ARN.")
    with STATE.lock:
        identity, pool, login = _resolve(params)
        if login is None:
            role_arn = pool.roles.get("unauthenticated")
            amr = ["unauthenticated"]
        else:
            role_arn = _mapped_role(pool, login, custom_role_arn)
            if role_arn is None:
                raise _not_authorized("The role mapping for this provider denies access (AmbiguousRoleResolution: Deny).")
            amr = login.amr
    if role_arn is None:
        raise AwsError("InvalidIdentityPoolConfigurationException", BAD_POOL_CONFIG)
    context = web_identity_context({"aud": pool.id, "sub": identity.id, "amr": amr})
    role = moto_seams.role_by_arn(role_arn)
    if role is None or not trust_allows(role, context):
        raise AwsError("InvalidIdentityPoolConfigurationException", BAD_POOL_CONFIG)
    session = session_create(role_arn=role.arn, context=context, duration_seconds=credentials_ttl, region=region)
    c = session.credentials
    return {
        "IdentityId": identity.id,
        "Credentials": {
            "AccessKeyId": c.access_key_id,
            "SecretKey": c.secret_access_key,
            "SessionToken": c.session_token,
            "Expiration": c.expiration.timestamp(),
        },
    }


def get_open_id_token(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    with STATE.lock:
        identity = _identity(params.get("IdentityId"))
        pool = _pool(identity.pool_id)
        if not pool.description.get("AllowClassicFlow"):
            raise _invalid("Basic (classic) flow is not enabled, please use enhanced flow.")
        logins = _verify_logins(pool, params.get("Logins"))
        login = _authorize_identity(identity, pool, logins)
    amr = login.amr if login else ["unauthenticated"]
    return {"IdentityId": identity.id, "Token": openid_token_issue(identity_id=identity.id, pool_id=pool.id, amr=amr)}


OPERATIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "CreateIdentityPool": create_identity_pool,
    "UpdateIdentityPool": update_identity_pool,
    "DescribeIdentityPool": describe_identity_pool,
    "ListIdentityPools": list_identity_pools,
    "DeleteIdentityPool": delete_identity_pool,
    "SetIdentityPoolRoles": set_identity_pool_roles,
    "GetIdentityPoolRoles": get_identity_pool_roles,
    "ListIdentities": list_identities,
    "DescribeIdentity": describe_identity,
    "GetId": get_id,
    "GetCredentialsForIdentity": get_credentials_for_identity,
    "GetOpenIdToken": get_open_id_token,
}


def resource_arn(params: Mapping[str, Any], region: str) -> str:
    """The identity-pool ARN a signed call acts on, for IAM authorization."""
    pool_id = params.get("IdentityPoolId")
    if isinstance(pool_id, str):
        return f"arn:aws:cognito-identity:{region}:{moto_seams.ACCOUNT_ID}:identitypool/{pool_id}"
    return "*"
