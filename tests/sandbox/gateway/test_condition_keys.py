"""S3's tag condition keys through real requests: Alice's identity-pool
credentials under a role holding one policy per case, objects tagged with the
admin key, then one S3 call, allowed or refused with S3's `AccessDenied`.

`s3:ExistingObjectTag/<key>` is the stored object's tags, and exists only
for reads and tag or ACL operations (never for `PutObject` or
`DeleteObject`); `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`
are the tags the request sets, for `PutObject` (`x-amz-tagging`) and
`PutObjectTagging` (its body). See the S3 user guide, "Tagging and access
control policies", and the Service Authorization Reference for S3.
An operator the evaluator does not implement makes its statement not apply,
and the sandbox logs a warning naming it."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client as WsgiClient

from iampolicy import conditions
from sandbox.gateway.routing import Gateway
from tests.sandbox.gateway.test_authorization import (
    ALLOWED,
    CASE,
    S3_DENIED,
    Signed,
    allow,
    base,  # noqa: F401  (the module's deployment fixture)
    deny,
    outcome,
    sign_in_under,
)
from tests.sandbox_kit import ACCOUNT_ID, REGION, as_boto3

PUBLIC = {"StringEquals": {"s3:ExistingObjectTag/visibility": "public"}}
WANTS_PUBLIC = {"StringEquals": {"s3:RequestObjectTag/visibility": "public"}}


def seed(signed: Signed, key: str, tagging: str | None) -> None:
    """Put `key` with the admin key, tagged with `tagging` (URL query form) or not at all."""
    extra = {} if tagging is None else {"Tagging": tagging}
    signed.dep.kit.client("s3").put_object(Bucket=signed.dep.bucket, Key=key, Body=b"photo", **extra)


def call(signed: Signed, operation: str, key: str, **params: Any) -> str:
    s3 = signed.client("s3")
    method: Callable[..., Any] = getattr(s3, operation)
    return outcome(method, Bucket=signed.dep.bucket, Key=key, **params)


TAGSET = {"TagSet": [{"Key": "visibility", "Value": "public"}]}

EXISTING = [
    # statements, stored tags, operation, its parameters, allowed
    pytest.param([allow("s3:GetObject", f"{CASE}/*", PUBLIC)], "visibility=public", "get_object", {}, True, id="get-tagged-public"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", PUBLIC)], "visibility=private", "get_object", {}, False, id="get-tagged-private"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", PUBLIC)], None, "get_object", {}, False, id="get-untagged"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", PUBLIC)], "visibility=public", "head_object", {}, True, id="head-tagged-public"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"StringEquals": {"s3:ExistingObjectTag/Visibility": "public"}})],
                 "visibility=public", "get_object", {}, True, id="key-name-case-insensitive"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", PUBLIC)], "visibility=Public", "get_object", {}, False, id="value-case-sensitive"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*", {"Null": {"s3:ExistingObjectTag/visibility": "true"}})],
                 None, "get_object", {}, True, id="null-when-untagged"),
    pytest.param([allow("s3:GetObject", f"{CASE}/*"), deny("s3:GetObject", f"{CASE}/*", {"StringEquals": {"s3:ExistingObjectTag/secret": "yes"}})],
                 "secret=yes", "get_object", {}, False, id="deny-by-tag"),
    pytest.param([allow("s3:GetObjectTagging", f"{CASE}/*", PUBLIC)], "visibility=public", "get_object_tagging", {}, True,
                 id="get-tagging-tagged-public"),
    pytest.param([allow("s3:GetObjectTagging", f"{CASE}/*", PUBLIC)], "visibility=private", "get_object_tagging", {}, False,
                 id="get-tagging-tagged-private"),
    pytest.param([allow("s3:DeleteObjectTagging", f"{CASE}/*", PUBLIC)], "visibility=public", "delete_object_tagging", {}, True,
                 id="delete-tagging-tagged-public"),
    # Not defined for PutObject and DeleteObject: an Allow that needs it never applies, a Deny on it never fires.
    pytest.param([allow("s3:PutObject", f"{CASE}/*", PUBLIC)], "visibility=public", "put_object", {"Body": b"new"}, False,
                 id="absent-for-put"),
    pytest.param([allow("s3:DeleteObject", f"{CASE}/*"), deny("s3:DeleteObject", f"{CASE}/*", {"StringEquals": {"s3:ExistingObjectTag/locked": "yes"}})],
                 "locked=yes", "delete_object", {}, True, id="absent-for-delete"),
]


@pytest.mark.parametrize("statements, tagging, operation, params, allowed", EXISTING)
def test_existing_object_tag(base, statements, tagging, operation, params, allowed):  # noqa: F811
    """One policy, one object tagged (or not) by the admin, one call by Alice: allowed, or AccessDenied 403."""
    signed = sign_in_under(base, inline=[statements])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, tagging)
    assert call(signed, operation, key, **params) == (ALLOWED if allowed else S3_DENIED)


def test_existing_object_tag_of_the_version_read(base):  # noqa: F811
    """GetObjectVersion sees the tags of the version it reads, not the current one's."""
    s3, bucket = base.kit.client("s3"), f"tagged-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="a.jpg", Body=b"old", Tagging="visibility=public")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key="a.jpg", Body=b"new", Tagging="visibility=private")["VersionId"]
    signed = sign_in_under(base, inline=[[allow("s3:GetObjectVersion", f"arn:aws:s3:::{bucket}/a.jpg", PUBLIC)]])
    mine = signed.client("s3")
    assert outcome(mine.get_object, Bucket=bucket, Key="a.jpg", VersionId=old) == ALLOWED
    assert outcome(mine.get_object, Bucket=bucket, Key="a.jpg", VersionId=new) == S3_DENIED


