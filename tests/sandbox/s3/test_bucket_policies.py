"""Bucket policies decided by the gateway with the caller's identity policies,
as AWS does within one account: an explicit deny in either refuses, an allow
in either grants, session policies limit a grant naming the role but not one
naming the session, the account root is refused only by a Deny naming it
(never for the bucket policy's own Get/Put/Delete), and Block Public Access
refuses a public policy. Real requests through boto3 and HTTP against the test
sandbox; every refusal is checked by its AWS code.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import ACCOUNT_ID, Deployment, SandboxKit, as_boto3

ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"
TRUST_ACCOUNT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "sts:AssumeRole"}]}
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def _document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _statement(effect: str, principal: Any, action: Any, resource: Any, **extra: Any) -> dict:
    statement = {"Effect": effect, "Action": action, "Resource": resource, **extra}
    if principal is not None:
        statement["Principal"] = principal
    return statement


@dataclass
class Stage:
    """A fresh bucket with one object, and a role the account root may assume."""

    kit: SandboxKit
    bucket: str
    role_name: str
    role_arn: str

    @property
    def s3(self):
        return self.kit.client("s3")

    def obj(self, key: str = "photo.jpg") -> str:
        return f"arn:aws:s3:::{self.bucket}/{key}"

    def grant_role(self, *statements: dict) -> None:
        self.kit.client("iam").put_role_policy(RoleName=self.role_name, PolicyName="access", PolicyDocument=_document(*statements))

    def session(self, name: str = "alice", **params: Any) -> tuple[str, Any]:
        """(session ARN, S3 client) for a session of the role, assumed by the root."""
        answer = self.kit.client("sts").assume_role(RoleArn=self.role_arn, RoleSessionName=name, **params)
        return answer["AssumedRoleUser"]["Arn"], self.kit.client("s3", as_boto3(answer["Credentials"]))

    def policy(self, *statements: dict) -> None:
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=_document(*statements))


@pytest.fixture
def stage(sandbox: SandboxKit) -> Stage:
    suffix = uuid.uuid4().hex[:8]
    bucket = f"policies-{suffix}"
    sandbox.client("s3").create_bucket(Bucket=bucket)
    sandbox.client("s3").put_object(Bucket=bucket, Key="photo.jpg", Body=b"photo")
    name = f"reader-{suffix}"
    arn = sandbox.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))["Role"]["Arn"]
    return Stage(sandbox, bucket, name, arn)


def _refusal(call, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error.get("Message", "")


def _get(s3, stage: Stage, key: str = "photo.jpg") -> bytes:
    return s3.get_object(Bucket=stage.bucket, Key=key)["Body"].read()


# --- the bucket policy and the identity policies together ---------------------------------------


def test_explicit_deny_in_bucket_policy_beats_the_roles_allow(stage):
    """The role allows GetObject; the bucket policy denies it to the role: AccessDenied, naming the resource-based side."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    arn, s3 = stage.session()
    assert _get(s3, stage) == b"photo"
    stage.policy(_statement("Deny", {"AWS": stage.role_arn}, "s3:GetObject", stage.obj("*")))
    code, message = _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")
    assert code == "AccessDenied"
    assert message == (
        f'User: {arn} is not authorized to perform: s3:GetObject on resource: "{stage.obj()}" '
        "with an explicit deny in a resource-based policy"
    )


def test_bucket_policy_allow_alone_grants_a_role_without_identity_allow(stage):
    """A role with no policy at all reads the object once the bucket policy names the role."""
    _, s3 = stage.session()
    code, message = _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")
    assert code == "AccessDenied" and "because no identity-based policy allows the s3:GetObject action" in message
    stage.policy(_statement("Allow", {"AWS": stage.role_arn}, "s3:GetObject", stage.obj("*")))
    assert _get(s3, stage) == b"photo"


def test_allow_naming_the_account_delegates_to_identity_policies(stage):
    """A bucket-policy Allow naming the account grants a role nothing: the account's own policies must."""
    stage.policy(_statement("Allow", {"AWS": ACCOUNT_ID}, "s3:GetObject", stage.obj("*")))
    _, s3 = stage.session()
    assert _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"


def test_deny_naming_the_account_refuses_its_roles(stage):
    """A Deny naming the account refuses every principal in it, the role's allow notwithstanding."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    stage.policy(_statement("Deny", {"AWS": ROOT_ARN}, "s3:GetObject", stage.obj("*")))
    _, s3 = stage.session()
    assert _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"


def test_deny_naming_another_principal_refuses_no_one_else(stage):
    """A Deny naming another role refuses neither this role's session nor the account root (moto's Deny refused both)."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    stage.policy(_statement("Deny", {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:role/someone-else"}, "s3:GetObject", stage.obj("*")))
    _, s3 = stage.session()
    assert _get(s3, stage) == b"photo"
    assert _get(stage.s3, stage) == b"photo"


