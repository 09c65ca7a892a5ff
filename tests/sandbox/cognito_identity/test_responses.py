"""The sandbox's Cognito Identity service, driven as a browser and an admin would:
pool administration, GetId, GetCredentialsForIdentity with AWS's role
resolution and trust-policy checks, guest-to-user linking, ServerSideTokenCheck,
and the classic GetOpenIdToken + AssumeRoleWithWebIdentity flow.

The developer guide's "Role-based access control" page is the source for role
resolution: https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
"""

from __future__ import annotations

import base64
import functools
import gzip
import importlib.resources
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sandbox_kit import ACCOUNT_ID, REGION, Deployment, SandboxKit, as_boto3, trust_policy

LOGINS_DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
NO_GUESTS = "Unauthenticated access is not supported for this identity pool."
NOT_SUPPORTED = "Token is not from a supported provider of this identity pool."
BAD_CONFIG = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
NO_CLASSIC = "Basic (classic) flow is not enabled, please use enhanced flow."
OTHER_POOL = f"{REGION}:00000000-0000-4000-8000-000000000000"  # an identity pool ID that is not ours
ID_PATTERN = re.compile(rf"{REGION}:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}")


# --- helpers ---------------------------------------------------------------


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of a boto3 ClientError."""
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


def starting(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text) + ".*", re.DOTALL)


def caller_arn(kit: SandboxKit, credentials: dict[str, str]) -> str:
    return kit.client("sts", credentials).get_caller_identity()["Arn"]


def session_arn(role_arn: str, session: str = "CognitoIdentityCredentials") -> str:
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"


def mapping_key(dep: Deployment, client_id: str | None = None) -> str:
    return f"{dep.provider}:{client_id or dep.client_id}"


def sign_in(kit: SandboxKit, client_id: str, email: str, password: str) -> dict[str, str]:
    return kit.unsigned("cognito-idp").initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
    )["AuthenticationResult"]


def join_group(dep: Deployment, user: str, group: str, role_arn: str | None = None, precedence: int | None = None) -> None:
    """Create `group` (if new) and put `user` in it; sign in again afterwards to see it in tokens."""
    idp = dep.kit.client("cognito-idp")
    options: dict[str, Any] = {"RoleArn": role_arn} if role_arn else {}
    if precedence is not None:
        options["Precedence"] = precedence
    try:
        idp.create_group(GroupName=group, UserPoolId=dep.user_pool_id, **options)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "GroupExistsException":
            raise
    idp.admin_add_user_to_group(UserPoolId=dep.user_pool_id, Username=f"{user}@example.com", GroupName=group)


def auth_role(dep: Deployment, name: str) -> str:
    """An extra role this pool's signed-in users may assume."""
    return dep.create_role(name, trust_policy(dep.identity_pool_id, "authenticated"))


def credentials_for(dep: Deployment, user: str, **extra: Any) -> dict[str, Any]:
    """The enhanced flow for `user`; `extra` goes to GetCredentialsForIdentity (e.g. CustomRoleArn)."""
    logins = dep.logins(dep.id_token(user))
    ci = dep.kit.unsigned("cognito-identity")
    identity_id = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    return ci.get_credentials_for_identity(IdentityId=identity_id, Logins=logins, **extra)


def set_mapping(dep: Deployment, mapping: dict[str, Any]) -> None:
    dep.kit.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=dep.identity_pool_id, Roles=dict(dep.roles), RoleMappings={mapping_key(dep): mapping}
    )


# --- forged tokens ----------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@functools.cache
def _stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def tampered(token: str) -> str:
    """Same header and signature, a different `sub` in the payload."""
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = str(uuid.uuid4())
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def signed_by_stranger(token: str, **changes: Any) -> str:
    """The same claims signed with a key the user pool never published, under its kid."""
    return jwt.encode({**claims_of(token), **changes}, _stranger_key(), algorithm="RS256", headers={"kid": "dummy"})


def alg_none(token: str) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(token).get("kid", "dummy")}
    return f"{_b64(json.dumps(header).encode())}.{token.split('.')[1]}."


# --- pool administration ------------------------------------------------------


def _providers(dep: Deployment, check: bool = True) -> list[dict[str, Any]]:
    return [{"ProviderName": dep.provider, "ClientId": dep.client_id, "ServerSideTokenCheck": check}]


def test_create_identity_pool_returns_its_description(sandbox):
    """CreateIdentityPool answers with the new pool's ID and settings, as DescribeIdentityPool does."""
    dep = sandbox.deployment()
    ci = sandbox.client("cognito-identity")
    created = ci.create_identity_pool(
        IdentityPoolName=f"roundtrip_{dep.suffix}",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        CognitoIdentityProviders=_providers(dep, check=False),
    )
    assert ID_PATTERN.fullmatch(created["IdentityPoolId"])
    described = ci.describe_identity_pool(IdentityPoolId=created["IdentityPoolId"])
    for body in (created, described):
        assert body["IdentityPoolId"] == created["IdentityPoolId"]
        assert body["IdentityPoolName"] == f"roundtrip_{dep.suffix}"
        assert body["AllowUnauthenticatedIdentities"] is False
        assert body["AllowClassicFlow"] is True
        assert body["CognitoIdentityProviders"] == _providers(dep, check=False)


