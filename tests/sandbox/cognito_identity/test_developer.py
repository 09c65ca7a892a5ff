"""Developer-authenticated identities, driven as an app's backend and its
browser would: the backend (signed) gets an identity and an OpenID token for
its own user identifier, and the browser trades the token in the enhanced
flow; Lookup, Unlink and Merge as a support desk would use them; the pool's
DeveloperProviderName fixed once set; unsigned and unauthorized calls
refused; everything kept across a restart with --data-dir.
https://docs.aws.amazon.com/cognito/latest/developerguide/developer-authenticated-identities.html
"""

from __future__ import annotations

import base64
import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sandbox.test_persistence import sandbox_on
from tests.sandbox_kit import ACCOUNT_ID, REGION, Deployment, SandboxKit, as_boto3

TOKEN_KEY = "cognito-identity.amazonaws.com"  # the Logins key of the pool's own tokens
UNSUPPORTED = "This identity pool does not support the specified developer provider."
LOGINS_DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
ID_PATTERN = re.compile(rf"^{REGION}:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$")


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def with_developer_provider(kit: SandboxKit, pool_id: str, name: str) -> dict[str, Any]:
    """UpdateIdentityPool with everything as it is, plus DeveloperProviderName."""
    client = kit.client("cognito-identity")
    current = client.describe_identity_pool(IdentityPoolId=pool_id)
    current.pop("ResponseMetadata")
    return client.update_identity_pool(**{**current, "DeveloperProviderName": name})


@dataclass
class DevScene:
    """A Photoshare-shaped deployment whose identity pool also has a developer provider."""

    dep: Deployment
    provider: str

    @property
    def kit(self) -> SandboxKit:
        return self.dep.kit

    @property
    def admin(self):
        return self.kit.client("cognito-identity")

    def token(self, user: str, **params: Any) -> dict[str, Any]:
        """GetOpenIdTokenForDeveloperIdentity for `user`, as the backend calls it."""
        logins = {self.provider: user, **params.pop("Logins", {})}
        answer = self.admin.get_open_id_token_for_developer_identity(
            IdentityPoolId=self.dep.identity_pool_id, Logins=logins, **params
        )
        answer.pop("ResponseMetadata")
        return answer

    def credentials(self, identity_id: str, token: str) -> dict[str, Any]:
        """The browser's half: the enhanced flow with the pool's own token."""
        return self.kit.unsigned("cognito-identity").get_credentials_for_identity(
            IdentityId=identity_id, Logins={TOKEN_KEY: token}
        )

    def lookup(self, **params: Any) -> dict[str, Any]:
        answer = self.admin.lookup_developer_identity(IdentityPoolId=self.dep.identity_pool_id, **params)
        answer.pop("ResponseMetadata")
        return answer

    def merge(self, source: str, destination: str, provider: str | None = None) -> str:
        return self.admin.merge_developer_identities(
            IdentityPoolId=self.dep.identity_pool_id,
            DeveloperProviderName=provider or self.provider,
            SourceUserIdentifier=source,
            DestinationUserIdentifier=destination,
        )["IdentityId"]

    def unlink(self, identity_id: str, user: str, provider: str | None = None) -> None:
        self.admin.unlink_developer_identity(
            IdentityPoolId=self.dep.identity_pool_id,
            IdentityId=identity_id,
            DeveloperProviderName=provider or self.provider,
            DeveloperUserIdentifier=user,
        )


def new_scene(kit: SandboxKit) -> DevScene:
    dep = kit.deployment()
    provider = f"login.photoshare-{dep.suffix}"
    with_developer_provider(kit, dep.identity_pool_id, provider)
    return DevScene(dep, provider)


@pytest.fixture(scope="module")
def scene(sandbox) -> DevScene:
    return new_scene(sandbox)


def user() -> str:
    """A user identifier no other test uses (an email, as a magic-link backend would send)."""
    return f"{uuid.uuid4().hex[:10]}@example.org"


# --- GetOpenIdTokenForDeveloperIdentity ----------------------------------------------


