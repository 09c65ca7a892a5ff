"""aws-chunked uploads as the CLI and SDKs send them: each chunk's signature,
the trailer's, and the body's checksum are verified before anything is stored.

The requests are built by hand (the seed signed with botocore's signer, the
chunks and trailer signed here, independently of the sandbox's code), so a
chunk or a checksum can be got wrong on purpose.
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import uuid
import zlib
from dataclasses import dataclass

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.sandbox_kit import ADMIN, REGION

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY = hashlib.sha256(b"").hexdigest()
PIECES = [b"a" * 9000, b"hello ", b"world"]
DATA = b"".join(PIECES)


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def crc32c(data: bytes) -> str:
    """Bit by bit (Castagnoli, reflected), slow and obviously right, for small test bodies."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()


@pytest.fixture(scope="module")
def bucket(sandbox) -> str:
    name = f"chunked-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=name)
    return name


@dataclass
class Seed:
    headers: dict[str, str]
    signature: str
    amz_date: str
    scope: str


def seed(url: str, headers: dict[str, str]) -> Seed:
    """The request's headers signed with the admin key; the signature seeds the chunks'."""
    aws = AWSRequest(method="PUT", url=url, headers=headers)
    SigV4Auth(Credentials(ADMIN["aws_access_key_id"], ADMIN["aws_secret_access_key"]), "s3", REGION).add_auth(aws)
    signed = dict(aws.headers.items())
    signature = re.search(r"Signature=([0-9a-f]{64})", signed["Authorization"])[1]
    amz_date = signed["X-Amz-Date"]
    return Seed(signed, signature, amz_date, f"{amz_date[:8]}/{REGION}/s3/aws4_request")


def _hmac(s: Seed, string_to_sign: str) -> str:
    key = f"AWS4{ADMIN['aws_secret_access_key']}".encode()
    for part in (s.amz_date[:8], REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def signed_body(s: Seed, pieces: list[bytes], *, trailer: str | None = None, tamper: int | None = None) -> bytes:
    """The aws-chunked body, each chunk signed on the one before; the chunk
    numbered `tamper` is altered after signing."""
    out, previous = b"", s.signature
    for index, piece in enumerate([*pieces, b""]):
        previous = _hmac(s, "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", s.amz_date, s.scope, previous, EMPTY, hashlib.sha256(piece).hexdigest()]
        ))
        sent = bytes([piece[0] ^ 1]) + piece[1:] if index == tamper else piece  # same length, one bit off
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + sent + (b"\r\n" if piece else b"")
    out += b"\r\n" if trailer is None else b""
    if trailer is not None:
        line = f"{trailer}\n"
        trailer_sig = _hmac(s, "\n".join(
            ["AWS4-HMAC-SHA256-TRAILER", s.amz_date, s.scope, previous, hashlib.sha256(line.encode()).hexdigest()]
        ))
        out += f"{trailer}\r\nx-amz-trailer-signature:{trailer_sig}\r\n\r\n".encode()
    return out


def unsigned_trailer_body(pieces: list[bytes], trailer: str) -> bytes:
    """As botocore frames it (`AwsChunkedWrapper`): no chunk signatures, the checksum after a zero chunk."""
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + f"0\r\n{trailer}\r\n\r\n".encode()


def put(sandbox, bucket: str, key: str, declared: str, make_body, extra: dict[str, str] | None = None) -> requests.Response:
    url = f"{sandbox.endpoint}/{bucket}/{key}"
    headers = {
        "X-Amz-Content-SHA256": declared,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(DATA)),
        **(extra or {}),
    }
    s = seed(url, headers)
    return requests.put(url, data=make_body(s), headers=s.headers, timeout=10)


def code_of(answer: requests.Response) -> str:
    match = re.search(r"<Code>([^<]+)</Code>", answer.text)
    return match[1] if match else ""


