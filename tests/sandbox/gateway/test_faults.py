"""POST /_sandbox/faults: the next N matching requests fail as S3 would,
then the client's retry goes through; loopback clients only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder

from sandbox.gateway.faults import Faults, fault_parse, faults_answer, operation_name
from sandbox.gateway.request import request_from
from tests.sandbox_kit import ADMIN, REGION, SandboxKit

PART = 5 * 1024 * 1024  # bytes; S3's smallest part but the last


@pytest.fixture
def faults(sandbox: SandboxKit) -> Iterator[str]:
    url = f"{sandbox.endpoint}/_sandbox/faults"
    yield url
    requests.delete(url, timeout=5)  # the sandbox is shared by the session


def _s3(kit: SandboxKit):
    """An admin S3 client that tries once, so the injected error reaches the test."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=kit.endpoint, region_name=REGION, config=config, **ADMIN)


@pytest.fixture
def bucket(sandbox: SandboxKit) -> str:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=name)
    return name


def _arm(url: str, **fault) -> requests.Response:
    return requests.post(url, json=fault, timeout=5)


def test_one_part_fails_once_and_its_retry_completes_the_upload(sandbox, faults, bucket):
    """An UploadPart armed to fail once answers 500 InternalError; the same part sent again is taken."""
    s3 = _s3(sandbox)
    assert _arm(faults, operation="UploadPart", count=1, status=500).status_code == 200
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.png")["UploadId"]
    body = b"\x89PNG\r\n\x1a\n" + bytes(PART - 8)
    with pytest.raises(ClientError) as refused:
        s3.upload_part(Bucket=bucket, Key="big.png", UploadId=upload, PartNumber=1, Body=body)
    assert refused.value.response["Error"]["Code"] == "InternalError"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert s3.list_parts(Bucket=bucket, Key="big.png", UploadId=upload).get("Parts", []) == []
    etag = s3.upload_part(Bucket=bucket, Key="big.png", UploadId=upload, PartNumber=1, Body=body)["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big.png", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert s3.head_object(Bucket=bucket, Key="big.png")["ContentLength"] == PART
    assert requests.get(faults, timeout=5).json() == {"faults": []}


def test_a_code_alone_takes_s3s_status_and_count_counts(sandbox, faults, bucket):
    """ExpiredToken twice: two PutObjects get 400 ExpiredToken, the third is stored; other operations are untouched."""
    s3 = _s3(sandbox)
    armed = _arm(faults, operation="PutObject", count=2, code="ExpiredToken").json()["faults"]
    assert armed == [
        {"operation": "PutObject", "remaining": 2, "code": "ExpiredToken", "status": 400, "message": "The provided token has expired."}
    ]
    s3.list_objects_v2(Bucket=bucket)  # not a PutObject: answered as usual
    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="a.png", Body=b"x")
        assert (refused.value.response["Error"]["Code"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            "ExpiredToken",
            400,
        )
    s3.put_object(Bucket=bucket, Key="a.png", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="a.png")["Body"].read() == b"x"


def test_delete_disarms_every_fault(sandbox, faults, bucket):
    """DELETE /_sandbox/faults leaves nothing armed."""
    _arm(faults, operation="PutObject", count=5)
    assert requests.delete(faults, timeout=5).json() == {"faults": []}
    sandbox.client("s3").put_object(Bucket=bucket, Key="b.png", Body=b"x")


@pytest.mark.parametrize(
    "body, says",
    [
        pytest.param(b"not json", "JSON", id="not JSON"),
        pytest.param(b"[]", "object", id="not an object"),
        pytest.param(b'{"count": 1}', "operation", id="no operation"),
        pytest.param(b'{"operation": "Upload Part"}', "operation", id="operation not a name"),
        pytest.param(b'{"operation": "UploadPart", "count": 0}', "count", id="count zero"),
        pytest.param(b'{"operation": "UploadPart", "count": true}', "count", id="count not a number"),
        pytest.param(b'{"operation": "UploadPart", "status": 200}', "status", id="not an error status"),
        pytest.param(b'{"operation": "UploadPart", "status": 418}', "code", id="status with no usual code"),
        pytest.param(b'{"operation": "UploadPart", "code": "Teapot"}', "status", id="unknown code without status"),
    ],
)
def test_a_malformed_fault_is_refused(faults, body, says):
    """A fault the sandbox cannot honour is answered 400, saying which field, and nothing is armed."""
    response = requests.post(faults, data=body, timeout=5)
    assert response.status_code == 400
    assert says in response.json()["error"]
    assert requests.get(faults, timeout=5).json() == {"faults": []}


def test_an_unknown_code_with_a_status_is_sent_as_given():
    """A code the table does not know is sent with the status and message the test chose."""
    fault = fault_parse(b'{"operation": "UploadPart", "code": "NoSuchUpload", "status": 404, "message": "gone"}')
    assert (fault.code, fault.status, fault.message) == ("NoSuchUpload", 404, "gone")


def _local(method: str, path: str, *, remote: str = "127.0.0.1", query: str = "", headers=None, body: bytes = b""):
    environ = EnvironBuilder(method=method, path=path, query_string=query, headers=headers or {}).get_environ()
    environ["REMOTE_ADDR"] = remote
    request = request_from(environ)
    request.body = body
    return request, environ


@pytest.mark.parametrize("remote", ["10.0.0.7", "192.168.1.2", "::ffff:10.0.0.7", ""])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_only_loopback_clients_reach_the_faults(remote, method):
    """A client not on loopback gets 403 AccessDenied and arms nothing."""
    faults = Faults()
    request, environ = _local(method, "/_sandbox/faults", remote=remote, body=b'{"operation": "UploadPart"}')
    answered = []
    body = faults_answer(faults, request, environ, lambda line, headers: answered.append(line))
    assert answered == ["403 Forbidden"] and b"AccessDenied" in b"".join(body)
    assert faults.listed() == []


@pytest.mark.parametrize(
    "method, path, query, headers, expected",
    [
        ("PUT", "/b/k.png", "partNumber=2&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k.png", "partNumber=2&uploadId=u", {"x-amz-copy-source": "b/j"}, "UploadPartCopy"),
        ("POST", "/b/k.png", "uploads", {}, "CreateMultipartUpload"),
        ("POST", "/b/k.png", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/b/k.png", "uploadId=u", {}, "AbortMultipartUpload"),
        ("GET", "/b/k.png", "uploadId=u", {}, "ListParts"),
        ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
        ("GET", "/b", "list-type=2&prefix=p", {}, "ListObjectsV2"),
        ("PUT", "/b/k.png", "", {}, "PutObject"),
        ("PUT", "/b/k.png", "", {"x-amz-copy-source": "b/j"}, "CopyObject"),
        ("GET", "/b/k.png", "versionId=v", {}, "GetObject"),
        ("HEAD", "/b/k.png", "", {}, "HeadObject"),
        ("DELETE", "/b/k.png", "", {}, "DeleteObject"),
        ("PUT", "/b/k.png", "tagging", {}, None),
        ("GET", "/b", "cors", {}, None),
    ],
)
def test_s3_operation_names(method, path, query, headers, expected):
    """An S3 REST request is named as the S3 API reference names the operation."""
    request, _ = _local(method, path, query=query, headers=headers)
    assert operation_name(request) == expected