def test_token_for_a_new_user(scene):
    """A new user identifier gets a new identity and a token for it, as AWS shapes it."""
    person = user()
    answer = scene.token(person)
    claims = claims_of(answer["Token"])
    pool = scene.dep.identity_pool_id
    assert ID_PATTERN.match(answer["IdentityId"])
    assert jwt.get_unverified_header(answer["Token"])["alg"] == "RS256"
    assert claims["iss"] == "https://cognito-identity.amazonaws.com"
    assert claims["aud"] == pool
    assert claims["sub"] == answer["IdentityId"]
    assert claims["amr"] == ["authenticated", scene.provider, f"{scene.provider}:{pool}:{person}"]
    assert claims["https://cognito-identity.amazonaws.com/identity-pool-arn"] == (
        f"arn:aws:cognito-identity:{REGION}:{ACCOUNT_ID}:identitypool/{pool}"
    )
    assert claims["exp"] - claims["iat"] == 900  # 15 minutes unless TokenDuration says otherwise


@pytest.mark.parametrize("duration", [1, 3600, 86400])
def test_token_duration_is_honoured(scene, duration):
    """TokenDuration sets the token's lifetime, up to 24 hours."""
    claims = claims_of(scene.token(user(), TokenDuration=duration)["Token"])
    assert claims["exp"] - claims["iat"] == duration


def test_token_duration_over_a_day_is_refused(scene):
    """More than 86400 seconds is InvalidParameterException."""
    with pytest.raises(ClientError) as caught:
        scene.token(user(), TokenDuration=86401)
    assert error(caught)[0] == "InvalidParameterException"


def test_principal_tags_are_in_the_token(scene):
    """PrincipalTags travel in the token's AWS tags claim."""
    claims = claims_of(scene.token(user(), PrincipalTags={"team": "wintercorp"})["Token"])
    assert claims["https://aws.amazon.com/tags"] == {"principal_tags": {"team": ["wintercorp"]}}


def test_same_user_gets_the_same_identity(scene):
    """The same user identifier always maps to the same identity; another one to another."""
    person = user()
    first, again, other = scene.token(person)["IdentityId"], scene.token(person)["IdentityId"], scene.token(user())["IdentityId"]
    assert first == again
    assert other != first


def test_describe_identity_names_the_developer_provider(scene):
    """DescribeIdentity lists the developer provider among the identity's logins."""
    identity_id = scene.token(user())["IdentityId"]
    assert scene.admin.describe_identity(IdentityId=identity_id)["Logins"] == [scene.provider]


@pytest.mark.parametrize("logins", [{"login.someone-else": "u1"}, {}], ids=["other-provider", "no-developer-login"])
def test_a_provider_the_pool_does_not_have_is_refused(scene, logins):
    """A Logins map without the pool's own developer provider is refused."""
    with pytest.raises(ClientError) as caught:
        scene.admin.get_open_id_token_for_developer_identity(
            IdentityPoolId=scene.dep.identity_pool_id, Logins=logins or {scene.dep.provider: scene.dep.id_token("alice")}
        )
    assert error(caught) == ("NotAuthorizedException", UNSUPPORTED)


def test_a_pool_without_developer_provider_refuses(sandbox):
    """A pool with no DeveloperProviderName serves no developer identities."""
    dep = sandbox.deployment(users=())
    with pytest.raises(ClientError) as caught:
        sandbox.client("cognito-identity").get_open_id_token_for_developer_identity(
            IdentityPoolId=dep.identity_pool_id, Logins={"login.photoshare": "u1"}
        )
    assert error(caught) == ("NotAuthorizedException", UNSUPPORTED)


def test_unknown_pool_is_not_found(scene):
    with pytest.raises(ClientError) as caught:
        scene.admin.get_open_id_token_for_developer_identity(
            IdentityPoolId=f"{REGION}:00000000-0000-4000-8000-000000000000", Logins={scene.provider: "u1"}
        )
    assert error(caught)[0] == "ResourceNotFoundException"


def test_user_registered_to_another_identity_is_refused(scene):
    """Naming an IdentityId other than the user's own is DeveloperUserAlreadyRegisteredException."""
    person = user()
    scene.token(person)
    other = scene.token(user())["IdentityId"]
    with pytest.raises(ClientError) as caught:
        scene.token(person, IdentityId=other)
    assert error(caught)[0] == "DeveloperUserAlreadyRegisteredException"