def test_update_identity_pool_changes_settings_and_behaviour(sandbox):
    """UpdateIdentityPool replaces the settings; turning guests off makes GetId without Logins fail."""
    dep = sandbox.deployment()
    ci = sandbox.client("cognito-identity")
    updated = ci.update_identity_pool(
        IdentityPoolId=dep.identity_pool_id,
        IdentityPoolName=f"renamed_{dep.suffix}",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        CognitoIdentityProviders=_providers(dep, check=False),
    )
    described = ci.describe_identity_pool(IdentityPoolId=dep.identity_pool_id)
    for body in (updated, described):
        assert body["IdentityPoolName"] == f"renamed_{dep.suffix}"
        assert body["AllowUnauthenticatedIdentities"] is False
        assert body["AllowClassicFlow"] is True
        assert body["CognitoIdentityProviders"] == _providers(dep, check=False)
    with pytest.raises(ClientError) as exc:
        sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id)
    assert error(exc) == ("NotAuthorizedException", NO_GUESTS)


def test_list_identity_pools_includes_new_pool(sandbox):
    """ListIdentityPools (paginated) lists a new pool with its name."""
    dep = sandbox.deployment()
    pages = sandbox.client("cognito-identity").get_paginator("list_identity_pools")
    pools = pages.paginate(PaginationConfig={"PageSize": 60}).build_full_result()["IdentityPools"]
    assert {"IdentityPoolId": dep.identity_pool_id, "IdentityPoolName": f"photoshare_{dep.suffix}"} in pools


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda ci, pool: ci.describe_identity_pool(IdentityPoolId=pool), id="describe"),
        pytest.param(lambda ci, pool: ci.get_identity_pool_roles(IdentityPoolId=pool), id="get-roles"),
        pytest.param(lambda ci, pool: ci.list_identities(IdentityPoolId=pool, MaxResults=10), id="list-identities"),
        pytest.param(lambda ci, pool: ci.get_id(IdentityPoolId=pool), id="get-id"),
        pytest.param(lambda ci, pool: ci.delete_identity_pool(IdentityPoolId=pool), id="delete-again"),
    ],
)
def test_deleted_identity_pool_is_gone(sandbox, call):
    """After DeleteIdentityPool, every call naming the pool is ResourceNotFoundException, and it is unlisted."""
    dep = sandbox.deployment()
    ci = sandbox.client("cognito-identity")
    ci.delete_identity_pool(IdentityPoolId=dep.identity_pool_id)
    with pytest.raises(ClientError) as exc:
        call(ci, dep.identity_pool_id)
    assert error(exc)[0] == "ResourceNotFoundException"
    listed = ci.get_paginator("list_identity_pools").paginate(PaginationConfig={"PageSize": 60}).build_full_result()
    assert dep.identity_pool_id not in [p["IdentityPoolId"] for p in listed["IdentityPools"]]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda ci: ci.describe_identity_pool(IdentityPoolId=OTHER_POOL), id="describe-pool"),
        pytest.param(lambda ci: ci.get_id(IdentityPoolId=OTHER_POOL), id="get-id"),
        pytest.param(lambda ci: ci.describe_identity(IdentityId=OTHER_POOL), id="describe-identity"),
        pytest.param(lambda ci: ci.get_credentials_for_identity(IdentityId=OTHER_POOL), id="get-credentials"),
    ],
)
def test_unknown_ids_are_resource_not_found(sandbox, call):
    """An identity pool or identity ID the sandbox never issued is ResourceNotFoundException."""
    with pytest.raises(ClientError) as exc:
        call(sandbox.client("cognito-identity"))
    assert error(exc)[0] == "ResourceNotFoundException"


def test_identity_pool_roles_round_trip(sandbox):
    """SetIdentityPoolRoles stores Roles and RoleMappings exactly as GetIdentityPoolRoles returns them."""
    dep = sandbox.deployment()
    editor = auth_role(dep, "editor")
    mappings = {
        mapping_key(dep): {
            "Type": "Rules",
            "AmbiguousRoleResolution": "Deny",
            "RulesConfiguration": {
                "Rules": [{"Claim": "email", "MatchType": "StartsWith", "Value": "alice@", "RoleARN": editor}]
            },
        }
    }
    ci = sandbox.client("cognito-identity")
    ci.set_identity_pool_roles(IdentityPoolId=dep.identity_pool_id, Roles=dict(dep.roles), RoleMappings=mappings)
    got = ci.get_identity_pool_roles(IdentityPoolId=dep.identity_pool_id)
    assert got["IdentityPoolId"] == dep.identity_pool_id
    assert got["Roles"] == dep.roles
    assert got["RoleMappings"] == mappings


