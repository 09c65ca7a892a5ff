"""`GET /_sandbox/decisions/<request id>`: one decision per request, under
the ID its response carried, explained (an explicit deny, an implicit deny,
a failed condition, a resolved policy variable), and AWS's access-denied
message forms. Real requests through boto3; the decisions over HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import ACCOUNT_ID, Deployment, SandboxKit

DENY_PRIVATE_DELETES = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::*/private/*"}],
}


@pytest.fixture(scope="module")
def dep(sandbox: SandboxKit) -> Deployment:
    dep = sandbox.deployment(users=("alice", "bob"))
    role_name = dep.roles["authenticated"].rsplit("/", 1)[1]
    sandbox.client("iam").put_role_policy(RoleName=role_name, PolicyName="guard", PolicyDocument=json.dumps(DENY_PRIVATE_DELETES))
    return dep


@pytest.fixture(scope="module")
def alice(dep: Deployment) -> tuple[str, dict[str, str]]:
    return dep.user_credentials("alice")


def decision(kit: SandboxKit, request_id: str) -> dict:
    response = requests.get(f"{kit.endpoint}/_sandbox/decisions/{request_id}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def refused(call, *args, **params) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **params)
    return caught.value


def request_id(error_or_answer) -> str:
    metadata = error_or_answer.response["ResponseMetadata"] if isinstance(error_or_answer, ClientError) else error_or_answer["ResponseMetadata"]
    return metadata["RequestId"]


def role_name(dep: Deployment) -> str:
    return dep.roles["authenticated"].rsplit("/", 1)[1]


def session_arn(dep: Deployment) -> str:
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name(dep)}/CognitoIdentityCredentials"


# --- a decision per request, by request ID ---------------------------------------------------


def test_an_allowed_put_is_kept_under_its_request_id(sandbox, dep, alice):
    """The x-amz-request-id of a PutObject names its decision: who, what, allowed, and which statement allowed it."""
    me, credentials = alice
    answer = dep.s3_as(credentials).put_object(Bucket=dep.bucket, Key=f"private/{me}/a.jpg", Body=b"x")
    rid = request_id(answer)
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == rid
    kept = decision(sandbox, rid)
    assert {k: kept[k] for k in ("requestId", "service", "operation", "exempt", "allowed", "message")} == {
        "requestId": rid, "service": "s3", "operation": "PutObject", "exempt": None, "allowed": True, "message": None,
    }
    assert kept["principal"] == {
        "arn": session_arn(dep),
        "type": "AssumedRole",
        "identityId": me,
        "roleArn": dep.roles["authenticated"],
        "accessKeyId": credentials["aws_access_key_id"],
    }
    assert kept["time"].endswith("Z") and len(kept["time"]) == 20
    [need] = kept["needs"]
    assert (need["action"], need["resource"], need["effect"]) == ("s3:PutObject", f"arn:aws:s3:::{dep.bucket}/private/{me}/a.jpg", "Allow")
    assert need["context"]["cognito-identity.amazonaws.com:sub"] == me
    assert kept["reason"] == need["reason"] == (
        f'Statement "OwnerReadsWritesAndDeletesOwnPrefixes" of {role_name(dep)}/access allows s3:PutObject '
        f"on arn:aws:s3:::{dep.bucket}/private/{me}/a.jpg."
    )


def test_each_request_has_its_own_decision(sandbox, dep, alice):
    """Two requests, two IDs, two decisions; a JSON service's x-amzn-RequestId and a Query service's too."""
    me, credentials = alice
    s3 = dep.s3_as(credentials)
    first = request_id(s3.put_object(Bucket=dep.bucket, Key=f"private/{me}/one.jpg", Body=b"1"))
    second = request_id(s3.put_object(Bucket=dep.bucket, Key=f"private/{me}/two.jpg", Body=b"2"))
    assert first != second
    assert decision(sandbox, first)["needs"][0]["resource"].endswith("/one.jpg")
    assert decision(sandbox, second)["needs"][0]["resource"].endswith("/two.jpg")
    idp = refused(sandbox.client("cognito-idp", credentials).list_user_pools, MaxResults=5)
    assert decision(sandbox, request_id(idp))["operation"] == "ListUserPools"
    iam = refused(sandbox.client("iam", credentials).list_roles)
    assert decision(sandbox, request_id(iam))["service"] == "iam"


@pytest.mark.parametrize("who", ["admin", "caller identity", "unsigned GetId"])
def test_exempt_requests_are_kept_with_why(sandbox, dep, alice, who):
    """The root key, GetCallerIdentity and an unsigned public API: allowed, with `exempt` saying why IAM was not asked."""
    if who == "admin":
        answer, says = sandbox.client("s3").list_buckets(), "root"
    elif who == "caller identity":
        answer, says = sandbox.client("sts", alice[1]).get_caller_identity(), "GetCallerIdentity"
    else:
        answer = sandbox.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(dep.id_token("bob")))
        says = "public API"
    kept = decision(sandbox, request_id(answer))
    assert kept["allowed"] is True and kept["needs"] == []
    assert says in kept["exempt"]
    if who == "unsigned GetId":
        assert kept["principal"]["type"] == "Anonymous" and kept["principal"]["arn"] is None


def test_a_refused_signature_is_kept_as_refused_before_iam(sandbox, dep, alice):
    """A wrong secret key: the decision says the request never reached IAM."""
    credentials = {**alice[1], "aws_secret_access_key": "wrong" * 8}
    error = refused(dep.s3_as(credentials).get_object, Bucket=dep.bucket, Key="public/x.jpg")
    kept = decision(sandbox, request_id(error))
    assert kept["allowed"] is False and kept["needs"] == []
    assert kept["reason"].startswith("Refused before IAM was asked (SignatureDoesNotMatch")


# --- the four explanations, through real requests ------------------------------------------------


def test_an_explicit_deny_is_explained(sandbox, dep, alice):
    """Deleting her own private photo under a Deny: the Deny statement is named, and beats the Allow."""
    me, credentials = alice
    key = f"private/{me}/keep.jpg"
    dep.put_admin(key)
    error = refused(dep.s3_as(credentials).delete_object, Bucket=dep.bucket, Key=key)
    kept = decision(sandbox, request_id(error))
    assert kept["allowed"] is False
    resource = f"arn:aws:s3:::{dep.bucket}/{key}"
    assert kept["reason"] == (
        f'Statement "NoDeletes" of {role_name(dep)}/guard explicitly denies s3:DeleteObject on {resource}, '
        "and an explicit deny overrides every allow."
    )
    [need] = kept["needs"]
    assert need["effect"] == "Deny"
    applying = {(s["policy"], s["sid"], s["effect"]) for s in need["statements"] if s["applies"]}
    assert applying == {
        (f"{role_name(dep)}/access", "OwnerReadsWritesAndDeletesOwnPrefixes", "Allow"),
        (f"{role_name(dep)}/guard", "NoDeletes", "Deny"),
    }


def test_an_implicit_deny_is_explained(sandbox, dep, alice):
    """Reading Bob's private prefix: nothing covers it, and the reason lists what Alice may read, resolved."""
    me, credentials = alice
    bob = dep.identity_id("bob")
    error = refused(dep.s3_as(credentials).get_object, Bucket=dep.bucket, Key=f"private/{bob}/a.jpg")
    kept = decision(sandbox, request_id(error))
    b = f"arn:aws:s3:::{dep.bucket}"
    assert kept["reason"] == (
        f"No statement allows s3:GetObject on {b}/private/{bob}/a.jpg: the statements that allow s3:GetObject "
        f'("OwnerReadsWritesAndDeletesOwnPrefixes", "SignedInUsersReadPublishedPhotos") cover only '
        f"{b}/private/{me}/*, {b}/public/{me}/*, {b}/public/*/*."
    )
    [need] = kept["needs"]
    assert need["effect"] == "ImplicitDeny" and not any(s["applies"] for s in need["statements"])