def test_a_guest_identity_becomes_the_users(scene):
    """With the guest's IdentityId, the developer user is linked to that identity (guest to user)."""
    guest_id = scene.kit.unsigned("cognito-identity").get_id(IdentityPoolId=scene.dep.identity_pool_id)["IdentityId"]
    assert scene.token(user(), IdentityId=guest_id)["IdentityId"] == guest_id
    with pytest.raises(ClientError) as caught:  # no longer a guest
        scene.kit.unsigned("cognito-identity").get_credentials_for_identity(IdentityId=guest_id)
    assert error(caught) == ("NotAuthorizedException", LOGINS_DONT_MATCH)


def test_other_logins_are_linked_too(sandbox):
    """A user-pool login given with the developer one is linked to the same identity."""
    dev = new_scene(sandbox)
    id_token = dev.dep.id_token("alice")
    identity_id = dev.token(user(), Logins={dev.dep.provider: id_token})["IdentityId"]
    assert dev.dep.identity_id("alice") == identity_id
    assert sorted(dev.admin.describe_identity(IdentityId=identity_id)["Logins"]) == sorted([dev.provider, dev.dep.provider])


def test_a_login_linked_elsewhere_is_a_conflict(sandbox):
    """A user-pool login already on another identity cannot be linked to this user's: ResourceConflictException."""
    dev = new_scene(sandbox)
    dev.dep.identity_id("alice")
    person = user()
    dev.token(person)
    with pytest.raises(ClientError) as caught:
        dev.token(person, Logins={dev.dep.provider: dev.dep.id_token("alice")})
    assert error(caught)[0] == "ResourceConflictException"


# --- the token in the enhanced flow ----------------------------------------------------


def test_token_gives_the_authenticated_roles_credentials(scene):
    """The token, exchanged with GetCredentialsForIdentity, is the authenticated role, scoped to the identity."""
    answer = scene.token(user())
    creds = as_boto3(scene.credentials(answer["IdentityId"], answer["Token"])["Credentials"])
    arn = scene.kit.client("sts", creds).get_caller_identity()["Arn"]
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{scene.dep.roles['authenticated'].rsplit('/', 1)[-1]}/")
    s3 = scene.kit.client("s3", creds)
    s3.put_object(Bucket=scene.dep.bucket, Key=f"private/{answer['IdentityId']}/me.jpg", Body=b"photo")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=scene.dep.bucket, Key=f"private/{REGION}:someone-else/me.jpg", Body=b"photo")
    assert error(caught)[0] == "AccessDenied"


def test_token_also_serves_the_basic_flow(scene):
    """The same token goes straight to STS AssumeRoleWithWebIdentity (the developer guide's basic flow), trust policy permitting."""
    answer = scene.token(user())
    assumed = scene.kit.unsigned("sts").assume_role_with_web_identity(
        RoleArn=scene.dep.roles["authenticated"], RoleSessionName="basic", WebIdentityToken=answer["Token"]
    )
    assert assumed["SubjectFromWebIdentityToken"] == answer["IdentityId"]
    with pytest.raises(ClientError) as caught:  # the guest role trusts only unauthenticated amr
        scene.kit.unsigned("sts").assume_role_with_web_identity(
            RoleArn=scene.dep.roles["unauthenticated"], RoleSessionName="basic", WebIdentityToken=answer["Token"]
        )
    assert error(caught)[0] == "AccessDenied"


def test_role_mappings_do_not_apply_to_developer_identities(sandbox):
    """A Deny role mapping on the user pool does not touch developer identities: the default authenticated role."""
    dev = new_scene(sandbox)
    dev.admin.set_identity_pool_roles(
        IdentityPoolId=dev.dep.identity_pool_id,
        Roles=dev.dep.roles,
        RoleMappings={f"{dev.dep.provider}:{dev.dep.client_id}": {"Type": "Token", "AmbiguousRoleResolution": "Deny"}},
    )
    answer = dev.token(user())
    creds = as_boto3(dev.credentials(answer["IdentityId"], answer["Token"])["Credentials"])
    assert dev.dep.roles["authenticated"].rsplit("/", 1)[-1] in dev.kit.client("sts", creds).get_caller_identity()["Arn"]


