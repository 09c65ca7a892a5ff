"""Signature, session-token and expiry checks: every way of getting SigV4 wrong
is refused before any policy is read, with the code and status the real
service returns, so code that handles AWS's errors handles the sandbox's.

SigV4 for S3: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
S3 error codes: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html"""

from __future__ import annotations

import datetime
import hashlib
import re
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from requests.structures import CaseInsensitiveDict

from tests.sandbox_kit import ADMIN, REGION, Deployment, SandboxKit, start_kit

TIMEOUT = 10  # seconds, for every raw HTTP request
Creds = dict[str, str]

# AWS's documented example key pair: the right shape, in nobody's records.
UNKNOWN_KEY = {
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


@dataclass(frozen=True)
class Users:
    """alice's and bob's sandbox-issued credentials in one deployment."""

    deployment: Deployment
    alice_id: str
    alice: Creds
    bob_id: str
    bob: Creds

    @property
    def bucket(self) -> str:
        return self.deployment.bucket


@dataclass(frozen=True)
class Photo:
    """A fresh object of alice's and a sibling next to it, seeded by the admin."""

    key: str
    sibling: str
    body: bytes = b"original"  # same length as TAMPERED_BODY


TAMPERED_BODY = b"tampered"


@pytest.fixture(scope="module")
def users(sandbox: SandboxKit) -> Users:
    dep = sandbox.deployment()
    alice_id, alice = dep.user_credentials("alice")
    bob_id, bob = dep.user_credentials("bob")
    return Users(dep, alice_id, alice, bob_id, bob)


@pytest.fixture
def photo(users: Users) -> Photo:
    folder = f"private/{users.alice_id}/{uuid.uuid4().hex[:8]}"
    photo = Photo(key=f"{folder}/photo.jpg", sibling=f"{folder}/other.jpg")
    users.deployment.put_admin(photo.key, photo.body)
    users.deployment.put_admin(photo.sibling, photo.body)
    return photo


def _code_and_status(error: ClientError) -> tuple[str | None, int]:
    """The error code botocore parsed (None if the body is not in the service's format), and the status."""
    return error.response.get("Error", {}).get("Code"), error.response["ResponseMetadata"]["HTTPStatusCode"]


def _s3_error(response: requests.Response) -> tuple[str, int]:
    """The `<Code>` of an S3 error document, and the HTTP status."""
    return ET.fromstring(response.content).findtext("Code"), response.status_code


def _flip(text: str) -> str:
    """`text` with its last character changed: same length, wrong value."""
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def _object_url(kit: SandboxKit, bucket: str, key: str) -> str:
    return f"{kit.endpoint}/{bucket}/{quote(key, safe='/~')}"


def _body_now(users: Users, key: str) -> bytes:
    return users.deployment.kit.client("s3").get_object(Bucket=users.bucket, Key=key)["Body"].read()


# Credentials an attacker (or a buggy client) might sign with, derived from alice's.
def alice_as_issued(u: Users) -> Creds:
    return dict(u.alice)


def wrong_secret(u: Users) -> Creds:
    return {**u.alice, "aws_secret_access_key": _flip(u.alice["aws_secret_access_key"])}


def unknown_key(u: Users) -> Creds:
    return dict(UNKNOWN_KEY)


def tampered_token(u: Users) -> Creds:
    return {**u.alice, "aws_session_token": _flip(u.alice["aws_session_token"])}


def garbage_token(u: Users) -> Creds:
    return {**u.alice, "aws_session_token": "not-a-session-token"}


def bobs_token(u: Users) -> Creds:
    return {**u.alice, "aws_session_token": u.bob["aws_session_token"]}


def no_token(u: Users) -> Creds:
    return {k: v for k, v in u.alice.items() if k != "aws_session_token"}


def admin_wrong_secret(u: Users) -> Creds:
    return {"aws_access_key_id": "test", "aws_secret_access_key": "not-the-admin-secret"}


# --- SDK requests with broken credentials -----------------------------------------

S3_REFUSALS = [
    pytest.param(wrong_secret, "SignatureDoesNotMatch", 403, id="wrong-secret-key"),
    pytest.param(unknown_key, "InvalidAccessKeyId", 403, id="unknown-access-key"),
    pytest.param(tampered_token, "InvalidToken", 400, id="tampered-session-token"),
    pytest.param(garbage_token, "InvalidToken", 400, id="garbage-session-token"),
    pytest.param(bobs_token, "InvalidToken", 400, id="another-users-session-token"),
    # S3 treats a temporary key sent without its token as a key it does not know.
    pytest.param(no_token, "InvalidAccessKeyId", 403, id="missing-session-token"),
    pytest.param(admin_wrong_secret, "SignatureDoesNotMatch", 403, id="admin-key-wrong-secret"),
]


def _s3_get(s3: Any, bucket: str, photo: Photo) -> Any:
    return s3.get_object(Bucket=bucket, Key=photo.key)


def _s3_put(s3: Any, bucket: str, photo: Photo) -> Any:
    return s3.put_object(Bucket=bucket, Key=photo.key, Body=TAMPERED_BODY)


S3_CALLS = [pytest.param(_s3_get, id="GetObject"), pytest.param(_s3_put, id="PutObject")]


@pytest.mark.parametrize("call", S3_CALLS)
def test_s3_accepts_alice_issued_credentials(sandbox, users, photo, call):
    """The control: alice's own credentials read and write her own object."""
    call(sandbox.client("s3", users.alice), users.bucket, photo)


@pytest.mark.parametrize("call", S3_CALLS)
@pytest.mark.parametrize("forge, code, status", S3_REFUSALS)
def test_s3_refuses_broken_credentials(sandbox, users, photo, call, forge, code, status):
    """S3 refuses a request signed with broken credentials, with AWS's code and status, and changes nothing."""
    s3 = sandbox.client("s3", forge(users))
    with pytest.raises(ClientError) as caught:
        call(s3, users.bucket, photo)
    assert _code_and_status(caught.value) == (code, status)
    assert _body_now(users, photo.key) == photo.body


OTHER_SERVICE_CALLS = {
    "sts": ("get_caller_identity", {}),
    "iam": ("list_roles", {}),
    "cognito-idp": ("list_user_pools", {"MaxResults": 10}),
    "cognito-identity": ("list_identity_pools", {"MaxResults": 10}),
}

OTHER_REFUSALS = [
    pytest.param("sts", wrong_secret, "SignatureDoesNotMatch", 403, id="sts-wrong-secret"),
    pytest.param("sts", admin_wrong_secret, "SignatureDoesNotMatch", 403, id="sts-admin-wrong-secret"),
    pytest.param("sts", unknown_key, "InvalidClientTokenId", 403, id="sts-unknown-key"),
    pytest.param("sts", garbage_token, "InvalidClientTokenId", 403, id="sts-garbage-token"),
    pytest.param("iam", unknown_key, "InvalidClientTokenId", 403, id="iam-unknown-key"),
    pytest.param("iam", wrong_secret, "SignatureDoesNotMatch", 403, id="iam-wrong-secret"),
    pytest.param("iam", admin_wrong_secret, "SignatureDoesNotMatch", 403, id="iam-admin-wrong-secret"),
    pytest.param("cognito-idp", unknown_key, "UnrecognizedClientException", 400, id="idp-unknown-key"),
    pytest.param("cognito-idp", wrong_secret, "InvalidSignatureException", 400, id="idp-wrong-secret"),
    pytest.param("cognito-idp", garbage_token, "UnrecognizedClientException", 400, id="idp-garbage-token"),
    pytest.param("cognito-identity", unknown_key, "UnrecognizedClientException", 400, id="identity-unknown-key"),
    pytest.param("cognito-identity", wrong_secret, "InvalidSignatureException", 400, id="identity-wrong-secret"),
]


def test_sts_names_alice_issued_credentials(sandbox, users):
    """The control: alice's credentials pass the signature check and are the pool role's session."""
    arn = sandbox.client("sts", users.alice).get_caller_identity()["Arn"]
    assert arn.endswith("/CognitoIdentityCredentials")
    assert f":assumed-role/auth-{users.deployment.suffix}/" in arn


@pytest.mark.parametrize("service, forge, code, status", OTHER_REFUSALS)
def test_other_services_refuse_broken_credentials(sandbox, users, service, forge, code, status):
    """IAM, STS and Cognito refuse broken credentials in their own error format."""
    operation, kwargs = OTHER_SERVICE_CALLS[service]
    client = sandbox.client(service, forge(users))
    with pytest.raises(ClientError) as caught:
        getattr(client, operation)(**kwargs)
    assert _code_and_status(caught.value) == (code, status)


# AWS answers an unsigned call with MissingAuthenticationToken[Exception]; an
# access-denied code in the service's own format is an acceptable refusal too.
JSON_REFUSALS = {"MissingAuthenticationTokenException", "NotAuthorizedException", "AccessDeniedException"}
QUERY_REFUSALS = {"MissingAuthenticationToken", "AccessDenied"}
UNSIGNED_ADMIN_CALLS = [
    pytest.param("cognito-identity", JSON_REFUSALS, id="cognito-identity"),
    pytest.param("cognito-idp", JSON_REFUSALS, id="cognito-idp"),
    pytest.param("iam", QUERY_REFUSALS, id="iam"),
    pytest.param("sts", QUERY_REFUSALS, id="sts"),
]


@pytest.mark.parametrize("service, codes", UNSIGNED_ADMIN_CALLS)
def test_unsigned_admin_api_is_refused(sandbox, service, codes):
    """An admin API called with no signature at all is refused, not served as the admin."""
    operation, kwargs = OTHER_SERVICE_CALLS[service]
    with pytest.raises(ClientError) as caught:
        getattr(sandbox.unsigned(service), operation)(**kwargs)
    code, status = _code_and_status(caught.value)
    assert 400 <= status < 500
    assert code in codes


@pytest.mark.parametrize("call", S3_CALLS)
def test_anonymous_s3_request_is_access_denied(sandbox, users, photo, call):
    """An anonymous S3 request gets AccessDenied: no bucket policy grants anything."""
    with pytest.raises(ClientError) as caught:
        call(sandbox.unsigned("s3"), users.bucket, photo)
    assert _code_and_status(caught.value) == ("AccessDenied", 403)
    assert _body_now(users, photo.key) == photo.body


# --- hand-signed requests changed in transit --------------------------------------


@dataclass
class Wire:
    """A signed request as it would go over the wire, open to tampering."""

    method: str
    url: str
    headers: CaseInsensitiveDict
    body: bytes

    def send(self) -> requests.Response:
        return requests.request(self.method, self.url, headers=dict(self.headers), data=self.body or None, timeout=TIMEOUT)


def _sign(creds: Creds, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Wire:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signing_key = Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], creds.get("aws_session_token"))
    S3SigV4Auth(signing_key, "s3", REGION).add_auth(request)
    return Wire(method, url, CaseInsensitiveDict(request.headers.items()), body)