@pytest.mark.parametrize("prefix", [None, "private/"], ids=["the bucket root", "another prefix"])
def test_a_failed_condition_is_explained(sandbox, dep, alice, prefix):
    """ListBucket without an s3:prefix, or with one no condition allows: the condition, the request's value and the policy's."""
    me, credentials = alice
    params = {"Bucket": dep.bucket, **({"Prefix": prefix} if prefix is not None else {})}
    error = refused(dep.s3_as(credentials).list_objects_v2, **params)
    kept = decision(sandbox, request_id(error))
    b = f"arn:aws:s3:::{dep.bucket}"
    if prefix is None:
        assert kept["reason"] == f"No statement allows s3:ListBucket on {b} without an s3:prefix."
    else:
        assert kept["reason"] == (
            f'No statement allows s3:ListBucket on {b} with s3:prefix "private/": statement "OwnerListsOwnPrefixes" '
            f'of {role_name(dep)}/access allows it only if s3:prefix is StringLike "private/{me}/*" or "public/{me}/*".'
        )
    [need] = kept["needs"]
    [own] = [s for s in need["statements"] if s["sid"] == "OwnerListsOwnPrefixes"]
    assert own["conditions"] == [
        {
            "operator": "StringLike",
            "key": "s3:prefix",
            "policyValues": ["private/${cognito-identity.amazonaws.com:sub}/*", "public/${cognito-identity.amazonaws.com:sub}/*"],
            "resolvedValues": [f"private/{me}/*", f"public/{me}/*"],
            "requestValue": prefix,
            "holds": False,
            "understood": True,
        }
    ]
    assert (own["actionMatches"], own["resourceMatches"], own["applies"]) == (True, True, False)