def test_developer_identity_without_logins_is_not_a_guest(scene):
    """No Logins for a developer identity is refused, never guest credentials."""
    identity_id = scene.token(user())["IdentityId"]
    with pytest.raises(ClientError) as caught:
        scene.kit.unsigned("cognito-identity").get_credentials_for_identity(IdentityId=identity_id)
    assert error(caught) == ("NotAuthorizedException", LOGINS_DONT_MATCH)


def test_token_for_another_identity_is_refused(scene):
    """One user's token does not open another user's identity."""
    mine, theirs = scene.token(user()), scene.token(user())
    with pytest.raises(ClientError) as caught:
        scene.credentials(theirs["IdentityId"], mine["Token"])
    assert error(caught) == ("NotAuthorizedException", LOGINS_DONT_MATCH)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 86400
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _self_signed(token: str) -> str:
    """The same claims and kid, signed with a key of the attacker's own."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims_of(token), key, algorithm="RS256", headers={"kid": jwt.get_unverified_header(token)["kid"]})


def _unsigned(token: str) -> str:
    return jwt.encode(claims_of(token), None, algorithm="none")


@pytest.mark.parametrize("forge", [_tampered, _self_signed, _unsigned, lambda t: "not-a-jwt"], ids=["tampered", "self-signed", "alg-none", "garbage"])
def test_a_forged_token_is_refused(scene, forge):
    """A token whose signature is not the sandbox's is NotAuthorizedException."""
    answer = scene.token(user())
    with pytest.raises(ClientError) as caught:
        scene.credentials(answer["IdentityId"], forge(answer["Token"]))
    code, message = error(caught)
    assert code == "NotAuthorizedException"
    assert message.startswith("Invalid login token.")


def test_an_expired_token_is_refused(scene):
    """A token past its TokenDuration is refused as expired."""
    answer = scene.token(user(), TokenDuration=1)
    time.sleep(2.1)
    with pytest.raises(ClientError) as caught:
        scene.credentials(answer["IdentityId"], answer["Token"])
    code, message = error(caught)
    assert code == "NotAuthorizedException"
    assert message.startswith("Invalid login token. Token expired")


def test_a_token_of_another_pool_is_refused(sandbox, scene):
    """A token whose aud is another identity pool is refused, even for an identity ID it names."""
    other = new_scene(sandbox)
    foreign = other.token(user())
    mine = scene.token(user())
    with pytest.raises(ClientError) as caught:
        scene.credentials(mine["IdentityId"], foreign["Token"])
    assert error(caught) == ("NotAuthorizedException", "Invalid login token. Incorrect token audience.")


def test_a_classic_flow_token_is_not_a_developer_token(sandbox):
    """GetOpenIdToken's token (here a guest's) is signed by the same key but refused in Logins."""
    dep = sandbox.deployment(users=(), classic_flow=True)
    with_developer_provider(sandbox, dep.identity_pool_id, f"login.photoshare-{dep.suffix}")
    unsigned = sandbox.unsigned("cognito-identity")
    guest_id = unsigned.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
    token = unsigned.get_open_id_token(IdentityId=guest_id)["Token"]
    with pytest.raises(ClientError) as caught:
        unsigned.get_credentials_for_identity(IdentityId=guest_id, Logins={TOKEN_KEY: token})
    assert error(caught) == ("NotAuthorizedException", "Invalid login token. Not a developer-authenticated identity token.")


# --- LookupDeveloperIdentity -------------------------------------------------------------


def test_lookup_both_ways(scene):
    """By user identifier: its identity; by identity: its user identifiers; both: confirmed."""
    person = user()
    identity_id = scene.token(person)["IdentityId"]
    assert scene.lookup(DeveloperUserIdentifier=person) == {"IdentityId": identity_id, "DeveloperUserIdentifierList": [person]}
    assert scene.lookup(IdentityId=identity_id) == {"IdentityId": identity_id, "DeveloperUserIdentifierList": [person]}
    assert scene.lookup(IdentityId=identity_id, DeveloperUserIdentifier=person)["IdentityId"] == identity_id