def test_copy_reads_the_source_by_its_tags(base):  # noqa: F811
    """CopyObject's read of its source is decided on the source's tags."""
    statements = [allow("s3:GetObject", f"{CASE}/src/*", PUBLIC), allow("s3:PutObject", f"{CASE}/dst/*")]
    signed = sign_in_under(base, inline=[statements])
    case = signed.tokens["<CASE>"]
    seed(signed, f"{case}/src/public.jpg", "visibility=public")
    seed(signed, f"{case}/src/private.jpg", "visibility=private")
    source = {"Bucket": signed.dep.bucket}
    assert call(signed, "copy_object", f"{case}/dst/1.jpg", CopySource={**source, "Key": f"{case}/src/public.jpg"}) == ALLOWED
    assert call(signed, "copy_object", f"{case}/dst/2.jpg", CopySource={**source, "Key": f"{case}/src/private.jpg"}) == S3_DENIED


ONLY_VISIBILITY = {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["visibility"]}}

REQUESTED = [
    # statements, operation, its parameters, allowed
    pytest.param([allow("s3:PutObject", f"{CASE}/*", WANTS_PUBLIC)], "put_object", {"Body": b"x", "Tagging": "visibility=public"},
                 True, id="put-with-the-tag"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", WANTS_PUBLIC)], "put_object", {"Body": b"x", "Tagging": "visibility=private"},
                 False, id="put-with-another-value"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", WANTS_PUBLIC)], "put_object", {"Body": b"x"}, False, id="put-untagged"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", ONLY_VISIBILITY)], "put_object",
                 {"Body": b"x", "Tagging": "visibility=public&owner=alice"}, False, id="put-with-an-extra-key"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", {"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": "visibility"}})],
                 "put_object", {"Body": b"x"}, False, id="put-untagged-for-any-value"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", WANTS_PUBLIC)], "create_multipart_upload", {"Tagging": "visibility=public"},
                 True, id="multipart-create-with-the-tag"),
    pytest.param([allow("s3:PutObject", f"{CASE}/*", WANTS_PUBLIC)], "create_multipart_upload", {}, False,
                 id="multipart-create-untagged"),
    pytest.param([allow("s3:PutObjectTagging", f"{CASE}/*", WANTS_PUBLIC)], "put_object_tagging", {"Tagging": TAGSET}, True,
                 id="put-tagging-with-the-tag"),
    pytest.param([allow("s3:PutObjectTagging", f"{CASE}/*", WANTS_PUBLIC)], "put_object_tagging",
                 {"Tagging": {"TagSet": [{"Key": "visibility", "Value": "private"}]}}, False, id="put-tagging-another-value"),
    pytest.param([allow("s3:PutObjectTagging", f"{CASE}/*", ONLY_VISIBILITY)], "put_object_tagging",
                 {"Tagging": {"TagSet": [*TAGSET["TagSet"], {"Key": "owner", "Value": "alice"}]}}, False,
                 id="put-tagging-with-an-extra-key"),
    pytest.param([allow("s3:PutObjectTagging", f"{CASE}/*", ONLY_VISIBILITY)], "put_object_tagging", {"Tagging": TAGSET}, True,
                 id="put-tagging-only-allowed-keys"),
    # Not defined for GetObject: a condition on it never holds there.
    pytest.param([allow("s3:GetObject", f"{CASE}/*", WANTS_PUBLIC)], "get_object", {}, False, id="absent-for-get"),
]


