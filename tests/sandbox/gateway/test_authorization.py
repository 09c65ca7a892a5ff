"""IAM policy evaluation on requests signed with identity-pool credentials:
one policy per case, put on a fresh role that a fresh identity pool maps
Alice to, then one request, allowed or refused as AWS would.

Policies and requests are written with placeholders filled in per case:
`<B>` the bucket, `<CASE>` a key prefix unique to the case, `<ME>` Alice's
identity ID, `<USERID>` her `aws:userid`, `<POOL>` the identity pool ID and
`<ROLE>` the role ARN. See the IAM user guide, "Policy evaluation logic",
"Condition operators" and "IAM policy elements: Variables and tags"."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox_kit import ACCOUNT_ID, Deployment, SandboxKit, trust_policy

BUCKET = "arn:aws:s3:::<B>"
CASE = "arn:aws:s3:::<B>/<CASE>"
SUB = "${cognito-identity.amazonaws.com:sub}"
AMR = "cognito-identity.amazonaws.com:amr"
ALLOWED = "allowed"
S3_DENIED = "AccessDenied 403"


def allow(action: Any = None, resource: Any = None, condition: dict | None = None, **elements: Any) -> dict:
    """An Allow statement; `elements` carries NotAction / NotResource."""
    return _statement("Allow", action, resource, condition, elements)


def deny(action: Any = None, resource: Any = None, condition: dict | None = None, **elements: Any) -> dict:
    return _statement("Deny", action, resource, condition, elements)


def _statement(effect: str, action: Any, resource: Any, condition: dict | None, elements: dict) -> dict:
    statement: dict[str, Any] = {"Effect": effect, **elements}
    if action is not None:
        statement["Action"] = action
    if resource is not None:
        statement["Resource"] = resource
    if condition is not None:
        statement["Condition"] = condition
    return statement


def lists(prefix_condition: dict) -> list[dict]:
    """Allow ListBucket on the bucket under one condition block."""
    return [allow("s3:ListBucket", BUCKET, prefix_condition)]


def get(key: str) -> tuple[str, dict]:
    return "get", {"Key": key}


def put(key: str) -> tuple[str, dict]:
    return "put", {"Key": key}


def ls(**params: Any) -> tuple[str, dict]:
    return "list", params


def _fill(value: Any, tokens: dict[str, str]) -> Any:
    if isinstance(value, str):
        for token, text in tokens.items():
            value = value.replace(token, text)
        return value
    if isinstance(value, list):
        return [_fill(item, tokens) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, tokens) for key, item in value.items()}
    return value


@dataclass
class Signed:
    """Alice's credentials under a role holding exactly the case's policies."""

    dep: Deployment
    credentials: dict[str, str]
    tokens: dict[str, str]

    def client(self, service: str):
        return self.dep.kit.client(service, self.credentials)


@pytest.fixture(scope="module")
def base(sandbox: SandboxKit) -> Deployment:
    """A user pool with Alice, and the bucket; each case adds its own identity pool and role."""
    return sandbox.deployment(users=("alice",))


def sign_in_under(base: Deployment, inline: Sequence[list[dict]] = (), managed: Sequence[list[dict]] = ()) -> Signed:
    """A fresh identity pool whose authenticated role holds `inline` and `managed` policies."""
    suffix = uuid.uuid4().hex[:8]
    identity, iam = base.kit.client("cognito-identity"), base.kit.client("iam")
    pool_id = identity.create_identity_pool(
        IdentityPoolName=f"case_{suffix}",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=False,
        CognitoIdentityProviders=[{"ProviderName": base.provider, "ClientId": base.client_id, "ServerSideTokenCheck": False}],
    )["IdentityPoolId"]
    role_name = f"case-{suffix}"
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust_policy(pool_id, "authenticated"))["Role"]["Arn"]
    tokens = {"<B>": base.bucket, "<CASE>": suffix, "<POOL>": pool_id, "<ROLE>": role_arn}
    for index, statements in enumerate(inline):
        document = json.dumps({"Version": "2012-10-17", "Statement": _fill(statements, tokens)})
        iam.put_role_policy(RoleName=role_name, PolicyName=f"inline-{index}", PolicyDocument=document)
    for index, statements in enumerate(managed):
        document = json.dumps({"Version": "2012-10-17", "Statement": _fill(statements, tokens)})
        policy_arn = iam.create_policy(PolicyName=f"case-{suffix}-{index}", PolicyDocument=document)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    identity.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": role_arn})
    dep = dataclasses.replace(base, suffix=suffix, identity_pool_id=pool_id, roles={"authenticated": role_arn})
    identity_id, credentials = dep.user_credentials("alice")
    return Signed(dep, credentials, {**tokens, "<ME>": identity_id})


def outcome(call, *args: Any, **kwargs: Any) -> str:
    """'allowed', or the refusal as '<error code> <HTTP status>'."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return f"{error.response['Error']['Code']} {error.response['ResponseMetadata']['HTTPStatusCode']}"
    return ALLOWED


