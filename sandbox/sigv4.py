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
# zero-size chunk and, for the -TRAILER forms, trailing checksum headers
# (`name:value\r\n` lines, then `x-amz-trailer-signature:<sig>\r\n` when
# signed, then an empty line).
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
SIGNED_CHUNKS = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING = frozenset({SIGNED_CHUNKS, SIGNED_TRAILER, UNSIGNED_TRAILER})
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_CHUNK_SIGNATURE = re.compile(rb"chunk-signature=([0-9a-f]{64})")
_TRAILER_LINE = re.compile(rb"([A-Za-z0-9-]{1,64}):[ \t]*([^\r\n]{0,512}?)[ \t]*")
MAX_TRAILERS = 8  # lines; AWS sends one checksum, and the trailer signature
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TRAILER_SIGNATURE = "x-amz-trailer-signature"


class BadChunk(ValueError):
    """A streaming body whose framing is broken or whose length is not the declared one."""


@dataclass(frozen=True)
class Streamed:
    """An aws-chunked body taken apart: the payload, what each chunk claims
    to be signed with (the zero-size last chunk included), and the trailer."""

    payload: bytes
    chunks: tuple[tuple[str | None, str], ...]  # (chunk-signature or None, sha256 hex of the chunk's data)
    trailers: dict[str, str]  # lower-cased names, without x-amz-trailer-signature
    trailer_signature: str | None


def decode_streaming(body: bytes, decoded_length: int, *, signed_chunks: bool = False) -> Streamed:
    """The payload inside an aws-chunked body; BadChunk unless the framing is
    exact and the data adds up to `x-amz-decoded-content-length`. Each chunk's
    data is hashed only when `signed_chunks` (the signed forms), since only
    their chunk signatures need the hash."""
    data = bytearray()
    chunks: list[tuple[str | None, str]] = []
    pos = 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise BadChunk("chunk header without CRLF")
        size_hex, _, extension = body[pos:end].partition(b";")
        if not _CHUNK_SIZE.fullmatch(size_hex):
            raise BadChunk("bad chunk size")
        signature_match = _CHUNK_SIGNATURE.fullmatch(extension) if extension else None
        if extension and signature_match is None:
            raise BadChunk("bad chunk extension")
        size = int(size_hex, 16)
        pos = end + 2
        if len(data) + size > decoded_length:
            raise BadChunk("chunk longer than declared")
        piece = body[pos : pos + size]
        chunk_signature = signature_match[1].decode() if signature_match else None
        chunks.append((chunk_signature, hashlib.sha256(piece).hexdigest() if signed_chunks else ""))
        if size == 0:
            break
        if len(piece) != size or body[pos + size : pos + size + 2] != b"\r\n":
            raise BadChunk("chunk shorter than its size or not followed by CRLF")
        data += piece
        pos += size + 2
    if len(data) != decoded_length:
        raise BadChunk("decoded length differs from x-amz-decoded-content-length")
    trailers, trailer_signature = _trailers(body, pos)
    return Streamed(bytes(data), tuple(chunks), trailers, trailer_signature)


def _trailers(body: bytes, pos: int) -> tuple[dict[str, str], str | None]:
    """The trailing header lines after the last chunk, up to the empty line
    that ends the body; nothing may follow it."""
    trailers: dict[str, str] = {}
    signature = None
    for _ in range(MAX_TRAILERS + 1):
        end = body.find(b"\r\n", pos)
        if end < 0:
            if pos == len(body) and not trailers and signature is None:
                return trailers, None  # `0\r\n` alone: some clients omit the final CRLF
            raise BadChunk("trailer without CRLF")
        line = body[pos:end]
        pos = end + 2
        if not line:
            if pos != len(body):
                raise BadChunk("data after the trailer")
            return trailers, signature
        match = _TRAILER_LINE.fullmatch(line)
        if match is None:
            raise BadChunk("bad trailer line")
        name, value = match[1].decode().lower(), match[2].decode("ascii", "replace")
        if name in trailers or (name == TRAILER_SIGNATURE and signature is not None):
            raise BadChunk(f"trailer {name} twice")
        if name == TRAILER_SIGNATURE:
            signature = value
        else:
            trailers[name] = value
    raise BadChunk("too many trailer lines")


def _string_signature(sig: Signature, secret: str, string_to_sign: str) -> str:
    key = _signing_key(secret, sig.date_stamp, sig.region, sig.service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def chunk_signature(sig: Signature, *, secret: str, previous: str, data_hash: str) -> str:
    """A chunk's signature: each one chains on the one before, the first on
    the seed (the Authorization header's), so no chunk can be altered,
    dropped, reordered or added without breaking every signature after it."""
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256-PAYLOAD", sig.amz_date, sig.scope, previous, _EMPTY_SHA256, data_hash]
    )
    return _string_signature(sig, secret, string_to_sign)


def canonical_trailers(trailers: dict[str, str]) -> bytes:
    return "".join(f"{name}:{value}\n" for name, value in trailers.items()).encode()


def trailer_signature(sig: Signature, *, secret: str, previous: str, trailers: dict[str, str]) -> str:
    """The trailer's signature, chained on the last (zero-size) chunk's."""
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            sig.amz_date,
            sig.scope,
            previous,
            hashlib.sha256(canonical_trailers(trailers)).hexdigest(),
        ]
    )
    return _string_signature(sig, secret, string_to_sign)


def streaming_verified(sig: Signature, streamed: Streamed, *, secret: str, declared: str) -> bool:
    """Whether every chunk (and, for the signed trailer form, the trailer)
    carries the signature AWS would compute. The unsigned-trailer form has
    nothing to verify beyond the seed; a chunk signature in it is refused,
    as is a signed form with a chunk or the trailer unsigned."""
    signed = declared in (SIGNED_CHUNKS, SIGNED_TRAILER)
    previous = sig.signature
    for claimed, data_hash in streamed.chunks:
        if not signed:
            if claimed is not None:
                return False
            continue
        if claimed is None:
            return False
        computed = chunk_signature(sig, secret=secret, previous=previous, data_hash=data_hash)
        if not hmac.compare_digest(claimed, computed):
            return False
        previous = computed
    if declared == SIGNED_TRAILER:
        if streamed.trailer_signature is None:
            return False
        computed = trailer_signature(sig, secret=secret, previous=previous, trailers=streamed.trailers)
        return hmac.compare_digest(streamed.trailer_signature, computed)
    return streamed.trailer_signature is None
