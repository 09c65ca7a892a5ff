"""S3 authorization with identity-pool credentials, cell by cell: the roles'
policies from `infra/policies/` (signed-in users own `private/<identity id>/`
and `public/<identity id>/` and read every `public/<publisher>/`; guests read
`public/<publisher>/` and write nothing), as AWS evaluates them for each REST
request, including the attacks on another user's prefix.

Each test seeds its own uniquely named objects; the deployment (users, pools,
roles, bucket) is shared by the module and never modified."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import Deployment, SandboxKit

BODY = b"photo"
HTTP_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class Cast:
    """Alice and Bob signed in, and one guest, in a single deployment."""

    kit: SandboxKit
    dep: Deployment
    ids: dict[str, str]  # name -> identity ID
    credentials: dict[str, dict[str, str]]  # name -> boto3 kwargs

    def s3(self, name: str):
        return self.dep.s3_as(self.credentials[name])

    def key(self, prefix: str) -> str:
        """A fresh key under `prefix`, whose `{alice}`, `{bob}`, `{guest}` name identity IDs."""
        return prefix.format(**self.ids) + f"{uuid.uuid4().hex}.jpg"

    def exists(self, key: str) -> bool:
        try:
            self.kit.client("s3").head_object(Bucket=self.dep.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise
        return True

    def body(self, key: str) -> bytes:
        return self.kit.client("s3").get_object(Bucket=self.dep.bucket, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def cast(sandbox: SandboxKit) -> Cast:
    dep = sandbox.deployment(users=("alice", "bob"))
    alice_id, alice = dep.user_credentials("alice")
    bob_id, bob = dep.user_credentials("bob")
    guest_id, guest = dep.guest_credentials()
    return Cast(
        kit=sandbox,
        dep=dep,
        ids={"alice": alice_id, "bob": bob_id, "guest": guest_id},
        credentials={"alice": alice, "bob": bob, "guest": guest},
    )


def assert_access_denied(call, *args, **kwargs) -> None:
    """S3's refusal: `AccessDenied`, 403 (a HEAD has no body, so botocore reports `403`)."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    expected = "403" if call.__name__ == "head_object" else "AccessDenied"
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (expected, 403)


# --- single-object requests ---------------------------------------------------

OBJECT_CASES = [
    # who, operation, prefix, allowed
    ("alice", "get", "private/{alice}/", True),
    ("alice", "head", "private/{alice}/", True),
    ("alice", "put", "private/{alice}/", True),
    ("alice", "delete", "private/{alice}/", True),
    ("alice", "put", "private/{alice}/albums/2024/", True),
    ("alice", "get", "private/{bob}/", False),
    ("alice", "head", "private/{bob}/", False),
    ("alice", "put", "private/{bob}/", False),
    ("alice", "delete", "private/{bob}/", False),
    ("bob", "get", "private/{alice}/", False),
    ("bob", "put", "private/{alice}/", False),
    ("alice", "get", "public/{bob}/", True),
    ("alice", "head", "public/{bob}/", True),
    ("alice", "put", "public/{alice}/", True),
    ("alice", "delete", "public/{alice}/", True),
    ("alice", "put", "public/{bob}/", False),
    ("alice", "delete", "public/{bob}/", False),
    ("alice", "get", "public/", False),
    ("alice", "put", "public/", False),
    ("alice", "put", "private/", False),
    ("alice", "put", "", False),
    ("alice", "put", "private/{alice}", False),
    ("guest", "get", "public/{bob}/", True),
    ("guest", "head", "public/{bob}/", True),
    ("guest", "get", "public/", False),
    ("guest", "put", "public/{guest}/", False),
    ("guest", "put", "public/{bob}/", False),
    ("guest", "put", "private/{guest}/", False),
    ("guest", "put", "", False),
    ("guest", "delete", "public/{bob}/", False),
    ("guest", "get", "private/{alice}/", False),
    ("guest", "get", "private/{guest}/", False),
]


