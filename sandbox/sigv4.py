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


def parse(headers: dict[str, str], query: list[tuple[str, str]]) -> Signature | None:
    """The SigV4 fields of a request, or None if it is not signed at all.

    `headers` are lower-cased names; `query` is the decoded query string."""
    authorization = headers.get("authorization")
    if (authorization or "").startswith("AWS ") or any(k == "AWSAccessKeyId" for k, _ in query):
        raise Version2("Signature Version 2")
    if authorization:
        match = _AUTH_RE.match(authorization)
        if not match:
            raise Malformed("unparseable Authorization header")
        key, date_stamp, region, service = _parse_credential(match["credential"])
        amz_date = headers.get("x-amz-date", "")
        if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
            raise Malformed("missing or bad x-amz-date")
        return Signature(
            access_key_id=key,
            date_stamp=date_stamp,
            region=region,
            service=service,
            signed_headers=tuple(match["signed"].split(";")),
            signature=match["signature"],
            amz_date=amz_date,
            session_token=headers.get("x-amz-security-token"),
            presigned=False,
            expires_seconds=None,
        )
    params = dict(query)
    if "X-Amz-Signature" not in params and "X-Amz-Credential" not in params:
        return None
    try:
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise Malformed("unsupported X-Amz-Algorithm")
        key, date_stamp, region, service = _parse_credential(params["X-Amz-Credential"])
        expires = int(params["X-Amz-Expires"])
        if not 1 <= expires <= MAX_PRESIGN_SECONDS or not re.fullmatch(r"[0-9a-f]{64}", params["X-Amz-Signature"]):
            raise Malformed("bad X-Amz-Expires or X-Amz-Signature")
        if not re.fullmatch(r"\d{8}T\d{6}Z", params["X-Amz-Date"]):
            raise Malformed("bad X-Amz-Date")
        return Signature(
            access_key_id=key,
            date_stamp=date_stamp,
            region=region,
            service=service,
            signed_headers=tuple(params["X-Amz-SignedHeaders"].split(";")),
            signature=params["X-Amz-Signature"],
            amz_date=params["X-Amz-Date"],
            session_token=params.get("X-Amz-Security-Token"),
            presigned=True,
            expires_seconds=expires,
        )
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
