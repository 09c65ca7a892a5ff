"""Amazon Cognito Identity's operations, served by the sandbox itself.

moto's version is a stub (a new identity on every `GetId`, the same fixed keys
for everyone), so the sandbox serves this API itself. What it must get right,
because the whole Photoshare pattern rests on it:
- `GetId` verifies the ID token (a user pool's, or an OpenID Connect
  provider's the pool lists) and returns the same identity for the same
  login, every time;
- `GetCredentialsForIdentity` only hands out credentials to the login linked
  to the identity, resolves the role as AWS documents it (`roles.py`), and
  refuses a role whose trust policy does not name this pool;
- credentials are real STS sessions whose policies the gateway enforces with
  `${cognito-identity.amazonaws.com:sub}` = the identity ID.

Each operation takes the request's parameters (already checked to be a JSON
object) and the region, validates them as AWS does, and returns the answer.
https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/Welcome.html
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.cognito_identity.exceptions import (
    CLASSIC_FLOW_OFF,
    LOGINS_DONT_MATCH,
    MAPPING_DENIED,
    NO_GUESTS,
    bad_pool_configuration,
    invalid_parameter,
    not_authorized,
    not_found,
)
from sandbox.cognito_identity import developer
from sandbox.cognito_identity.logins import USER_POOL_PROVIDER, logins_verify
from sandbox.cognito_identity.models import STATE, Identity, IdentityPool, Login
from sandbox.cognito_identity.roles import MATCH_TYPES, role_resolve
from sandbox.cognito_identity.scope_down import guest_session_policies
from sandbox.sts.sessions import session_create
from sandbox.sts.web_identity import openid_token_issue, trust_allows, web_identity_context

_POOL_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
_POOL_NAME = re.compile(r"^[\w\s+=,.@-]{1,128}$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/.+$")
_OIDC_ARN = re.compile(r"^arn:aws:iam::\d{12}:oidc-provider/.{1,255}$")
MAX_LIST = 60  # ListIdentityPools / ListIdentities page-size ceiling
MAX_ROLE_MAPPINGS = 10  # providers per RoleMappings
MAX_RULES = 25  # rules per RulesConfiguration


# --- parameter checking ----------------------------------------------------------

def _require(params: Mapping[str, Any], name: str, kind: type = str) -> Any:
    value = params.get(name)
    if value is None:
        raise invalid_parameter(f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null")
    if not isinstance(value, kind) or (kind is str and not value):
        raise invalid_parameter(f"Invalid value for {name}.")
    return value


def _optional(params: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    value = params.get(name, default)
    if not isinstance(value, kind):
        raise invalid_parameter(f"Invalid value for {name}.")
    return value


def _pool(pool_id: Any) -> IdentityPool:
    if not isinstance(pool_id, str) or not _POOL_ID.match(pool_id):
        raise invalid_parameter("Invalid IdentityPoolId.")
    pool = STATE.pools.get(pool_id)
    if pool is None:
        raise not_found(f"IdentityPool '{pool_id}' not found.")
    return pool


def _identity(identity_id: Any) -> Identity:
    if not isinstance(identity_id, str) or not _POOL_ID.match(identity_id):
        raise invalid_parameter("Invalid IdentityId.")
    identity = STATE.identities.get(identity_id)
    if identity is None:
        raise not_found(f"Identity '{identity_id}' not found.")
    return identity


def _pool_description(params: Mapping[str, Any], pool_id: str) -> dict[str, Any]:
    name = _require(params, "IdentityPoolName")
    if not _POOL_NAME.match(name):
        raise invalid_parameter("IdentityPoolName may only contain letters, numbers, spaces and +=,.@-_")
    allow_guests = _require(params, "AllowUnauthenticatedIdentities", bool)
    providers = _optional(params, "CognitoIdentityProviders", list, [])
    for provider in providers:
        if not isinstance(provider, dict) or not isinstance(provider.get("ProviderName"), str) or not isinstance(provider.get("ClientId"), str):
            raise invalid_parameter("Each CognitoIdentityProvider needs a ProviderName and a ClientId.")
        if not USER_POOL_PROVIDER.match(provider["ProviderName"]):
            raise invalid_parameter(f"Invalid provider name: {provider['ProviderName']}")
        if not isinstance(provider.get("ServerSideTokenCheck", False), bool):
            raise invalid_parameter("Invalid value for ServerSideTokenCheck.")
    description = {
        "IdentityPoolId": pool_id,
        "IdentityPoolName": name,
        "AllowUnauthenticatedIdentities": allow_guests,
        "AllowClassicFlow": _optional(params, "AllowClassicFlow", bool, False),
        "SupportedLoginProviders": _optional(params, "SupportedLoginProviders", dict, {}),
        "DeveloperProviderName": params.get("DeveloperProviderName"),
        "OpenIdConnectProviderARNs": _oidc_provider_arns(params),
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


def _oidc_provider_arns(params: Mapping[str, Any]) -> list[str]:
    """`OpenIdConnectProviderARNs`, each naming a provider IAM has: a pool
    cannot trust a provider nobody registered (and whose keys nobody chose)."""
    arns = _optional(params, "OpenIdConnectProviderARNs", list, [])
    for arn in arns:
        if not isinstance(arn, str) or not _OIDC_ARN.match(arn):
            raise invalid_parameter("Each OpenIdConnectProviderARN must be an IAM OpenID Connect provider ARN.")
        if moto_seams.iam.oidc_provider(arn) is None:
            raise invalid_parameter(f"Invalid OpenIdConnectProviderARN: {arn} does not exist.")
    return list(dict.fromkeys(arns))


def _role_mapping_key_valid(key: str, pool: IdentityPool) -> bool:
    """A user pool and app client (`<provider>:<clientId>`), or the name of an
    OpenID Connect provider this pool lists (its host and path)."""
    if moto_seams.iam.oidc_provider_arn(key) in pool.description.get("OpenIdConnectProviderARNs", []):
        return True
    provider, _, client = key.rpartition(":")
    return bool(USER_POOL_PROVIDER.match(provider)) and bool(client)


def _role_mappings(mappings: Any, pool: IdentityPool) -> dict[str, Any]:
    if mappings is None:
        return {}
    if not isinstance(mappings, dict) or len(mappings) > MAX_ROLE_MAPPINGS:
        raise invalid_parameter(f"RoleMappings must be a map of at most {MAX_ROLE_MAPPINGS} entries.")
    for key, mapping in mappings.items():
        if not _role_mapping_key_valid(key, pool):
            raise invalid_parameter(
                f"Invalid RoleMappings key {key}: expected cognito-idp.<region>.amazonaws.com/<userPoolId>:<clientId> "
                "or an OpenID Connect provider of this pool"
            )
        if not isinstance(mapping, dict) or mapping.get("Type") not in ("Token", "Rules"):
            raise invalid_parameter("RoleMapping Type must be Token or Rules.")
        if mapping.get("AmbiguousRoleResolution") not in ("AuthenticatedRole", "Deny"):
            raise invalid_parameter("AmbiguousRoleResolution must be AuthenticatedRole or Deny when Type is Token or Rules.")
        if mapping["Type"] == "Rules":
            rules = (mapping.get("RulesConfiguration") or {}).get("Rules")
            if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
                raise invalid_parameter(f"RulesConfiguration needs between 1 and {MAX_RULES} rules.")
            for rule in rules:
                if (
                    not isinstance(rule, dict)
                    or rule.get("MatchType") not in MATCH_TYPES
                    or not all(isinstance(rule.get(k), str) and rule.get(k) for k in ("Claim", "Value", "RoleARN"))
                    or not _ROLE_ARN.match(rule["RoleARN"])
                ):
                    raise invalid_parameter("Each rule needs Claim, MatchType (Equals, Contains, StartsWith, NotEqual), Value and a role ARN.")
    return mappings


def _page(items: list[Any], params: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    size = _require(params, "MaxResults", int)
    if not 1 <= size <= MAX_LIST:
        raise invalid_parameter(f"MaxResults must be between 1 and {MAX_LIST}.")
    token = params.get("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError as exc:
        raise invalid_parameter("Invalid NextToken.") from exc
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


# --- pool administration -------------------------------------------------------------

def create_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool_id = f"{region}:{uuid.uuid4()}"
    description = developer.provider_name_keep(None, _pool_description(params, pool_id))
    with STATE.lock:
        STATE.pools[pool_id] = IdentityPool(id=pool_id, description=description)
    return description


def update_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    with STATE.lock:
        pool = _pool(params.get("IdentityPoolId"))
        pool.description = developer.provider_name_keep(pool.description, _pool_description(params, pool.id))
        return pool.description


def describe_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    return _pool(params.get("IdentityPoolId")).description


def delete_identity_pool(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    with STATE.lock:
        STATE.pool_delete(_pool(params.get("IdentityPoolId")).id)
    return {}


def list_identity_pools(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pools = [{"IdentityPoolId": p.id, "IdentityPoolName": p.description["IdentityPoolName"]} for p in STATE.pools.values()]
    page, next_token = _page(pools, params)
    return {"IdentityPools": page, **({"NextToken": next_token} if next_token else {})}


def set_identity_pool_roles(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    roles = _require(params, "Roles", dict)
    if set(roles) - {"authenticated", "unauthenticated"}:
        raise invalid_parameter("Roles keys must be 'authenticated' or 'unauthenticated'.")
    if not all(isinstance(arn, str) and _ROLE_ARN.match(arn) for arn in roles.values()):
        raise invalid_parameter("Roles values must be IAM role ARNs.")
    with STATE.lock:
        pool = _pool(params.get("IdentityPoolId"))
        mappings = _role_mappings(params.get("RoleMappings"), pool)
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


# --- identities and credentials ----------------------------------------------------

def get_id(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params.get("IdentityPoolId"))
    logins = logins_verify(pool, params.get("Logins"))
    with STATE.lock:
        if not logins:
            if not pool.description["AllowUnauthenticatedIdentities"]:
                raise not_authorized(NO_GUESTS)
            return {"IdentityId": STATE.identity_create(pool, region).id}
        for login in logins:
            linked = STATE.linked_identity(pool.id, login)
            if linked:
                return {"IdentityId": linked}
        identity = STATE.identity_create(pool, region)
        for login in logins:
            STATE.login_link(identity, login)
        return {"IdentityId": identity.id}


def _authorize_identity(identity: Identity, pool: IdentityPool, logins: list[Login]) -> Login | None:
    """Check `logins` against the identity and link new ones, as AWS does when
    a guest signs in; returns the login the credentials are for (None: guest)."""
    if not logins:
        if identity.logins or identity.developer_provider:  # a developer identity is never a guest's
            raise not_authorized(LOGINS_DONT_MATCH)
        if not pool.description["AllowUnauthenticatedIdentities"]:
            raise not_authorized(NO_GUESTS)
        return None
    for login in logins:
        linked = STATE.linked_identity(pool.id, login)
        if linked is not None and linked != identity.id:
            raise not_authorized(LOGINS_DONT_MATCH)
        if linked is None and login.provider in identity.logins:
            raise not_authorized(LOGINS_DONT_MATCH)  # another user of the same provider
    for login in logins:
        if STATE.linked_identity(pool.id, login) is None:
            STATE.login_link(identity, login)
    return logins[0]


def _identity_with_logins(params: Mapping[str, Any]) -> tuple[Identity, IdentityPool, list[Login]]:
    """The identity a call names, its pool, and the logins verified. Called
    outside `STATE.lock`: verifying an OpenID Connect token may fetch its
    provider's keys, and no other call should wait on that."""
    identity = _identity(params.get("IdentityId"))
    pool = _pool(identity.pool_id)
    return identity, pool, logins_verify(pool, params.get("Logins"))