def assert_absent(sandbox, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        sandbox.client("s3").head_object(Bucket=bucket, Key=key)
    assert caught.value.response["Error"]["Code"] == "404"


def test_signed_chunks_store_the_payload(sandbox, bucket):
    """Good chunk signatures: the object holds exactly the decoded bytes."""
    answer = put(sandbox, bucket, "good", SIGNED, lambda s: signed_body(s, PIECES))
    assert answer.status_code == 200, answer.text
    assert sandbox.client("s3").get_object(Bucket=bucket, Key="good")["Body"].read() == DATA


@pytest.mark.parametrize("tamper", [0, 1], ids=["first-chunk", "middle-chunk"])
def test_a_chunk_altered_after_signing_is_refused(sandbox, bucket, tamper):
    """A chunk whose data no longer matches its signature: SignatureDoesNotMatch, nothing stored."""
    key = f"tampered-{tamper}"
    answer = put(sandbox, bucket, key, SIGNED, lambda s: signed_body(s, PIECES, tamper=tamper))
    assert (answer.status_code, code_of(answer)) == (403, "SignatureDoesNotMatch"), answer.text
    assert_absent(sandbox, bucket, key)


def test_a_forged_chunk_signature_is_refused(sandbox, bucket):
    """The framing right, the last chunk's signature replaced: refused."""
    def body(s: Seed) -> bytes:
        good = signed_body(s, PIECES)
        last = good.rindex(b"0;chunk-signature=") + len(b"0;chunk-signature=")
        return good[:last] + b"f" * 64 + good[last + 64 :]

    answer = put(sandbox, bucket, "forged", SIGNED, body)
    assert (answer.status_code, code_of(answer)) == (403, "SignatureDoesNotMatch"), answer.text
    assert_absent(sandbox, bucket, "forged")


def test_chunks_reordered_are_refused(sandbox, bucket):
    """Two chunks swapped, each signature still its own chunk's: the chain breaks, refused."""
    answer = put(sandbox, bucket, "reordered", SIGNED, lambda s: _swap_first_two(signed_body(s, PIECES)))
    assert (answer.status_code, code_of(answer)) == (403, "SignatureDoesNotMatch"), answer.text
    assert_absent(sandbox, bucket, "reordered")


def _swap_first_two(body: bytes) -> bytes:
    first_end = body.index(b"\r\n", body.index(b"\r\n") + 2) + 2
    second_end = body.index(b"\r\n", body.index(b"\r\n", first_end) + 2) + 2
    return body[first_end:second_end] + body[:first_end] + body[second_end:]


def test_signed_trailer_with_right_crc32_is_accepted_and_kept(sandbox, bucket):
    """Signed chunks, then a signed CRC32 trailer: stored, and the checksum is returned."""
    trailer = f"x-amz-checksum-crc32:{crc32(DATA)}"
    answer = put(
        sandbox, bucket, "trailer-good", SIGNED_TRAILER, lambda s: signed_body(s, PIECES, trailer=trailer),
        {"X-Amz-Trailer": "x-amz-checksum-crc32"},
    )
    assert answer.status_code == 200, answer.text
    got = sandbox.client("s3").get_object(Bucket=bucket, Key="trailer-good", ChecksumMode="ENABLED")
    assert got["Body"].read() == DATA
    assert got["ChecksumCRC32"] == crc32(DATA)


def test_a_trailer_altered_after_signing_is_refused(sandbox, bucket):
    """The trailer's value changed after its signature was computed: SignatureDoesNotMatch."""
    trailer = f"x-amz-checksum-crc32:{crc32(DATA)}"
    wrong = f"x-amz-checksum-crc32:{crc32(b'other')}"
    answer = put(
        sandbox, bucket, "trailer-altered", SIGNED_TRAILER,
        lambda s: signed_body(s, PIECES, trailer=trailer).replace(trailer.encode(), wrong.encode()),
        {"X-Amz-Trailer": "x-amz-checksum-crc32"},
    )
    assert (answer.status_code, code_of(answer)) == (403, "SignatureDoesNotMatch"), answer.text
    assert_absent(sandbox, bucket, "trailer-altered")


def test_signed_trailer_with_wrong_crc32_is_bad_digest(sandbox, bucket):
    """A well-signed trailer whose CRC32 is not the body's: BadDigest, nothing stored."""
    trailer = f"x-amz-checksum-crc32:{crc32(b'other')}"
    answer = put(
        sandbox, bucket, "trailer-bad", SIGNED_TRAILER, lambda s: signed_body(s, PIECES, trailer=trailer),
        {"X-Amz-Trailer": "x-amz-checksum-crc32"},
    )
    assert (answer.status_code, code_of(answer)) == (400, "BadDigest"), answer.text
    assert "The CRC32 you specified did not match the calculated checksum." in answer.text
    assert_absent(sandbox, bucket, "trailer-bad")


@pytest.mark.parametrize(
    "value, status, code",
    [(crc32(DATA), 200, ""), (crc32(b"other"), 400, "BadDigest"), ("not-base64!", 400, "InvalidRequest")],
    ids=["right", "wrong", "malformed"],
)
def test_unsigned_trailer_crc32(sandbox, bucket, value, status, code):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER as botocore frames it: the trailing CRC32 decides."""
    key = f"unsigned-{code or 'ok'}"
    answer = put(
        sandbox, bucket, key, UNSIGNED_TRAILER,
        lambda s: unsigned_trailer_body(PIECES, f"x-amz-checksum-crc32:{value}"),
        {"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-SDK-Checksum-Algorithm": "CRC32"},
    )
    assert (answer.status_code, code_of(answer)) == (status, code), answer.text
    if status == 200:
        assert sandbox.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == DATA
    else:
        assert_absent(sandbox, bucket, key)


def test_a_trailer_other_than_announced_is_refused(sandbox, bucket):
    """x-amz-trailer names SHA256, the body trails a CRC32: MalformedTrailerError."""
    answer = put(
        sandbox, bucket, "trailer-other", UNSIGNED_TRAILER,
        lambda s: unsigned_trailer_body(PIECES, f"x-amz-checksum-crc32:{crc32(DATA)}"),
        {"X-Amz-Trailer": "x-amz-checksum-sha256"},
    )
    assert (answer.status_code, code_of(answer)) == (400, "MalformedTrailerError"), answer.text


def test_unsigned_trailer_with_chunk_signatures_is_refused(sandbox, bucket):
    """The unsigned form carrying chunk signatures is not what it declares: refused."""
    answer = put(
        sandbox, bucket, "mixed", UNSIGNED_TRAILER,
        lambda s: signed_body(s, PIECES, trailer=f"x-amz-checksum-crc32:{crc32(DATA)}"),
        {"X-Amz-Trailer": "x-amz-checksum-crc32"},
    )
    assert answer.status_code in (400, 403), answer.text
    assert_absent(sandbox, bucket, "mixed")


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_boto3_checksums_are_accepted_and_returned(sandbox, bucket, algorithm):
    """boto3 over HTTP sends the checksum as a header: accepted, and returned with ChecksumMode."""
    s3 = sandbox.client("s3")
    sent = s3.put_object(Bucket=bucket, Key=f"boto-{algorithm}", Body=DATA, ChecksumAlgorithm=algorithm)
    got = s3.get_object(Bucket=bucket, Key=f"boto-{algorithm}", ChecksumMode="ENABLED")
    assert got["Body"].read() == DATA
    assert got[f"Checksum{algorithm}"] == sent[f"Checksum{algorithm}"]


def test_a_right_crc32c_is_accepted(sandbox, bucket):
    """CRC32C given by value (botocore computes it only with awscrt): checked here and kept."""
    s3 = sandbox.client("s3")
    s3.put_object(Bucket=bucket, Key="crc32c", Body=DATA, ChecksumCRC32C=crc32c(DATA))
    assert s3.get_object(Bucket=bucket, Key="crc32c")["Body"].read() == DATA


def test_boto3_default_put_sends_a_checked_crc32(sandbox, bucket):
    """boto3 1.44's default (request_checksum_calculation=when_supported) adds a CRC32, which the sandbox accepts."""
    sent = sandbox.client("s3").put_object(Bucket=bucket, Key="default", Body=DATA)
    assert sent["ChecksumCRC32"] == crc32(DATA)


@pytest.mark.parametrize(
    "field, value, code, message",
    [
        ("ChecksumCRC32", crc32(b"other"), "BadDigest", "The CRC32 you specified did not match the calculated checksum."),
        ("ChecksumCRC32C", "AAAAAA==", "BadDigest", "The CRC32C you specified did not match the calculated checksum."),
        ("ChecksumSHA1", base64.b64encode(hashlib.sha1(b"x").digest()).decode(), "BadDigest",
         "The SHA1 you specified did not match the calculated checksum."),
        ("ChecksumSHA256", base64.b64encode(hashlib.sha256(b"x").digest()).decode(), "BadDigest",
         "The SHA256 you specified did not match the calculated checksum."),
        ("ChecksumCRC32", "AAAA", "InvalidRequest", "Value for x-amz-checksum-crc32 header is invalid."),
        ("ContentMD5", base64.b64encode(hashlib.md5(b"x").digest()).decode(), "BadDigest",
         "The Content-MD5 you specified did not match what we received."),
        ("ContentMD5", "abc", "InvalidDigest", "The Content-MD5 you specified was invalid."),
    ],
    ids=["crc32", "crc32c", "sha1", "sha256", "crc32-malformed", "md5", "md5-malformed"],
)
def test_a_wrong_checksum_header_is_refused(sandbox, bucket, field, value, code, message):
    """A checksum header or Content-MD5 that is not the body's: AWS's code and message, nothing stored."""
    s3 = sandbox.client("s3")
    key = f"wrong-{field}-{code}"
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key=key, Body=DATA, **{field: value})
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert_absent(sandbox, bucket, key)


