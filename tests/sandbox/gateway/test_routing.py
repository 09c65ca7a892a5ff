"""No request makes the sandbox answer 500 or hang (malformed framing, slow bodies, fuzzing).

Each malformed request an attacker sent is replayed over a raw socket, then a
fuzzed set built from the same pieces: every answer must be a 4xx within a
few seconds, and the sandbox must still serve a normal request afterwards.
These run against a sandbox of their own with a short read timeout, so a
stalled body costs seconds, not the default 20."""

from __future__ import annotations

import hashlib
import random
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.sandbox_kit import ADMIN, REGION, SandboxKit, start_kit

READ_TIMEOUT = 2  # seconds: the test sandbox's socket timeout
ANSWER_WITHIN = READ_TIMEOUT + 5  # seconds a malformed request may take to be answered
FUZZ_COUNT = 150  # requests; fixed seed, so a failure reproduces
FUZZ_SEED = 8
IDP = "AWSCognitoIdentityProviderService"


@pytest.fixture(scope="module")
def quick() -> Iterator[SandboxKit]:
    with start_kit(read_timeout=READ_TIMEOUT) as kit:
        yield kit


@pytest.fixture(scope="module")
def bucket(quick: SandboxKit) -> str:
    name = f"robust-{uuid.uuid4().hex[:8]}"
    quick.client("s3").create_bucket(Bucket=name)
    return name


def exchange(kit: SandboxKit, raw: bytes, *, timeout: float = ANSWER_WITHIN) -> tuple[int, bytes, float]:
    """Send `raw` as is; (status, response head and body, seconds taken)."""
    where = urlsplit(kit.endpoint)
    started = time.monotonic()
    with socket.create_connection((where.hostname, where.port), timeout=timeout) as conn:
        conn.sendall(raw)
        received = b""
        try:
            while b"\r\n" not in received or not _complete(received):
                piece = conn.recv(65536)
                if not piece:
                    break
                received += piece
        except TimeoutError:
            pytest.fail(f"no complete answer within {timeout} s to {raw[:120]!r}; got {received[:200]!r}")
    line = received.split(b"\r\n", 1)[0].split()
    assert len(line) >= 2 and line[1].isdigit(), f"not an HTTP answer to {raw[:120]!r}: {received[:200]!r}"
    return int(line[1]), received, time.monotonic() - started


def _complete(received: bytes) -> bool:
    head, sep, body = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return True  # no length: the server closes when done