def _still_there(identity: Identity) -> None:
    """Under `STATE.lock`, after verifying outside it: the pool (and with it
    the identity) may have been deleted meanwhile, and nothing may be linked to it."""
    if STATE.identities.get(identity.id) is not identity:
        raise not_found(f"Identity '{identity.id}' not found.")


def get_credentials_for_identity(
    params: Mapping[str, Any], region: str, *, credentials_ttl: int
) -> dict[str, Any]:
    custom_role_arn = params.get("CustomRoleArn")
    if custom_role_arn is not None and (not isinstance(custom_role_arn, str) or not _ROLE_ARN.match(custom_role_arn)):
        raise invalid_parameter("CustomRoleArn must be an IAM role ARN.")
    identity, pool, logins = _identity_with_logins(params)
    with STATE.lock:
        _still_there(identity)
        login = _authorize_identity(identity, pool, logins)
        if login is None:
            role_arn = pool.roles.get("unauthenticated")
            amr = ["unauthenticated"]
        else:
            role_arn = role_resolve(
                pool.role_mappings.get(login.mapping_key),
                login.claims,
                authenticated_role=pool.roles.get("authenticated"),
                custom_role_arn=custom_role_arn,
            )
            if role_arn is None:
                raise not_authorized(MAPPING_DENIED)
            amr = login.amr
    if role_arn is None:
        raise bad_pool_configuration()
    context = web_identity_context({"aud": pool.id, "sub": identity.id, "amr": amr})
    role = moto_seams.iam.role_by_arn(role_arn)
    if role is None or not trust_allows(role, context):
        raise bad_pool_configuration()
    # Guests are scoped down (enhanced flow only); signed-in users get the role as it is.
    policies = guest_session_policies() if login is None else ()
    session = session_create(
        role_arn=role.arn, context=context, duration_seconds=credentials_ttl, region=region, policies=policies
    )
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
    """The classic flow's first step, served only when the pool allows that flow."""
    identity = _identity(params.get("IdentityId"))
    if not _pool(identity.pool_id).description.get("AllowClassicFlow"):
        raise invalid_parameter(CLASSIC_FLOW_OFF)
    identity, pool, logins = _identity_with_logins(params)
    with STATE.lock:
        _still_there(identity)
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
    **developer.OPERATIONS,
}


def dispatch(operation: str | None, params: Mapping[str, Any], region: str, *, credentials_ttl: int) -> dict[str, Any]:
    """Run one operation; the credentials' lifetime only matters to GetCredentialsForIdentity."""
    handler = OPERATIONS.get(operation or "")
    if handler is None:
        raise AwsError("UnknownOperationException", f"Unknown operation {operation}", 400)
    if handler is get_credentials_for_identity:
        return handler(params, region, credentials_ttl=credentials_ttl)
    return handler(params, region)


def resource_arn(params: Mapping[str, Any], region: str) -> str:
    """The identity-pool ARN a signed call acts on, for IAM authorization."""
    pool_id = params.get("IdentityPoolId")
    if isinstance(pool_id, str):
        return f"arn:aws:cognito-identity:{region}:{moto_seams.ACCOUNT_ID}:identitypool/{pool_id}"
    return "*"