def test_lookup_refusals(scene):
    """Unknown user: ResourceNotFoundException; a user and another identity: ResourceConflictException; neither: InvalidParameterException."""
    person = user()
    scene.token(person)
    other = scene.token(user())["IdentityId"]
    with pytest.raises(ClientError) as unknown:
        scene.lookup(DeveloperUserIdentifier=user())
    with pytest.raises(ClientError) as mismatch:
        scene.lookup(DeveloperUserIdentifier=person, IdentityId=other)
    with pytest.raises(ClientError) as neither:
        scene.lookup()
    assert [error(unknown)[0], error(mismatch)[0], error(neither)[0]] == [
        "ResourceNotFoundException", "ResourceConflictException", "InvalidParameterException"
    ]


def test_lookup_pages_the_user_identifiers(sandbox):
    """MaxResults and NextToken page an identity's user identifiers."""
    dev = new_scene(sandbox)
    people = [user() for _ in range(3)]
    for person in people:
        dev.token(person)
    for person in people[1:]:
        identity_id = dev.merge(person, people[0])
    first = dev.lookup(IdentityId=identity_id, MaxResults=2)
    second = dev.lookup(IdentityId=identity_id, MaxResults=2, NextToken=first["NextToken"])
    assert len(first["DeveloperUserIdentifierList"]) == 2
    assert "NextToken" not in second
    assert sorted(first["DeveloperUserIdentifierList"] + second["DeveloperUserIdentifierList"]) == sorted(people)


# --- UnlinkDeveloperIdentity -------------------------------------------------------------


def test_unlink_makes_the_user_new_and_the_identity_inaccessible(scene):
    """After unlinking, the user gets a new identity next time, and the old one opens to nobody."""
    person = user()
    before = scene.token(person)
    scene.unlink(before["IdentityId"], person)
    with pytest.raises(ClientError) as gone:
        scene.lookup(DeveloperUserIdentifier=person)
    assert error(gone)[0] == "ResourceNotFoundException"
    assert scene.token(person)["IdentityId"] != before["IdentityId"]
    for logins in ({TOKEN_KEY: before["Token"]}, None):
        with pytest.raises(ClientError) as refused:
            scene.kit.unsigned("cognito-identity").get_credentials_for_identity(
                IdentityId=before["IdentityId"], **({"Logins": logins} if logins else {})
            )
        assert error(refused)[0] == "NotAuthorizedException"


def test_unlink_refusals(scene):
    """Another provider: NotAuthorizedException; a user of another identity: ResourceConflictException."""
    person = user()
    scene.token(person)
    other = scene.token(user())["IdentityId"]
    with pytest.raises(ClientError) as provider:
        scene.unlink(other, person, provider="login.someone-else")
    with pytest.raises(ClientError) as conflict:
        scene.unlink(other, person)
    assert error(provider) == ("NotAuthorizedException", UNSUPPORTED)
    assert error(conflict)[0] == "ResourceConflictException"
    assert scene.lookup(DeveloperUserIdentifier=person)["DeveloperUserIdentifierList"] == [person]  # still linked


# --- MergeDeveloperIdentities ------------------------------------------------------------


def test_merge_moves_the_source_user_to_the_destination(scene):
    """The source user now resolves to the destination's identity; the source identity is gone."""
    source, destination = user(), user()
    source_id, destination_id = scene.token(source)["IdentityId"], scene.token(destination)["IdentityId"]
    assert scene.merge(source, destination) == destination_id
    assert scene.token(source)["IdentityId"] == destination_id
    assert sorted(scene.lookup(IdentityId=destination_id)["DeveloperUserIdentifierList"]) == sorted([source, destination])
    with pytest.raises(ClientError) as gone:
        scene.admin.describe_identity(IdentityId=source_id)
    assert error(gone)[0] == "ResourceNotFoundException"


def test_merge_carries_the_source_identitys_logins(sandbox):
    """A user-pool login of the source identity moves with it."""
    dev = new_scene(sandbox)
    source, destination = user(), user()
    dev.token(source, Logins={dev.dep.provider: dev.dep.id_token("alice")})
    destination_id = dev.token(destination)["IdentityId"]
    dev.merge(source, destination)
    assert dev.dep.identity_id("alice") == destination_id