def request(method: str, target: str, host: str, headers: dict[str, str], body: bytes = b"", *, length: bool = True) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if length and "Content-Length" not in headers and "Transfer-Encoding" not in headers:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def admin_signed(kit: SandboxKit, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """The headers of `method target` signed with the admin key for S3 (payload hash as given)."""
    headers = {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(), **headers}
    aws = AWSRequest(method=method, url=kit.endpoint + target, data=body, headers=headers)
    SigV4Auth(Credentials(ADMIN["aws_access_key_id"], ADMIN["aws_secret_access_key"]), "s3", REGION).add_auth(aws)
    return {k: v for k, v in aws.headers.items() if k.lower() != "host"}


def _chunked_aws(chunks: list[bytes]) -> bytes:
    fake = "0" * 64  # framing is refused before chunk signatures are checked (tests/sandbox/gateway/test_chunked.py)
    return b"".join(f"{len(c):x};chunk-signature={fake}\r\n".encode() + c + b"\r\n" for c in chunks) + (
        f"0;chunk-signature={fake}\r\n\r\n".encode()
    )


STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def malformed_requests(kit: SandboxKit, bucket: str) -> list[tuple[str, bytes, str | None]]:
    """(id, raw request, the error code expected or None) for each malformed request an attacker sent."""
    host = urlsplit(kit.endpoint).netloc
    obj = f"/{bucket}/k"
    bad_date = {
        "X-Amz-Date": "20261399T000000Z",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261399/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    }
    streaming = {"X-Amz-Content-SHA256": STREAMING, "Content-Encoding": "aws-chunked"}
    good_stream = _chunked_aws([b"hello"])
    bad_stream = good_stream.replace(b"5;chunk", b"zz;chunk")
    empty_delete = b"<Delete/>"
    return [
        ("content-length-abc", request("PUT", obj, host, {"Content-Length": "abc"}, b"abc"), "BadRequest"),
        ("content-length-negative", request("PUT", obj, host, {"Content-Length": "-1"}, b"x"), "BadRequest"),
        (
            "content-length-and-chunked",
            request("PUT", obj, host, {"Content-Length": "5", "Transfer-Encoding": "chunked"}, b"0\r\n\r\n"),
            None,
        ),
        ("bad-chunk-size", request("PUT", obj, host, {"Transfer-Encoding": "chunked"}, b"zz\r\nhello\r\n0\r\n\r\n"), "BadRequest"),
        ("declared-1MB-sent-10", request("PUT", obj, host, {"Content-Length": str(1 << 20)}, b"0123456789"), "RequestTimeout"),
        (
            "streaming-bad-chunk",
            request("PUT", obj, host, {**admin_signed(kit, "PUT", obj, {**streaming, "X-Amz-Decoded-Content-Length": "5"}, bad_stream)}, bad_stream),
            "IncompleteBody",
        ),
        (
            "streaming-no-decoded-length",
            request("PUT", obj, host, admin_signed(kit, "PUT", obj, streaming, good_stream), good_stream),
            "MissingContentLength",
        ),
        (
            "streaming-shorter-than-declared",
            request("PUT", obj, host, admin_signed(kit, "PUT", obj, {**streaming, "X-Amz-Decoded-Content-Length": "9"}, good_stream), good_stream),
            "IncompleteBody",
        ),
        ("impossible-x-amz-date", request("GET", obj, host, bad_date), "AuthorizationHeaderMalformed"),
        (
            "target-without-dot",
            request("POST", "/", host, {"X-Amz-Target": IDP, "Content-Type": "application/x-amz-json-1.1"}, b"{}"),
            "UnknownOperationException",
        ),
        (
            "empty-delete-signed",
            request("POST", f"/{bucket}?delete", host, admin_signed(kit, "POST", f"/{bucket}?delete", {}, empty_delete), empty_delete),
            "MalformedXML",
        ),
        ("empty-delete-unsigned", request("POST", f"/{bucket}?delete", host, {}, b"<Delete></Delete>"), "MalformedXML"),
        (
            "deeply-nested-json",
            request("POST", "/", host, {"X-Amz-Target": f"{IDP}.InitiateAuth"}, b"[" * 4000 + b"]" * 4000),
            "SerializationException",
        ),
        ("absolute-form-target", request("GET", f"http://evil.example/{bucket}/k", host, {}), "BadRequest"),
    ]


CASE_IDS = [
    "content-length-abc", "content-length-negative", "content-length-and-chunked", "bad-chunk-size",
    "declared-1MB-sent-10", "streaming-bad-chunk", "streaming-no-decoded-length", "streaming-shorter-than-declared",
    "impossible-x-amz-date", "target-without-dot", "empty-delete-signed", "empty-delete-unsigned",
    "deeply-nested-json", "absolute-form-target",
]


def assert_still_serving(kit: SandboxKit) -> None:
    assert ":123456789012:" in kit.client("sts").get_caller_identity()["Arn"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_malformed_request_gets_a_4xx_quickly(quick, bucket, case):
    """Each malformed request is answered 4xx (with its S3/Cognito code) within seconds, and the sandbox lives on."""
    _, raw, code = next(c for c in malformed_requests(quick, bucket) if c[0] == case)
    status, answer, took = exchange(quick, raw)
    assert 400 <= status < 500, answer[:500]
    assert took < ANSWER_WITHIN
    if code is not None:
        assert code.encode() in answer, answer[:500]
    assert_still_serving(quick)


def test_streaming_upload_is_stored_decoded(quick, bucket):
    """The control: a well-framed aws-chunked upload is stored as its payload, not its framing."""
    host = urlsplit(quick.endpoint).netloc
    # The unsigned-trailer form, which has no chunk signatures to forge here.
    body = b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    headers = {
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": "11", "X-Amz-Trailer": "x-amz-checksum-crc32",
    }
    status, answer, _ = exchange(quick, request("PUT", f"/{bucket}/streamed", host, admin_signed(quick, "PUT", f"/{bucket}/streamed", headers, body), body))
    assert status == 200, answer[:500]
    stored = quick.client("s3").get_object(Bucket=bucket, Key="streamed")
    assert stored["Body"].read() == b"hello world"
    assert "ContentEncoding" not in stored


# --- fuzz --------------------------------------------------------------------

_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]
_TARGETS = [None, f"{IDP}.InitiateAuth", f"{IDP}.ListUsers", IDP, "AWSCognitoIdentityService.GetId", ".", "x" * 300]
_CONTENT_TYPES = [None, "application/x-amz-json-1.1", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
                  "multipart/form-data", "text/plain", "application/xml", ";;;"]
_SHA = [None, "UNSIGNED-PAYLOAD", STREAMING, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-X", "0" * 64, "zz"]
_AUTH = [None, None, None, None, "AWS4-HMAC-SHA256", "AWS abc:def", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
         "SignedHeaders=host, Signature=" + "a" * 64, "AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=;, Signature=" + "b" * 64]
_DATES = [None, "20261399T000000Z", "99999999T999999Z", "2026", "20260101T000000Z"]
_ENCODINGS = [None, None, None, "gzip", "aws-chunked", "aws-chunked,gzip", "identity"]
_HOSTS = ["{host}", "{host}", "{host}", "{host}", "b.{host}", "localhost", "[::1]:1", "", "a b", "evil.example"]


def _paths(bucket: str) -> list[str]:
    return ["/", f"/{bucket}", f"/{bucket}/k", f"/{bucket}?delete", f"/{bucket}?object-lock", f"/{bucket}/k?versionId=1",
            "/?Action=AssumeRole&Version=2011-06-15", "/?Action=ListUserPools", "/%ff%fe", "/x/.well-known/jwks.json",
            "/?X-Amz-Credential=a/b&X-Amz-Signature=1", f"/{bucket}/k?uploads"]


def _bodies(rng: random.Random) -> list[bytes]:
    return [b"", b"{}", b"[]", b'{"a":' * 50, b"Action=AssumeRole&RoleArn=x", b"<Delete/>", b"<Delete><Object></Object></Delete>",
            b"\xff\xfe\x00", bytes(rng.randrange(256) for _ in range(64)), b"0\r\n\r\n", b"zz\r\n\r\n", _chunked_aws([b"abc"])]


def fuzzed(kit: SandboxKit, bucket: str) -> list[bytes]:
    """FUZZ_COUNT requests mixing the pieces above; lengths always match, so none stalls."""
    rng = random.Random(FUZZ_SEED)
    host = urlsplit(kit.endpoint).netloc
    out = []
    for _ in range(FUZZ_COUNT):
        headers: dict[str, str] = {}
        for name, choices in (("X-Amz-Target", _TARGETS), ("Content-Type", _CONTENT_TYPES), ("X-Amz-Content-SHA256", _SHA),
                              ("Authorization", _AUTH), ("X-Amz-Date", _DATES), ("Content-Encoding", _ENCODINGS),
                              ("X-Amz-Decoded-Content-Length", [None, "3", "-1", "x", "99"]),
                              ("Origin", [None, "http://evil.example"])):
            value = rng.choice(choices)
            if value is not None:
                headers[name] = value
        body = rng.choice(_bodies(rng))
        target_host = rng.choice(_HOSTS).format(host=host)
        out.append(request(rng.choice(_METHODS), rng.choice(_paths(bucket)), target_host, headers, body))
    return out


def test_fuzzed_requests_never_get_a_5xx(quick, bucket):
    """A fixed-seed mix of methods, targets, content types, hashes, dates, hosts and bodies: no 500, no hang."""
    failures = []
    for raw in fuzzed(quick, bucket):
        status, answer, _ = exchange(quick, raw)
        if status >= 500 and status != 501:  # 501 NotImplemented is S3's own answer to unknown features
            failures.append((raw[:200], answer[:200]))
    assert not failures, failures[:5]
    assert_still_serving(quick)