def _signed_get(kit: SandboxKit, users: Users, photo: Photo) -> Wire:
    url = _object_url(kit, users.bucket, photo.key)
    return _sign(users.alice, "GET", url, headers={"Range": "bytes=0-3"})


def _signed_put(kit: SandboxKit, users: Users, photo: Photo) -> Wire:
    url = _object_url(kit, users.bucket, photo.key)
    return _sign(users.alice, "PUT", url, body=b"replaced", headers={"x-amz-meta-caption": "holiday"})


def _other_object(wire: Wire) -> None:
    wire.url = wire.url.replace("/photo.jpg", "/other.jpg")


def _wider_range(wire: Wire) -> None:
    wire.headers["Range"] = "bytes=0-100"


def _later_date(wire: Wire) -> None:
    signed_at = datetime.datetime.strptime(wire.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    wire.headers["X-Amz-Date"] = (signed_at + datetime.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")


def _added_query(wire: Wire) -> None:
    wire.url += "?response-content-type=text%2Fhtml"


def _as_delete(wire: Wire) -> None:
    wire.method = "DELETE"


def _other_caption(wire: Wire) -> None:
    wire.headers["x-amz-meta-caption"] = "defaced"


def _body_with_its_hash(wire: Wire) -> None:
    wire.body = TAMPERED_BODY
    wire.headers["X-Amz-Content-SHA256"] = hashlib.sha256(TAMPERED_BODY).hexdigest()


SIGNED_REQUESTS = [pytest.param(_signed_get, 206, id="GET"), pytest.param(_signed_put, 200, id="PUT")]

TAMPERINGS = [
    pytest.param(_signed_get, _other_object, id="GET-path-changed"),
    pytest.param(_signed_get, _wider_range, id="GET-signed-header-changed"),
    pytest.param(_signed_get, _later_date, id="GET-x-amz-date-changed"),
    pytest.param(_signed_get, _added_query, id="GET-query-added"),
    pytest.param(_signed_get, _as_delete, id="GET-sent-as-DELETE"),
    pytest.param(_signed_put, _other_object, id="PUT-path-changed"),
    pytest.param(_signed_put, _other_caption, id="PUT-signed-header-changed"),
    pytest.param(_signed_put, _body_with_its_hash, id="PUT-body-and-hash-replaced"),
]


@pytest.mark.parametrize("build, status", SIGNED_REQUESTS)
def test_hand_signed_request_is_accepted(sandbox, users, photo, build, status):
    """The control: a request signed by hand and sent untouched is served."""
    response = build(sandbox, users, photo).send()
    assert response.status_code == status, response.text


@pytest.mark.parametrize("build, tamper", TAMPERINGS)
def test_tampered_request_is_refused(sandbox, users, photo, build, tamper):
    """A request changed after signing fails the signature check and changes nothing."""
    wire = build(sandbox, users, photo)
    tamper(wire)
    assert _s3_error(wire.send()) == ("SignatureDoesNotMatch", 403)
    assert _body_now(users, photo.key) == photo.body
    assert _body_now(users, photo.sibling) == photo.body


def test_body_not_matching_signed_hash_is_refused(sandbox, users, photo):
    """A body that differs from the signed x-amz-content-sha256 is XAmzContentSHA256Mismatch."""
    wire = _signed_put(sandbox, users, photo)
    wire.body = TAMPERED_BODY
    assert _s3_error(wire.send()) == ("XAmzContentSHA256Mismatch", 400)
    assert _body_now(users, photo.key) == photo.body


# --- presigned URLs ---------------------------------------------------------------


def _as_is(url: str) -> str:
    return url


def _flip_signature(url: str) -> str:
    return re.sub(r"(X-Amz-Signature=)([0-9a-f]+)", lambda m: m[1] + _flip(m[2]), url)


def _other_object_url(url: str) -> str:
    return url.replace("/photo.jpg?", "/other.jpg?")


def _longer_expiry(url: str) -> str:
    return url.replace("X-Amz-Expires=60", "X-Amz-Expires=604800")


def _flip_token(url: str) -> str:
    return re.sub(r"(X-Amz-Security-Token=)([^&]+)", lambda m: m[1] + _flip(m[2]), url)


PRESIGNED_REFUSALS = [
    pytest.param(wrong_secret, _as_is, "SignatureDoesNotMatch", 403, id="wrong-secret-key"),
    pytest.param(unknown_key, _as_is, "InvalidAccessKeyId", 403, id="unknown-access-key"),
    pytest.param(alice_as_issued, _flip_signature, "SignatureDoesNotMatch", 403, id="tampered-signature"),
    pytest.param(alice_as_issued, _other_object_url, "SignatureDoesNotMatch", 403, id="path-changed"),
    pytest.param(alice_as_issued, _longer_expiry, "SignatureDoesNotMatch", 403, id="expiry-extended"),
    pytest.param(alice_as_issued, _flip_token, "InvalidToken", 400, id="tampered-session-token"),
]


def _presign(kit: SandboxKit, creds: Creds | None, bucket: str, key: str, expires_in: int = 60) -> str:
    """A SigV4 query-string URL (boto3 presigns S3 with SigV2 unless told otherwise)."""
    s3 = boto3.client(
        "s3",
        endpoint_url=kit.endpoint,
        region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        **(creds or ADMIN),
    )
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in)


def test_presigned_url_is_served(sandbox, users, photo):
    """The control: alice's presigned URL for her own object serves it."""
    response = requests.get(_presign(sandbox, users.alice, users.bucket, photo.key), timeout=TIMEOUT)
    assert (response.status_code, response.content) == (200, photo.body)


@pytest.mark.parametrize("forge, tamper, code, status", PRESIGNED_REFUSALS)
def test_broken_presigned_url_is_refused(sandbox, users, photo, forge, tamper, code, status):
    """A presigned URL signed with broken credentials or edited afterwards is refused with AWS's code."""
    url = tamper(_presign(sandbox, forge(users), users.bucket, photo.key))
    assert _s3_error(requests.get(url, timeout=TIMEOUT)) == (code, status)


def test_presigned_url_for_another_users_object_is_denied(sandbox, users):
    """alice can sign a URL for bob's object, but her role does not allow the read."""
    bobs_key = f"private/{users.bob_id}/{uuid.uuid4().hex[:8]}.jpg"
    users.deployment.put_admin(bobs_key, b"bob's photo")
    url = _presign(sandbox, users.alice, users.bucket, bobs_key)
    assert _s3_error(requests.get(url, timeout=TIMEOUT)) == ("AccessDenied", 403)


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_expired_presigned_url_is_refused(sandbox, users, photo, who):
    """A presigned URL used after X-Amz-Expires is AccessDenied 'Request has expired', for any signer."""
    creds = users.alice if who == "alice" else None
    url = _presign(sandbox, creds, users.bucket, photo.key, expires_in=1)
    time.sleep(2)
    response = requests.get(url, timeout=TIMEOUT)
    error = ET.fromstring(response.content)
    assert (response.status_code, error.findtext("Code"), error.findtext("Message")) == (
        403,
        "AccessDenied",
        "Request has expired",
    )


# --- expired session credentials --------------------------------------------------


@dataclass(frozen=True)
class Expired:
    kit: SandboxKit
    bucket: str
    key: str
    credentials: Creds


@pytest.fixture(scope="module")
def expired() -> Iterator[Expired]:
    """alice's credentials from a second sandbox whose issued credentials last 2 s, 3 s later."""
    with start_kit(credentials_ttl=2) as kit:  # seconds
        dep = kit.deployment()
        identity_id, creds = dep.user_credentials("alice")
        key = f"private/{identity_id}/photo.jpg"
        dep.put_admin(key)
        time.sleep(3)
        yield Expired(kit, dep.bucket, key, creds)


EXPIRED_CALLS = [
    pytest.param("s3", "get_object", "ExpiredToken", 400, id="s3-GetObject"),
    pytest.param("s3", "put_object", "ExpiredToken", 400, id="s3-PutObject"),
    pytest.param("sts", "get_caller_identity", "ExpiredToken", 403, id="sts-GetCallerIdentity"),
    pytest.param("iam", "list_roles", "ExpiredToken", 403, id="iam-ListRoles"),
]


@pytest.mark.parametrize("service, operation, code, status", EXPIRED_CALLS)
def test_expired_session_credentials_are_refused(expired, service, operation, code, status):
    """Credentials used after their Expiration are ExpiredToken, as the service returns it."""
    client = expired.kit.client(service, expired.credentials)
    kwargs: dict[str, Any] = {"s3": {"Bucket": expired.bucket, "Key": expired.key}}.get(service, {})
    if operation == "put_object":
        kwargs["Body"] = b"late"
    with pytest.raises(ClientError) as caught:
        getattr(client, operation)(**kwargs)
    assert _code_and_status(caught.value) == (code, status)


# --- SigV4 strictness: scope region, scope date, a signed Host ------------------------

OTHER_REGION = "eu-west-1"


def _client_in(kit: SandboxKit, service: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=kit.endpoint,
        region_name=region,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}, signature_version="v4"),
        **ADMIN,
    )


