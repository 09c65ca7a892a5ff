"""sandbox/sigv4.py's chunk signatures against the worked example in AWS's
S3 API reference ("Transferring Payload in Multiple Chunks": 65 KB of `a`,
in 64 KB and 1 KB chunks, signed on 2013-05-24 with the documentation key).
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html"""

from __future__ import annotations

import dataclasses

import pytest

from sandbox import sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE = sigv4.Signature(
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    date_stamp="20130524",
    region="us-east-1",
    service="s3",
    signed_headers=("content-encoding", "content-length", "host", "x-amz-content-sha256", "x-amz-date"),
    signature=SEED,
    amz_date="20130524T000000Z",
    session_token=None,
    presigned=False,
    expires_seconds=None,
)


def example_body(signatures: tuple[str, ...] = CHUNK_SIGNATURES) -> bytes:
    first, second, last = signatures
    return (
        f"10000;chunk-signature={first}\r\n".encode() + b"a" * 65536 + b"\r\n"
        + f"400;chunk-signature={second}\r\n".encode() + b"a" * 1024 + b"\r\n"
        + f"0;chunk-signature={last}\r\n\r\n".encode()
    )


def test_aws_example_verifies():
    """AWS's own example body: decoded to 66560 `a`s, every chunk signature verified."""
    streamed = sigv4.decode_streaming(example_body(), 66560, signed_chunks=True)
    assert streamed.payload == b"a" * 66560
    assert sigv4.streaming_verified(EXAMPLE, streamed, secret=SECRET, declared=sigv4.SIGNED_CHUNKS)


@pytest.mark.parametrize("which", [0, 1, 2], ids=["first", "second", "final-empty"])
def test_aws_example_with_one_signature_wrong_fails(which):
    """Any one chunk signature changed, the final empty chunk's included: not verified."""
    wrong = list(CHUNK_SIGNATURES)
    wrong[which] = wrong[which][::-1]
    streamed = sigv4.decode_streaming(example_body(tuple(wrong)), 66560, signed_chunks=True)
    assert not sigv4.streaming_verified(EXAMPLE, streamed, secret=SECRET, declared=sigv4.SIGNED_CHUNKS)


def test_another_seed_fails():
    """The chunks chain on the seed: under another Authorization signature they do not verify."""
    streamed = sigv4.decode_streaming(example_body(), 66560, signed_chunks=True)
    other = dataclasses.replace(EXAMPLE, signature="0" * 64)
    assert not sigv4.streaming_verified(other, streamed, secret=SECRET, declared=sigv4.SIGNED_CHUNKS)


def test_signed_form_without_chunk_signatures_fails():
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD with bare chunk sizes: nothing to verify, so refused."""
    body = b"5\r\nhello\r\n0\r\n\r\n"
    streamed = sigv4.decode_streaming(body, 5, signed_chunks=True)
    assert not sigv4.streaming_verified(EXAMPLE, streamed, secret=SECRET, declared=sigv4.SIGNED_CHUNKS)


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n",  # no final empty line
        b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\nmore",  # data after the trailer
        b"5\r\nhello\r\n0\r\nnot a header\r\n\r\n",
        b"5\r\nhello\r\n0\r\n" + b"x-a:1\r\n" * (sigv4.MAX_TRAILERS + 2) + b"\r\n",
        b"5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n",  # a chunk extension that is not a signature
    ],
    ids=["unterminated", "trailing-data", "bad-line", "too-many", "bad-extension"],
)
def test_malformed_trailers_are_bad_chunks(body):
    """A trailer that is not `name:value` lines ending in an empty line, and nothing after: BadChunk."""
    with pytest.raises(sigv4.BadChunk):
        sigv4.decode_streaming(body, 5)


def test_trailer_is_read():
    """botocore's unsigned-trailer framing: the payload and its trailing checksum."""
    streamed = sigv4.decode_streaming(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", 5)
    assert (streamed.payload, streamed.trailers, streamed.trailer_signature) == (
        b"hello", {"x-amz-checksum-crc32": "NhCmhg=="}, None
    )