def test_list_and_describe_identities(sandbox):
    """ListIdentities and DescribeIdentity show the user's identity with its login and the guest's without."""
    dep = sandbox.deployment()
    alice = dep.identity_id("alice")
    guest = sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
    ci = sandbox.client("cognito-identity")
    listed = ci.list_identities(IdentityPoolId=dep.identity_pool_id, MaxResults=60)
    assert listed["IdentityPoolId"] == dep.identity_pool_id
    by_id = {i["IdentityId"]: i for i in listed["Identities"]}
    assert set(by_id) == {alice, guest}
    assert by_id[alice]["Logins"] == [dep.provider]
    assert by_id[guest].get("Logins", []) == []
    described = ci.describe_identity(IdentityId=alice)
    assert described["IdentityId"] == alice
    assert described["Logins"] == [dep.provider]
    assert isinstance(described["CreationDate"], datetime)
    assert ci.describe_identity(IdentityId=guest).get("Logins", []) == []


# --- GetId --------------------------------------------------------------------


def test_get_id_is_stable_per_login_and_distinct_per_user(sandbox):
    """The same user signing in twice gets the same IdentityId; another user gets another."""
    dep = sandbox.deployment()
    first, second, bob = dep.identity_id("alice"), dep.identity_id("alice"), dep.identity_id("bob")
    assert ID_PATTERN.fullmatch(first)
    assert first == second
    assert bob != first


def test_get_id_without_logins_is_new_every_call(sandbox):
    """With guests allowed, each GetId without Logins creates a new guest identity."""
    dep = sandbox.deployment(allow_guests=True)
    ci = sandbox.unsigned("cognito-identity")
    ids = {ci.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"] for _ in range(3)}
    assert len(ids) == 3
    assert all(ID_PATTERN.fullmatch(i) for i in ids)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda ci, dep, guest: ci.get_id(IdentityPoolId=dep.identity_pool_id), id="get-id"),
        pytest.param(lambda ci, dep, guest: ci.get_credentials_for_identity(IdentityId=guest), id="get-credentials"),
    ],
)
def test_guests_refused_when_unauthenticated_identities_disabled(sandbox, call):
    """Without AllowUnauthenticatedIdentities, guests get NotAuthorizedException (also an identity made while allowed)."""
    dep = sandbox.deployment(allow_guests=True)
    ci = sandbox.unsigned("cognito-identity")
    guest = ci.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
    sandbox.client("cognito-identity").update_identity_pool(
        IdentityPoolId=dep.identity_pool_id,
        IdentityPoolName=f"photoshare_{dep.suffix}",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=False,
        CognitoIdentityProviders=_providers(dep),
    )
    with pytest.raises(ClientError) as exc:
        call(ci, dep, guest)
    assert error(exc) == ("NotAuthorizedException", NO_GUESTS)


def test_get_id_without_logins_refused_when_guests_disabled(sandbox):
    """A pool created without guests refuses GetId without Logins with AWS's text."""
    dep = sandbox.deployment(allow_guests=False)
    with pytest.raises(ClientError) as exc:
        sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id)
    assert error(exc) == ("NotAuthorizedException", NO_GUESTS)


# --- forged and misdirected tokens ------------------------------------------------


@dataclass
class AttackScene:
    """One identity pool that trusts user pool A through two app-client entries:
    A's own client, and (deliberately) the client of user pool B, so that B's
    tokens fail on the issuer alone. A second client of pool A is not configured."""

    kit: SandboxKit
    pool_id: str
    provider: str
    other_provider: str
    alice: dict[str, str]  # AuthenticationResult from the configured client
    unconfigured_client_token: str
    other_pool_token: str  # carol, user pool B, client configured under A's provider
    alice_identity: str

    def logins(self, token: str, provider: str | None = None) -> dict[str, str]:
        return {provider or self.provider: token}


@pytest.fixture(scope="module")
def scene(sandbox) -> AttackScene:
    dep = sandbox.deployment()
    other = sandbox.deployment(users=("carol",))
    idp = sandbox.client("cognito-idp")
    stray_client = idp.create_user_pool_client(
        UserPoolId=dep.user_pool_id, ClientName="stray", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    ci = sandbox.client("cognito-identity")
    pool_id = ci.create_identity_pool(
        IdentityPoolName=f"attacks_{dep.suffix}",
        AllowUnauthenticatedIdentities=True,
        AllowClassicFlow=False,
        CognitoIdentityProviders=[
            {"ProviderName": dep.provider, "ClientId": dep.client_id, "ServerSideTokenCheck": False},
            {"ProviderName": dep.provider, "ClientId": other.client_id, "ServerSideTokenCheck": False},
        ],
    )["IdentityPoolId"]
    roles = {
        "authenticated": dep.create_role("attack-auth", trust_policy(pool_id, "authenticated")),
        "unauthenticated": dep.create_role("attack-guest", trust_policy(pool_id, "unauthenticated")),
    }
    ci.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles)
    alice = dep.sign_in("alice")
    alice_identity = sandbox.unsigned("cognito-identity").get_id(
        IdentityPoolId=pool_id, Logins={dep.provider: alice["IdToken"]}
    )["IdentityId"]
    return AttackScene(
        kit=sandbox,
        pool_id=pool_id,
        provider=dep.provider,
        other_provider=other.provider,
        alice=alice,
        unconfigured_client_token=sign_in(sandbox, stray_client, "alice@example.com", dep.users["alice@example.com"])["IdToken"],
        other_pool_token=other.id_token("carol"),
        alice_identity=alice_identity,
    )


