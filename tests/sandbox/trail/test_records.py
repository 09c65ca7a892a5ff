"""The trail's records, read back from `GET /_sandbox/trail` after real
calls: `GetId` and `GetCredentialsForIdentity` (unsigned, joined on the
identity ID), an S3 `PutObject` and a denied `GetObject` (data events, with
CloudTrail's `AssumedRole` userIdentity and its `webIdFederationData`), and
the secrets CloudTrail hides."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from botocore.exceptions import ClientError

from sandbox.trail.records import HIDDEN, redact
from tests.sandbox_kit import ACCOUNT_ID, PASSWORD, REGION, Deployment, SandboxKit, as_boto3


def trail(kit: SandboxKit, since: str) -> list[dict]:
    response = requests.get(f"{kit.endpoint}/_sandbox/trail", params={"since": since, "limit": 1000}, timeout=5)
    assert response.status_code == 200
    return response.json()["Records"]


def by_request(records: list[dict], request_id: str) -> dict:
    [record] = [r for r in records if r["requestID"] == request_id]
    return record


@pytest.fixture(scope="module")
def flow(sandbox: SandboxKit):
    """Alice through the enhanced flow, a PutObject of her own and a denied GetObject of Bob's, and every secret used."""
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    dep = sandbox.deployment(users=("alice", "bob"))
    tokens = dep.sign_in("alice")
    cognito = sandbox.unsigned("cognito-identity")
    got_id = cognito.get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(tokens["IdToken"]))
    me = got_id["IdentityId"]
    got_credentials = cognito.get_credentials_for_identity(IdentityId=me, Logins=dep.logins(tokens["IdToken"]))
    credentials = as_boto3(got_credentials["Credentials"])
    s3 = dep.s3_as(credentials)
    put = s3.put_object(Bucket=dep.bucket, Key=f"private/{me}/a.jpg", Body=b"photo")
    bob = dep.identity_id("bob")
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=dep.bucket, Key=f"private/{bob}/b.jpg")
    return {
        "dep": dep, "me": me, "since": since, "tokens": tokens, "credentials": got_credentials["Credentials"],
        "ids": {
            "GetId": got_id["ResponseMetadata"]["RequestId"],
            "GetCredentialsForIdentity": got_credentials["ResponseMetadata"]["RequestId"],
            "PutObject": put["ResponseMetadata"]["RequestId"],
            "GetObject": denied.value.response["ResponseMetadata"]["RequestId"],
        },
        "denied": denied.value.response["Error"],
        "records": trail(sandbox, since),
    }


def test_every_record_has_cloudtrails_fields(flow):
    """The contract's fields on each of the four records, with their CloudTrail values."""
    for name, request_id in flow["ids"].items():
        record = by_request(flow["records"], request_id)
        assert record["eventVersion"] == "1.08"
        assert record["eventName"] == name
        assert record["awsRegion"] == REGION and record["recipientAccountId"] == ACCOUNT_ID
        assert record["sourceIPAddress"] == "127.0.0.1" and record["userAgent"].startswith("Boto3/")
        assert record["eventType"] == "AwsApiCall"
        assert dt.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        assert {"requestParameters", "responseElements", "errorCode", "errorMessage", "eventID", "readOnly",
                "managementEvent", "userIdentity"} <= record.keys()


def test_get_id_and_get_credentials_are_unknown_callers_joined_on_the_identity_id(flow):
    """Unsigned calls: userIdentity Unknown, the identity ID in the parameters or answer, the login token hidden."""
    dep, me = flow["dep"], flow["me"]
    get_id = by_request(flow["records"], flow["ids"]["GetId"])
    assert get_id["eventSource"] == "cognito-identity.amazonaws.com"
    assert get_id["userIdentity"] == {"type": "Unknown", "principalId": "Anonymous"}
    assert get_id["requestParameters"] == {"identityPoolId": dep.identity_pool_id, "logins": {dep.provider: HIDDEN}}
    assert get_id["responseElements"] == {"identityId": me}
    assert (get_id["managementEvent"], get_id["eventCategory"], get_id["readOnly"]) == (True, "Management", False)

    issued = by_request(flow["records"], flow["ids"]["GetCredentialsForIdentity"])
    assert issued["userIdentity"]["type"] == "Unknown"
    assert issued["requestParameters"] == {"identityId": me, "logins": {dep.provider: HIDDEN}}
    answer = issued["responseElements"]
    assert answer["identityId"] == me
    assert answer["credentials"]["accessKeyId"] == flow["credentials"]["AccessKeyId"]
    assert answer["credentials"]["secretKey"] == answer["credentials"]["sessionToken"] == HIDDEN


