"""The enhanced flow's scope-down for guests: a guest role granting IAM is
still refused IAM through `GetCredentialsForIdentity`, and allowed through the
classic flow (`GetOpenIdToken` + `AssumeRoleWithWebIdentity`), which applies
none; signed-in users get none either; S3, which the app's guests read, stays
allowed. Real requests through boto3; the decision over HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import Deployment, SandboxKit, as_boto3

GRANTS = {
    "iam:ListRoles": {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
    "iam:*": {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
}
DATA_FILE = "sandbox/cognito_identity/guest_scope_down.json"


def _grant(dep: Deployment, role: str, grant: str) -> None:
    """Add `grant` to the deployment's `role` with the admin key."""
    statement = {"Sid": "Iam", **GRANTS[grant]}
    dep.kit.client("iam").put_role_policy(
        RoleName=dep.roles[role].rsplit("/", 1)[1],
        PolicyName="iam",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


@pytest.fixture(scope="module", params=list(GRANTS))
def dep(request, sandbox: SandboxKit) -> Deployment:
    """A pool with the classic flow allowed, whose guest role grants IAM."""
    dep = sandbox.deployment(classic_flow=True, users=("alice",))
    _grant(dep, "unauthenticated", request.param)
    return dep


def _classic_guest_credentials(dep: Deployment) -> dict[str, str]:
    ci = dep.kit.unsigned("cognito-identity")
    identity = ci.get_id(IdentityPoolId=dep.identity_pool_id)["IdentityId"]
    token = ci.get_open_id_token(IdentityId=identity)["Token"]
    answer = dep.kit.unsigned("sts").assume_role_with_web_identity(
        RoleArn=dep.roles["unauthenticated"], RoleSessionName="classic-guest", WebIdentityToken=token
    )
    assert "PackedPolicySize" not in answer  # no session policy was passed
    return as_boto3(answer["Credentials"])


def _refused(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def test_enhanced_flow_guest_is_refused_iam(dep):
    """GetCredentialsForIdentity for a guest: the role allows iam:ListRoles, the scope-down does not (AccessDenied)."""
    _, credentials = dep.guest_credentials()
    error = _refused(dep.kit.client("iam", credentials).list_roles)
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"].endswith(
        'on resource: "*" because no session policy allows the iam:ListRoles action'
    )


def test_classic_flow_guest_is_allowed_iam(dep):
    """The same role through the classic flow: no scope-down, so its iam:ListRoles grant works."""
    answer = dep.kit.client("iam", _classic_guest_credentials(dep)).list_roles(MaxItems=1000)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200 and answer["Roles"]


def test_enhanced_flow_guest_still_reads_published_photos(dep):
    """S3 is among the services the scope-down allows: the app's guests read public/<id>/ as before."""
    dep.put_admin("public/someone/photo.jpg", b"published")
    _, credentials = dep.guest_credentials()
    got = dep.s3_as(credentials).get_object(Bucket=dep.bucket, Key="public/someone/photo.jpg")
    assert got["Body"].read() == b"published"


def test_enhanced_flow_guest_is_refused_what_the_role_refuses(dep):
    """The scope-down never widens: S3 is in it, but the guest role does not allow private/ reads."""
    dep.put_admin("private/someone/secret.jpg", b"secret")
    _, credentials = dep.guest_credentials()
    error = _refused(lambda: dep.s3_as(credentials).get_object(Bucket=dep.bucket, Key="private/someone/secret.jpg"))
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert "because no identity-based policy allows the s3:GetObject action" in error.response["Error"]["Message"]


def test_signed_in_users_get_no_scope_down(dep):
    """An authenticated identity's session is the role as it is: granted iam:ListRoles, it may list roles."""
    _grant(dep, "authenticated", "iam:ListRoles")
    _, credentials = dep.user_credentials("alice")
    roles = dep.kit.client("iam", credentials).list_roles()["Roles"]
    assert roles


def test_the_refusal_is_recorded_as_the_session_policies(dep):
    """The decision names the session policies as the side that refused, with Cognito's two policies' statements."""
    _, credentials = dep.guest_credentials()
    error = _refused(dep.kit.client("iam", credentials).list_roles)
    request_id = error.response["ResponseMetadata"]["RequestId"]
    kept = requests.get(f"{dep.kit.endpoint}/_sandbox/decisions/{request_id}", timeout=5).json()
    assert kept["allowed"] is False
    assert "no session policy allows" in kept["message"]
    assert kept["reason"] == (
        "The role's policies allow iam:ListRoles, but no session policy does: "
        "No statement allows iam:ListRoles: none of the session policies names that action."
    )
    [need] = kept["needs"]
    assert need["effect"] == "ImplicitDeny"
    policies = {s["policy"] for s in need["statements"]}
    assert policies == {
        "Cognito's guest scope-down (inline session policy)",
        "arn:aws:iam::aws:policy/AmazonCognitoUnAuthedIdentitiesSessionPolicy",
    }


def test_the_data_file_names_its_sources_and_leaves_out_iam_and_sts():
    """One data file: both AWS pages named, every entry an IAM action pattern, no IAM or STS for guests."""
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parents[3] / DATA_FILE).read_text())
    assert data["inline"]["source"].startswith("https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html")
    assert data["managed"]["source"].startswith("https://docs.aws.amazon.com/aws-managed-policy/latest/reference/")
    actions = [a for listed in data["inline"]["services"].values() for a in listed]
    actions += data["managed"]["document"]["Statement"][0]["Action"]
    assert all(a.count(":") == 1 and a.split(":")[0] and a.split(":")[1] for a in actions)
    prefixes = {a.split(":")[0] for a in actions}
    assert {"s3", "cognito-identity", "dynamodb", "kms"} <= prefixes
    assert not prefixes & {"iam", "sts", "cognito-idp", "organizations"}