OPERATIONS = [
    pytest.param(lambda s, logins: s.kit.unsigned("cognito-identity").get_id(IdentityPoolId=s.pool_id, Logins=logins), id="GetId"),
    pytest.param(
        lambda s, logins: s.kit.unsigned("cognito-identity").get_credentials_for_identity(IdentityId=s.alice_identity, Logins=logins),
        id="GetCredentialsForIdentity",
    ),
]

ATTACKS = [
    pytest.param(lambda s: s.logins(s.alice["AccessToken"]), exactly("Invalid login token. Missing a required claim: aud"), id="access-token"),
    pytest.param(lambda s: s.logins(s.unconfigured_client_token), exactly(NOT_SUPPORTED), id="unconfigured-app-client"),
    pytest.param(lambda s: s.logins(s.other_pool_token, s.other_provider), exactly(NOT_SUPPORTED), id="provider-not-in-pool"),
    pytest.param(lambda s: s.logins(s.other_pool_token), exactly("Invalid login token. Issuer doesn't match providerName"), id="issuer-mismatch"),
    pytest.param(lambda s: s.logins(tampered(s.alice["IdToken"])), starting("Invalid login token."), id="tampered-payload"),
    pytest.param(lambda s: s.logins(signed_by_stranger(s.alice["IdToken"])), starting("Invalid login token."), id="other-rsa-key"),
    pytest.param(lambda s: s.logins(alg_none(s.alice["IdToken"])), starting("Invalid login token."), id="alg-none"),
    pytest.param(lambda s: s.logins("not-a-jwt"), starting("Invalid login token."), id="garbage"),
]


def test_genuine_token_accepted_by_attack_pool(scene):
    """Control for the attack table: alice's real ID token passes both GetId and GetCredentialsForIdentity."""
    ci = scene.kit.unsigned("cognito-identity")
    logins = scene.logins(scene.alice["IdToken"])
    assert ci.get_id(IdentityPoolId=scene.pool_id, Logins=logins)["IdentityId"] == scene.alice_identity
    creds = ci.get_credentials_for_identity(IdentityId=scene.alice_identity, Logins=logins)
    assert creds["IdentityId"] == scene.alice_identity


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("forge, message", ATTACKS)
def test_forged_or_misdirected_login_is_not_authorized(scene, operation, forge, message):
    """Each bad login is NotAuthorizedException with AWS's text, on GetId and GetCredentialsForIdentity alike."""
    with pytest.raises(ClientError) as exc:
        operation(scene, forge(scene))
    code, text = error(exc)
    assert code == "NotAuthorizedException"
    assert message.fullmatch(text), text


# --- moto's shipped key, whose private half anyone can read ------------------------------
# moto signs every pool's tokens with one key pair whose private half is in
# the moto wheel. The sandbox gives each pool its own; a token re-signed with
# moto's key, claiming the moderator role, must get nothing.


@functools.cache
def _moto_private_key() -> Any:
    data = (importlib.resources.files("moto.cognitoidp") / "resources" / "jwks-private.json.gz").read_bytes()
    return jwt.PyJWK(json.loads(gzip.decompress(data))).key