WRONG_REGION_CALLS = [
    pytest.param("s3", lambda c: c.list_buckets(), "AuthorizationHeaderMalformed", 400, id="s3"),
    pytest.param("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch", 403, id="sts"),
    pytest.param("iam", lambda c: c.list_roles(), "SignatureDoesNotMatch", 403, id="iam"),
    pytest.param("cognito-idp", lambda c: c.list_user_pools(MaxResults=1), "InvalidSignatureException", 400, id="cognito-idp"),
    pytest.param("cognito-identity", lambda c: c.list_identity_pools(MaxResults=1), "InvalidSignatureException", 400, id="cognito-identity"),
]


@pytest.mark.parametrize("service, call, code, status", WRONG_REGION_CALLS)
def test_scope_for_another_region_is_refused(sandbox, service, call, code, status):
    """A correct signature scoped to eu-west-1 is refused by the us-east-1 endpoint, in the service's words."""
    with pytest.raises(ClientError) as info:
        call(_client_in(sandbox, service, OTHER_REGION))
    assert _code_and_status(info.value) == (code, status)
    if service == "s3":
        assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in info.value.response["Error"]["Message"]


def test_presigned_url_for_another_region_is_refused(sandbox, users, photo):
    """A presigned URL scoped to eu-west-1 is AuthorizationQueryParametersError, as S3 answers it."""
    s3 = _client_in(sandbox, "s3", OTHER_REGION)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": users.bucket, "Key": photo.key}, ExpiresIn=60)
    assert _s3_error(requests.get(url, timeout=TIMEOUT)) == ("AuthorizationQueryParametersError", 400)


