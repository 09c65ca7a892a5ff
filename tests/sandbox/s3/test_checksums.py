"""Checksums stored and returned, as S3 does: an upload's `x-amz-checksum-*`
(header or trailer, sent by boto3 as it comes, or by value) comes back from
GetObject and HeadObject with `ChecksumMode=ENABLED`, and from
GetObjectAttributes; a multipart upload with a checksum algorithm returns the
composite form `<base64>-<parts>` with `ChecksumType: COMPOSITE` (or the whole
object's for `FULL_OBJECT`), from CompleteMultipartUpload on. Real requests
through boto3; the expected values are computed here.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zlib

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from sandbox.s3.checksums import crc32c
from tests.sandbox_kit import ADMIN, REGION, SandboxKit

PART = 5 * 1024 * 1024  # S3's smallest part but the last
DATA = b"checksummed photo bytes" * 100


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


DIGESTS = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": crc32c,
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}


def checksum(algorithm: str, data: bytes) -> str:
    return b64(DIGESTS[algorithm](data))


def composite(algorithm: str, parts: list[bytes]) -> str:
    """S3's checksum of checksums: the algorithm over the parts' raw digests, then `-<parts>`."""
    return f"{b64(DIGESTS[algorithm](b''.join(DIGESTS[algorithm](p) for p in parts)))}-{len(parts)}"


def returned(answer: dict) -> dict[str, str]:
    return {k: v for k, v in answer.items() if k.startswith("Checksum")}


@pytest.fixture(scope="module")
def bucket(sandbox: SandboxKit) -> str:
    name = f"checksums-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=name)
    return name


def test_crc32c_known_answer():
    """The sandbox's CRC32C against RFC 3720's check value and its all-zero vector."""
    assert crc32c(b"123456789") == (0xE3069283).to_bytes(4, "big")
    assert crc32c(bytes(32)) == (0x8A9136AA).to_bytes(4, "big")


@pytest.mark.parametrize("algorithm", sorted(DIGESTS))
def test_a_checksum_sent_by_value_is_returned(sandbox, bucket, algorithm):
    """Given as a header: returned by GetObject and HeadObject with ChecksumMode, and by GetObjectAttributes."""
    s3, key, value = sandbox.client("s3"), f"value-{algorithm}", checksum(algorithm, DATA)
    sent = s3.put_object(Bucket=bucket, Key=key, Body=DATA, **{f"Checksum{algorithm}": value})
    assert sent[f"Checksum{algorithm}"] == value
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (got["Body"].read(), got[f"Checksum{algorithm}"]) == (DATA, value)
    assert s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")[f"Checksum{algorithm}"] == value
    attributes = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["Checksum"])
    assert attributes["Checksum"][f"Checksum{algorithm}"] == value


def test_botocore_default_checksum_is_stored(sandbox, bucket):
    """boto3's default (request_checksum_calculation=when_supported) computes a CRC32, which is kept."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="default", Body=DATA)
    assert returned(s3.head_object(Bucket=bucket, Key="default", ChecksumMode="ENABLED")) == {"ChecksumCRC32": checksum("CRC32", DATA)}


def test_no_checksum_without_checksum_mode(sandbox, bucket):
    """Without ChecksumMode (botocore then validates nothing) S3 returns no checksum headers."""
    s3 = boto3.client("s3", endpoint_url=sandbox.endpoint, region_name=REGION, **ADMIN,
                      config=Config(response_checksum_validation="when_required", s3={"addressing_style": "path"}))
    s3.put_object(Bucket=bucket, Key="no-mode", Body=DATA, ChecksumAlgorithm="SHA256")
    assert returned(s3.get_object(Bucket=bucket, Key="no-mode")) == {}
    assert returned(s3.head_object(Bucket=bucket, Key="no-mode")) == {}


