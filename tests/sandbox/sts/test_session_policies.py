"""Session policies on `AssumeRole` and `AssumeRoleWithWebIdentity`
(`Policy`, `PolicyArns`): they narrow a session and never widen it, an
explicit deny in one refuses, and STS's checks (`PackedPolicyTooLarge`,
`MalformedPolicyDocument`, `ValidationError`) refuse before a session exists.
Real requests through boto3 against the test sandbox."""

from __future__ import annotations

import json
import random
import string
import uuid
from dataclasses import dataclass

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import Deployment, SandboxKit, as_boto3

TRUST_ANYONE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@dataclass
class Role:
    kit: SandboxKit
    arn: str
    bucket: str
    read_only_arn: str  # a customer managed policy allowing s3:GetObject alone

    def session(self, **params) -> tuple[dict, dict[str, str]]:
        """AssumeRole with `params` (Policy, PolicyArns) as the account root; (answer, boto3 credentials)."""
        answer = self.kit.client("sts").assume_role(RoleArn=self.arn, RoleSessionName="narrowed", **params)
        return answer, as_boto3(answer["Credentials"])

    def s3(self, credentials: dict[str, str]):
        return self.kit.client("s3", credentials)


@pytest.fixture(scope="module")
def role(sandbox: SandboxKit) -> Role:
    """A role allowing s3:GetObject and s3:PutObject on one bucket, and iam:ListRoles; one object in it."""
    suffix = uuid.uuid4().hex[:8]
    bucket = f"session-{suffix}"
    sandbox.client("s3").create_bucket(Bucket=bucket)
    sandbox.client("s3").put_object(Bucket=bucket, Key="seed.txt", Body=b"seed")
    iam = sandbox.client("iam")
    name = f"narrowed-{suffix}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ANYONE))["Role"]["Arn"]
    grants = _policy(_allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{bucket}/*"), _allow("iam:ListRoles"))
    iam.put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=grants)
    read_only = iam.create_policy(PolicyName=f"read-only-{suffix}", PolicyDocument=_policy(_allow("s3:GetObject")))
    return Role(sandbox, arn, bucket, read_only["Policy"]["Arn"])


def _refused(call, *args, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **params)
    return caught.value


def _code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


# --- narrows, never widens ---------------------------------------------------------------------


def test_without_session_policy_the_role_decides(role):
    """The control: no session policy, no PackedPolicySize, and the role's grants all work."""
    answer, credentials = role.session()
    assert "PackedPolicySize" not in answer
    role.s3(credentials).put_object(Bucket=role.bucket, Key="plain.txt", Body=b"x")
    assert role.s3(credentials).get_object(Bucket=role.bucket, Key="seed.txt")["Body"].read() == b"seed"


def test_an_inline_session_policy_narrows(role):
    """The role allows PutObject, the session policy only GetObject: PutObject is AccessDenied, naming the session policy."""
    answer, credentials = role.session(Policy=_policy(_allow("s3:GetObject")))
    assert 0 < answer["PackedPolicySize"] <= 100
    s3 = role.s3(credentials)
    assert s3.get_object(Bucket=role.bucket, Key="seed.txt")["Body"].read() == b"seed"
    error = _refused(s3.put_object, Bucket=role.bucket, Key="narrowed.txt", Body=b"x")
    assert _code(error) == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "because no session policy allows the s3:PutObject action" in error.response["Error"]["Message"]
    assert _refused(role.kit.client("s3").head_object, Bucket=role.bucket, Key="narrowed.txt")  # nothing written


def test_a_session_policy_never_widens(role):
    """The session policy allows iam:* and s3:*; the role allows neither iam:ListUsers nor DeleteObject: both stay denied."""
    _, credentials = role.session(Policy=_policy(_allow(["iam:*", "s3:*"])))
    error = _refused(role.kit.client("iam", credentials).list_users)
    assert _code(error) == "AccessDenied"
    assert "because no identity-based policy allows the iam:ListUsers action" in error.response["Error"]["Message"]
    error = _refused(role.s3(credentials).delete_object, Bucket=role.bucket, Key="seed.txt")
    assert _code(error) == "AccessDenied"
    assert "because no identity-based policy allows the s3:DeleteObject action" in error.response["Error"]["Message"]
    assert role.kit.client("iam", credentials).list_roles()["Roles"]  # what both allow still works


def test_an_explicit_deny_in_the_session_policy_refuses(role):
    """Allow everything but deny iam:ListRoles in the session policy: the role's allow does not help."""
    deny = {"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"}
    _, credentials = role.session(Policy=_policy(_allow("*"), deny))
    error = _refused(role.kit.client("iam", credentials).list_roles)
    assert _code(error) == "AccessDenied"
    assert error.response["Error"]["Message"].endswith("with an explicit deny in a session policy")


def test_a_managed_session_policy_narrows(role):
    """PolicyArns with a read-only managed policy: GetObject allowed, PutObject denied."""
    _, credentials = role.session(PolicyArns=[{"arn": role.read_only_arn}])
    s3 = role.s3(credentials)
    assert s3.get_object(Bucket=role.bucket, Key="seed.txt")["Body"].read() == b"seed"
    assert _code(_refused(s3.put_object, Bucket=role.bucket, Key="managed.txt", Body=b"x")) == "AccessDenied"


def test_inline_and_managed_session_policies_are_one_set(role):
    """An allow in either session policy suffices: inline PutObject plus managed GetObject allows both, and no more."""
    _, credentials = role.session(Policy=_policy(_allow("s3:PutObject")), PolicyArns=[{"arn": role.read_only_arn}])
    s3 = role.s3(credentials)
    s3.put_object(Bucket=role.bucket, Key="both.txt", Body=b"x")
    assert s3.get_object(Bucket=role.bucket, Key="both.txt")["Body"].read() == b"x"
    assert _code(_refused(role.kit.client("iam", credentials).list_roles)) == "AccessDenied"


def test_the_session_is_the_role_session(role):
    """AssumeRole served by the sandbox is still the role's session for GetCallerIdentity."""
    answer, credentials = role.session(Policy=_policy(_allow("s3:GetObject")))
    caller = role.kit.client("sts", credentials).get_caller_identity()
    assert caller["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert caller["Arn"].endswith(f":assumed-role/{role.arn.rsplit('/', 1)[1]}/narrowed")


# --- STS's checks -----------------------------------------------------------------------------


def test_too_large_a_packed_policy_is_refused(role):
    """A policy under 2,048 characters that packs badly (random resource names) is PackedPolicyTooLarge."""
    rng = random.Random(14)
    names = ["".join(rng.choices(string.ascii_letters + string.digits, k=40)) for _ in range(40)]
    policy = _policy(_allow("s3:GetObject", [f"arn:aws:s3:::{n}/*" for n in names]))
    while len(policy) > 2048:
        names.pop()
        policy = _policy(_allow("s3:GetObject", [f"arn:aws:s3:::{n}/*" for n in names]))
    error = _refused(role.session, Policy=policy)
    assert _code(error) == "PackedPolicyTooLarge"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "of allotted space" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    "params, code",
    [
        pytest.param({"Policy": "{not json"}, "MalformedPolicyDocument", id="not-json"),
        pytest.param({"Policy": _policy(_allow("s3:GetObject", ["arn:aws:s3:::b/" + "k" * 40] * 60))}, "ValidationError", id="over-2048"),
        pytest.param({"PolicyArns": [{"arn": "arn:aws:iam::123456789012:policy/no-such-policy"}]}, "MalformedPolicyDocument", id="unknown-arn"),
        pytest.param({"PolicyArns": [{"arn": f"arn:aws:iam::123456789012:policy/p{n:02d}-padding"} for n in range(11)]}, "ValidationError", id="eleven-arns"),
    ],
)
def test_bad_session_policies_are_refused(role, params, code):
    """Each bad Policy / PolicyArns is refused with STS's code, and no session is made."""
    assert _code(_refused(role.session, **params)) == code


# --- the classic flow's AssumeRoleWithWebIdentity -----------------------------------------------


def test_assume_role_with_web_identity_takes_a_session_policy(sandbox: SandboxKit):
    """Classic flow, signed in: the role lets alice write her prefix; a read-only session policy stops it."""
    dep: Deployment = sandbox.deployment(classic_flow=True, users=("alice",))
    ci = sandbox.unsigned("cognito-identity")
    logins = dep.logins(dep.id_token("alice"))
    identity = ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)["IdentityId"]
    token = ci.get_open_id_token(IdentityId=identity, Logins=logins)["Token"]
    sts = sandbox.unsigned("sts")

    def session(**params) -> dict[str, str]:
        answer = sts.assume_role_with_web_identity(
            RoleArn=dep.roles["authenticated"], RoleSessionName="classic", WebIdentityToken=token, **params
        )
        return as_boto3(answer["Credentials"])

    key = f"private/{identity}/a.jpg"
    dep.s3_as(session()).put_object(Bucket=dep.bucket, Key=key, Body=b"x")  # the role alone allows it
    narrowed = dep.s3_as(session(Policy=_policy(_allow("s3:GetObject"))))
    assert narrowed.get_object(Bucket=dep.bucket, Key=key)["Body"].read() == b"x"
    error = _refused(narrowed.put_object, Bucket=dep.bucket, Key=key, Body=b"y")
    assert _code(error) == "AccessDenied"
    assert "because no session policy allows the s3:PutObject action" in error.response["Error"]["Message"]
    assert _code(_refused(session, Policy="[]")) == "MalformedPolicyDocument"


def test_a_session_policy_deny_is_recorded_as_such(role):
    """The decision's reason says a session policy denied it, not the role."""
    deny = {"Sid": "NoRoleListing", "Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"}
    _, credentials = role.session(Policy=_policy(_allow("*"), deny))
    error = _refused(role.kit.client("iam", credentials).list_roles)
    rid = error.response["ResponseMetadata"]["RequestId"]
    kept = requests.get(f"{role.kit.endpoint}/_sandbox/decisions/{rid}", timeout=5).json()
    assert kept["reason"] == (
        "A session policy denies it, whatever the role allows: Statement \"NoRoleListing\" of session policy (inline) "
        "explicitly denies iam:ListRoles on *, and an explicit deny overrides every allow."
    )


# --- across a restart ---------------------------------------------------------------------------


def test_a_narrowed_session_never_comes_back_wider_after_a_restart(tmp_path):
    """On its --data-dir the restarted sandbox keeps the role, not the session (issued credentials are not kept):
    the narrowed key is unknown (IAM says InvalidClientTokenId), never the role without its session policy."""
    import signal

    from tests.sandbox.test_persistence import sandbox_on

    with sandbox_on(tmp_path) as first:
        kit = first.wait_ready()
        name = f"restarted-{uuid.uuid4().hex[:8]}"
        arn = kit.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ANYONE))["Role"]["Arn"]
        kit.client("iam").put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=_policy(_allow("iam:ListRoles")))
        answer = kit.client("sts").assume_role(RoleArn=arn, RoleSessionName="narrowed", Policy=_policy(_allow("s3:GetObject")))
        credentials = as_boto3(answer["Credentials"])
        assert _code(_refused(kit.client("iam", credentials).list_roles)) == "AccessDenied"
        assert first.stop(signal.SIGTERM) == 0
    with sandbox_on(tmp_path, port=first.port) as second:
        kit = second.wait_ready()
        assert kit.client("iam").get_role(RoleName=name)["Role"]["Arn"] == arn
        assert _code(_refused(kit.client("iam", credentials).list_roles)) == "InvalidClientTokenId"