def _hand_signed_get(url: str, creds: Creds, *, scope_date: str | None = None, signed_headers: tuple[str, ...] = ("host", "x-amz-content-sha256", "x-amz-date")) -> requests.Response:
    """A GET signed by the SigV4 recipe itself, so the signature is right even
    where the request is wrong (another scope date, Host left unsigned)."""
    import hmac
    from urllib.parse import urlsplit

    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date_stamp = scope_date or amz_date[:8]
    where = urlsplit(url)
    values = {"host": where.netloc, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": amz_date}
    canonical = "\n".join(
        ["GET", where.path, "", "".join(f"{h}:{values[h]}\n" for h in signed_headers), ";".join(signed_headers), "UNSIGNED-PAYLOAD"]
    )
    scope = f"{date_stamp}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{creds['aws_secret_access_key']}".encode()
    for part in (date_stamp, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={creds['aws_access_key_id']}/{scope}, "
        f"SignedHeaders={';'.join(signed_headers)}, Signature={signature}",
    }
    if creds.get("aws_session_token"):
        headers["x-amz-security-token"] = creds["aws_session_token"]
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def _yesterday() -> str:
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y%m%d")


def test_hand_signed_get_is_accepted(sandbox, users, photo):
    """The control for the cases below: the recipe, followed exactly, is served."""
    response = _hand_signed_get(_object_url(sandbox, users.bucket, photo.key), users.alice)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"scope_date": "yesterday"}, id="scope-date-not-x-amz-date"),
        pytest.param({"signed_headers": ("x-amz-content-sha256", "x-amz-date")}, id="host-not-signed"),
    ],
)
def test_loose_signature_is_refused(sandbox, users, photo, options):
    """A correctly computed signature over a scope dated another day, or without Host, is AuthorizationHeaderMalformed."""
    if options.get("scope_date") == "yesterday":
        options = {**options, "scope_date": _yesterday()}
    response = _hand_signed_get(_object_url(sandbox, users.bucket, photo.key), users.alice, **options)
    assert _s3_error(response) == ("AuthorizationHeaderMalformed", 400)
