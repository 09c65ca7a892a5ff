"""AWS Signature Version 4, checked the way the services check it.

The sandbox recomputes the signature from the request it actually received,
so a request altered after signing (another key, another header, another
body) fails exactly as on AWS. Both forms are handled: the `Authorization`
header and the presigned query string (`X-Amz-Signature`).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = dt.timedelta(minutes=15)  # what AWS tolerates between clocks
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # seconds; SigV4 presigned URLs live a week at most

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


class Malformed(ValueError):
    """The request claims to be signed but its signature fields are unusable."""


class WrongRegion(Malformed):
    """The credential scope names a region other than the endpoint's."""

    def __init__(self, region: str) -> None:
        super().__init__(f"credential scope region {region!r}")
        self.region = region


class Version2(ValueError):
    """A Signature Version 2 request, which S3 no longer accepts for new buckets."""


@dataclass(frozen=True)
class Signature:
    access_key_id: str
    date_stamp: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    session_token: str | None
    presigned: bool
    expires_seconds: int | None  # presigned only

    @property
    def scope(self) -> str:
        return f"{self.date_stamp}/{self.region}/{self.service}/aws4_request"

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.strptime(self.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise Malformed(f"bad credential scope {credential!r}")
    return parts[0], parts[1], parts[2], parts[3]


def _checked(sig: Signature, region: str) -> Signature:
    """Refuse what AWS refuses before it computes anything: an impossible
    date (20261399T...), a scope dated another day than X-Amz-Date (a signing
    key is only valid for its day), an unsigned Host (the signature must bind
    the request to this endpoint), or a scope for another region."""
    try:
        sig.time
    except ValueError as exc:
        raise Malformed("impossible X-Amz-Date") from exc
    if sig.date_stamp != sig.amz_date[:8]:
        raise Malformed("credential scope date is not X-Amz-Date's date")
    if "host" not in sig.signed_headers:
        raise Malformed("host is not a signed header")
    if sig.region != region:
        raise WrongRegion(sig.region)
    return sig


def parse(headers: dict[str, str], query: list[tuple[str, str]], *, region: str) -> Signature | None:
    """The SigV4 fields of a request, or None if it is not signed at all.

    `headers` are lower-cased names; `query` is the decoded query string;
    `region` is the endpoint's, the only one a scope may name."""
    authorization = headers.get("authorization")
    if (authorization or "").startswith("AWS ") or any(k == "AWSAccessKeyId" for k, _ in query):
        raise Version2("Signature Version 2")
    if authorization:
        match = _AUTH_RE.match(authorization)
        if not match:
            raise Malformed("unparseable Authorization header")
        key, date_stamp, scope_region, service = _parse_credential(match["credential"])
        amz_date = headers.get("x-amz-date", "")
        if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", amz_date):
            raise Malformed("missing or bad x-amz-date")
        return _checked(Signature(
            access_key_id=key,
            date_stamp=date_stamp,
            region=scope_region,
            service=service,
            signed_headers=tuple(match["signed"].split(";")),
            signature=match["signature"],
            amz_date=amz_date,
            session_token=headers.get("x-amz-security-token"),
            presigned=False,
            expires_seconds=None,
        ), region)
    params = dict(query)
    if "X-Amz-Signature" not in params and "X-Amz-Credential" not in params:
        return None
    try:
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise Malformed("unsupported X-Amz-Algorithm")
        key, date_stamp, scope_region, service = _parse_credential(params["X-Amz-Credential"])
        expires = int(params["X-Amz-Expires"])
        if not 1 <= expires <= MAX_PRESIGN_SECONDS or not re.fullmatch(r"[0-9a-f]{64}", params["X-Amz-Signature"]):
            raise Malformed("bad X-Amz-Expires or X-Amz-Signature")
        if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", params["X-Amz-Date"]):
            raise Malformed("bad X-Amz-Date")
        return _checked(Signature(
            access_key_id=key,
            date_stamp=date_stamp,
            region=scope_region,
            service=service,
            signed_headers=tuple(params["X-Amz-SignedHeaders"].split(";")),
            signature=params["X-Amz-Signature"],
            amz_date=params["X-Amz-Date"],
            session_token=params.get("X-Amz-Security-Token"),
            presigned=True,
            expires_seconds=expires,
        ), region)
    except Malformed:
        raise
    except (KeyError, ValueError) as exc:
        raise Malformed(str(exc)) from exc


def _canonical_uri(raw_path: str, service: str) -> str:
    # S3 signs the path as sent; every other service encodes it once more.
    once = quote(unquote(raw_path), safe="/~")
    return once if service == "s3" else quote(once, safe="/~")


def _canonical_query(query: list[tuple[str, str]], presigned: bool) -> str:
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in query
        if not (presigned and k == "X-Amz-Signature")
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def _canonical_headers(headers: dict[str, str], names: tuple[str, ...]) -> str:
    return "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)


@lru_cache(maxsize=256)
def _signing_key(secret: str, date_stamp: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date_stamp, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def expected(
    sig: Signature,
    *,
    secret: str,
    method: str,
    raw_path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    payload_hash: str,
) -> str:
    """The signature AWS would compute for this request with `secret`."""
    canonical_request = "\n".join(
        [
            method,
            _canonical_uri(raw_path, sig.service),
            _canonical_query(query, sig.presigned),
            _canonical_headers(headers, sig.signed_headers),
            ";".join(sig.signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, sig.amz_date, sig.scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _signing_key(secret, sig.date_stamp, sig.region, sig.service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def matches(sig: Signature, computed: str) -> bool:
    return hmac.compare_digest(sig.signature, computed)


def payload_hash(sig: Signature, headers: dict[str, str], body: bytes) -> str:
    """What the canonical request names as the payload: S3 trusts the
    `x-amz-content-sha256` header (checked against the body separately);
    presigned S3 URLs sign no payload; other services hash the body."""
    if sig.service == "s3":
        if sig.presigned:
            return headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD)
        return headers.get("x-amz-content-sha256", "")
    return hashlib.sha256(body).hexdigest()


# Streaming uploads (`Content-Encoding: aws-chunked`): the body is framed in
# chunks, `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, ending with a
# zero-size chunk and, for the -TRAILER forms, trailing checksum headers.
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
STREAMING = frozenset(
    {
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
)
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")


class BadChunk(ValueError):
    """A streaming body whose framing is broken or whose length is not the declared one."""


def decode_streaming(body: bytes, decoded_length: int) -> bytes:
    """The payload inside an aws-chunked body; BadChunk unless the framing is
    exact and the data adds up to `x-amz-decoded-content-length`."""
    data = bytearray()
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise BadChunk("chunk header without CRLF")
        size_hex = body[pos:end].split(b";", 1)[0]
        if not _CHUNK_SIZE.fullmatch(size_hex):
            raise BadChunk("bad chunk size")
        size = int(size_hex, 16)
        pos = end + 2
        if size == 0:
            break  # what follows is trailers (checksums), which the sandbox does not verify
        if len(data) + size > decoded_length or body[pos + size : pos + size + 2] != b"\r\n":
            raise BadChunk("chunk longer than declared or not followed by CRLF")
        data += body[pos : pos + size]
        pos += size + 2
    if len(data) != decoded_length:
        raise BadChunk("decoded length differs from x-amz-decoded-content-length")
    return bytes(data)