@pytest.mark.parametrize("name", ["PutObject", "GetObject"])
def test_s3_data_events_name_the_assumed_role_and_the_web_identity(flow, name):
    """userIdentity is CloudTrail's AssumedRole with sessionIssuer and webIdFederationData (amr, aud, sub)."""
    dep, me = flow["dep"], flow["me"]
    record = by_request(flow["records"], flow["ids"][name])
    role_arn = dep.roles["authenticated"]
    role_name = role_arn.rsplit("/", 1)[1]
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/CognitoIdentityCredentials"
    assert identity["accountId"] == ACCOUNT_ID
    assert identity["accessKeyId"] == flow["credentials"]["AccessKeyId"] and identity["accessKeyId"].startswith("ASIA")
    role_id = identity["sessionContext"]["sessionIssuer"]["principalId"]
    assert identity["principalId"] == f"{role_id}:CognitoIdentityCredentials" and role_id.startswith("AROA")
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": role_id, "arn": role_arn, "accountId": ACCOUNT_ID, "userName": role_name,
    }
    web = identity["sessionContext"]["webIdFederationData"]
    assert web["federatedProvider"] == "cognito-identity.amazonaws.com"
    amr = json.loads(web["attributes"]["cognito-identity.amazonaws.com:amr"])
    assert amr[0] == "authenticated" and amr[1] == f"cognito-idp.{REGION}.amazonaws.com/{dep.user_pool_id}"
    assert web["attributes"]["cognito-identity.amazonaws.com:aud"] == dep.identity_pool_id
    assert web["attributes"]["cognito-identity.amazonaws.com:sub"] == me
    attributes = identity["sessionContext"]["attributes"]
    assert attributes["mfaAuthenticated"] == "false" and attributes["creationDate"].endswith("Z")
    assert (record["eventSource"], record["managementEvent"], record["eventCategory"]) == ("s3.amazonaws.com", False, "Data")
    assert record["requestParameters"]["bucketName"] == dep.bucket
    assert {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{dep.bucket}", "accountId": ACCOUNT_ID} in record["resources"]


def test_put_object_succeeded_and_get_object_was_denied(flow):
    put = by_request(flow["records"], flow["ids"]["PutObject"])
    assert (put["errorCode"], put["errorMessage"], put["readOnly"]) == (None, None, False)
    assert put["requestParameters"]["key"] == f"private/{flow['me']}/a.jpg"
    assert put["additionalEventData"]["bytesTransferredIn"] == len(b"photo")
    denied = by_request(flow["records"], flow["ids"]["GetObject"])
    assert denied["errorCode"] == "AccessDenied" and denied["readOnly"] is True
    assert denied["errorMessage"] == flow["denied"]["Message"]
    assert "because no identity-based policy allows the s3:GetObject action" in denied["errorMessage"]


def test_no_secret_reaches_the_trail(flow, sandbox):
    """The ID token, refresh token, secret key, session token and password appear nowhere in the records."""
    text = json.dumps(trail(sandbox, flow["since"]))
    secrets = [flow["tokens"]["IdToken"], flow["tokens"]["RefreshToken"], flow["tokens"]["AccessToken"],
               flow["credentials"]["SecretKey"], flow["credentials"]["SessionToken"], PASSWORD]
    assert [s[:12] for s in secrets if s in text] == []


@pytest.mark.parametrize(
    "value, hidden",
    [
        ({"AuthParameters": {"USERNAME": "a@x", "PASSWORD": "p", "SECRET_HASH": "h"}},
         {"AuthParameters": {"USERNAME": "a@x", "PASSWORD": HIDDEN, "SECRET_HASH": HIDDEN}}),
        ({"authenticationResult": {"idToken": "i", "accessToken": "a", "refreshToken": "r", "expiresIn": 3600}},
         {"authenticationResult": {"idToken": HIDDEN, "accessToken": HIDDEN, "refreshToken": HIDDEN, "expiresIn": 3600}}),
        ({"logins": {"cognito-idp.us-east-1.amazonaws.com/p": "jwt"}}, {"logins": {"cognito-idp.us-east-1.amazonaws.com/p": HIDDEN}}),
        ({"userPoolClient": {"clientId": "c", "clientSecret": "s"}}, {"userPoolClient": {"clientId": "c", "clientSecret": HIDDEN}}),
        ({"credentials": {"accessKeyId": "ASIA", "secretAccessKey": "s", "sessionToken": "t"}},
         {"credentials": {"accessKeyId": "ASIA", "secretAccessKey": HIDDEN, "sessionToken": HIDDEN}}),
        ({"confirmationCode": "123456", "password": "p", "webIdentityToken": "t", "token": "t"},
         {"confirmationCode": HIDDEN, "password": HIDDEN, "webIdentityToken": HIDDEN, "token": HIDDEN}),
        ([{"previousPassword": "a", "proposedPassword": "b", "nextToken": "n"}],
         [{"previousPassword": HIDDEN, "proposedPassword": HIDDEN, "nextToken": "n"}]),
    ],
)
def test_redaction(value, hidden):
    """Each secret CloudTrail hides is HIDDEN_DUE_TO_SECURITY_REASONS; the rest (a page token, a user name) stays."""
    assert redact(value) == hidden