def test_a_right_content_md5_is_accepted(sandbox, bucket):
    """The control: the body's own MD5 is accepted."""
    md5 = base64.b64encode(hashlib.md5(DATA).digest()).decode()
    sandbox.client("s3").put_object(Bucket=bucket, Key="md5-good", Body=DATA, ContentMD5=md5)
    assert sandbox.client("s3").get_object(Bucket=bucket, Key="md5-good")["Body"].read() == DATA


def test_botocore_framing_over_transfer_encoding_chunked(sandbox, bucket):
    """botocore's own AwsChunkedWrapper (what it sends over HTTPS), streamed with
    Transfer-Encoding: chunked and no Content-Length: stored, and its CRC32 kept."""
    url = f"{sandbox.endpoint}/{bucket}/botocore-framed"
    headers = {
        "X-Amz-Content-SHA256": UNSIGNED_TRAILER,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(DATA)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "X-Amz-SDK-Checksum-Algorithm": "CRC32",
    }
    s = seed(url, headers)
    wrapper = AwsChunkedWrapper(io.BytesIO(DATA), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=4096)
    answer = requests.put(url, data=iter(wrapper), headers=s.headers, timeout=10)
    assert answer.request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in answer.request.headers
    assert answer.status_code == 200, answer.text
    got = sandbox.client("s3").get_object(Bucket=bucket, Key="botocore-framed", ChecksumMode="ENABLED")
    assert (got["Body"].read(), got["ChecksumCRC32"]) == (DATA, crc32(DATA))
