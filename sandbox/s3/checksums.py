"""The integrity checks S3 makes on an upload's body before storing it:
`Content-MD5`, and one `x-amz-checksum-<algorithm>`, sent as a header or as
the trailer of an aws-chunked body (what botocore and the AWS CLI send by
default since `request_checksum_calculation=when_supported`).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html

CRC32, SHA-1 and SHA-256 come from the standard library; CRC32C (Castagnoli)
is computed here by table, since the standard library has no CRC32C and
the sandbox takes no native dependency for it. CRC64NVME is not checked:
it is passed to moto unverified (README, "where it differs").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Mapping

from sandbox import sigv4
from sandbox.errors import AwsError


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # the reflected Castagnoli polynomial
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> bytes:
    """CRC32C of `data`, big-endian, as S3 encodes it (before base64)."""
    table, crc = _CRC32C_TABLE, 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return (crc ^ 0xFFFFFFFF).to_bytes(4, "big")


# The algorithm as S3's messages name it, and its digest of a body.
ALGORITHMS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "crc32": ("CRC32", lambda body: zlib.crc32(body).to_bytes(4, "big")),
    "crc32c": ("CRC32C", crc32c),
    "sha1": ("SHA1", lambda body: hashlib.sha1(body).digest()),
    "sha256": ("SHA256", lambda body: hashlib.sha256(body).digest()),
}
UNCHECKED = frozenset({"crc64nvme"})  # accepted, passed to moto, not verified
_PREFIX = "x-amz-checksum-"
_NOT_VALUES = frozenset({"x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"})

_MALFORMED_TRAILER = AwsError(
    "MalformedTrailerError",
    "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    400,
)


def _is_value(name: str) -> bool:
    return name.startswith(_PREFIX) and name not in _NOT_VALUES


def trailer_check(*, declared: str, announced: str | None, trailers: Mapping[str, str]) -> None:
    """The trailer an aws-chunked body ends with must be exactly the one
    `x-amz-trailer` announced, and only the -TRAILER forms carry one."""
    trailer_form = declared in (sigv4.SIGNED_TRAILER, sigv4.UNSIGNED_TRAILER)
    names = [n.strip().lower() for n in (announced or "").split(",") if n.strip()]
    if not trailer_form:
        if names or trailers:
            raise _MALFORMED_TRAILER
        return
    if len(names) != 1 or not _is_value(names[0]) or set(trailers) != set(names):
        raise _MALFORMED_TRAILER


def trailed(streamed: sigv4.Streamed | None) -> dict[str, str]:
    """A verified trailing checksum as the headers moto stores and returns
    (`x-amz-sdk-checksum-algorithm` names which one it keeps)."""
    if streamed is None:
        return {}
    found = {name: value for name, value in streamed.trailers.items() if _is_value(name)}
    for name in list(found):
        found["x-amz-sdk-checksum-algorithm"] = name.removeprefix(_PREFIX).upper()
    return found


def body_check(*, headers: Mapping[str, str], body: bytes, trailers: Mapping[str, str], whole_object: bool) -> None:
    """Refuse a body that is not the one its `Content-MD5` or checksum
    describes, in S3's words; nothing is stored. `whole_object` is for
    CompleteMultipartUpload, whose checksum header describes the assembled
    object, not the request body, and is left to moto."""
    md5 = headers.get("content-md5")
    if md5 is not None:
        try:
            wanted = base64.b64decode(md5.strip(), validate=True)
        except binascii.Error:
            wanted = b""
        if len(wanted) != 16:
            raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
        if hashlib.md5(body).digest() != wanted:
            raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
    if whole_object:
        return
    given = [(name, value, "header") for name, value in headers.items() if _is_value(name)]
    given += [(name, value, "trailing header") for name, value in trailers.items() if _is_value(name)]
    if len(given) > 1:
        message = "Expecting a single x-amz-checksum- header"
        if all(where == "header" for _, _, where in given):
            message += ". Multiple checksum Types are not allowed."
        raise AwsError("InvalidRequest", message, 400)
    requested = headers.get("x-amz-sdk-checksum-algorithm", "").strip().lower()
    if not given:
        if requested and headers.get("x-amz-trailer") is None:
            raise AwsError(
                "InvalidRequest",
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* "
                "or x-amz-trailer headers were found.",
                400,
            )
        return
    name, value, where = given[0]
    algorithm = name.removeprefix(_PREFIX)
    if algorithm in UNCHECKED:
        return
    if algorithm not in ALGORITHMS:
        raise AwsError("InvalidRequest", f"Value for {name} {where} is invalid.", 400)
    label, digest = ALGORITHMS[algorithm]
    try:
        claimed = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        claimed = b""
    expected = digest(body)
    if len(claimed) != len(expected):
        raise AwsError("InvalidRequest", f"Value for {name} {where} is invalid.", 400)
    if claimed != expected:
        raise AwsError("BadDigest", f"The {label} you specified did not match the calculated checksum.", 400)
