"""Developer-authenticated identities: apps that sign people in themselves.

The app's backend, signed with its own AWS credentials (the gateway requires
`cognito-identity:<Operation>` on the pool), vouches for a user with
`Logins = {<DeveloperProviderName>: <user identifier>}`; Cognito trusts the
identifier because only the signed caller can send it. What it gets back is
an identity ID and an OpenID token, which the client presents in the
enhanced flow as `Logins = {"cognito-identity.amazonaws.com": <token>}`.

What AWS documents, and this module does:
- the pool's `DeveloperProviderName` cannot be changed once set (an update
  that leaves it out keeps it);
- `GetOpenIdTokenForDeveloperIdentity` returns the same identity for the same
  user identifier, links the other logins given with it, and signs a token for
  `TokenDuration` seconds (default 15 minutes, at most 24 hours) with
  `amr = [authenticated, <provider>, <provider>:<pool id>:<user identifier>]`;
- `GetCredentialsForIdentity` gives such a token the pool's default
  authenticated role: role mappings do not apply to developer identities;
- an identity may hold several user identifiers (`MergeDeveloperIdentities`);
  unlinking the last one leaves the identity inaccessible, not a guest's.
https://docs.aws.amazon.com/cognito/latest/developerguide/developer-authenticated-identities.html
https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdTokenForDeveloperIdentity.html
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Mapping
from typing import Any

import jwt

from sandbox import moto_seams
from sandbox.cognito_identity import logins as public_logins
from sandbox.cognito_identity.exceptions import invalid_parameter, not_authorized, not_found
from sandbox.cognito_identity.models import STATE, TOKEN_PROVIDER, Identity, IdentityPool, Login
from sandbox.errors import AwsError
from sandbox.sts.web_identity import ISSUER, openid_token_issue, openid_token_key

PROVIDER_NAME = re.compile(r"^[\w._-]{1,128}$")
_ID = re.compile(r"^[\w-]+:[0-9a-f-]+$")
MAX_USER_IDENTIFIER = 1024  # characters
DEFAULT_TOKEN_DURATION, MAX_TOKEN_DURATION = 900, 86400  # seconds: 15 minutes, 24 hours
MAX_PRINCIPAL_TAGS = 50
MAX_LINKED_LOGINS = 20  # per identity, after a merge
MAX_LOOKUP = 60  # LookupDeveloperIdentity's MaxResults ceiling
TAGS_CLAIM = "https://aws.amazon.com/tags"

UNSUPPORTED_DEVELOPER = "This identity pool does not support the specified developer provider."
ALREADY_REGISTERED = "The provided developer user identifier is already registered with Cognito under a different identity ID."
LINKED_ELSEWHERE = "A login in this request is already linked to another identity."


def _conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message)


@dataclasses.dataclass(frozen=True)
class DeveloperLogin(Login):
    """A verified `cognito-identity.amazonaws.com` token: its subject is the
    identity it was issued for, and its `amr` is the one signed into it."""

    @property
    def amr(self) -> list[str]:
        return list(self.claims["amr"])


# --- the pool's DeveloperProviderName ----------------------------------------------------

def provider_name_keep(current: Mapping[str, Any] | None, description: dict[str, Any]) -> dict[str, Any]:
    """`description` (Create/UpdateIdentityPool's) with the developer provider
    name checked, and kept from `current` when the update leaves it out."""
    name = description.get("DeveloperProviderName")
    before = (current or {}).get("DeveloperProviderName")
    if name is None:
        return {**description, "DeveloperProviderName": before} if before else description
    if not isinstance(name, str) or not PROVIDER_NAME.match(name):
        raise invalid_parameter("DeveloperProviderName may only contain letters, numbers, '.', '_' and '-' (1 to 128 characters).")
    if before and name != before:
        raise invalid_parameter("DeveloperProviderName cannot be changed once it is set.")
    return description


# --- parameters --------------------------------------------------------------------------

def _text(params: Mapping[str, Any], name: str, *, required: bool = True, limit: int = MAX_USER_IDENTIFIER) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise invalid_parameter(f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null")
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise invalid_parameter(f"Invalid value for {name}.")
    return value


def _pool(params: Mapping[str, Any]) -> IdentityPool:
    pool_id = _text(params, "IdentityPoolId", limit=55)
    if not _ID.match(pool_id):
        raise invalid_parameter("Invalid IdentityPoolId.")
    pool = STATE.pools.get(pool_id)
    if pool is None:
        raise not_found(f"IdentityPool '{pool_id}' not found.")
    return pool


def _identity(pool: IdentityPool, identity_id: Any) -> Identity:
    if not isinstance(identity_id, str) or not _ID.match(identity_id):
        raise invalid_parameter("Invalid IdentityId.")
    identity = STATE.identities.get(identity_id)
    if identity is None or identity.pool_id != pool.id:
        raise not_found(f"Identity '{identity_id}' not found.")
    return identity


def _developer_provider(pool: IdentityPool, name: Any) -> str:
    """The pool's developer provider, which `name` must be."""
    provider = pool.description.get("DeveloperProviderName")
    if not provider or name != provider:
        raise not_authorized(UNSUPPORTED_DEVELOPER)
    return provider


def _token_duration(params: Mapping[str, Any]) -> int:
    value = params.get("TokenDuration", DEFAULT_TOKEN_DURATION)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKEN_DURATION:
        raise invalid_parameter(f"TokenDuration must be between 1 and {MAX_TOKEN_DURATION} seconds.")
    return value


def _principal_tags(params: Mapping[str, Any]) -> dict[str, str]:
    tags = params.get("PrincipalTags") or {}
    if (
        not isinstance(tags, dict)
        or len(tags) > MAX_PRINCIPAL_TAGS
        or not all(isinstance(k, str) and 1 <= len(k) <= 128 and isinstance(v, str) and 1 <= len(v) <= 256 for k, v in tags.items())
    ):
        raise invalid_parameter(f"PrincipalTags must be at most {MAX_PRINCIPAL_TAGS} tags, keys of 1-128 and values of 1-256 characters.")
    return tags


# --- linking (callers hold STATE.lock) ------------------------------------------------------

def _user_identity(pool: IdentityPool, provider: str, user: str) -> str | None:
    return STATE.linked.get((pool.id, provider, user))


def _user_link(identity: Identity, provider: str, user: str) -> None:
    identity.developer_provider = provider
    identity.developer_users = (*identity.developer_users, user)
    identity.modified = time.time()
    STATE.linked[(identity.pool_id, provider, user)] = identity.id


def _user_unlink(identity: Identity, provider: str, user: str) -> None:
    identity.developer_users = tuple(u for u in identity.developer_users if u != user)
    identity.modified = time.time()
    STATE.linked.pop((identity.pool_id, provider, user), None)


def _target(pool: IdentityPool, identity_id: Any, provider: str, user: str, others: list[Login]) -> Identity | None:
    """The identity this call is for (None: a new one), refusing any login
    already linked elsewhere, before anything is written."""
    linked_to = _user_identity(pool, provider, user)
    identity = _identity(pool, identity_id) if identity_id is not None else None
    if identity is not None and linked_to is not None and linked_to != identity.id:
        raise AwsError("DeveloperUserAlreadyRegisteredException", ALREADY_REGISTERED)
    if identity is None and linked_to is not None:
        identity = STATE.identities[linked_to]
    for login in others:
        elsewhere = STATE.linked_identity(pool.id, login)
        if identity is None and elsewhere is not None:
            identity = STATE.identities[elsewhere]  # the other login's identity takes the new user
        elif elsewhere is not None and elsewhere != identity.id:
            raise _conflict(LINKED_ELSEWHERE)
        elif elsewhere is None and identity is not None and identity.logins.get(login.provider, login.subject) != login.subject:
            raise _conflict(LINKED_ELSEWHERE)  # the identity has another user of that provider
    return identity


# --- operations ------------------------------------------------------------------------------

def get_open_id_token_for_developer_identity(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params)
    logins = params.get("Logins")
    if not isinstance(logins, dict) or not 1 <= len(logins) <= public_logins.MAX_LOGINS:
        raise invalid_parameter(f"Logins must be a map of 1 to {public_logins.MAX_LOGINS} providers.")
    provider = pool.description.get("DeveloperProviderName")
    if not provider or provider not in logins:
        raise not_authorized(UNSUPPORTED_DEVELOPER)
    user = _text(logins, provider)
    duration = _token_duration(params)
    tags = _principal_tags(params)
    others = public_logins.logins_verify(pool, {k: v for k, v in logins.items() if k != provider} or None)
    with STATE.lock:
        identity = _target(pool, params.get("IdentityId"), provider, user, others)
        if identity is None:
            identity = STATE.identity_create(pool, region)
        if _user_identity(pool, provider, user) is None:
            _user_link(identity, provider, user)
        for login in others:
            if STATE.linked_identity(pool.id, login) is None:
                STATE.login_link(identity, login)
    extra: dict[str, Any] = {
        f"{ISSUER}/identity-pool-arn": f"arn:aws:cognito-identity:{region}:{moto_seams.ACCOUNT_ID}:identitypool/{pool.id}",
    }
    if tags:
        extra[TAGS_CLAIM] = {"principal_tags": {k: [v] for k, v in tags.items()}}
    amr = ["authenticated", provider, f"{provider}:{pool.id}:{user}"]
    token = openid_token_issue(identity_id=identity.id, pool_id=pool.id, amr=amr, lifetime=duration, extra=extra)
    return {"IdentityId": identity.id, "Token": token}


def lookup_developer_identity(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params)
    identity_id = params.get("IdentityId")
    user = _text(params, "DeveloperUserIdentifier", required=False)
    if identity_id is None and user is None:
        raise invalid_parameter("Either IdentityId or DeveloperUserIdentifier must be given.")
    size = params.get("MaxResults", MAX_LOOKUP)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_LOOKUP:
        raise invalid_parameter(f"MaxResults must be between 1 and {MAX_LOOKUP}.")
    with STATE.lock:
        provider = pool.description.get("DeveloperProviderName") or ""
        if user is not None:
            linked_to = _user_identity(pool, provider, user)
            if linked_to is None:
                raise not_found("No identity is linked to this DeveloperUserIdentifier.")
            if identity_id is not None and identity_id != linked_to:
                raise _conflict("The DeveloperUserIdentifier is linked to another identity.")
            if identity_id is not None:
                return {"IdentityId": linked_to, "DeveloperUserIdentifierList": [user]}
            identity = STATE.identities[linked_to]
        else:
            identity = _identity(pool, identity_id)
        users = list(identity.developer_users)
    token = params.get("NextToken")
    try:
        start = int(token) if token is not None else 0
    except (TypeError, ValueError) as exc:
        raise invalid_parameter("Invalid NextToken.") from exc
    if not 0 <= start <= len(users):
        raise invalid_parameter("Invalid NextToken.")
    end = start + size
    answer: dict[str, Any] = {"IdentityId": identity.id, "DeveloperUserIdentifierList": users[start:end]}
    if end < len(users):
        answer["NextToken"] = str(end)
    return answer


def unlink_developer_identity(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    pool = _pool(params)
    provider = _developer_provider(pool, _text(params, "DeveloperProviderName", limit=128))
    user = _text(params, "DeveloperUserIdentifier")
    with STATE.lock:
        identity = _identity(pool, params.get("IdentityId"))
        linked_to = _user_identity(pool, provider, user)
        if linked_to is None:
            raise not_found("No identity is linked to this DeveloperUserIdentifier.")
        if linked_to != identity.id:
            raise _conflict("The DeveloperUserIdentifier is linked to another identity.")
        _user_unlink(identity, provider, user)
    return {}


def merge_developer_identities(params: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The source user, and every login of its identity, moved to the
    destination user's identity; the source identity, left with none, is
    deleted (its old tokens then name no identity)."""
    pool = _pool(params)
    provider = _developer_provider(pool, _text(params, "DeveloperProviderName", limit=128))
    source_user = _text(params, "SourceUserIdentifier")
    destination_user = _text(params, "DestinationUserIdentifier")
    with STATE.lock:
        source_id = _user_identity(pool, provider, source_user)
        destination_id = _user_identity(pool, provider, destination_user)
        if source_id is None or destination_id is None:
            raise not_found("No identity is linked to the source or the destination DeveloperUserIdentifier.")
        if source_id == destination_id:
            return {"IdentityId": destination_id}
        source, destination = STATE.identities[source_id], STATE.identities[destination_id]
        for public, subject in source.logins.items():
            if destination.logins.get(public, subject) != subject:
                raise _conflict(f"Both identities have a login from {public}, as different users: they cannot be merged.")
        if len(source.logins) + len(source.developer_users) + len(destination.logins) + len(destination.developer_users) > MAX_LINKED_LOGINS:
            raise invalid_parameter(f"An identity can have at most {MAX_LINKED_LOGINS} linked logins.")
        for user in source.developer_users:
            _user_link(destination, provider, user)
        for public, subject in source.logins.items():
            destination.logins[public] = subject
            STATE.linked[(pool.id, public, subject)] = destination.id
        del STATE.identities[source.id]
    return {"IdentityId": destination.id}


# --- the token, presented back in `Logins` ---------------------------------------------------

def token_login(pool: IdentityPool, token: Any) -> DeveloperLogin:
    """The login a `cognito-identity.amazonaws.com` token proves: signed by
    this sandbox, for this pool (`aud`), not expired, naming an identity of
    this pool. Which identity the request may use is then checked as for any
    login (`STATE.linked_identity` answers the token's own)."""
    if not isinstance(token, str):
        raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.")
    kid, key = openid_token_key()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from exc
    if header.get("alg") != "RS256" or header.get("kid") != kid:
        raise not_authorized("Invalid login token. Couldn't verify signed token.")
    try:
        claims = jwt.decode(
            token, key, algorithms=["RS256"], issuer=ISSUER, options={"verify_aud": False, "require": ["exp", "sub", "aud", "amr"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise not_authorized(f"Invalid login token. Token expired: {int(time.time())} >= {_unverified_exp(token)}") from exc
    except jwt.InvalidTokenError as exc:
        raise not_authorized("Invalid login token. Couldn't verify signed token.") from exc
    if claims["aud"] != pool.id:
        raise not_authorized("Invalid login token. Incorrect token audience.")
    # Only developer tokens: a classic-flow GetOpenIdToken token (a guest's,
    # or a user-pool login's, whose role mapping would then be skipped) is
    # signed by the same key but was never meant for this door.
    amr = claims["amr"]
    provider = pool.description.get("DeveloperProviderName")
    if not (isinstance(amr, list) and len(amr) == 3 and amr[:2] == ["authenticated", provider] and provider):
        raise not_authorized("Invalid login token. Not a developer-authenticated identity token.")
    identity = STATE.identities.get(claims["sub"]) if isinstance(claims["sub"], str) else None
    if identity is None or identity.pool_id != pool.id:
        raise not_authorized("Invalid login token. The identity it was issued for no longer exists.")
    if not identity.developer_users and not identity.logins:
        raise not_authorized("Invalid login token. The identity it was issued for has no linked logins left.")
    return DeveloperLogin(provider=TOKEN_PROVIDER, client_id=pool.id, subject=identity.id, claims=claims)


def _unverified_exp(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False}).get("exp")


OPERATIONS = {
    "GetOpenIdTokenForDeveloperIdentity": get_open_id_token_for_developer_identity,
    "LookupDeveloperIdentity": lookup_developer_identity,
    "UnlinkDeveloperIdentity": unlink_developer_identity,
    "MergeDeveloperIdentities": merge_developer_identities,
}