def test_condition_in_bucket_policy_is_honoured(stage):
    """A Deny for requests from outside 10.0.0.0/8 applies to ours, from 127.0.0.1; one for 127.0.0.0/8 does not."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    _, s3 = stage.session()
    outside = {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    stage.policy(_statement("Deny", "*", "s3:GetObject", stage.obj("*"), Condition=outside))
    assert _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"
    stage.policy(_statement("Deny", "*", "s3:GetObject", stage.obj("*"), Condition={"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    assert _get(s3, stage) == b"photo"


# --- session policies ---------------------------------------------------------------------------

NO_S3 = _document(_statement("Allow", None, "iam:ListRoles", "*"))  # a session policy allowing nothing in S3


def test_session_policy_limits_a_grant_naming_the_role(stage):
    """A bucket-policy grant to the role ARN is still cut down by the session policy."""
    stage.policy(_statement("Allow", {"AWS": stage.role_arn}, "s3:GetObject", stage.obj("*")))
    _, s3 = stage.session(Policy=NO_S3)
    code, message = _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")
    assert code == "AccessDenied" and "because no session policy allows the s3:GetObject action" in message


def test_session_policy_does_not_limit_a_grant_naming_the_session(stage):
    """A bucket-policy grant to the session's own ARN is not limited by the session policy."""
    session_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{stage.role_name}/alice"
    stage.policy(_statement("Allow", {"AWS": session_arn}, "s3:GetObject", stage.obj("*")))
    arn, s3 = stage.session("alice", Policy=NO_S3)
    assert arn == session_arn
    assert _get(s3, stage) == b"photo"
    _, other = stage.session("bob", Policy=NO_S3)  # another session of the role is not named
    assert _refusal(other.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"


def test_federated_principal_grants_identity_pool_sessions(sandbox: SandboxKit):
    """{"Federated": "cognito-identity.amazonaws.com"} names the identity pool's sessions: Alice reads outside her prefix."""
    dep: Deployment = sandbox.deployment(users=("alice",))
    dep.put_admin("shared/notice.txt", b"notice")
    _, credentials = dep.user_credentials("alice")
    s3 = dep.s3_as(credentials)
    assert _refusal(s3.get_object, Bucket=dep.bucket, Key="shared/notice.txt")[0] == "AccessDenied"
    sandbox.client("s3").put_bucket_policy(Bucket=dep.bucket, Policy=_document(
        _statement("Allow", {"Federated": "cognito-identity.amazonaws.com"}, "s3:GetObject", f"arn:aws:s3:::{dep.bucket}/shared/*")
    ))
    assert s3.get_object(Bucket=dep.bucket, Key="shared/notice.txt")["Body"].read() == b"notice"


# --- NotPrincipal -------------------------------------------------------------------------------


def test_not_principal_spares_only_a_caller_named_at_every_level(stage):
    """Deny with NotPrincipal naming the session, its role and the account spares that session; naming the role alone does not."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    arn, s3 = stage.session("alice")
    spared = {"AWS": [arn, stage.role_arn, ROOT_ARN]}
    stage.policy(_statement("Deny", None, "s3:GetObject", stage.obj("*"), NotPrincipal=spared))
    assert _get(s3, stage) == b"photo"
    _, other = stage.session("bob")
    assert _refusal(other.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"
    stage.policy(_statement("Deny", None, "s3:GetObject", stage.obj("*"), NotPrincipal={"AWS": stage.role_arn}))
    assert _refusal(s3.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"


# --- the account root ---------------------------------------------------------------------------


def test_root_is_refused_by_a_deny_naming_it(stage):
    """The admin key (the account root) meets a Deny naming everyone: AccessDenied in S3 XML with a request ID, not a bare 403."""
    stage.policy(_statement("Deny", "*", "s3:GetObject", stage.obj("*")))
    with pytest.raises(ClientError) as caught:
        stage.s3.get_object(Bucket=stage.bucket, Key="photo.jpg")
    response = caught.value.response
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Message"] == (
        f'User: {ROOT_ARN} is not authorized to perform: s3:GetObject on resource: "{stage.obj()}" '
        "with an explicit deny in a resource-based policy"
    )
    assert response["ResponseMetadata"]["RequestId"]


def test_root_can_still_delete_a_policy_that_denies_it(stage):
    """A policy denying the root everything, its own policy included: the root still reads, replaces and deletes it."""
    everything = [f"arn:aws:s3:::{stage.bucket}", stage.obj("*")]
    stage.policy(_statement("Deny", {"AWS": ROOT_ARN}, "s3:*", everything))
    assert _refusal(stage.s3.get_object, Bucket=stage.bucket, Key="photo.jpg")[0] == "AccessDenied"
    assert _refusal(stage.s3.list_objects_v2, Bucket=stage.bucket)[0] == "AccessDenied"
    assert "s3:*" in stage.s3.get_bucket_policy(Bucket=stage.bucket)["Policy"]
    stage.policy(_statement("Deny", {"AWS": ROOT_ARN}, "s3:*", everything))
    stage.s3.delete_bucket_policy(Bucket=stage.bucket)
    assert _get(stage.s3, stage) == b"photo"


# --- PutBucketPolicy: Block Public Access and malformed policies --------------------------------



def _public_read(bucket: str, **extra: Any) -> str:
    return _document(_statement("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*", **extra))


def test_public_policy_is_refused_under_block_public_policy(stage):
    """With BlockPublicPolicy on, a policy granting * is refused with S3's AccessDenied; nothing is stored."""
    stage.s3.put_public_access_block(Bucket=stage.bucket, PublicAccessBlockConfiguration=ALL_ON)
    code, message = _refusal(stage.s3.put_bucket_policy, Bucket=stage.bucket, Policy=_public_read(stage.bucket))
    assert code == "AccessDenied"
    assert message == (
        f'User: {ROOT_ARN} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::{stage.bucket}" '
        "because public policies are blocked by the BlockPublicPolicy block public access setting."
    )
    assert _refusal(stage.s3.get_bucket_policy, Bucket=stage.bucket)[0] == "NoSuchBucketPolicy"


def test_pinned_policy_is_accepted_under_block_public_policy(stage):
    """A grant to * pinned to one /24 of source addresses is not public, so BlockPublicPolicy lets it in."""
    stage.s3.put_public_access_block(Bucket=stage.bucket, PublicAccessBlockConfiguration=ALL_ON)
    pinned = _public_read(stage.bucket, Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    stage.s3.put_bucket_policy(Bucket=stage.bucket, Policy=pinned)
    assert json.loads(stage.s3.get_bucket_policy(Bucket=stage.bucket)["Policy"]) == json.loads(pinned)


def test_public_policy_is_accepted_without_block_public_policy(stage):
    """With the setting off (a bucket's default here), the same public policy is stored."""
    stage.s3.put_public_access_block(Bucket=stage.bucket, PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False})
    stage.s3.put_bucket_policy(Bucket=stage.bucket, Policy=_public_read(stage.bucket))
    assert stage.s3.get_bucket_policy(Bucket=stage.bucket)["Policy"]


def test_role_needs_put_bucket_policy_before_block_public_access_is_asked(stage):
    """A caller without s3:PutBucketPolicy gets the ordinary denial, not Block Public Access's."""
    stage.s3.put_public_access_block(Bucket=stage.bucket, PublicAccessBlockConfiguration=ALL_ON)
    _, s3 = stage.session()
    code, message = _refusal(s3.put_bucket_policy, Bucket=stage.bucket, Policy=_public_read(stage.bucket))
    assert code == "AccessDenied" and "because no identity-based policy allows the s3:PutBucketPolicy action" in message


@pytest.mark.parametrize(
    "policy, message",
    [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("[]", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        (_document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}), "Missing required field Principal"),
        (_document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}), "Missing required field Resource"),
        (_document({"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}), "Invalid effect"),
    ],
)
def test_malformed_policy_is_refused(stage, policy, message):
    """A policy the evaluator could not read is refused with MalformedPolicy, never stored."""
    assert _refusal(stage.s3.put_bucket_policy, Bucket=stage.bucket, Policy=policy) == ("MalformedPolicy", message)
    assert _refusal(stage.s3.get_bucket_policy, Bucket=stage.bucket)[0] == "NoSuchBucketPolicy"


# --- the inspector ------------------------------------------------------------------------------


def test_decision_names_the_bucket_policy_statement_that_decided(stage):
    """/_sandbox/decisions/<id> keeps the bucket policy's explanation, the statement that denied by its Sid."""
    stage.grant_role(_statement("Allow", None, "s3:GetObject", stage.obj("*")))
    stage.policy(_statement("Deny", {"AWS": stage.role_arn}, "s3:GetObject", stage.obj("*"), Sid="NoReaders"))
    _, s3 = stage.session()
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=stage.bucket, Key="photo.jpg")
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    kept = requests.get(f"{stage.kit.endpoint}/_sandbox/decisions/{request_id}", timeout=10).json()
    assert kept["allowed"] is False
    assert kept["reason"].startswith("The bucket policy denies it, whatever the caller's own policies allow: ")
    bucket_side = kept["needs"][-1]
    assert bucket_side["effect"] == "Deny"
    [deciding] = [s for s in bucket_side["statements"] if s["applies"]]
    assert deciding["sid"] == "NoReaders" and deciding["policy"] == f"the bucket policy of {stage.bucket}"
