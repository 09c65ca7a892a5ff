"""The role's trust policy on `sts:AssumeRole`: the caller's identity policy
and the trust policy must both allow; the trust policy names an IAM user, a
role session (by its assumed-role ARN or its role's ARN), the account (its
root ARN or bare ID) or `*`, and its `Condition` is honoured. Refusals are
STS's `AccessDenied`, worded as STS words them. Real requests through boto3
against the test sandbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import ACCOUNT_ID, SandboxKit, as_boto3

ROOT = f"arn:aws:iam::{ACCOUNT_ID}:root"
MAY_ASSUME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


def _trust(principal, *, effect: str = "Allow", condition: dict | None = None, extra: list[dict] | None = None) -> str:
    statement = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement, *(extra or [])]})


@dataclass
class Account:
    kit: SandboxKit
    suffix: str
    alice: dict[str, str]  # boto3 kwargs of an IAM user allowed sts:AssumeRole on any role
    alice_arn: str
    bob_arn: str  # another IAM user, allowed the same
    mallory: dict[str, str]  # an IAM user with no identity policy at all
    mallory_arn: str

    def role(self, trust: str, name: str = "target") -> str:
        """A fresh role with `trust` as its trust policy; its ARN."""
        role = f"{name}-{self.suffix}-{uuid.uuid4().hex[:6]}"
        return self.kit.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]

    def assume(self, credentials: dict[str, str] | None, arn: str, **params) -> dict:
        """AssumeRole as `credentials` (None: the admin key, the account root)."""
        return self.kit.client("sts", credentials).assume_role(RoleArn=arn, RoleSessionName="trusting", **params)


def _user(kit: SandboxKit, name: str, policy: dict | None) -> tuple[dict[str, str], str]:
    iam = kit.client("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}, arn


@pytest.fixture(scope="module")
def account(sandbox: SandboxKit) -> Account:
    suffix = uuid.uuid4().hex[:8]
    alice, alice_arn = _user(sandbox, f"alice-{suffix}", MAY_ASSUME)
    _, bob_arn = _user(sandbox, f"bob-{suffix}", MAY_ASSUME)
    mallory, mallory_arn = _user(sandbox, f"mallory-{suffix}", None)
    return Account(sandbox, suffix, alice, alice_arn, bob_arn, mallory, mallory_arn)


def _denied(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AccessDenied"
    return error["Message"]


def test_user_not_in_trust_policy_is_refused(account):
    """A user whose identity policy allows sts:AssumeRole but whom the trust policy does not name is refused."""
    arn = account.role(_trust({"AWS": account.bob_arn}))
    message = _denied(lambda: account.assume(account.alice, arn))
    assert message == f"User: {account.alice_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param(lambda a: {"AWS": a.alice_arn}, id="user-arn"),
        pytest.param(lambda a: {"AWS": [a.bob_arn, a.alice_arn]}, id="user-arn-in-list"),
        pytest.param(lambda a: {"AWS": ROOT}, id="account-root-arn"),
        pytest.param(lambda a: {"AWS": ACCOUNT_ID}, id="bare-account-id"),
        pytest.param(lambda a: {"AWS": "*"}, id="aws-star"),
        pytest.param(lambda a: "*", id="star"),
    ],
)
def test_user_named_in_trust_policy_is_allowed(account, principal):
    """A user the trust policy names, by its ARN, its account or `*`, gets the role's session."""
    arn = account.role(_trust(principal(account)))
    credentials = as_boto3(account.assume(account.alice, arn)["Credentials"])
    caller = account.kit.client("sts", credentials).get_caller_identity()["Arn"]
    assert caller == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{arn.rsplit('/', 1)[1]}/trusting"


def test_trust_alone_does_not_suffice(account):
    """A user the trust policy names, with no identity policy allowing sts:AssumeRole, is refused."""
    arn = account.role(_trust({"AWS": account.mallory_arn}))
    message = _denied(lambda: account.assume(account.mallory, arn))
    assert message.startswith(f"User: {account.mallory_arn} is not authorized to perform: sts:AssumeRole")
    assert "because no identity-based policy allows" in message