def test_a_resolved_policy_variable_is_shown(sandbox, dep, alice):
    """Listing her own prefix: ${cognito-identity.amazonaws.com:sub} resolved to her identity ID, in the pattern and as a variable."""
    me, credentials = alice
    answer = dep.s3_as(credentials).list_objects_v2(Bucket=dep.bucket, Prefix=f"private/{me}/")
    kept = decision(sandbox, request_id(answer))
    assert kept["allowed"] is True
    [need] = kept["needs"]
    [own] = [s for s in need["statements"] if s["sid"] == "OwnerListsOwnPrefixes"]
    assert own["applies"] is True and own["index"] == 2
    assert own["variables"] == {"cognito-identity.amazonaws.com:sub": me}
    assert own["conditions"][0]["requestValue"] == f"private/{me}/" and own["conditions"][0]["holds"] is True
    [reads] = [s for s in need["statements"] if s["sid"] == "OwnerReadsWritesAndDeletesOwnPrefixes"]
    assert reads["resources"][0] == {
        "pattern": f"arn:aws:s3:::{dep.bucket}/private/${{cognito-identity.amazonaws.com:sub}}/*",
        "resolved": f"arn:aws:s3:::{dep.bucket}/private/{me}/*",
        "matches": False,  # a ListBucket names the bucket, not an object
    }
    assert reads["explanation"] == "Does not apply: its Action does not include s3:ListBucket."


# --- AWS's message forms -----------------------------------------------------------------------


def test_s3_implicit_deny_message(dep, alice):
    """S3 names the caller, the action and the quoted resource, as for same-account denials on AWS."""
    bob = dep.identity_id("bob")
    error = refused(dep.s3_as(alice[1]).get_object, Bucket=dep.bucket, Key=f"private/{bob}/a.jpg")
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["Error"]["Message"] == (
        f"User: {session_arn(dep)} is not authorized to perform: s3:GetObject on resource: "
        f'"arn:aws:s3:::{dep.bucket}/private/{bob}/a.jpg" because no identity-based policy allows the s3:GetObject action'
    )


def test_s3_explicit_deny_message(dep, alice):
    me, credentials = alice
    error = refused(dep.s3_as(credentials).delete_object, Bucket=dep.bucket, Key=f"private/{me}/gone.jpg")
    assert error.response["Error"]["Message"] == (
        f"User: {session_arn(dep)} is not authorized to perform: s3:DeleteObject on resource: "
        f'"arn:aws:s3:::{dep.bucket}/private/{me}/gone.jpg" with an explicit deny in an identity-based policy'
    )


@pytest.mark.parametrize(
    "service, call, action, resource",
    [
        ("iam", lambda c: c.get_role(RoleName="anything"), "iam:GetRole", f"arn:aws:iam::{ACCOUNT_ID}:role/anything"),
        ("cognito-idp", lambda c: c.list_user_pools(MaxResults=5), "cognito-idp:ListUserPools", "*"),
    ],
)
def test_other_services_use_the_same_message(sandbox, dep, alice, service, call, action, resource):
    """IAM (Query) and Cognito (JSON) denials carry the same sentence in their own error formats."""
    error = refused(call, sandbox.client(service, alice[1]))
    assert error.response["Error"]["Message"] == (
        f'User: {session_arn(dep)} is not authorized to perform: {action} on resource: "{resource}" '
        f"because no identity-based policy allows the {action} action"
    )
    assert decision(sandbox, request_id(error))["message"] == error.response["Error"]["Message"]


def test_anonymous_s3_still_says_access_denied(sandbox, dep):
    """An unsigned S3 request has no caller to name: plain Access Denied, as on AWS."""
    error = refused(sandbox.unsigned("s3").get_object, Bucket=dep.bucket, Key="public/x.jpg")
    assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == ("AccessDenied", "Access Denied")


# --- bad input to the route ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, status, error",
    [
        ("/_sandbox/decisions/0123456789ABCDEF", 404, "No decision is kept for that request id."),
        ("/_sandbox/decisions/..%2F..%2Foutbox", 400, "That is not a request id."),
        ("/_sandbox/decisions/" + "A" * 65, 400, "That is not a request id."),
        ("/_sandbox/decisions/", 400, "That is not a request id."),
        ("/_sandbox/decisions/a%00b", 400, "That is not a request id."),
        ("/_sandbox/nothing-here", 404, "The sandbox has no such route."),
    ],
)
def test_bad_request_ids_get_a_clear_answer(sandbox, path, status, error):
    """Unknown, traversing, too long, empty or binary IDs: a 4xx with a JSON error, never a 500."""
    response = requests.get(sandbox.endpoint + path, timeout=5)
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_only_get_is_answered(sandbox):
    response = requests.post(f"{sandbox.endpoint}/_sandbox/decisions/0123456789ABCDEF", data=b"{}", timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