def test_merge_refusals(sandbox):
    """Unknown source: ResourceNotFoundException; two users of one public provider: ResourceConflictException, nothing changed."""
    dev = new_scene(sandbox)
    source, destination = user(), user()
    source_id = dev.token(source, Logins={dev.dep.provider: dev.dep.id_token("alice")})["IdentityId"]
    dev.token(destination, Logins={dev.dep.provider: dev.dep.id_token("bob")})
    with pytest.raises(ClientError) as unknown:
        dev.merge(user(), destination)
    with pytest.raises(ClientError) as provider:
        dev.merge(source, destination, provider="login.someone-else")
    with pytest.raises(ClientError) as conflict:
        dev.merge(source, destination)
    assert error(unknown)[0] == "ResourceNotFoundException"
    assert error(provider) == ("NotAuthorizedException", UNSUPPORTED)
    assert error(conflict)[0] == "ResourceConflictException"
    assert dev.lookup(DeveloperUserIdentifier=source)["IdentityId"] == source_id
    assert dev.dep.identity_id("alice") == source_id


# --- DeveloperProviderName ----------------------------------------------------------------


def test_developer_provider_name_cannot_change(scene):
    """Once set it stays: another name is InvalidParameterException; leaving it out keeps it."""
    with pytest.raises(ClientError) as caught:
        with_developer_provider(scene.kit, scene.dep.identity_pool_id, "login.renamed")
    assert error(caught)[0] == "InvalidParameterException"
    current = scene.admin.describe_identity_pool(IdentityPoolId=scene.dep.identity_pool_id)
    current.pop("ResponseMetadata")
    current.pop("DeveloperProviderName")
    assert scene.admin.update_identity_pool(**current)["DeveloperProviderName"] == scene.provider
    assert with_developer_provider(scene.kit, scene.dep.identity_pool_id, scene.provider)["DeveloperProviderName"] == scene.provider


@pytest.mark.parametrize("name", ["login with spaces", "login/slash", "x" * 129])
def test_a_malformed_developer_provider_name_is_refused(sandbox, name):
    """Letters, digits, '.', '_' and '-' only, at most 128 characters."""
    with pytest.raises(ClientError) as caught:
        sandbox.client("cognito-identity").create_identity_pool(
            IdentityPoolName=f"dev_{uuid.uuid4().hex[:8]}", AllowUnauthenticatedIdentities=False, DeveloperProviderName=name
        )
    assert error(caught)[0] == "InvalidParameterException"


# --- signed calls only ---------------------------------------------------------------------