@pytest.mark.parametrize("who, operation, prefix, allowed", OBJECT_CASES)
def test_object_request(cast: Cast, who: str, operation: str, prefix: str, allowed: bool) -> None:
    """One cell of the owner/guest matrix: `who` gets, heads, puts or deletes a key under `prefix`."""
    key = cast.key(prefix)
    if operation != "put":
        cast.dep.put_admin(key, BODY)
    s3 = cast.s3(who)
    call, kwargs = {
        "get": (s3.get_object, {}),
        "head": (s3.head_object, {}),
        "put": (s3.put_object, {"Body": BODY}),
        "delete": (s3.delete_object, {}),
    }[operation]
    if allowed:
        response = call(Bucket=cast.dep.bucket, Key=key, **kwargs)
        if operation == "get":
            assert response["Body"].read() == BODY
        assert cast.exists(key) is (operation != "delete")
    else:
        assert_access_denied(call, Bucket=cast.dep.bucket, Key=key, **kwargs)
        assert cast.exists(key) is (operation != "put")


COPY_CASES = [
    # source prefix, destination prefix, allowed
    pytest.param("private/{alice}/", "private/{alice}/", True, id="own-to-own"),
    pytest.param("public/{bob}/", "private/{alice}/", True, id="published-to-own"),
    pytest.param("private/{bob}/", "private/{alice}/", False, id="source-not-readable"),
    pytest.param("private/{alice}/", "private/{bob}/", False, id="destination-not-writable"),
    pytest.param("private/{alice}/", "public/{alice}/", True, id="publish-own"),
    pytest.param("private/{alice}/", "public/{bob}/", False, id="publish-as-another-user"),
]


@pytest.mark.parametrize("source_prefix, destination_prefix, allowed", COPY_CASES)
def test_copy_object(cast: Cast, source_prefix: str, destination_prefix: str, allowed: bool) -> None:
    """CopyObject by Alice needs GetObject on the source and PutObject on the destination."""
    source, destination = cast.key(source_prefix), cast.key(destination_prefix)
    cast.dep.put_admin(source, BODY)
    copy = cast.s3("alice").copy_object
    kwargs = {"Bucket": cast.dep.bucket, "Key": destination, "CopySource": {"Bucket": cast.dep.bucket, "Key": source}}
    if allowed:
        copy(**kwargs)
        assert cast.body(destination) == BODY
    else:
        assert_access_denied(copy, **kwargs)
        assert not cast.exists(destination)


# --- multipart uploads --------------------------------------------------------

MULTIPART_STEPS = ("create", "upload_part", "complete")


def _multipart_step(s3, bucket: str, key: str, step: str, state: dict[str, str]) -> None:
    if step == "create":
        state["upload_id"] = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    elif step == "upload_part":
        state["etag"] = s3.upload_part(Bucket=bucket, Key=key, UploadId=state["upload_id"], PartNumber=1, Body=BODY)["ETag"]
    else:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=state["upload_id"],
            MultipartUpload={"Parts": [{"ETag": state["etag"], "PartNumber": 1}]},
        )


MULTIPART_CASES = [
    # step Alice performs (the admin performs the ones before it), prefix, allowed
    ("create", "private/{alice}/", True),
    ("upload_part", "private/{alice}/", True),
    ("complete", "private/{alice}/", True),
    ("create", "private/{bob}/", False),
    ("upload_part", "private/{bob}/", False),
    ("complete", "private/{bob}/", False),
    ("create", "public/{alice}/", True),
    ("create", "public/{bob}/", False),
]


@pytest.mark.parametrize("step, prefix, allowed", MULTIPART_CASES)
def test_multipart_step(cast: Cast, step: str, prefix: str, allowed: bool) -> None:
    """Every multipart step is s3:PutObject on the object's key: Alice's prefix yes, Bob's no."""
    key, bucket, state = cast.key(prefix), cast.dep.bucket, {}
    admin, alice = cast.kit.client("s3"), cast.s3("alice")
    first = MULTIPART_STEPS.index(step)
    for earlier in MULTIPART_STEPS[:first]:
        _multipart_step(admin, bucket, key, earlier, state)
    if allowed:
        for remaining in MULTIPART_STEPS[first:]:
            _multipart_step(alice, bucket, key, remaining, state)
        assert cast.body(key) == BODY
    else:
        assert_access_denied(_multipart_step, alice, bucket, key, step, state)
        assert not cast.exists(key)
        if "upload_id" in state:
            admin.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=state["upload_id"])