@dataclass
class ModeratorScene:
    dep: Deployment
    moderator_role: str
    bob_token: str
    bob_identity: str
    carol_token: str

    def as_moderator(self, kid: str) -> str:
        """bob's real claims, made to say he is a moderator, signed with moto's key under `kid`."""
        claims = {**claims_of(self.bob_token), "cognito:roles": [self.moderator_role], "cognito:preferred_role": self.moderator_role}
        return jwt.encode(claims, _moto_private_key(), algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def moderators(sandbox) -> ModeratorScene:
    """A pool whose Token role mapping gives carol (group moderators) the moderator role."""
    dep = sandbox.deployment(users=("bob", "carol"))
    role = auth_role(dep, "moderator")
    join_group(dep, "carol", "moderators", role_arn=role, precedence=0)
    set_mapping(dep, {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"})
    bob_token = dep.id_token("bob")
    bob_identity = sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(bob_token))["IdentityId"]
    return ModeratorScene(dep, role, bob_token, bob_identity, dep.id_token("carol"))


def test_genuine_moderator_token_gets_the_moderator_role(moderators):
    """Control: carol's real token, with the claim from her group, gets moderator credentials."""
    dep = moderators.dep
    ci = dep.kit.unsigned("cognito-identity")
    logins = dep.logins(moderators.carol_token)
    identity_id = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    creds = ci.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    assert caller_arn(dep.kit, as_boto3(creds)) == session_arn(moderators.moderator_role)


@pytest.mark.parametrize(
    "kid",
    [pytest.param(lambda s: "dummy", id="moto-kid"), pytest.param(lambda s: jwt.get_unverified_header(s.bob_token)["kid"], id="pool-kid")],
)
@pytest.mark.parametrize("operation", ["GetId", "GetCredentialsForIdentity"])
def test_token_resigned_with_motos_shipped_key_is_refused(moderators, operation, kid):
    """bob's claims with cognito:preferred_role = moderator, signed with moto's key (its kid or the pool's): NotAuthorizedException."""
    dep, ci = moderators.dep, moderators.dep.kit.unsigned("cognito-identity")
    logins = dep.logins(moderators.as_moderator(kid(moderators)))
    with pytest.raises(ClientError) as exc:
        if operation == "GetId":
            ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)
        else:
            ci.get_credentials_for_identity(IdentityId=moderators.bob_identity, Logins=logins)
    assert error(exc) == ("NotAuthorizedException", "Invalid login token. Couldn't verify signed token.")


# --- GetCredentialsForIdentity --------------------------------------------------------


@pytest.mark.parametrize(
    "logins",
    [
        pytest.param(lambda dep: None, id="no-logins"),
        pytest.param(lambda dep: dep.logins(dep.id_token("bob")), id="bob-logins"),
    ],
)
def test_authenticated_identity_needs_its_own_login(sandbox, logins):
    """Alice's identity without Logins, or with bob's, is refused: no guest or bob credentials for it."""
    dep = sandbox.deployment()
    alice, bob = dep.identity_id("alice"), dep.identity_id("bob")
    assert alice != bob
    given = logins(dep)
    with pytest.raises(ClientError) as exc:
        sandbox.unsigned("cognito-identity").get_credentials_for_identity(
            IdentityId=alice, **({"Logins": given} if given else {})
        )
    assert error(exc) == ("NotAuthorizedException", LOGINS_DONT_MATCH)


@pytest.mark.parametrize(
    "who, role",
    [
        pytest.param("alice", "authenticated", id="user"),
        pytest.param(None, "unauthenticated", id="guest"),
    ],
)
def test_credentials_are_the_pools_role_for_one_hour(sandbox, who, role):
    """Credentials answer GetCallerIdentity as the pool's role session and expire in one hour."""
    dep = sandbox.deployment()
    before = datetime.now(timezone.utc)
    identity_id, creds = dep.user_credentials(who) if who else dep.guest_credentials()
    assert caller_arn(sandbox, creds) == session_arn(dep.roles[role])
    ci = sandbox.unsigned("cognito-identity")
    logins = {"Logins": dep.logins(dep.id_token(who))} if who else {}
    answer = ci.get_credentials_for_identity(IdentityId=identity_id, **logins)
    assert answer["IdentityId"] == identity_id
    lifetime = answer["Credentials"]["Expiration"] - before
    assert abs(lifetime - timedelta(hours=1)) <= timedelta(seconds=60), lifetime


def test_each_call_mints_distinct_keys_per_user(sandbox):
    """Alice and bob receive different access keys (not moto's fixed stub keys)."""
    dep = sandbox.deployment()
    _, alice = dep.user_credentials("alice")
    _, bob = dep.user_credentials("bob")
    assert alice["aws_access_key_id"] != bob["aws_access_key_id"]
    assert alice["aws_session_token"] != bob["aws_session_token"]


# --- role resolution: Type Token ------------------------------------------------------


@pytest.mark.parametrize(
    "groups, custom, ambiguous, expected",
    [
        pytest.param(("editors", "viewers"), None, "Deny", "editor", id="preferred-role-is-lowest-precedence"),
        pytest.param(("viewers",), None, "Deny", "viewer", id="single-group-role"),
        pytest.param(("editors", "viewers"), "viewer", "Deny", "viewer", id="custom-role-in-cognito-roles"),
        pytest.param(("viewers",), "editor", "AuthenticatedRole", None, id="custom-role-not-in-cognito-roles"),
        pytest.param(("editors", "viewers"), "authenticated", "AuthenticatedRole", None, id="custom-default-role-not-in-cognito-roles"),
        pytest.param((), None, "AuthenticatedRole", "authenticated", id="no-roles-falls-back-to-default"),
        pytest.param(("readers",), None, "AuthenticatedRole", "authenticated", id="roleless-group-falls-back-to-default"),
        pytest.param((), None, "Deny", None, id="no-roles-deny"),
    ],
)
def test_token_role_mapping(sandbox, groups, custom, ambiguous, expected):
    """Type Token: CustomRoleArn only from cognito:roles, else cognito:preferred_role, else AmbiguousRoleResolution."""
    dep = sandbox.deployment()
    roles = {**dep.roles, "editor": auth_role(dep, "editor"), "viewer": auth_role(dep, "viewer")}
    catalogue = {"editors": (roles["editor"], 1), "viewers": (roles["viewer"], 5), "readers": (None, 0)}
    for group in groups:
        join_group(dep, "alice", group, *catalogue[group])
    set_mapping(dep, {"Type": "Token", "AmbiguousRoleResolution": ambiguous})
    extra = {"CustomRoleArn": roles[custom]} if custom else {}
    if expected is None:
        with pytest.raises(ClientError) as exc:
            credentials_for(dep, "alice", **extra)
        assert error(exc)[0] == "NotAuthorizedException"
        return
    creds = as_boto3(credentials_for(dep, "alice", **extra)["Credentials"])
    assert caller_arn(sandbox, creds) == session_arn(roles[expected])


def test_token_mapping_for_another_app_client_is_ignored(sandbox):
    """A RoleMappings entry keyed to another app client does not apply to this client's tokens."""
    dep = sandbox.deployment()
    editor = auth_role(dep, "editor")
    join_group(dep, "alice", "editors", editor, 1)
    sandbox.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=dep.identity_pool_id,
        Roles=dict(dep.roles),
        RoleMappings={mapping_key(dep, "someotherclient"): {"Type": "Token", "AmbiguousRoleResolution": "Deny"}},
    )
    creds = as_boto3(credentials_for(dep, "alice")["Credentials"])
    assert caller_arn(sandbox, creds) == session_arn(dep.roles["authenticated"])


