"""`deployment_provision` against the sandbox: idempotent, repairs drift,
applies changed settings, and `deployment_deprovision` undoes it all."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from django.conf import settings

from infra.provision import (
    PUBLIC_ACCESS_BLOCK,
    app_client_config,
    deployment_deprovision,
    deployment_names,
    deployment_provision,
    oidc_provider_name,
    policy_render,
    ProvisionError,
    server_policy,
    server_policy_path,
)
from core.deployment import Deployment, deployment_get
from tests.actors import sign_in
from tests.sandbox.oidc.conftest import APP, APP_REDIRECT, APP_SECRET, Flow
from tests.sandbox_kit import SandboxKit, as_boto3, start_kit

Drift = Callable[[SandboxKit, Deployment], None]


def _provision() -> tuple[Deployment, list[str]]:
    lines: list[str] = []
    return deployment_provision(report=lines.append), lines


def _role(deployment: Deployment, kind: str) -> str:
    return getattr(deployment, f"{kind}_role_arn").rsplit("/", 1)[1]


def _jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified: the sandbox just issued it over HTTP."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


# --- the deployment as it should be, read back with the admin key ------------------------------


def _identity_pool(kit: SandboxKit, d: Deployment) -> dict[str, Any]:
    return kit.client("cognito-identity").describe_identity_pool(IdentityPoolId=d.identity_pool_id)


def _identity_pool_update(kit: SandboxKit, d: Deployment, **changes: Any) -> None:
    current = {k: v for k, v in _identity_pool(kit, d).items() if k not in ("ResponseMetadata", "IdentityPoolTags")}
    kit.client("cognito-identity").update_identity_pool(**{**current, **changes})


def assert_as_provisioned(kit: SandboxKit, d: Deployment) -> None:
    """Every setting provision promises (the README's table), as the admin sees it."""
    idp, s3, iam = kit.client("cognito-idp"), kit.client("s3"), kit.client("iam")
    pool = idp.describe_user_pool(UserPoolId=d.user_pool_id)["UserPool"]
    # UsernameAttributes is checked after the first run only: see test_user_pool_update_keeps_email_sign_in.
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is (not settings.SELF_SIGN_UP)
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert not [a for a in pool["SchemaAttributes"] if a["Name"].startswith("custom:")]

    client = idp.describe_user_pool_client(UserPoolId=d.user_pool_id, ClientId=d.app_client_id)["UserPoolClient"]
    assert client["ClientSecret"] == d.app_client_secret
    for key, value in app_client_config().items():
        assert client[key] == value, key

    group = idp.get_group(UserPoolId=d.user_pool_id, GroupName="moderators")["Group"]
    assert (group["RoleArn"], group["Precedence"]) == (d.moderator_role_arn, 1)

    identity_pool = _identity_pool(kit, d)
    assert identity_pool["AllowClassicFlow"] is False
    assert identity_pool["AllowUnauthenticatedIdentities"] is settings.ALLOW_GUESTS
    assert identity_pool["CognitoIdentityProviders"] == [
        {"ProviderName": d.provider, "ClientId": d.app_client_id, "ServerSideTokenCheck": True}
    ]
    roles = kit.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=d.identity_pool_id)
    assert roles["Roles"] == {"authenticated": d.authenticated_role_arn, "unauthenticated": d.unauthenticated_role_arn}
    assert identity_pool["DeveloperProviderName"] == settings.PHOTOSHARE_DEVELOPER_PROVIDER
    assert identity_pool["OpenIdConnectProviderARNs"] == [d.oidc_provider_arn]
    oidc = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=d.oidc_provider_arn)
    assert (oidc["Url"], oidc["ClientIDList"]) == (oidc_provider_name(), [settings.OIDC_CLIENT_ID])
    team_rule = {"Claim": "hd", "MatchType": "Equals", "Value": settings.OIDC_TEAM_DOMAIN, "RoleARN": d.team_role_arn}
    assert roles["RoleMappings"] == {
        f"{d.provider}:{d.app_client_id}": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"},
        oidc_provider_name(): {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {"Rules": [team_rule]},
        },
    }

    albums = {"albums-access": "albums"}  # every signed-in role's; guests have none
    for kind, trust, policies in (
        ("authenticated", "trust-authenticated", {"s3-access": "authenticated", **albums}),
        ("moderator", "trust-authenticated", {"s3-access": "authenticated", "moderation": "moderator", **albums}),
        ("unauthenticated", "trust-unauthenticated", {"s3-access": "unauthenticated"}),
        ("team", "trust-authenticated", {"s3-access": "authenticated", "team-access": "team", **albums}),
    ):
        role = _role(d, kind)
        assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == policy_render(
            name=trust, identity_pool_id=d.identity_pool_id
        )
        assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == sorted(policies)
        for policy_name, file in policies.items():
            document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
            table_arn = kit.client("dynamodb").describe_table(TableName=d.albums_table)["Table"]["TableArn"]
            assert document == policy_render(
                name=file, bucket=d.bucket, team="wintercorp" if file == "team" else "", table_arn=table_arn
            )
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []

    assert s3.get_public_access_block(Bucket=d.bucket)["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCK
    [cors] = s3.get_bucket_cors(Bucket=d.bucket)["CORSRules"]
    assert cors["AllowedOrigins"] == settings.APP_ORIGINS
    assert sorted(cors["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "POST", "PUT"]
    assert sorted(cors["AllowedHeaders"]) == [
        "authorization",
        "cache-control",
        "content-type",
        "x-amz-content-sha256",
        "x-amz-copy-source",
        "x-amz-date",
        "x-amz-metadata-directive",
        "x-amz-security-token",
        "x-amz-user-agent",
    ]
    assert cors["ExposeHeaders"] == ["ETag", "x-amz-request-id"] and cors["MaxAgeSeconds"] > 0
    assert s3.get_bucket_versioning(Bucket=d.bucket)["Status"] == "Enabled"
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]}
    assert sorted(rules) == ["abort-incomplete-multipart-uploads", "expire-noncurrent-versions"]
    assert all(rule["Status"] == "Enabled" for rule in rules.values())
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}

    table = kit.client("dynamodb").describe_table(TableName=d.albums_table)["Table"]
    assert d.albums_table == f"{settings.PHOTOSHARE_NAME}-albums"
    assert table["KeySchema"] == [
        {"AttributeName": "identityId", "KeyType": "HASH"},
        {"AttributeName": "albumId", "KeyType": "RANGE"},
    ]
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]) == [
        ("albumId", "S"),
        ("identityId", "S"),
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TableStatus"] == "ACTIVE"


# --- idempotence ----------------------------------------------------------------------------------


def test_first_run_creates_everything_as_asked(sandbox, deployment_cleanup):
    """A first run creates every resource, reports each, and saves the IDs where the app reads them."""
    deployment, lines = _provision()
    assert_as_provisioned(sandbox, deployment)
    pool = sandbox.client("cognito-idp").describe_user_pool(UserPoolId=deployment.user_pool_id)["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert deployment_get() == deployment
    text = "\n".join(lines)
    # Not the OpenID Connect provider: account-wide, it may exist already for another deployment of this sandbox.
    for created in ("user pool", "app client", "identity pool", "role", "group moderators", "bucket", "table"):
        assert f"Created {created}" in text
    assert _role(deployment, "team").endswith("-team-wintercorp")
    assert len(lines) == len(set(lines))


def test_second_run_changes_nothing(sandbox, provisioned):
    """Provisioning again gives the same deployment and reports no change."""
    again, lines = _provision()
    assert again == provisioned
    assert lines == []
    assert deployment_get() == provisioned


def test_server_policy_written_beside_the_ids(provisioned):
    """The server's least-privilege policy is written out, rendered for this bucket."""
    written = json.loads(server_policy_path().read_text())
    assert written == server_policy(
        bucket=provisioned.bucket, role_arn=provisioned.authenticated_role_arn, identity_pool_id=provisioned.identity_pool_id
    )


def test_server_policy_allows_developer_identities_and_the_role_mapping_on_this_pool_only(provisioned):
    """Sign-in links: the server may get developer-identity tokens and look them up; the inspector: read the role
    mapping (which rule chose an SSO user's role). Each for this identity pool alone, and no other cognito-identity action."""
    written = json.loads(server_policy_path().read_text())
    cognito = {
        action: statement
        for statement in written["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("cognito-identity:")
    }
    assert sorted(cognito) == [
        "cognito-identity:GetIdentityPoolRoles",
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "cognito-identity:LookupDeveloperIdentity",
    ]
    region = provisioned.identity_pool_id.split(":")[0]
    for statement in cognito.values():
        assert statement["Resource"] == f"arn:aws:cognito-identity:{region}:123456789012:identitypool/{provisioned.identity_pool_id}"
        assert statement["Effect"] == "Allow" and "Condition" not in statement


def test_team_prefix_is_granted_to_the_team_role_only(provisioned, sandbox):
    """`teams/*` appears in the team role's policies and in no other role's."""
    iam = sandbox.client("iam")
    for kind in ("authenticated", "unauthenticated", "moderator", "team"):
        role = _role(provisioned, kind)
        documents = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in iam.list_role_policies(RoleName=role)["PolicyNames"]]
        text = json.dumps(documents)
        assert ("teams/" in text) is (kind == "team"), kind
    team = iam.get_role_policy(RoleName=_role(provisioned, "team"), PolicyName="team-access")["PolicyDocument"]
    assert {r for s in team["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])} == {
        f"arn:aws:s3:::{provisioned.bucket}/teams/wintercorp/*",
        f"arn:aws:s3:::{provisioned.bucket}/teams/wintercorp/${{cognito-identity.amazonaws.com:sub}}/*",
        f"arn:aws:s3:::{provisioned.bucket}",
    }


def test_a_different_developer_provider_name_is_refused(sandbox, provisioned, settings):
    """DeveloperProviderName cannot change once set: provision refuses, naming both, and changes nothing."""
    settings.PHOTOSHARE_DEVELOPER_PROVIDER = "login.other"
    with pytest.raises(ProvisionError, match="'login.photoshare'.*PHOTOSHARE_DEVELOPER_PROVIDER=login.photoshare"):
        _provision()
    assert _identity_pool(sandbox, provisioned)["DeveloperProviderName"] == "login.photoshare"


# What the browser's own S3 requests send (aws4fetch's SigV4 headers plus the request's own).
SIGNED = ["authorization", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]
BROWSER_REQUESTS = [
    pytest.param("PUT", [*SIGNED, "content-type", "cache-control"], id="upload-with-cache-control"),
    pytest.param("PUT", [*SIGNED, "x-amz-copy-source", "x-amz-metadata-directive"], id="publish-copy"),
    pytest.param("DELETE", SIGNED, id="take-down-delete"),
    pytest.param("POST", [*SIGNED, "content-type"], id="multipart-step"),
]


@pytest.mark.parametrize("method, headers", BROWSER_REQUESTS)
def test_bucket_cors_admits_the_browsers_requests(sandbox, provisioned, method, headers):
    """The app's origin may send each request the pages make, and read the ETag and request id of the answer."""
    origin = settings.APP_ORIGINS[0]
    response = requests.options(
        f"{sandbox.endpoint}/{provisioned.bucket}/public/us-east-1:x/photo.jpg",
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": ", ".join(headers)},
        timeout=10,  # seconds
    )
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert set(headers) <= allowed
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"


# --- drift ------------------------------------------------------------------------------------------


def _cors_any_origin(kit: SandboxKit, d: Deployment) -> None:
    rules = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"]}]
    kit.client("s3").put_bucket_cors(Bucket=d.bucket, CORSConfiguration={"CORSRules": rules})


def _cors_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("s3").delete_bucket_cors(Bucket=d.bucket)


def _cors_before_publish(kit: SandboxKit, d: Deployment) -> None:
    """The rules an earlier provision wrote: no Cache-Control, no CopyObject headers."""
    headers = ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-amz-user-agent"]
    rule = {"AllowedOrigins": list(settings.APP_ORIGINS), "AllowedMethods": ["GET", "PUT", "POST", "DELETE", "HEAD"],
            "AllowedHeaders": headers, "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}
    kit.client("s3").put_bucket_cors(Bucket=d.bucket, CORSConfiguration={"CORSRules": [rule]})


def _classic_flow_on(kit: SandboxKit, d: Deployment) -> None:
    _identity_pool_update(kit, d, AllowClassicFlow=True)


def _guests_toggled(kit: SandboxKit, d: Deployment) -> None:
    _identity_pool_update(kit, d, AllowUnauthenticatedIdentities=not settings.ALLOW_GUESTS)


def _token_check_off(kit: SandboxKit, d: Deployment) -> None:
    provider = {"ProviderName": d.provider, "ClientId": d.app_client_id, "ServerSideTokenCheck": False}
    _identity_pool_update(kit, d, CognitoIdentityProviders=[provider])


def _second_app_client(kit: SandboxKit, d: Deployment) -> None:
    other = kit.client("cognito-idp").create_user_pool_client(UserPoolId=d.user_pool_id, ClientName="public-spa")
    providers = _identity_pool(kit, d)["CognitoIdentityProviders"] + [
        {"ProviderName": d.provider, "ClientId": other["UserPoolClient"]["ClientId"], "ServerSideTokenCheck": False}
    ]
    _identity_pool_update(kit, d, CognitoIdentityProviders=providers)


def _inline_policy_replaced(kit: SandboxKit, d: Deployment) -> None:
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{d.bucket}/*"}]}
    kit.client("iam").put_role_policy(RoleName=_role(d, "authenticated"), PolicyName="s3-access", PolicyDocument=json.dumps(everything))


def _inline_policy_added(kit: SandboxKit, d: Deployment) -> None:
    write = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{d.bucket}/*"}]}
    kit.client("iam").put_role_policy(RoleName=_role(d, "unauthenticated"), PolicyName="uploads", PolicyDocument=json.dumps(write))


def _managed_policy_attached(kit: SandboxKit, d: Deployment) -> None:
    iam = kit.client("iam")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName=f"wide-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=_role(d, "moderator"), PolicyArn=arn)


def _moderation_policy_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("iam").delete_role_policy(RoleName=_role(d, "moderator"), PolicyName="moderation")


def _trust_without_aud(kit: SandboxKit, d: Deployment) -> None:
    trust = policy_render(name="trust-authenticated", identity_pool_id=d.identity_pool_id)
    del trust["Statement"][0]["Condition"]["StringEquals"]
    kit.client("iam").update_assume_role_policy(RoleName=_role(d, "authenticated"), PolicyDocument=json.dumps(trust))


def _public_access_block_off(kit: SandboxKit, d: Deployment) -> None:
    kit.client("s3").delete_public_access_block(Bucket=d.bucket)


def _public_policy_allowed(kit: SandboxKit, d: Deployment) -> None:
    config = {**PUBLIC_ACCESS_BLOCK, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    kit.client("s3").put_public_access_block(Bucket=d.bucket, PublicAccessBlockConfiguration=config)


def _role_mapping_removed(kit: SandboxKit, d: Deployment) -> None:
    roles = {"authenticated": d.authenticated_role_arn, "unauthenticated": d.unauthenticated_role_arn}
    kit.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=d.identity_pool_id, Roles=roles)


def _role_mapping_on_writable_claim(kit: SandboxKit, d: Deployment) -> None:
    roles = {"authenticated": d.authenticated_role_arn, "unauthenticated": d.unauthenticated_role_arn}
    rule = {"Claim": "email", "MatchType": "Contains", "Value": "moderator", "RoleARN": d.moderator_role_arn}
    mapping = {"Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole", "RulesConfiguration": {"Rules": [rule]}}
    kit.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=d.identity_pool_id, Roles=roles, RoleMappings={f"{d.provider}:{d.app_client_id}": mapping}
    )


def _lifecycle_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("s3").delete_bucket_lifecycle(Bucket=d.bucket)


def _versioning_suspended(kit: SandboxKit, d: Deployment) -> None:
    kit.client("s3").put_bucket_versioning(Bucket=d.bucket, VersioningConfiguration={"Status": "Suspended"})


def _noncurrent_rule_removed(kit: SandboxKit, d: Deployment) -> None:
    s3 = kit.client("s3")
    rules = [r for r in s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"] if "NoncurrentVersionExpiration" not in r]
    s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": rules})


def _noncurrent_rule_lengthened(kit: SandboxKit, d: Deployment) -> None:
    s3 = kit.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=d.bucket)["Rules"]
    for rule in rules:
        if "NoncurrentVersionExpiration" in rule:
            rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": 365}
    s3.put_bucket_lifecycle_configuration(Bucket=d.bucket, LifecycleConfiguration={"Rules": rules})


def _group_role_changed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("cognito-idp").update_group(
        UserPoolId=d.user_pool_id, GroupName="moderators", RoleArn=d.authenticated_role_arn, Precedence=5
    )


def _client_loosened(kit: SandboxKit, d: Deployment) -> None:
    kit.client("cognito-idp").update_user_pool_client(
        UserPoolId=d.user_pool_id,
        ClientId=d.app_client_id,
        ClientName=deployment_names().app_client,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        WriteAttributes=["email", "name", "website"],
        PreventUserExistenceErrors="LEGACY",
    )


def _sign_up_flipped(kit: SandboxKit, d: Deployment) -> None:
    kit.client("cognito-idp").update_user_pool(
        UserPoolId=d.user_pool_id, AdminCreateUserConfig={"AllowAdminCreateUserOnly": settings.SELF_SIGN_UP}
    )


def _oidc_client_id_added(kit: SandboxKit, d: Deployment) -> None:
    """Another client's ID tokens would then be accepted by the identity pool too."""
    kit.client("iam").add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=d.oidc_provider_arn, ClientID="another-app")


def _oidc_client_id_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("iam").remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=d.oidc_provider_arn, ClientID=settings.OIDC_CLIENT_ID
    )


def _oidc_provider_off_the_pool(kit: SandboxKit, d: Deployment) -> None:
    _identity_pool_update(kit, d, OpenIdConnectProviderARNs=[])


def _team_rule_contains(kit: SandboxKit, d: Deployment) -> None:
    """Contains lets `wintercorp.com.evil.example` in."""
    identity = kit.client("cognito-identity")
    current = identity.get_identity_pool_roles(IdentityPoolId=d.identity_pool_id)
    mappings = current["RoleMappings"]
    mappings[oidc_provider_name()]["RulesConfiguration"]["Rules"][0]["MatchType"] = "Contains"
    identity.set_identity_pool_roles(IdentityPoolId=d.identity_pool_id, Roles=current["Roles"], RoleMappings=mappings)


def _team_policy_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("iam").delete_role_policy(RoleName=_role(d, "team"), PolicyName="team-access")


def _ids_file_without_team_role(kit: SandboxKit, d: Deployment) -> None:
    """A file written before issue 16."""
    data = json.loads(settings.PHOTOSHARE_DEPLOYMENT_FILE.read_text())
    del data["team_role_arn"], data["oidc_provider_arn"]
    settings.PHOTOSHARE_DEPLOYMENT_FILE.write_text(json.dumps(data))


def _albums_policy_removed(kit: SandboxKit, d: Deployment) -> None:
    kit.client("iam").delete_role_policy(RoleName=_role(d, "authenticated"), PolicyName="albums-access")


def _albums_policy_without_leading_keys(kit: SandboxKit, d: Deployment) -> None:
    """The pitfall doctor names dynamodb-leading-keys-missing: every user's albums open to every user."""
    iam = kit.client("iam")
    document = iam.get_role_policy(RoleName=_role(d, "moderator"), PolicyName="albums-access")["PolicyDocument"]
    del document["Statement"][0]["Condition"]
    iam.put_role_policy(RoleName=_role(d, "moderator"), PolicyName="albums-access", PolicyDocument=json.dumps(document))


def _albums_table_provisioned(kit: SandboxKit, d: Deployment) -> None:
    kit.client("dynamodb").update_table(
        TableName=d.albums_table, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
    )


def _albums_table_deleted(kit: SandboxKit, d: Deployment) -> None:
    kit.client("dynamodb").delete_table(TableName=d.albums_table)


def _ids_file_without_albums_table(kit: SandboxKit, d: Deployment) -> None:
    """A file written before issue 17."""
    data = json.loads(settings.PHOTOSHARE_DEPLOYMENT_FILE.read_text())
    del data["albums_table"]
    settings.PHOTOSHARE_DEPLOYMENT_FILE.write_text(json.dumps(data))


def _ids_file_deleted(kit: SandboxKit, d: Deployment) -> None:
    settings.PHOTOSHARE_DEPLOYMENT_FILE.unlink()


DRIFTS = [
    pytest.param(_cors_any_origin, id="cors-widened-to-any-origin"),
    pytest.param(_cors_removed, id="cors-removed"),
    pytest.param(_cors_before_publish, id="cors-without-publish-headers"),
    pytest.param(_classic_flow_on, id="classic-flow-on"),
    pytest.param(_guests_toggled, id="guests-toggled"),
    pytest.param(_token_check_off, id="server-side-token-check-off"),
    pytest.param(_second_app_client, id="second-app-client-as-provider"),
    pytest.param(_inline_policy_replaced, id="role-inline-policy-replaced"),
    pytest.param(_inline_policy_added, id="role-inline-policy-added"),
    pytest.param(_managed_policy_attached, id="managed-policy-attached"),
    pytest.param(_moderation_policy_removed, id="moderation-policy-removed"),
    pytest.param(_trust_without_aud, id="trust-policy-without-aud"),
    pytest.param(_public_access_block_off, id="public-access-block-removed"),
    pytest.param(_public_policy_allowed, id="public-access-block-partly-off"),
    pytest.param(_role_mapping_removed, id="role-mapping-removed"),
    pytest.param(_role_mapping_on_writable_claim, id="role-mapping-rules-on-email"),
    pytest.param(_lifecycle_removed, id="lifecycle-removed"),
    pytest.param(_versioning_suspended, id="versioning-suspended"),
    pytest.param(_noncurrent_rule_removed, id="noncurrent-version-rule-removed"),
    pytest.param(_noncurrent_rule_lengthened, id="noncurrent-version-rule-lengthened"),
    pytest.param(_group_role_changed, id="moderators-group-role-changed"),
    pytest.param(_client_loosened, id="app-client-loosened"),
    pytest.param(_sign_up_flipped, id="self-sign-up-flipped"),
    pytest.param(_ids_file_deleted, id="deployment-file-deleted"),
    pytest.param(_oidc_client_id_added, id="oidc-provider-another-client-id"),
    pytest.param(_oidc_client_id_removed, id="oidc-provider-client-id-removed"),
    pytest.param(_oidc_provider_off_the_pool, id="oidc-provider-off-the-identity-pool"),
    pytest.param(_team_rule_contains, id="team-rule-contains"),
    pytest.param(_team_policy_removed, id="team-policy-removed"),
    pytest.param(_ids_file_without_team_role, id="deployment-file-before-issue-16"),
    pytest.param(_albums_policy_removed, id="albums-policy-removed"),
    pytest.param(_albums_policy_without_leading_keys, id="albums-policy-without-leading-keys"),
    pytest.param(_albums_table_provisioned, id="albums-table-provisioned-billing"),
    pytest.param(_albums_table_deleted, id="albums-table-deleted"),
    pytest.param(_ids_file_without_albums_table, id="deployment-file-before-issue-17"),
]


@pytest.mark.parametrize("drift", DRIFTS)
def test_drift_is_repaired(sandbox, provisioned, drift: Drift):
    """A setting changed behind provision's back is reported and put back, keeping the same IDs."""
    drift(sandbox, provisioned)
    repaired, lines = _provision()
    assert lines, "the repair was not reported"
    assert repaired == provisioned
    assert_as_provisioned(sandbox, provisioned)
    assert _provision()[1] == []


def test_an_albums_table_keyed_otherwise_is_refused(sandbox, provisioned):
    """A table of that name keyed by something else cannot be re-keyed: provision stops, naming the fix, and keeps it."""
    dynamodb = sandbox.client("dynamodb")
    dynamodb.delete_table(TableName=provisioned.albums_table)
    dynamodb.create_table(
        TableName=provisioned.albums_table,
        KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ProvisionError, match=r"keyed otherwise.*deprovision"):
        _provision()
    assert dynamodb.describe_table(TableName=provisioned.albums_table)["Table"]["KeySchema"][0]["AttributeName"] == "owner"


# --- changed settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, value",
    [
        ("ALLOW_GUESTS", False),
        ("SELF_SIGN_UP", False),
        ("APP_ORIGINS", ["https://photos.example.com"]),
    ],
)
def test_changed_setting_is_applied(sandbox, provisioned, settings, setting, value):
    """Provisioning after a setting changed updates the live deployment to match."""
    setattr(settings, setting, value)
    again, lines = _provision()
    assert len(lines) == 1
    assert again == provisioned
    assert_as_provisioned(sandbox, provisioned)


def test_guests_turned_off_are_refused(sandbox, provisioned, settings):
    """With ALLOW_GUESTS off, the identity pool hands out no guest identity."""
    settings.ALLOW_GUESTS = False
    _provision()
    code = _error_code(lambda: sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=provisioned.identity_pool_id))
    assert code == "NotAuthorizedException"


def test_user_pool_update_keeps_email_sign_in(sandbox, provisioned, settings):
    """After provision repairs the user pool, existing users still sign in with their email."""
    seeded = sandbox.client("cognito-idp")
    seeded.admin_create_user(UserPoolId=provisioned.user_pool_id, Username="dora@example.com", MessageAction="SUPPRESS")
    seeded.admin_set_user_password(
        UserPoolId=provisioned.user_pool_id, Username="dora@example.com", Password=settings.DEMO_PASSWORD, Permanent=True
    )
    settings.SELF_SIGN_UP = not settings.SELF_SIGN_UP
    _, lines = _provision()
    assert lines, "the user pool was not updated, so the test proves nothing"
    pool = seeded.describe_user_pool(UserPoolId=provisioned.user_pool_id)["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    tokens = sign_in(sandbox, provisioned, email="dora@example.com", password=settings.DEMO_PASSWORD)
    claims = _jwt_claims(tokens["IdToken"])
    assert (claims["email"], claims["token_use"], claims["aud"]) == ("dora@example.com", "id", provisioned.app_client_id)


# --- deprovision ------------------------------------------------------------------------------------


def test_deprovision_empties_a_bucket_of_every_version(sandbox, provisioned):
    """Overwritten and deleted objects leave versions and delete markers; deprovision removes them and the bucket."""
    s3 = sandbox.client("s3")
    for body in (b"one", b"two"):
        s3.put_object(Bucket=provisioned.bucket, Key="private/x/photo.png", Body=body)
    s3.delete_object(Bucket=provisioned.bucket, Key="private/x/photo.png")
    deployment_deprovision(report=lambda line: None)
    assert _error_code(lambda: s3.head_bucket(Bucket=provisioned.bucket)) == "404"


def _oidc_provider_named_elsewhere(kit: SandboxKit, d: Deployment) -> bool:
    identity = kit.client("cognito-identity")
    pools = identity.list_identity_pools(MaxResults=60)["IdentityPools"]
    return any(
        d.oidc_provider_arn in identity.describe_identity_pool(IdentityPoolId=p["IdentityPoolId"]).get("OpenIdConnectProviderARNs", [])
        for p in pools
        if p["IdentityPoolId"] != d.identity_pool_id
    )


def test_deprovision_keeps_an_oidc_provider_another_pool_names(sandbox, provisioned):
    """An account has one IAM provider per URL: deprovision leaves it while another identity pool still uses it."""
    identity = sandbox.client("cognito-identity")
    other = identity.create_identity_pool(
        IdentityPoolName=f"other {uuid.uuid4().hex[:8]}", AllowUnauthenticatedIdentities=False,
        OpenIdConnectProviderARNs=[provisioned.oidc_provider_arn],
    )["IdentityPoolId"]
    try:
        deployment_deprovision(report=lambda line: None)
        got = sandbox.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=provisioned.oidc_provider_arn)
        assert got["ClientIDList"] == [settings.OIDC_CLIENT_ID]
    finally:
        identity.delete_identity_pool(IdentityPoolId=other)


def test_deprovision_removes_everything_and_provision_works_again(sandbox, provisioned):
    """Deprovision deletes every resource (emptying the bucket first) and the files; provisioning again starts afresh."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=provisioned.bucket, Key="public/x/photo.jpg", Body=b"photo")
    s3.create_multipart_upload(Bucket=provisioned.bucket, Key="private/x/big.jpg")
    shared = _oidc_provider_named_elsewhere(sandbox, provisioned)
    lines: list[str] = []
    deployment_deprovision(report=lines.append)
    # The team role, the albums table, and the OIDC provider unless another deployment of this sandbox still names it.
    assert len(lines) == (10 if shared else 11)

    d = provisioned
    assert _error_code(lambda: sandbox.client("cognito-identity").describe_identity_pool(IdentityPoolId=d.identity_pool_id)) == "ResourceNotFoundException"
    assert _error_code(lambda: sandbox.client("cognito-idp").describe_user_pool(UserPoolId=d.user_pool_id)) == "ResourceNotFoundException"
    for kind in ("authenticated", "unauthenticated", "moderator", "team"):
        assert _error_code(lambda: sandbox.client("iam").get_role(RoleName=_role(d, kind))) == "NoSuchEntity"
    get_provider = sandbox.client("iam").get_open_id_connect_provider
    if shared:
        assert get_provider(OpenIDConnectProviderArn=d.oidc_provider_arn)["ClientIDList"] == [settings.OIDC_CLIENT_ID]
    else:
        assert _error_code(lambda: get_provider(OpenIDConnectProviderArn=d.oidc_provider_arn)) == "NoSuchEntity"
    assert _error_code(lambda: s3.head_bucket(Bucket=d.bucket)) == "404"
    assert _error_code(lambda: sandbox.client("dynamodb").describe_table(TableName=d.albums_table)) == "ResourceNotFoundException"
    assert not settings.PHOTOSHARE_DEPLOYMENT_FILE.exists()
    assert not server_policy_path().exists()

    nothing: list[str] = []
    deployment_deprovision(report=nothing.append)
    assert nothing == []

    again, created = _provision()
    assert again.user_pool_id != d.user_pool_id and again.bucket == d.bucket
    assert_as_provisioned(sandbox, again)
    assert deployment_get() == again


def test_without_an_oidc_issuer_there_is_no_provider_team_role_or_rules(sandbox, deployment_cleanup, settings):
    """OIDC_ISSUER empty (allowed on AWS): no IAM provider, no team role, no Rules mapping; sign-in links still provisioned."""
    settings.OIDC_ISSUER = ""
    d, _ = _provision()
    assert (d.team_role_arn, d.oidc_provider_arn) == ("", "")
    pool = _identity_pool(sandbox, d)
    assert pool.get("OpenIdConnectProviderARNs", []) == []
    assert pool["DeveloperProviderName"] == settings.PHOTOSHARE_DEVELOPER_PROVIDER
    roles = sandbox.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=d.identity_pool_id)
    assert list(roles["RoleMappings"]) == [f"{d.provider}:{d.app_client_id}"]
    team = deployment_names().roles["team"]
    assert _error_code(lambda: sandbox.client("iam").get_role(RoleName=team)) == "NoSuchEntity"
    assert deployment_get() == d
    assert _provision()[1] == []


@pytest.fixture
def oidc_kit():
    """A second sandbox (moto's backends are process-wide: it serves the same
    pools) whose OIDC provider knows Photoshare's client."""
    with start_kit(oidc_clients=[f"{APP}:{APP_SECRET}:{APP_REDIRECT}"]) as kit:
        yield kit


@pytest.mark.parametrize(
    "email, team", [("dana@wintercorp.com", True), ("frank@example.org", False)], ids=["winter-corp", "someone-else"]
)
def test_oidc_sign_in_gets_the_team_role_by_hd_only(sandbox, deployment_cleanup, settings, oidc_kit, email, team):
    """Through the real sandbox: a Winter Corp person's ID token gets the team role and may write in their own
    folder of teams/wintercorp/ (not at its root); anyone else from that provider gets the authenticated role,
    which may write nowhere there."""
    issuer = f"{oidc_kit.endpoint}/_sandbox/oidc"
    settings.OIDC_ISSUER = issuer
    d, _ = _provision()
    token = Flow(issuer=issuer).tokens(email)["id_token"]
    identity = oidc_kit.unsigned("cognito-identity")
    logins = {oidc_provider_name(): token}
    identity_id = identity.get_id(IdentityPoolId=d.identity_pool_id, Logins=logins)["IdentityId"]
    credentials = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    sts = boto3.client("sts", endpoint_url=oidc_kit.endpoint, region_name="us-east-1", **as_boto3(credentials))
    assumed = sts.get_caller_identity()["Arn"]
    assert (f"/{_role(d, 'team')}/" in assumed) is team, assumed
    s3 = boto3.client("s3", endpoint_url=oidc_kit.endpoint, region_name="us-east-1", **as_boto3(credentials))
    put = lambda: s3.put_object(Bucket=d.bucket, Key=f"teams/wintercorp/{identity_id}/plan.jpg", Body=b"x")  # noqa: E731
    root = lambda: s3.put_object(Bucket=d.bucket, Key="teams/wintercorp/plan.jpg", Body=b"x")  # noqa: E731
    assert _error_code(root) == "AccessDenied"
    if team:
        put()
        s3.put_object(Bucket=d.bucket, Key=f"private/{identity_id}/own.jpg", Body=b"x")  # still their own prefix too
    else:
        assert _error_code(put) == "AccessDenied"