UPLOAD_ACTION_CASES = [
    # S3 operation on an upload under `prefix`, allowed: abort and list-parts are actions of their own,
    # granted on the owner's prefixes; listing uploads and buckets is granted nowhere.
    pytest.param("abort_multipart_upload", "private/{alice}/", True, id="s3:AbortMultipartUpload-own"),
    pytest.param("list_parts", "private/{alice}/", True, id="s3:ListMultipartUploadParts-own"),
    pytest.param("abort_multipart_upload", "private/{bob}/", False, id="s3:AbortMultipartUpload-other"),
    pytest.param("list_parts", "private/{bob}/", False, id="s3:ListMultipartUploadParts-other"),
    pytest.param("list_multipart_uploads", "private/{alice}/", False, id="s3:ListBucketMultipartUploads"),
    pytest.param("list_buckets", "private/{alice}/", False, id="s3:ListAllMyBuckets"),
]


@pytest.mark.parametrize("operation, prefix, allowed", UPLOAD_ACTION_CASES)
def test_upload_action(cast: Cast, operation: str, prefix: str, allowed: bool) -> None:
    """Abort and list-parts need their own actions, which only the owner's prefixes grant; listing uploads is never granted."""
    key, bucket = cast.key(prefix), cast.dep.bucket
    admin, alice = cast.kit.client("s3"), cast.s3("alice")
    upload_id = admin.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    kwargs = {
        "abort_multipart_upload": {"Bucket": bucket, "Key": key, "UploadId": upload_id},
        "list_parts": {"Bucket": bucket, "Key": key, "UploadId": upload_id},
        "list_multipart_uploads": {"Bucket": bucket, "Prefix": key},
        "list_buckets": {},
    }[operation]
    if allowed:
        getattr(alice, operation)(**kwargs)
    else:
        assert_access_denied(getattr(alice, operation), **kwargs)
    uploads = admin.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == ([] if operation == "abort_multipart_upload" and allowed else [upload_id])
    if uploads:
        admin.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --- listing ------------------------------------------------------------------

LIST_CASES = [
    # who, Prefix (None: no prefix at all), allowed
    ("alice", "private/{alice}/", True),
    ("alice", "private/{alice}/albums/", True),
    ("alice", "public/{alice}/", True),
    ("alice", "public/{bob}/", True),
    ("alice", "public/", False),
    ("alice", None, False),
    ("alice", "", False),
    ("alice", "private/", False),
    ("alice", "private/{bob}/", False),
    ("alice", "private/{alice}", False),
    ("guest", "public/{bob}/", True),
    ("guest", "public/", False),
    ("guest", None, False),
    ("guest", "private/", False),
    ("guest", "private/{guest}/", False),
]


@pytest.mark.parametrize("who, prefix, allowed", LIST_CASES)
def test_list_objects_v2(cast: Cast, who: str, prefix: str | None, allowed: bool) -> None:
    """ListBucket is scoped by s3:prefix: a user lists only their own prefixes and one publisher's at a time."""
    s3, bucket = cast.s3(who), cast.dep.bucket
    kwargs = {} if prefix is None else {"Prefix": prefix.format(**cast.ids)}
    if allowed:
        seeded = cast.key(prefix)
        cast.dep.put_admin(seeded, BODY)
        listed = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, **kwargs).get("Contents", [])]
        assert seeded in listed
        assert all(item.startswith(kwargs["Prefix"]) for item in listed)
    else:
        assert_access_denied(s3.list_objects_v2, Bucket=bucket, **kwargs)


# --- multi-object delete ------------------------------------------------------


def _denied_keys(s3, bucket: str, keys: list[str]) -> set[str]:
    """Keys DeleteObjects refused: AWS answers 200 with a per-key `AccessDenied`;
    a whole-request 403 `AccessDenied` refuses every key."""
    try:
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys]})
    except ClientError as error:
        assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
        return set(keys)
    assert {error["Code"] for error in response.get("Errors", [])} <= {"AccessDenied"}
    return {error["Key"] for error in response.get("Errors", [])}


DELETE_OBJECTS_CASES = [
    # prefix of the one key Alice deletes in a POST ?delete, allowed
    ("private/{alice}/", True),
    ("private/{bob}/", False),
    ("public/{alice}/", True),
    ("public/{bob}/", False),
]