# --- role resolution: Type Rules ------------------------------------------------------


@pytest.mark.parametrize(
    "claim, match_type, value, matches",
    [
        ("email", "Equals", "alice@example.com", True),
        ("email", "Equals", "bob@example.com", False),
        ("email", "Equals", "ALICE@example.com", False),
        ("email", "Contains", "@example.", True),
        ("email", "Contains", "@evil.", False),
        ("email", "StartsWith", "alice@", True),
        ("email", "StartsWith", "example.com", False),
        ("email", "NotEqual", "bob@example.com", True),
        ("email", "NotEqual", "alice@example.com", False),
        ("cognito:groups", "Contains", "editors", True),
        ("cognito:groups", "Contains", "admins", False),
        ("custom:tier", "NotEqual", "gold", False),  # NotEqual is skipped when the claim is missing
        ("custom:tier", "Equals", "gold", False),
    ],
)
def test_rules_role_mapping_match_types(sandbox, claim, match_type, value, matches):
    """Type Rules: a matching rule gives its role; with no match, AmbiguousRoleResolution Deny refuses."""
    dep = sandbox.deployment()
    editor = auth_role(dep, "editor")
    join_group(dep, "alice", "editors")
    rule = {"Claim": claim, "MatchType": match_type, "Value": value, "RoleARN": editor}
    set_mapping(dep, {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": [rule]}})
    if not matches:
        with pytest.raises(ClientError) as exc:
            credentials_for(dep, "alice")
        assert error(exc)[0] == "NotAuthorizedException"
        return
    creds = as_boto3(credentials_for(dep, "alice")["Credentials"])
    assert caller_arn(sandbox, creds) == session_arn(editor)


@pytest.mark.parametrize("order", [("first", "second"), ("second", "first")])
def test_rules_first_match_wins(sandbox, order):
    """When two rules match, the one listed first decides the role."""
    dep = sandbox.deployment()
    roles = {name: auth_role(dep, name) for name in ("first", "second")}
    rules = {
        "first": {"Claim": "email", "MatchType": "StartsWith", "Value": "alice", "RoleARN": roles["first"]},
        "second": {"Claim": "email", "MatchType": "Equals", "Value": "alice@example.com", "RoleARN": roles["second"]},
    }
    set_mapping(
        dep,
        {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": [rules[n] for n in order]}},
    )
    creds = as_boto3(credentials_for(dep, "alice")["Credentials"])
    assert caller_arn(sandbox, creds) == session_arn(roles[order[0]])


@pytest.mark.parametrize("ambiguous, refused", [("AuthenticatedRole", False), ("Deny", True)])
def test_rules_without_match_use_ambiguous_resolution(sandbox, ambiguous, refused):
    """No rule matches: AuthenticatedRole gives the pool's default role, Deny refuses."""
    dep = sandbox.deployment()
    editor = auth_role(dep, "editor")
    rule = {"Claim": "email", "MatchType": "Equals", "Value": "nobody@example.com", "RoleARN": editor}
    set_mapping(dep, {"Type": "Rules", "AmbiguousRoleResolution": ambiguous, "RulesConfiguration": {"Rules": [rule]}})
    if refused:
        with pytest.raises(ClientError) as exc:
            credentials_for(dep, "alice")
        assert error(exc)[0] == "NotAuthorizedException"
        return
    creds = as_boto3(credentials_for(dep, "alice")["Credentials"])
    assert caller_arn(sandbox, creds) == session_arn(dep.roles["authenticated"])


# --- trust policies ------------------------------------------------------------------


def _trust(pool: str, amr: str, *, action: str = "sts:AssumeRoleWithWebIdentity", federated: str = "cognito-identity.amazonaws.com") -> str:
    document = json.loads(trust_policy(pool, amr))
    document["Statement"][0]["Action"] = action
    document["Statement"][0]["Principal"] = {"Federated": federated}
    return json.dumps(document)


@pytest.mark.parametrize(
    "slot, who, trust, allowed",
    [
        pytest.param("authenticated", "alice", lambda p: _trust(p, "authenticated"), True, id="user-correct-trust"),
        pytest.param("unauthenticated", None, lambda p: _trust(p, "unauthenticated"), True, id="guest-correct-trust"),
        pytest.param("authenticated", "alice", lambda p: _trust(OTHER_POOL, "authenticated"), False, id="user-other-pool-aud"),
        pytest.param("unauthenticated", None, lambda p: _trust(OTHER_POOL, "unauthenticated"), False, id="guest-other-pool-aud"),
        pytest.param("authenticated", "alice", lambda p: _trust(p, "unauthenticated"), False, id="user-on-guest-only-role"),
        pytest.param("unauthenticated", None, lambda p: _trust(p, "authenticated"), False, id="guest-on-user-only-role"),
        pytest.param("authenticated", "alice", lambda p: _trust(p, "authenticated", action="sts:AssumeRole"), False, id="sts-assume-role-action"),
        pytest.param("authenticated", "alice", lambda p: _trust(p, "authenticated", federated="accounts.google.com"), False, id="other-federated-principal"),
    ],
)
def test_role_trust_policy_must_admit_the_pool(sandbox, slot, who, trust, allowed):
    """The resolved role's trust policy must allow this pool's aud and amr, else InvalidIdentityPoolConfigurationException."""
    dep = sandbox.deployment()
    roles = {**dep.roles, slot: dep.create_role(f"trust-{slot[:5]}", trust(dep.identity_pool_id))}
    sandbox.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=dep.identity_pool_id, Roles=roles)
    get = (lambda: dep.user_credentials(who)) if who else dep.guest_credentials
    if not allowed:
        with pytest.raises(ClientError) as exc:
            get()
        assert error(exc) == ("InvalidIdentityPoolConfigurationException", BAD_CONFIG)
        return
    _, creds = get()
    assert caller_arn(sandbox, creds) == session_arn(roles[slot])


def test_mapped_role_trust_policy_is_checked_too(sandbox):
    """A role chosen by a Rules mapping whose trust names another pool is InvalidIdentityPoolConfigurationException."""
    dep = sandbox.deployment()
    foreign = dep.create_role("foreign", _trust(OTHER_POOL, "authenticated"))
    rule = {"Claim": "email", "MatchType": "Equals", "Value": "alice@example.com", "RoleARN": foreign}
    set_mapping(dep, {"Type": "Rules", "AmbiguousRoleResolution": "Deny", "RulesConfiguration": {"Rules": [rule]}})
    with pytest.raises(ClientError) as exc:
        credentials_for(dep, "alice")
    assert error(exc) == ("InvalidIdentityPoolConfigurationException", BAD_CONFIG)


# --- linking a guest to a login ----------------------------------------------------------


def test_guest_keeps_identity_when_signing_in(sandbox):
    """GetCredentialsForIdentity with a guest IdentityId and alice's Logins links the login to that identity."""
    dep = sandbox.deployment()
    ci = sandbox.unsigned("cognito-identity")
    guest = ci.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
    logins = dep.logins(dep.id_token("alice"))
    answer = ci.get_credentials_for_identity(IdentityId=guest, Logins=logins)
    assert answer["IdentityId"] == guest
    assert caller_arn(sandbox, as_boto3(answer["Credentials"])) == session_arn(dep.roles["authenticated"])
    assert sandbox.client("cognito-identity").describe_identity(IdentityId=guest)["Logins"] == [dep.provider]
    assert dep.identity_id("alice") == guest
    with pytest.raises(ClientError) as exc:
        ci.get_credentials_for_identity(IdentityId=guest)
    assert error(exc) == ("NotAuthorizedException", LOGINS_DONT_MATCH)


# --- ServerSideTokenCheck ------------------------------------------------------------------


def _admin_sign_out(dep: Deployment, tokens: dict[str, str]) -> None:
    dep.kit.client("cognito-idp").admin_user_global_sign_out(UserPoolId=dep.user_pool_id, Username="alice@example.com")


def _self_sign_out(dep: Deployment, tokens: dict[str, str]) -> None:
    dep.kit.unsigned("cognito-idp").global_sign_out(AccessToken=tokens["AccessToken"])


SIGN_OUTS = [pytest.param(_admin_sign_out, id="AdminUserGlobalSignOut"), pytest.param(_self_sign_out, id="GlobalSignOut")]
CALLS = [
    pytest.param(lambda ci, dep, identity, logins: ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins), id="GetId"),
    pytest.param(
        lambda ci, dep, identity, logins: ci.get_credentials_for_identity(IdentityId=identity, Logins=logins),
        id="GetCredentialsForIdentity",
    ),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("sign_out", SIGN_OUTS)
def test_revoked_token_refused_with_server_side_check(sandbox, sign_out, call):
    """ServerSideTokenCheck true: an ID token issued before a global sign-out is NotAuthorizedException."""
    dep = sandbox.deployment(server_side_token_check=True)
    tokens = dep.sign_in("alice")
    logins = dep.logins(tokens["IdToken"])
    ci = sandbox.unsigned("cognito-identity")
    identity = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    sign_out(dep, tokens)
    with pytest.raises(ClientError) as exc:
        call(ci, dep, identity, logins)
    assert error(exc)[0] == "NotAuthorizedException"


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("sign_out", SIGN_OUTS)
def test_revoked_token_still_works_without_server_side_check(sandbox, sign_out, call):
    """ServerSideTokenCheck false: the signed-out user's ID token keeps working until it expires, as on AWS."""
    dep = sandbox.deployment(server_side_token_check=False)
    tokens = dep.sign_in("alice")
    logins = dep.logins(tokens["IdToken"])
    ci = sandbox.unsigned("cognito-identity")
    identity = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    sign_out(dep, tokens)
    answer = call(ci, dep, identity, logins)
    assert answer["IdentityId"] == identity


@pytest.mark.parametrize("sign_out", SIGN_OUTS)
def test_token_issued_after_sign_out_is_accepted(sandbox, sign_out):
    """ServerSideTokenCheck true: signing in again after a global sign-out gives a token that works."""
    dep = sandbox.deployment(server_side_token_check=True)
    sign_out(dep, dep.sign_in("alice"))
    identity_id, creds = dep.user_credentials("alice")
    assert caller_arn(sandbox, creds) == session_arn(dep.roles["authenticated"])


# --- classic (basic) flow --------------------------------------------------------------------


def _open_id_token(dep: Deployment, who: str | None) -> tuple[str, str]:
    """(identity ID, GetOpenIdToken's Token) for `who`, or for a new guest."""
    ci = dep.kit.unsigned("cognito-identity")
    if who is None:
        identity = ci.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
        return identity, ci.get_open_id_token(IdentityId=identity)["Token"]
    logins = dep.logins(dep.id_token(who))
    identity = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    return identity, ci.get_open_id_token(IdentityId=identity, Logins=logins)["Token"]


@pytest.mark.parametrize("who", [pytest.param("alice", id="user"), pytest.param(None, id="guest")])
def test_open_id_token_refused_when_classic_flow_disabled(sandbox, who):
    """AllowClassicFlow false: GetOpenIdToken is InvalidParameterException with AWS's text."""
    dep = sandbox.deployment(classic_flow=False)
    with pytest.raises(ClientError) as exc:
        _open_id_token(dep, who)
    assert error(exc) == ("InvalidParameterException", NO_CLASSIC)


@pytest.mark.parametrize(
    "who, amr",
    [
        pytest.param("alice", lambda dep: ["authenticated", dep.provider], id="user"),
        pytest.param(None, lambda dep: ["unauthenticated"], id="guest"),
    ],
)
def test_open_id_token_claims(sandbox, who, amr):
    """AllowClassicFlow true: the OpenID token is a JWT for this identity, this pool and its amr."""
    dep = sandbox.deployment(classic_flow=True)
    identity, token = _open_id_token(dep, who)
    claims = claims_of(token)
    assert claims["iss"] == "https://cognito-identity.amazonaws.com"
    assert claims["sub"] == identity
    assert claims["aud"] == dep.identity_pool_id
    assert claims["amr"][: len(amr(dep))] == amr(dep)
    assert claims["exp"] > claims["iat"]


@pytest.mark.parametrize(
    "who, role, allowed",
    [
        pytest.param("alice", lambda dep: dep.roles["authenticated"], True, id="user-own-pool-auth-role"),
        pytest.param(None, lambda dep: dep.roles["unauthenticated"], True, id="guest-own-pool-guest-role"),
        pytest.param(None, lambda dep: dep.roles["authenticated"], False, id="guest-on-auth-role"),
        pytest.param("alice", lambda dep: dep.roles["unauthenticated"], False, id="user-on-guest-only-role"),
        pytest.param("alice", lambda dep: dep.create_role("foreign", _trust(OTHER_POOL, "authenticated")), False, id="role-trusts-other-pool"),
    ],
)
def test_assume_role_with_web_identity_obeys_trust_policy(sandbox, who, role, allowed):
    """Classic flow: STS AssumeRoleWithWebIdentity accepts the OpenID token only where the role's trust allows it."""
    dep = sandbox.deployment(classic_flow=True)
    role_arn = role(dep)
    _, token = _open_id_token(dep, who)
    sts = sandbox.unsigned("sts")
    if not allowed:
        with pytest.raises(ClientError) as exc:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="classic", WebIdentityToken=token)
        assert error(exc)[0] == "AccessDenied"
        return
    answer = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="classic", WebIdentityToken=token)
    assert answer["AssumedRoleUser"]["Arn"] == session_arn(role_arn, "classic")
    assert caller_arn(sandbox, as_boto3(answer["Credentials"])) == session_arn(role_arn, "classic")


@pytest.mark.parametrize(
    "forge",
    [pytest.param(tampered, id="tampered"), pytest.param(signed_by_stranger, id="other-rsa-key"), pytest.param(alg_none, id="alg-none")],
)
def test_assume_role_with_forged_open_id_token_is_refused(sandbox, forge):
    """Classic flow: an OpenID token not signed by the sandbox is InvalidIdentityToken."""
    dep = sandbox.deployment(classic_flow=True)
    _, token = _open_id_token(dep, "alice")
    with pytest.raises(ClientError) as exc:
        sandbox.unsigned("sts").assume_role_with_web_identity(
            RoleArn=dep.roles["authenticated"], RoleSessionName="classic", WebIdentityToken=forge(token)
        )
    assert error(exc)[0] == "InvalidIdentityToken"