def test_a_range_read_returns_no_checksum(sandbox, bucket):
    """A ranged GetObject's bytes are not the object's: S3 returns no whole-object checksum with them."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="ranged", Body=DATA, ChecksumAlgorithm="SHA1")
    got = s3.get_object(Bucket=bucket, Key="ranged", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert (got["Body"].read(), returned(got)) == (DATA[:10], {})


def _multipart(s3, bucket: str, key: str, algorithm: str, parts: list[bytes], **create) -> dict:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, **create)["UploadId"]
    done = []
    for number, data in enumerate(parts, 1):
        value = checksum(algorithm, data)
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data, **{f"Checksum{algorithm}": value})
        assert part[f"Checksum{algorithm}"] == value
        done.append({"ETag": part["ETag"], "PartNumber": number, f"Checksum{algorithm}": value})
    extra = {}
    if create.get("ChecksumType") == "FULL_OBJECT":
        extra = {f"Checksum{algorithm}": checksum(algorithm, b"".join(parts)), "ChecksumType": "FULL_OBJECT"}
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}, **extra)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256"])
def test_multipart_composite_checksum(sandbox, bucket, algorithm):
    """Parts with a checksum: the object's is the composite `<base64>-<parts>`, from CompleteMultipartUpload,
    GetObject and HeadObject alike, typed COMPOSITE."""
    s3, key = sandbox.client("s3"), f"multipart-{algorithm}"
    parts = [b"a" * PART, b"the last part"]
    expected = {f"Checksum{algorithm}": composite(algorithm, parts), "ChecksumType": "COMPOSITE"}
    assert returned(_multipart(s3, bucket, key, algorithm, parts)) == expected
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    assert returned(got) == expected
    assert returned(s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")) == expected


def test_multipart_full_object_checksum(sandbox, bucket):
    """ChecksumType FULL_OBJECT: the checksum is the whole object's, with no part count."""
    s3, parts = sandbox.client("s3"), [b"f" * PART, b"tail"]
    expected = {"ChecksumCRC32": checksum("CRC32", b"".join(parts)), "ChecksumType": "FULL_OBJECT"}
    assert returned(_multipart(s3, bucket, "full", "CRC32", parts, ChecksumType="FULL_OBJECT")) == expected
    assert returned(s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")) == expected


def test_managed_transfer_multipart_checksum(sandbox, bucket):
    """boto3's upload_fileobj splits a 9 MiB file in two parts with its default CRC32: the composite is returned."""
    s3, data = sandbox.client("s3"), bytes(range(256)) * (9 * 4096)
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed", Config=TransferConfig(multipart_threshold=PART, multipart_chunksize=PART))
    expected = {"ChecksumCRC32": composite("CRC32", [data[:PART], data[PART:]]), "ChecksumType": "COMPOSITE"}
    assert returned(s3.head_object(Bucket=bucket, Key="managed", ChecksumMode="ENABLED")) == expected


def test_a_copy_keeps_the_source_checksum(sandbox, bucket):
    """CopyObject without a new algorithm: the copy returns the source's checksum."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="copy-source", Body=DATA, ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="copy-target", CopySource={"Bucket": bucket, "Key": "copy-source"})
    got = s3.head_object(Bucket=bucket, Key="copy-target", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == checksum("SHA256", DATA)


def test_multipart_with_trailing_checksums_returns_the_composite(sandbox, bucket):
    """Each part sent as the CLI sends it over HTTPS (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, a trailing
    CRC32, botocore's own framing): every part's checksum is answered, and the object returns their composite."""
    s3, key = sandbox.client("s3"), "trailed-multipart"
    parts = [bytes(range(256)) * (PART // 256), b"trailing last part"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    for number, data in enumerate(parts, 1):
        url = f"{sandbox.endpoint}/{bucket}/{key}?partNumber={number}&uploadId={upload}"
        headers = {
            "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
            "X-Amz-Trailer": "x-amz-checksum-crc32",
            "X-Amz-SDK-Checksum-Algorithm": "CRC32",
        }
        framed = b"".join(AwsChunkedWrapper(io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32"))
        signed = AWSRequest("PUT", url, headers=headers)
        SigV4Auth(Credentials(ADMIN["aws_access_key_id"], ADMIN["aws_secret_access_key"]), "s3", REGION).add_auth(signed)
        answer = requests.put(url, data=framed, headers=dict(signed.headers.items()), timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-amz-checksum-crc32"] == checksum("CRC32", data)
        done.append({"ETag": answer.headers["ETag"], "PartNumber": number, "ChecksumCRC32": answer.headers["x-amz-checksum-crc32"]})
    completed = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done})
    expected = {"ChecksumCRC32": composite("CRC32", parts), "ChecksumType": "COMPOSITE"}
    assert returned(completed) == expected
    assert returned(s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")) == expected