@pytest.mark.parametrize("prefix, allowed", DELETE_OBJECTS_CASES)
def test_delete_objects(cast: Cast, prefix: str, allowed: bool) -> None:
    """POST ?delete is s3:DeleteObject on each key: Alice cannot delete Bob's through it."""
    key = cast.key(prefix)
    cast.dep.put_admin(key, BODY)
    denied = _denied_keys(cast.s3("alice"), cast.dep.bucket, [key])
    assert denied == (set() if allowed else {key})
    assert cast.exists(key) is not allowed


# --- plain HTTP: presigned URLs and anonymous requests ------------------------

PRESIGNED_CASES = [
    # owner of the object Alice presigns a GET for, expected status
    ("private/{alice}/", 200),
    ("public/{bob}/", 200),
    ("private/{bob}/", 403),
]


@pytest.mark.parametrize("prefix, status", PRESIGNED_CASES)
def test_presigned_get(cast: Cast, prefix: str, status: int) -> None:
    """A URL Alice presigns works for what her role may read, and is 403 for Bob's object."""
    key = cast.key(prefix)
    cast.dep.put_admin(key, BODY)
    url = cast.s3("alice").generate_presigned_url(
        "get_object", Params={"Bucket": cast.dep.bucket, "Key": key}, ExpiresIn=300
    )
    response = requests.get(url, timeout=HTTP_TIMEOUT)
    assert response.status_code == status
    if status == 200:
        assert response.content == BODY
    else:
        assert "<Code>AccessDenied</Code>" in response.text


ANONYMOUS_CASES = [
    # method, prefix
    ("GET", "public/"),
    ("GET", "private/{alice}/"),
    ("PUT", "public/"),
    ("DELETE", "public/"),
]


@pytest.mark.parametrize("method, prefix", ANONYMOUS_CASES)
def test_anonymous_object_request(cast: Cast, method: str, prefix: str) -> None:
    """An unsigned request is AccessDenied: no bucket policy grants anything to anyone."""
    key = cast.key(prefix)
    if method != "PUT":
        cast.dep.put_admin(key, BODY)
    url = f"{cast.kit.endpoint}/{cast.dep.bucket}/{key}"
    response = requests.request(method, url, data=BODY if method == "PUT" else None, timeout=HTTP_TIMEOUT)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert cast.exists(key) is (method != "PUT")


def test_anonymous_list_bucket(cast: Cast) -> None:
    """An unsigned GET of the bucket (ListObjects) is AccessDenied."""
    response = requests.get(f"{cast.kit.endpoint}/{cast.dep.bucket}?list-type=2&prefix=public/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text


# --- sub-resources and versions map to their own actions --------------------------

@dataclass(frozen=True)
class Versioned:
    """A versioned bucket with one object, and sessions of roles granted exact S3 action lists."""

    kit: SandboxKit
    bucket: str
    key: str
    version_id: str
    sessions: dict[str, dict[str, str]]  # grant name -> boto3 kwargs

    def s3(self, grant: str):
        return self.kit.client("s3", self.sessions[grant])


GRANTS = {
    # ListBucket unconditionally: the action unknown sub-resources were once mistaken for.
    "plain": ["s3:ListBucket", "s3:GetObject", "s3:DeleteObject", "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration"],
    "versions": ["s3:GetObjectVersion", "s3:DeleteObjectVersion", "s3:ListBucketVersions", "s3:PutBucketVersioning",
                 "s3:PutLifecycleConfiguration"],
}


@pytest.fixture(scope="module")
def versioned(sandbox: SandboxKit) -> Versioned:
    import json

    suffix = uuid.uuid4().hex[:8]
    bucket, key = f"versioned-{suffix}", "photo.jpg"
    admin = sandbox.client("s3")
    admin.create_bucket(Bucket=bucket)
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version_id = admin.put_object(Bucket=bucket, Key=key, Body=BODY)["VersionId"]
    iam, sts = sandbox.client("iam"), sandbox.client("sts")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    sessions = {}
    for name, actions in GRANTS.items():
        role = f"{name}-{suffix}"
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
        ]}
        iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=json.dumps(policy))
        c = sts.assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
        sessions[name] = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                          "aws_session_token": c["SessionToken"]}
    return Versioned(sandbox, bucket, key, version_id, sessions)