def s3_outcome(signed: Signed, request: tuple[str, dict]) -> str:
    operation, params = request
    if "<USERID>" in json.dumps(params):
        signed.tokens["<USERID>"] = signed.client("sts").get_caller_identity()["UserId"]
    params = {"Bucket": signed.dep.bucket, **_fill(params, signed.tokens)}
    s3 = signed.client("s3")
    if operation == "get":
        signed.dep.put_admin(params["Key"])
        return outcome(s3.get_object, **params)
    if operation == "put":
        return outcome(s3.put_object, Body=b"photo", **params)
    return outcome(s3.list_objects_v2, **params)


EVALUATION_CASES = [
    # inline policy statements, request, allowed
    # -- Effect: explicit Deny beats Allow beats the implicit deny
    pytest.param([allow("s3:GetObject", f"{CASE}/*")], get("<CASE>/a.jpg"), True, id="allow-matches"),
    pytest.param([allow("s3:GetObject", f"{CASE}/albums/*")], get("<CASE>/a.jpg"), False, id="implicit-deny-other-resource"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*")], put("<CASE>/a.jpg"), False, id="implicit-deny-other-action"),
    pytest.param([allow("s3:*", f"{CASE}/*"), deny("s3:GetObject", f"{CASE}/secret/*")], get("<CASE>/secret/a.jpg"), False, id="deny-beats-allow"),
    pytest.param([deny("s3:GetObject", f"{CASE}/secret/*"), allow("s3:*", f"{CASE}/*")], get("<CASE>/open/a.jpg"), True, id="deny-elsewhere-keeps-allow"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*"), deny("*", "*")], get("<CASE>/a.jpg"), False, id="deny-everything"),
    # -- Action
    pytest.param([allow("s3:Get*", f"{CASE}/*")], get("<CASE>/a.jpg"), True, id="action-wildcard-suffix"),
    pytest.param([allow("s3:*Object", f"{CASE}/*")], put("<CASE>/a.jpg"), True, id="action-wildcard-prefix"),
    pytest.param([allow("s3:Get*", f"{CASE}/*")], put("<CASE>/a.jpg"), False, id="action-wildcard-no-match"),
    pytest.param([allow("S3:getobject", f"{CASE}/*")], get("<CASE>/a.jpg"), True, id="action-case-insensitive"),
    pytest.param([allow(["s3:PutObject", "s3:GetObject"], f"{CASE}/*")], get("<CASE>/a.jpg"), True, id="action-list"),
    pytest.param([allow("iam:*", "*")], get("<CASE>/a.jpg"), False, id="action-other-service"),
    # -- NotAction
    pytest.param([allow(NotAction="s3:PutObject", Resource=f"{CASE}/*")], get("<CASE>/a.jpg"), True, id="allow-notaction-other"),
    pytest.param([allow(NotAction="s3:PutObject", Resource=f"{CASE}/*")], put("<CASE>/a.jpg"), False, id="allow-notaction-named"),
    pytest.param([allow("s3:*", f"{CASE}/*"), deny(NotAction="s3:GetObject", Resource="*")], put("<CASE>/a.jpg"), False, id="deny-notaction-other"),
    pytest.param([allow("s3:*", f"{CASE}/*"), deny(NotAction="s3:GetObject", Resource="*")], get("<CASE>/a.jpg"), True, id="deny-notaction-named"),
    # -- NotResource
    pytest.param([allow("s3:GetObject", NotResource=f"{CASE}/secret/*")], get("<CASE>/open/a.jpg"), True, id="allow-notresource-other"),
    pytest.param([allow("s3:GetObject", NotResource=f"{CASE}/secret/*")], get("<CASE>/secret/a.jpg"), False, id="allow-notresource-named"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*"), deny("s3:PutObject", NotResource=f"{CASE}/inbox/*")], put("<CASE>/inbox/a.jpg"), True, id="deny-notresource-named"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*"), deny("s3:PutObject", NotResource=f"{CASE}/inbox/*")], put("<CASE>/elsewhere/a.jpg"), False, id="deny-notresource-other"),
    # -- Resource wildcards
    pytest.param([allow("s3:PutObject", f"{CASE}/*.jpg")], put("<CASE>/albums/2024/a.jpg"), True, id="star-spans-slashes"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*.jpg")], put("<CASE>/a.png"), False, id="star-suffix-mismatch"),
    pytest.param([allow("s3:PutObject", f"{CASE}/photo-?.jpg")], put("<CASE>/photo-1.jpg"), True, id="question-one-char"),
    pytest.param([allow("s3:PutObject", f"{CASE}/photo-?.jpg")], put("<CASE>/photo-12.jpg"), False, id="question-not-two-chars"),
    pytest.param([allow("s3:PutObject", f"{CASE}/photo-?.jpg")], put("<CASE>/photo-.jpg"), False, id="question-not-zero-chars"),
    pytest.param([allow("s3:PutObject", "*")], put("<CASE>/a.jpg"), True, id="resource-star"),
    pytest.param([allow("s3:PutObject", "arn:aws:s3:::*/<CASE>/*")], put("<CASE>/a.jpg"), True, id="resource-any-bucket"),
    pytest.param([allow("s3:PutObject", f"{CASE}/a.jpg")], put("<CASE>/a.jpg"), True, id="resource-exact"),
    pytest.param([allow("s3:PutObject", f"{CASE}/Photo.jpg")], put("<CASE>/photo.jpg"), False, id="resource-case-sensitive"),
    pytest.param([allow("s3:PutObject", BUCKET)], put("<CASE>/a.jpg"), False, id="bucket-arn-not-object"),
    # -- policy variables
    pytest.param([allow("s3:PutObject", f"{CASE}/{SUB}/*")], put("<CASE>/<ME>/a.jpg"), True, id="sub-in-resource-own"),
    pytest.param([allow("s3:PutObject", f"{CASE}/{SUB}/*")], put("<CASE>/us-east-1:00000000-0000-4000-8000-000000000000/a.jpg"), False, id="sub-in-resource-other"),
    pytest.param([allow("s3:PutObject", f"{CASE}/{SUB}/*")], put("<CASE>/${cognito-identity.amazonaws.com:sub}/a.jpg"), False, id="sub-not-literal"),
    pytest.param(lists({"StringLike": {"s3:prefix": f"<CASE>/{SUB}/*"}}), ls(Prefix="<CASE>/<ME>/"), True, id="sub-in-condition-own"),
    pytest.param(lists({"StringLike": {"s3:prefix": f"<CASE>/{SUB}/*"}}), ls(Prefix="<CASE>/someone/"), False, id="sub-in-condition-other"),
    pytest.param([allow("s3:PutObject", f"{CASE}/${{aws:userid}}/*")], put("<CASE>/<USERID>/a.jpg"), True, id="userid-own"),
    pytest.param([allow("s3:PutObject", f"{CASE}/${{aws:userid}}/*")], put("<CASE>/AROAEXAMPLEEXAMPLE:CognitoIdentityCredentials/a.jpg"), False, id="userid-other"),
    pytest.param([allow("s3:PutObject", f"{CASE}/${{cognito-identity.amazonaws.com:aud}}/*")], put("<CASE>/<POOL>/a.jpg"), True, id="aud-own-pool"),
    pytest.param([allow("s3:PutObject", f"{CASE}/${{aws:username}}/*")], put("<CASE>/${aws:username}/a.jpg"), False, id="variable-without-value"),
    # -- escapes ${*} ${?} ${$} stand for the literal character
    pytest.param([allow("s3:PutObject", f"{CASE}/literal${{*}}")], put("<CASE>/literal*"), True, id="escape-star-literal"),
    pytest.param([allow("s3:PutObject", f"{CASE}/literal${{*}}")], put("<CASE>/literalX"), False, id="escape-star-not-wildcard"),
    pytest.param([allow("s3:PutObject", f"{CASE}/what${{?}}")], put("<CASE>/what?"), True, id="escape-question-literal"),
    pytest.param([allow("s3:PutObject", f"{CASE}/what${{?}}")], put("<CASE>/whatX"), False, id="escape-question-not-wildcard"),
    pytest.param([allow("s3:PutObject", f"{CASE}/price${{$}}")], put("<CASE>/price$"), True, id="escape-dollar-literal"),
    pytest.param([allow("s3:PutObject", f"{CASE}/price${{$}}")], put("<CASE>/priceX"), False, id="escape-dollar-exact"),
    # -- string operators on s3:prefix (ListBucket)
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/a/"}}), ls(Prefix="<CASE>/a/"), True, id="stringequals-match"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/a/"}}), ls(Prefix="<CASE>/a/b/"), False, id="stringequals-longer"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/a/"}}), ls(), False, id="stringequals-missing-key"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/*"}}), ls(Prefix="<CASE>/a/"), False, id="stringequals-no-wildcards"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/Photos/"}}), ls(Prefix="<CASE>/PHOTOS/"), False, id="stringequals-case-sensitive"),
    pytest.param(lists({"StringEquals": {"s3:prefix": ["<CASE>/a/", "<CASE>/b/"]}}), ls(Prefix="<CASE>/b/"), True, id="values-are-ored"),
    pytest.param(lists({"StringNotEquals": {"s3:prefix": "<CASE>/secret/"}}), ls(Prefix="<CASE>/open/"), True, id="stringnotequals-other"),
    pytest.param(lists({"StringNotEquals": {"s3:prefix": "<CASE>/secret/"}}), ls(Prefix="<CASE>/secret/"), False, id="stringnotequals-named"),
    pytest.param(lists({"StringNotEquals": {"s3:prefix": "<CASE>/secret/"}}), ls(), True, id="stringnotequals-missing-key"),
    pytest.param(lists({"StringLike": {"s3:prefix": "<CASE>/a/*"}}), ls(Prefix="<CASE>/a/b/"), True, id="stringlike-match"),
    pytest.param(lists({"StringLike": {"s3:prefix": "<CASE>/a/*"}}), ls(Prefix="<CASE>/b/"), False, id="stringlike-mismatch"),
    pytest.param(lists({"StringLike": {"s3:prefix": "<CASE>/a/*"}}), ls(), False, id="stringlike-missing-key"),
    pytest.param(lists({"StringLike": {"s3:prefix": "<CASE>/?/"}}), ls(Prefix="<CASE>/ab/"), False, id="stringlike-question-one-char"),
    pytest.param(lists({"StringNotLike": {"s3:prefix": "<CASE>/secret*"}}), ls(Prefix="<CASE>/open/"), True, id="stringnotlike-other"),
    pytest.param(lists({"StringNotLike": {"s3:prefix": "<CASE>/secret*"}}), ls(Prefix="<CASE>/secret/x/"), False, id="stringnotlike-named"),
    pytest.param(lists({"StringEqualsIgnoreCase": {"s3:prefix": "<CASE>/Photos/"}}), ls(Prefix="<CASE>/PHOTOS/"), True, id="stringequalsignorecase-match"),
    pytest.param(lists({"StringEqualsIgnoreCase": {"s3:prefix": "<CASE>/Photos/"}}), ls(Prefix="<CASE>/videos/"), False, id="stringequalsignorecase-mismatch"),
    pytest.param(lists({"StringNotEqualsIgnoreCase": {"s3:prefix": "<CASE>/Secret/"}}), ls(Prefix="<CASE>/SECRET/"), False, id="stringnotequalsignorecase-named"),
    pytest.param(lists({"StringNotEqualsIgnoreCase": {"s3:prefix": "<CASE>/Secret/"}}), ls(Prefix="<CASE>/open/"), True, id="stringnotequalsignorecase-other"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/a/", "s3:delimiter": "/"}}), ls(Prefix="<CASE>/a/", Delimiter="/"), True, id="keys-are-anded-both"),
    pytest.param(lists({"StringEquals": {"s3:prefix": "<CASE>/a/", "s3:delimiter": "/"}}), ls(Prefix="<CASE>/a/"), False, id="keys-are-anded-one"),
    pytest.param(lists({"StringLike": {"s3:prefix": "<CASE>/*"}, "StringNotLike": {"s3:prefix": "<CASE>/secret*"}}), ls(Prefix="<CASE>/secret/"), False, id="operators-are-anded"),
    # -- s3:delimiter and s3:max-keys
    pytest.param(lists({"StringEquals": {"s3:delimiter": "/"}}), ls(Prefix="<CASE>/", Delimiter="/"), True, id="delimiter-match"),
    pytest.param(lists({"StringEquals": {"s3:delimiter": "/"}}), ls(Prefix="<CASE>/", Delimiter="-"), False, id="delimiter-mismatch"),
    pytest.param(lists({"NumericLessThanEquals": {"s3:max-keys": "10"}}), ls(Prefix="<CASE>/", MaxKeys=10), True, id="max-keys-at-limit"),
    pytest.param(lists({"NumericLessThanEquals": {"s3:max-keys": "10"}}), ls(Prefix="<CASE>/", MaxKeys=50), False, id="max-keys-over-limit"),
    pytest.param(lists({"NumericLessThanEquals": {"s3:max-keys": "10"}}), ls(Prefix="<CASE>/"), False, id="max-keys-missing"),
    pytest.param(lists({"NumericLessThanEqualsIfExists": {"s3:max-keys": "10"}}), ls(Prefix="<CASE>/"), True, id="max-keys-ifexists-missing"),
    # -- multi-valued keys: amr
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAnyValue:StringLike": {AMR: "authenticated"}})], get("<CASE>/a.jpg"), True, id="foranyvalue-amr-authenticated"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAnyValue:StringLike": {AMR: "unauthenticated"}})], get("<CASE>/a.jpg"), False, id="foranyvalue-amr-unauthenticated"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAnyValue:StringLike": {AMR: "cognito-idp.*"}})], get("<CASE>/a.jpg"), True, id="foranyvalue-amr-provider"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}})], get("<CASE>/a.jpg"), False, id="foranyvalue-missing-key"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAllValues:StringLike": {AMR: ["authenticated", "cognito-idp.*"]}})], get("<CASE>/a.jpg"), True, id="forallvalues-all-match"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAllValues:StringEquals": {AMR: "authenticated"}})], get("<CASE>/a.jpg"), False, id="forallvalues-some-match"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ForAllValues:StringEquals": {"aws:TagKeys": "team"}})], get("<CASE>/a.jpg"), True, id="forallvalues-missing-key"),
    # -- Null
    pytest.param(lists({"Null": {"s3:prefix": "true"}}), ls(), True, id="null-true-missing"),
    pytest.param(lists({"Null": {"s3:prefix": "true"}}), ls(Prefix="<CASE>/"), False, id="null-true-present"),
    pytest.param(lists({"Null": {"s3:prefix": "false"}}), ls(Prefix="<CASE>/"), True, id="null-false-present"),
    pytest.param(lists({"Null": {"s3:prefix": "false"}}), ls(), False, id="null-false-missing"),
    pytest.param([allow("s3:ListBucket", BUCKET), deny("s3:ListBucket", BUCKET, {"Null": {"s3:prefix": "true"}})], ls(), False, id="deny-when-prefix-missing"),
    pytest.param([allow("s3:ListBucket", BUCKET), deny("s3:ListBucket", BUCKET, {"Null": {"s3:prefix": "true"}})], ls(Prefix="<CASE>/"), True, id="deny-when-prefix-missing-present"),
    # -- Bool (the sandbox is plain HTTP)
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"Bool": {"aws:SecureTransport": "false"}})], get("<CASE>/a.jpg"), True, id="bool-match"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"Bool": {"aws:SecureTransport": "true"}})], get("<CASE>/a.jpg"), False, id="bool-mismatch"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"BoolIfExists": {"aws:SecureTransport": "false"}})], get("<CASE>/a.jpg"), True, id="boolifexists-present-match"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"BoolIfExists": {"aws:SecureTransport": "true"}})], get("<CASE>/a.jpg"), False, id="boolifexists-present-mismatch"),
    # -- ARN operators on aws:PrincipalArn (the role, not the session)
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ArnEquals": {"aws:PrincipalArn": "<ROLE>"}})], get("<CASE>/a.jpg"), True, id="arnequals-own-role"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:role/other"}})], get("<CASE>/a.jpg"), False, id="arnequals-other-role"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/case-*"}})], get("<CASE>/a.jpg"), True, id="arnlike-match"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/other-*"}})], get("<CASE>/a.jpg"), False, id="arnlike-mismatch"),
    # -- ...IfExists
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"StringLike": {"s3:prefix": "<CASE>/a/*"}})], get("<CASE>/a.jpg"), False, id="stringlike-key-absent-from-action"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"StringLikeIfExists": {"s3:prefix": "<CASE>/a/*"}})], get("<CASE>/a.jpg"), True, id="ifexists-key-absent-from-action"),
    pytest.param(lists({"StringLikeIfExists": {"s3:prefix": "<CASE>/a/*"}}), ls(), True, id="ifexists-missing"),
    pytest.param(lists({"StringLikeIfExists": {"s3:prefix": "<CASE>/a/*"}}), ls(Prefix="<CASE>/a/b"), True, id="ifexists-present-match"),
    pytest.param(lists({"StringLikeIfExists": {"s3:prefix": "<CASE>/a/*"}}), ls(Prefix="<CASE>/b/"), False, id="ifexists-present-mismatch"),
]


@pytest.mark.parametrize("statements, request_, allowed", EVALUATION_CASES)
def test_policy_evaluation(base: Deployment, statements: list[dict], request_: tuple[str, dict], allowed: bool) -> None:
    """One inline policy, one S3 request by Alice: allowed, or S3's AccessDenied 403."""
    signed = sign_in_under(base, inline=[statements])
    assert s3_outcome(signed, request_) == (ALLOWED if allowed else S3_DENIED)


MANAGED_CASES = [
    # inline policies, managed policies (attach_role_policy), request, allowed
    pytest.param([], [[allow("s3:GetObject", f"{CASE}/*")]], get("<CASE>/a.jpg"), True, id="managed-allow"),
    pytest.param([], [[allow("s3:GetObject", f"{CASE}/*")]], put("<CASE>/a.jpg"), False, id="managed-implicit-deny"),
    pytest.param([[allow("s3:GetObject", f"{CASE}/*")]], [[allow("s3:PutObject", f"{CASE}/*")]], put("<CASE>/a.jpg"), True, id="managed-adds-to-inline"),
    pytest.param([[allow("s3:GetObject", f"{CASE}/*")]], [[deny("s3:GetObject", f"{CASE}/*")]], get("<CASE>/a.jpg"), False, id="managed-deny-beats-inline-allow"),
    pytest.param([[deny("s3:GetObject", f"{CASE}/*")]], [[allow("s3:GetObject", f"{CASE}/*")]], get("<CASE>/a.jpg"), False, id="inline-deny-beats-managed-allow"),
    pytest.param([], [[allow("s3:GetObject", f"{CASE}/x/*")], [allow("s3:GetObject", f"{CASE}/*")]], get("<CASE>/a.jpg"), True, id="second-managed-policy"),
    pytest.param([[allow("s3:GetObject", f"{CASE}/x/*")], [allow("s3:GetObject", f"{CASE}/*")]], [], get("<CASE>/a.jpg"), True, id="second-inline-policy"),
]


@pytest.mark.parametrize("inline, managed, request_, allowed", MANAGED_CASES)
def test_managed_and_inline_policies(
    base: Deployment, inline: list[list[dict]], managed: list[list[dict]], request_: tuple[str, dict], allowed: bool
) -> None:
    """Attached managed policies count exactly like inline ones, Deny from either winning."""
    signed = sign_in_under(base, inline=inline, managed=managed)
    assert s3_outcome(signed, request_) == (ALLOWED if allowed else S3_DENIED)


GUEST = None  # the deployment's own guest role (guest_policy)

SERVICE_CASES = [
    # role policy (GUEST: a guest's credentials), service, operation, parameters, outcome
    pytest.param(GUEST, "iam", "list_roles", {}, "AccessDenied 403", id="guest-iam-list-roles"),
    pytest.param(GUEST, "iam", "create_role", {"RoleName": "escalate", "AssumeRolePolicyDocument": "{}"}, "AccessDenied 403", id="guest-iam-create-role"),
    pytest.param(GUEST, "cognito-idp", "list_user_pools", {"MaxResults": 10}, "AccessDeniedException 400", id="guest-cognito-idp-list-user-pools"),
    pytest.param(GUEST, "sts", "get_caller_identity", {}, ALLOWED, id="guest-sts-get-caller-identity"),
    pytest.param([deny("*", "*")], "sts", "get_caller_identity", {}, ALLOWED, id="sts-get-caller-identity-despite-deny"),
    pytest.param([allow("iam:ListRoles", "*")], "iam", "list_roles", {}, ALLOWED, id="iam-list-roles-granted"),
    pytest.param([allow("iam:Get*", "*")], "iam", "list_roles", {}, "AccessDenied 403", id="iam-list-roles-not-granted"),
    pytest.param([allow("*", "*"), deny("iam:List*", "*")], "iam", "list_roles", {}, "AccessDenied 403", id="iam-list-roles-denied"),
    pytest.param([allow("cognito-idp:ListUserPools", "*")], "cognito-idp", "list_user_pools", {"MaxResults": 10}, ALLOWED, id="cognito-idp-list-user-pools-granted"),
    pytest.param([allow("s3:*", "*")], "cognito-idp", "list_user_pools", {"MaxResults": 10}, "AccessDeniedException 400", id="cognito-idp-list-user-pools-not-granted"),
]


@pytest.mark.parametrize("statements, service, operation, params, expected", SERVICE_CASES)
def test_other_service_authorization(
    base: Deployment, statements: list[dict] | None, service: str, operation: str, params: dict, expected: str
) -> None:
    """Non-S3 APIs are authorized by action and refused in their own service's error format."""
    if statements is GUEST:
        credentials = base.guest_credentials()[1]
    else:
        credentials = sign_in_under(base, inline=[statements]).credentials
    client = base.kit.client(service, credentials)
    assert outcome(getattr(client, operation), **params) == expected


@pytest.mark.parametrize("who", ["guest", "alice"])
def test_caller_identity_is_the_assumed_role(base: Deployment, who: str) -> None:
    """GetCallerIdentity names the identity pool's role session, whatever the policy."""
    if who == "guest":
        role_arn, credentials = base.roles["unauthenticated"], base.guest_credentials()[1]
    else:
        signed = sign_in_under(base, inline=[[deny("*", "*")]])
        role_arn, credentials = signed.tokens["<ROLE>"], signed.credentials
    role_name = role_arn.rsplit("/", 1)[1]
    arn = base.kit.client("sts", credentials).get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/CognitoIdentityCredentials"
