"""Conditional writes through the real sandbox: `If-None-Match: *` on
PutObject, CompleteMultipartUpload and CopyObject is 412 `PreconditionFailed`
when the key exists (Amplify's `preventOverwrite`), any other value is 501
`NotImplemented`, and a refused write changes nothing.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html"""

from __future__ import annotations

import hashlib
import uuid
from xml.etree import ElementTree

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.sandbox_kit import REGION

MESSAGE = "At least one of the pre-conditions you specified did not hold"


@pytest.fixture
def bucket(sandbox) -> str:
    name = f"conditional-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=name)
    return name


def refusal(call, **params) -> tuple[int, str, str, str | None]:
    """(status, code, message, Condition) of the ClientError `call` raises."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    error = response["Error"]
    return response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error.get("Message", ""), error.get("Condition")


def body(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_put_if_none_match_creates_a_new_key(sandbox, bucket):
    """The key does not exist: the write succeeds."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="new", Body=b"first", IfNoneMatch="*")
    assert body(s3, bucket, "new") == b"first"


def test_put_if_none_match_on_an_existing_key_is_precondition_failed(sandbox, bucket):
    """The key exists: 412 PreconditionFailed naming If-None-Match, and the object is untouched."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="taken", Body=b"first")
    assert refusal(s3.put_object, Bucket=bucket, Key="taken", Body=b"second", IfNoneMatch="*") == (
        412, "PreconditionFailed", MESSAGE, "If-None-Match")
    assert body(s3, bucket, "taken") == b"first"


def test_the_refusal_is_s3s_xml(sandbox, bucket):
    """As S3 writes it: Code, Message and Condition, with the gateway's request ID."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="raw", Body=b"first")
    url, data = f"{sandbox.endpoint}/{bucket}/raw", b"second"
    signed = AWSRequest("PUT", url, data=data, headers={"If-None-Match": "*", "x-amz-content-sha256": hashlib.sha256(data).hexdigest()})
    S3SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(signed)
    answer = requests.put(url, data=data, headers=dict(signed.headers), timeout=10)
    assert answer.status_code == 412
    fields = {child.tag: child.text for child in ElementTree.fromstring(answer.content)}
    assert (fields["Code"], fields["Message"], fields["Condition"]) == ("PreconditionFailed", MESSAGE, "If-None-Match")
    assert fields["RequestId"] == answer.headers["x-amz-request-id"]


def test_a_delete_marker_is_no_object(sandbox, bucket):
    """Versioned, the key's current version a delete marker: the conditional write succeeds."""
    s3 = sandbox.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="gone", Body=b"first")
    s3.delete_object(Bucket=bucket, Key="gone")
    s3.put_object(Bucket=bucket, Key="gone", Body=b"again", IfNoneMatch="*")
    assert body(s3, bucket, "gone") == b"again"


def _upload(s3, bucket: str, key: str) -> tuple[str, list[dict]]:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"multipart")
    return upload, [{"ETag": part["ETag"], "PartNumber": 1}]


def test_complete_multipart_if_none_match(sandbox, bucket):
    """CompleteMultipartUpload with If-None-Match: * completes a new key, and is 412 on an existing one."""
    s3 = sandbox.client("s3")
    upload, parts = _upload(s3, bucket, "mp")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert body(s3, bucket, "mp") == b"multipart"
    s3.put_object(Bucket=bucket, Key="mp-taken", Body=b"first")
    upload, parts = _upload(s3, bucket, "mp-taken")
    assert refusal(s3.complete_multipart_upload, Bucket=bucket, Key="mp-taken", UploadId=upload,
                   MultipartUpload={"Parts": parts}, IfNoneMatch="*")[:2] == (412, "PreconditionFailed")
    assert body(s3, bucket, "mp-taken") == b"first"


def test_copy_if_none_match(sandbox, bucket):
    """CopyObject checks its destination: a new key is written, an existing one is 412 and untouched."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="source", Body=b"source")
    s3.put_object(Bucket=bucket, Key="copy-taken", Body=b"first")
    source = {"Bucket": bucket, "Key": "source"}
    s3.copy_object(Bucket=bucket, Key="copy-new", CopySource=source, IfNoneMatch="*")
    assert body(s3, bucket, "copy-new") == b"source"
    assert refusal(s3.copy_object, Bucket=bucket, Key="copy-taken", CopySource=source, IfNoneMatch="*") == (
        412, "PreconditionFailed", MESSAGE, None)
    assert body(s3, bucket, "copy-taken") == b"first"


@pytest.mark.parametrize("value", ['"d41d8cd98f00b204e9800998ecf8427e"', "d41d8cd98f00b204e9800998ecf8427e", "true"])
def test_another_if_none_match_is_not_implemented(sandbox, bucket, value):
    """An ETag (or anything but *) on a write: 501 NotImplemented, as S3 answers; nothing written."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="etag", Body=b"first")
    assert refusal(s3.put_object, Bucket=bucket, Key="etag", Body=b"second", IfNoneMatch=value)[:2] == (501, "NotImplemented")
    assert refusal(s3.put_object, Bucket=bucket, Key="etag-new", Body=b"second", IfNoneMatch=value)[:2] == (501, "NotImplemented")
    assert body(s3, bucket, "etag") == b"first"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="etag-new")


def test_reads_keep_their_if_none_match(sandbox, bucket):
    """On a GET, If-None-Match is an ETag comparison, untouched by the write rule: 304 for the same ETag."""
    s3 = sandbox.client("s3")
    etag = s3.put_object(Bucket=bucket, Key="read", Body=b"first")["ETag"]
    assert refusal(s3.get_object, Bucket=bucket, Key="read", IfNoneMatch=etag)[:2] == (304, "304")


def test_prevent_overwrite_with_identity_pool_credentials(sandbox):
    """Amplify's preventOverwrite as a signed-in user: the first upload to the key lands, the second is 412."""
    dep = sandbox.deployment(users=("alice",))
    identity_id, credentials = dep.user_credentials("alice")
    s3, key = dep.s3_as(credentials), f"private/{identity_id}/photo.jpg"
    s3.put_object(Bucket=dep.bucket, Key=key, Body=b"first", IfNoneMatch="*")
    assert refusal(s3.put_object, Bucket=dep.bucket, Key=key, Body=b"second", IfNoneMatch="*")[:2] == (412, "PreconditionFailed")
    assert body(s3, dep.bucket, key) == b"first"