def _calls(scene: DevScene, person: str, identity_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    pool = scene.dep.identity_pool_id
    return {
        "GetOpenIdTokenForDeveloperIdentity": ("get_open_id_token_for_developer_identity", {"IdentityPoolId": pool, "Logins": {scene.provider: person}}),
        "LookupDeveloperIdentity": ("lookup_developer_identity", {"IdentityPoolId": pool, "DeveloperUserIdentifier": person}),
        "UnlinkDeveloperIdentity": ("unlink_developer_identity", {
            "IdentityPoolId": pool, "IdentityId": identity_id, "DeveloperProviderName": scene.provider, "DeveloperUserIdentifier": person,
        }),
        "MergeDeveloperIdentities": ("merge_developer_identities", {
            "IdentityPoolId": pool, "DeveloperProviderName": scene.provider, "SourceUserIdentifier": person, "DestinationUserIdentifier": person,
        }),
    }


OPERATIONS = ["GetOpenIdTokenForDeveloperIdentity", "LookupDeveloperIdentity", "UnlinkDeveloperIdentity", "MergeDeveloperIdentities"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_unsigned_calls_are_refused(scene, operation):
    """Anyone could claim any user identifier unsigned: MissingAuthenticationTokenException."""
    person = user()
    identity_id = scene.token(person)["IdentityId"]
    method, params = _calls(scene, person, identity_id)[operation]
    with pytest.raises(ClientError) as caught:
        getattr(scene.kit.unsigned("cognito-identity"), method)(**params)
    assert error(caught)[0] == "MissingAuthenticationTokenException"
    assert scene.lookup(DeveloperUserIdentifier=person)["IdentityId"] == identity_id  # nothing changed


def _signer(kit: SandboxKit, actions: list[str], resource: str) -> dict[str, str]:
    """An IAM user's keys, allowed exactly `actions` on `resource`."""
    iam, name = kit.client("iam"), f"backend-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    iam.put_user_policy(UserName=name, PolicyName="developer", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _pool_arn(pool_id: str) -> str:
    return f"arn:aws:cognito-identity:{REGION}:{ACCOUNT_ID}:identitypool/{pool_id}"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_signed_calls_need_the_action_on_the_pool(sandbox, scene, operation):
    """Allowed on this pool: served. Another action, or the action on another pool: AccessDeniedException."""
    person = user()
    identity_id = scene.token(person)["IdentityId"]
    method, params = _calls(scene, person, identity_id)[operation]
    others = [op for op in OPERATIONS if op != operation]
    for creds in (
        _signer(sandbox, [f"cognito-identity:{op}" for op in others], _pool_arn(scene.dep.identity_pool_id)),
        _signer(sandbox, [f"cognito-identity:{operation}"], _pool_arn(f"{REGION}:00000000-0000-4000-8000-000000000000")),
    ):
        with pytest.raises(ClientError) as caught:
            getattr(sandbox.client("cognito-identity", creds), method)(**params)
        assert error(caught)[0] == "AccessDeniedException"
    allowed = _signer(sandbox, [f"cognito-identity:{operation}"], _pool_arn(scene.dep.identity_pool_id))
    getattr(sandbox.client("cognito-identity", allowed), method)(**params)


# --- across a restart ------------------------------------------------------------------------


@dataclass
class Saved:
    pool_id: str
    provider: str
    users: dict[str, str]  # user identifier -> identity ID
    merged_into: str


@pytest.fixture(scope="module", params=["state.bin", "state.json"])
def restarted(request, tmp_path_factory) -> Iterator[tuple[SandboxKit, Saved]]:
    """Developer identities made in one sandbox, served again by a second from
    the same directory: from state.bin, or from state.json alone (as after a moto upgrade)."""
    data_dir = tmp_path_factory.mktemp("developer-data")
    with sandbox_on(data_dir) as first:
        dev = new_scene(first.wait_ready())
        names = [user() for _ in range(3)]
        ids = {name: dev.token(name)["IdentityId"] for name in names}
        merged_into = dev.merge(names[2], names[1])
        ids[names[2]] = merged_into
        saved = Saved(dev.dep.identity_pool_id, dev.provider, ids, merged_into)
        assert first.stop(signal.SIGTERM) == 0
    if request.param == "state.json":
        (data_dir / "state.bin").unlink()
    with sandbox_on(data_dir, port=first.port) as second:
        yield second.wait_ready(), saved


def _check_kept(kit: SandboxKit, saved: Saved) -> None:
    client = kit.client("cognito-identity")
    assert client.describe_identity_pool(IdentityPoolId=saved.pool_id)["DeveloperProviderName"] == saved.provider
    for name, identity_id in saved.users.items():
        again = client.get_open_id_token_for_developer_identity(IdentityPoolId=saved.pool_id, Logins={saved.provider: name})
        assert again["IdentityId"] == identity_id
    listed = client.lookup_developer_identity(IdentityPoolId=saved.pool_id, IdentityId=saved.merged_into)
    assert sorted(listed["DeveloperUserIdentifierList"]) == sorted(n for n, i in saved.users.items() if i == saved.merged_into)
    fresh = client.get_open_id_token_for_developer_identity(IdentityPoolId=saved.pool_id, Logins={saved.provider: next(iter(saved.users))})
    creds = kit.unsigned("cognito-identity").get_credentials_for_identity(IdentityId=fresh["IdentityId"], Logins={TOKEN_KEY: fresh["Token"]})
    assert creds["IdentityId"] == fresh["IdentityId"]


def test_developer_identities_survive_a_restart(restarted):
    """Same identity per user, merged users still together, the provider name kept, the token flow still works."""
    kit, saved = restarted
    _check_kept(kit, saved)


# --- bad input ---------------------------------------------------------------------------------


def _raw(kit: SandboxKit, operation: str, body: dict[str, Any]) -> requests.Response:
    """A request signed with the admin key carrying exactly `body`, as a hand-written client would send it."""
    request = AWSRequest(
        "POST",
        f"{kit.endpoint}/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"AWSCognitoIdentityService.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials("test", "test"), "cognito-identity", REGION).add_auth(request)
    return requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=10)


BAD_TOKEN_REQUESTS = [
    pytest.param({"Logins": ["a", "b"]}, id="logins-a-list"),
    pytest.param({"Logins": {"<P>": ""}}, id="empty-user-id"),
    pytest.param({"Logins": {"<P>": 42}}, id="numeric-user-id"),
    pytest.param({"Logins": {"<P>": "x" * 1025}}, id="user-id-too-long"),
    pytest.param({"Logins": {"<P>": "u", **{f"p{i}": "t" for i in range(10)}}}, id="eleven-logins"),
    pytest.param({"Logins": {"<P>": "u"}, "TokenDuration": "900"}, id="duration-a-string"),
    pytest.param({"Logins": {"<P>": "u"}, "TokenDuration": True}, id="duration-a-bool"),
    pytest.param({"Logins": {"<P>": "u"}, "TokenDuration": 0}, id="duration-zero"),
    pytest.param({"Logins": {"<P>": "u"}, "PrincipalTags": ["team"]}, id="tags-a-list"),
    pytest.param({"Logins": {"<P>": "u"}, "PrincipalTags": {"team": "x" * 257}}, id="tag-value-too-long"),
    pytest.param({"Logins": {"<P>": "u"}, "IdentityId": 7}, id="identity-id-a-number"),
    pytest.param({"Logins": {"<P>": "u"}, "IdentityId": "not-an-id"}, id="identity-id-malformed"),
]


@pytest.mark.parametrize("params", BAD_TOKEN_REQUESTS)
def test_bad_token_requests_are_400s_that_change_nothing(scene, params):
    """Malformed parameters are InvalidParameterException (or NotAuthorized for a user-pool key it cannot verify), never a 500 or a new identity."""
    filled = json.loads(json.dumps(params).replace("<P>", scene.provider))
    before = len(scene.admin.list_identities(IdentityPoolId=scene.dep.identity_pool_id, MaxResults=60)["Identities"])
    answer = _raw(scene.kit, "GetOpenIdTokenForDeveloperIdentity", {"IdentityPoolId": scene.dep.identity_pool_id, **filled})
    assert answer.status_code == 400
    assert answer.json()["__type"] in {"InvalidParameterException", "NotAuthorizedException"}
    assert len(scene.admin.list_identities(IdentityPoolId=scene.dep.identity_pool_id, MaxResults=60)["Identities"]) == before


@pytest.mark.parametrize("operation, params", [
    pytest.param("LookupDeveloperIdentity", {"MaxResults": 0, "DeveloperUserIdentifier": "u"}, id="lookup-max-zero"),
    pytest.param("LookupDeveloperIdentity", {"MaxResults": "ten", "DeveloperUserIdentifier": "u"}, id="lookup-max-a-string"),
    pytest.param("LookupDeveloperIdentity", {"DeveloperUserIdentifier": ["u"]}, id="lookup-user-a-list"),
    pytest.param("LookupDeveloperIdentity", {"IdentityId": "x", "NextToken": "-5"}, id="lookup-bad-identity"),
    pytest.param("LookupDeveloperIdentity", {"IdentityId": None, "DeveloperUserIdentifier": "u", "NextToken": {"a": 1}}, id="lookup-token-a-map"),
    pytest.param("UnlinkDeveloperIdentity", {"IdentityId": None, "DeveloperProviderName": "<P>", "DeveloperUserIdentifier": "u"}, id="unlink-no-identity"),
    pytest.param("MergeDeveloperIdentities", {"DeveloperProviderName": "<P>", "SourceUserIdentifier": {}, "DestinationUserIdentifier": "u"}, id="merge-source-a-map"),
])
def test_bad_admin_requests_are_400s(scene, operation, params):
    """Lookup, Unlink and Merge refuse malformed parameters with a 400."""
    filled = {k: v for k, v in json.loads(json.dumps(params).replace("<P>", scene.provider)).items() if v is not None}
    answer = _raw(scene.kit, operation, {"IdentityPoolId": scene.dep.identity_pool_id, **filled})
    assert answer.status_code == 400
    assert answer.json()["__type"] in {"InvalidParameterException", "ResourceNotFoundException"}