CONDITIONS = [
    pytest.param({"StringEquals": {"sts:ExternalId": "agreed"}}, {}, False, id="external-id-missing"),
    pytest.param({"StringEquals": {"sts:ExternalId": "agreed"}}, {"ExternalId": "guessed"}, False, id="external-id-wrong"),
    pytest.param({"StringEquals": {"sts:ExternalId": "agreed"}}, {"ExternalId": "agreed"}, True, id="external-id-right"),
    pytest.param({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {}, False, id="source-ip-other-range"),
    pytest.param({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {}, True, id="source-ip-loopback"),
    pytest.param({"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {}, False, id="date-in-the-past"),
    pytest.param({"StringLike": {"sts:RoleSessionName": "ops-*"}}, {}, False, id="session-name-other"),
    pytest.param({"StringLike": {"sts:RoleSessionName": "trust*"}}, {}, True, id="session-name-matching"),
    pytest.param({"NoSuchOperator": {"aws:SourceIp": "127.0.0.1"}}, {}, False, id="unknown-operator"),
]


@pytest.mark.parametrize(("condition", "params", "allowed"), CONDITIONS)
def test_trust_condition_is_honoured(account, condition, params, allowed):
    """A trust statement naming the user applies only when its Condition holds."""
    arn = account.role(_trust({"AWS": account.alice_arn}, condition=condition))
    if allowed:
        assert account.assume(account.alice, arn, **params)["Credentials"]["AccessKeyId"]
    else:
        message = _denied(lambda: account.assume(account.alice, arn, **params))
        assert message == f"User: {account.alice_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"


def test_explicit_deny_in_trust_policy_wins(account):
    """A trust Deny naming the user beats an Allow naming its account, in STS's words for it."""
    deny = {"Effect": "Deny", "Principal": {"AWS": account.alice_arn}, "Action": "sts:AssumeRole"}
    arn = account.role(_trust({"AWS": ROOT}, extra=[deny]))
    message = _denied(lambda: account.assume(account.alice, arn))
    assert message == (
        f"User: {account.alice_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"
        " with an explicit deny in a resource-based policy"
    )


def test_missing_role_is_refused_as_an_untrusted_one(account):
    """A role that does not exist is refused in the same words, so refusals do not reveal which roles exist."""
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/absent-{account.suffix}"
    message = _denied(lambda: account.assume(account.alice, arn))
    assert message == f"User: {account.alice_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"


@pytest.mark.parametrize("by", ["role-arn", "assumed-role-arn"])
def test_role_session_named_in_trust_policy_may_chain(account, by):
    """A role session the trust policy names, by its role's ARN or its session's ARN, assumes the next role."""
    first = account.role(_trust({"AWS": "*"}), name="first")
    account.kit.client("iam").put_role_policy(
        RoleName=first.rsplit("/", 1)[1], PolicyName="assume", PolicyDocument=json.dumps(MAY_ASSUME)
    )
    session = as_boto3(account.assume(None, first)["Credentials"])
    session_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{first.rsplit('/', 1)[1]}/trusting"
    named = first if by == "role-arn" else session_arn
    second = account.role(_trust({"AWS": named}), name="second")
    assert account.assume(session, second)["Credentials"]["AccessKeyId"]
    other = account.role(_trust({"AWS": account.alice_arn}), name="third")
    message = _denied(lambda: account.assume(session, other))
    assert message == f"User: {session_arn} is not authorized to perform: sts:AssumeRole on resource: {other}"


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        pytest.param({"AWS": ROOT}, True, id="root-arn"),
        pytest.param({"AWS": ACCOUNT_ID}, True, id="bare-account-id"),
        pytest.param({"AWS": "*"}, True, id="star"),
        pytest.param({"Federated": "cognito-identity.amazonaws.com"}, False, id="federated-only"),
    ],
)
def test_account_root_needs_the_trust_policy_to_name_it(account, principal, allowed):
    """The admin key (the account root) is not limited by identity policies, but the trust policy still decides."""
    arn = account.role(_trust(principal))
    if allowed:
        assert account.assume(None, arn)["Credentials"]["AccessKeyId"]
    else:
        assert _denied(lambda: account.assume(None, arn)) == (
            f"User: {ROOT} is not authorized to perform: sts:AssumeRole on resource: {arn}"
        )


def test_account_root_refused_when_trust_names_only_a_user(account):
    """A trust policy naming one user does not admit the account root."""
    arn = account.role(_trust({"AWS": account.alice_arn}))
    assert _denied(lambda: account.assume(None, arn)) == (
        f"User: {ROOT} is not authorized to perform: sts:AssumeRole on resource: {arn}"
    )


def test_trust_refusal_is_explained_as_the_trust_policys(account):
    """The kept decision of a trust refusal names the trust policy, not the identity policy that allowed."""
    arn = account.role(_trust({"AWS": account.bob_arn}))
    with pytest.raises(ClientError) as caught:
        account.assume(account.alice, arn)
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    kept = requests.get(f"{account.kit.endpoint}/_sandbox/decisions/{request_id}", timeout=5).json()
    assert kept["allowed"] is False
    assert kept["message"] == f"User: {account.alice_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"
    assert kept["reason"].startswith("The role's trust policy does not admit the caller")
    assert [need["effect"] for need in kept["needs"]] == ["Allow", "ImplicitDeny"]