@pytest.mark.parametrize("statements, operation, params, allowed", REQUESTED)
def test_request_object_tag(base, statements, operation, params, allowed):  # noqa: F811
    """One policy, one call by Alice setting tags (or not): allowed, or AccessDenied 403."""
    signed = sign_in_under(base, inline=[statements])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, "visibility=public")  # for the calls on an existing object
    assert call(signed, operation, key, **params) == (ALLOWED if allowed else S3_DENIED)


def test_refused_tags_are_not_stored(base):  # noqa: F811
    """A PutObjectTagging refused for its tags leaves the object's tags as they were."""
    signed = sign_in_under(base, inline=[[allow("s3:PutObjectTagging", f"{CASE}/*", WANTS_PUBLIC)]])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, "visibility=public")
    wrong = {"TagSet": [{"Key": "visibility", "Value": "everyone"}]}
    assert call(signed, "put_object_tagging", key, Tagging=wrong) == S3_DENIED
    stored = base.kit.client("s3").get_object_tagging(Bucket=base.bucket, Key=key)["TagSet"]
    assert stored == TAGSET["TagSet"]


def test_an_unknown_operator_makes_a_deny_not_fire_and_is_logged(base, caplog, monkeypatch):  # noqa: F811
    """A Deny under an operator the evaluator does not implement (BinaryEquals; IAM
    itself accepts it) does not apply, the Allow beside it does, and the warning names it."""
    # Each operator is logged once per process; forget earlier uses so that this one is the first.
    monkeypatch.setattr(conditions, "_warned", set())
    statements = [allow("s3:GetObject", f"{CASE}/*"), deny("s3:GetObject", f"{CASE}/*", {"BinaryEquals": {"aws:SourceIp": "AAAA"}})]
    signed = sign_in_under(base, inline=[statements])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, None)
    with caplog.at_level(logging.WARNING, logger="iampolicy"):
        assert call(signed, "get_object", key) == ALLOWED
    assert [r.levelno for r in caplog.records if r.name == "iampolicy" and "BinaryEquals" in r.getMessage()] == [logging.WARNING]


def test_an_unknown_operator_makes_an_allow_not_apply(base):  # noqa: F811
    """The same operator on the only Allow: the request is refused, fail closed."""
    signed = sign_in_under(base, inline=[[allow("s3:GetObject", f"{CASE}/*", {"BinaryEquals": {"aws:SourceIp": "AAAA"}})]])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, None)
    assert call(signed, "get_object", key) == S3_DENIED


def _list_roles_if(condition: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
                                                                "Condition": condition}]})


def _iam_outcome(kit, credentials: dict[str, str]) -> str:
    return outcome(kit.client("iam", credentials).list_roles, MaxItems=1)