def _lifecycle() -> dict:
    return {"Rules": [{"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}


VERSION_CALLS = {
    "get-object": lambda v, s3: s3.get_object(Bucket=v.bucket, Key=v.key),
    "head-object": lambda v, s3: s3.head_object(Bucket=v.bucket, Key=v.key),
    "get-object-version": lambda v, s3: s3.get_object(Bucket=v.bucket, Key=v.key, VersionId=v.version_id),
    "head-object-version": lambda v, s3: s3.head_object(Bucket=v.bucket, Key=v.key, VersionId=v.version_id),
    "delete-object-version": lambda v, s3: s3.delete_object(Bucket=v.bucket, Key=v.key, VersionId="not-a-version"),
    "list-object-versions": lambda v, s3: s3.list_object_versions(Bucket=v.bucket),
    "get-bucket-versioning": lambda v, s3: s3.get_bucket_versioning(Bucket=v.bucket),
    "put-bucket-versioning": lambda v, s3: s3.put_bucket_versioning(Bucket=v.bucket, VersioningConfiguration={"Status": "Enabled"}),
    "put-lifecycle": lambda v, s3: s3.put_bucket_lifecycle_configuration(Bucket=v.bucket, LifecycleConfiguration=_lifecycle()),
    "get-lifecycle": lambda v, s3: s3.get_bucket_lifecycle_configuration(Bucket=v.bucket),
    "delete-objects-version": lambda v, s3: _each_key_allowed(s3.delete_objects(
        Bucket=v.bucket, Delete={"Objects": [{"Key": "gone.jpg", "VersionId": "not-a-version"}]}
    )),
}


def _each_key_allowed(answer: dict) -> dict:
    """A DeleteObjects answer, raised as its first per-key error: S3 answers 200 and lists refused keys."""
    for error in answer.get("Errors", []):
        raise ClientError({"Error": {"Code": error["Code"], "Message": error["Message"]}}, "DeleteObjects")
    return answer

VERSION_CASES = [
    # call, the grant that allows it (the other grant must be refused)
    ("get-object", "plain"),
    ("head-object", "plain"),
    ("get-object-version", "versions"),
    ("head-object-version", "versions"),
    ("delete-object-version", "versions"),
    ("list-object-versions", "versions"),
    ("get-bucket-versioning", "plain"),
    ("put-bucket-versioning", "versions"),
    ("put-lifecycle", "versions"),
    ("get-lifecycle", "plain"),
    ("delete-objects-version", "versions"),
]


def _refused(call) -> bool:
    try:
        call()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        return code in ("AccessDenied", "403")
    return False


@pytest.mark.parametrize("call, grant", VERSION_CASES)
def test_version_requests_need_their_own_actions(versioned: Versioned, call: str, grant: str) -> None:
    """versionId, ?versions, ?versioning and ?lifecycle map to the IAM actions AWS checks, and only those."""
    other = next(g for g in GRANTS if g != grant)
    run = VERSION_CALLS[call]
    assert not _refused(lambda: run(versioned, versioned.s3(grant))), f"{call} refused with {GRANTS[grant]}"
    assert _refused(lambda: run(versioned, versioned.s3(other))), f"{call} allowed with {GRANTS[other]}"


UNKNOWN_SUBRESOURCES = ["object-lock", "replication", "policyStatus", "ownershipControls", "intelligent-tiering",
                        "analytics", "inventory", "metrics", "no-such-thing"]


@pytest.mark.parametrize("subresource", UNKNOWN_SUBRESOURCES)
def test_unmapped_bucket_subresource_is_not_list_bucket(versioned: Versioned, subresource: str) -> None:
    """GET ?<sub-resource> with only s3:ListBucket granted is AccessDenied: it fails closed, not as ListBucket."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = versioned.sessions["plain"]
    url = f"{versioned.kit.endpoint}/{versioned.bucket}?{subresource}"
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], creds["aws_session_token"]), "s3",
                "us-east-1").add_auth(request)
    response = requests.get(url, headers=dict(request.headers.items()), timeout=HTTP_TIMEOUT)
    assert response.status_code == 403 and b"<Code>AccessDenied</Code>" in response.content, response.text
    assert versioned.s3("plain").list_objects_v2(Bucket=versioned.bucket)["KeyCount"] == 1  # the control