@pytest.mark.parametrize(
    "condition, allowed",
    [
        pytest.param({"ArnEquals": {"aws:PrincipalArn": "<USER>"}}, True, id="principal-arn-is-the-user"),
        pytest.param({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT_ID}:user/someone-else"}}, False, id="another-user"),
        pytest.param({"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID, "aws:PrincipalType": "User"}}, True, id="account-and-type"),
        pytest.param({"Null": {"aws:TokenIssueTime": "true"}}, True, id="long-term-key-has-no-token-issue-time"),
    ],
)
def test_principal_keys_of_an_iam_user(sandbox, condition, allowed):
    """An IAM user's long-term key: aws:PrincipalArn is the user's ARN (IAM user guide, global condition keys)."""
    iam, name = sandbox.client("iam"), f"keys-{uuid.uuid4().hex[:8]}"
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    filled = json.loads(json.dumps(condition).replace("<USER>", arn))
    iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=_list_roles_if(filled))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    credentials = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    assert _iam_outcome(sandbox, credentials) == (ALLOWED if allowed else "AccessDenied 403")


@pytest.mark.parametrize(
    "condition, allowed",
    [
        pytest.param({"ArnEquals": {"aws:PrincipalArn": "<ROLE>"}}, True, id="principal-arn-is-the-role"),
        pytest.param({"ArnLike": {"aws:PrincipalArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/*"}}, False, id="not-the-session-arn"),
        pytest.param({"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, True, id="principal-type"),
    ],
)
def test_principal_keys_of_an_assume_role_session(sandbox, condition, allowed):
    """A session from sts:AssumeRole: aws:PrincipalArn is the role's ARN, not the assumed-role session's."""
    iam, name = sandbox.client("iam"), f"keys-{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ID}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    filled = json.loads(json.dumps(condition).replace("<ROLE>", arn))
    iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=_list_roles_if(filled))
    session = sandbox.client("sts").assume_role(RoleArn=arn, RoleSessionName="keys")["Credentials"]
    assert _iam_outcome(sandbox, as_boto3(session)) == (ALLOWED if allowed else "AccessDenied 403")


V6_CLIENT = "2001:db8::7"


def _get_from(signed: Signed, key: str, remote_addr: str) -> tuple[int, str]:
    """GetObject signed with Alice's credentials, handed to a gateway as WSGI
    with `remote_addr` as the peer: every server a test starts listens on
    127.0.0.1 only, so no real IPv6 client can reach one. The gateway is the
    sandbox's own, on the same moto state; nothing is mocked."""
    gateway = Gateway()
    host = urlsplit(signed.dep.kit.endpoint).netloc
    url = f"http://{host}/{signed.dep.bucket}/{key}"
    credentials = Credentials(signed.credentials["aws_access_key_id"], signed.credentials["aws_secret_access_key"],
                              signed.credentials["aws_session_token"])
    request = AWSRequest("GET", url, headers={"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()})
    S3SigV4Auth(credentials, "s3", REGION).add_auth(request)
    try:
        answer = WsgiClient(gateway).get(f"/{signed.dep.bucket}/{key}", base_url=f"http://{host}", headers=dict(request.headers),
                                         environ_base={"REMOTE_ADDR": remote_addr})
    finally:
        gateway.close()
    code = ElementTree.fromstring(answer.data).findtext("Code") if answer.status_code >= 300 else ""
    return answer.status_code, code or ""


@pytest.mark.parametrize(
    "condition, remote_addr, allowed",
    [
        pytest.param({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, V6_CLIENT, True, id="v6-in-range"),
        pytest.param({"IpAddress": {"aws:SourceIp": "2001:db9::/32"}}, V6_CLIENT, False, id="v6-another-range-denies"),
        pytest.param({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, V6_CLIENT, False, id="v4-range-denies-v6-client"),
        pytest.param({"NotIpAddress": {"aws:SourceIp": "2001:db8::/32"}}, V6_CLIENT, False, id="not-ip-v6-in-range"),
        pytest.param({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, "127.0.0.1", False, id="v4-client-v6-range"),
    ],
)
def test_source_ip_of_an_ipv6_client(base, condition, remote_addr, allowed):  # noqa: F811
    """aws:SourceIp is the peer's address, IPv6 too: an IpAddress condition for another range denies with AccessDenied."""
    signed = sign_in_under(base, inline=[[allow("s3:GetObject", f"{CASE}/*", condition)]])
    key = f"{signed.tokens['<CASE>']}/a.jpg"
    seed(signed, key, None)
    assert _get_from(signed, key, remote_addr) == ((200, "") if allowed else (403, "AccessDenied"))
