"""Who is calling: the SigV4 signature, session token and expiry, checked
before any IAM policy is read.

Unsigned requests reach only the operations AWS serves unsigned (from
botocore's models: `GetId`, `InitiateAuth`, `AssumeRoleWithWebIdentity`, ...),
and S3, where authorization treats them as the anonymous caller.
A signed one is verified against the key's secret as the request was
received, so a request altered after signing fails exactly as on AWS; the key
is the admin's (the account root), an identity-pool session, a session moto's
STS minted, or an IAM user's key.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import moto_seams, sigv4
from sandbox.errors import AwsError, Failure, failure_error, wrong_region_error
from sandbox.gateway.request import SERVED, Request, classify, unsigned_operations
from sandbox.s3 import checksums as s3_checksums
from sandbox.sts.sessions import session_get

log = logging.getLogger("sandbox")

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class AdminKey:
    """The sandbox's account-root key, which no IAM policy limits."""

    access_key_id: str = "test"
    secret_access_key: str = "test"


@dataclass(frozen=True)
class Principal:
    """Who signed the request, with what IAM evaluates for them and what
    CloudTrail's `userIdentity` says about them."""

    arn: str  # the caller, as error messages name it
    admin: bool
    policies: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "AssumedRole"  # CloudTrail's userIdentity.type: Root, IAMUser or AssumedRole
    access_key_id: str | None = None
    user_id: str | None = None  # ${aws:userid}: "<role id>:<session name>", or the IAM user's ID
    policy_names: tuple[str, ...] = ()  # what each of `policies` is called, for explanations
    role_arn: str | None = None
    role_id: str | None = None
    role_name: str | None = None
    user_name: str | None = None
    issued: dt.datetime | None = None  # when a session was minted

    @property
    def identity_id(self) -> str | None:
        """The identity pool's identity ID behind a session, `${cognito-identity.amazonaws.com:sub}`."""
        value = self.context.get("cognito-identity.amazonaws.com:sub")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class _Key:
    secret: str
    session_token: str | None
    expiration: dt.datetime | None
    principal: Principal


def signature_read(request: Request, *, region: str, own_hosts: frozenset[str]) -> sigv4.Signature | None:
    """The request's SigV4 signature, None if unsigned; a signature that is
    there but unusable is refused in the format of the service it claims."""
    try:
        return sigv4.parse(request.headers, request.query, region=region)
    except sigv4.Version2 as exc:
        classify(request, None, own_hosts=own_hosts)
        raise AwsError(
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            400,
        ) from exc
    except sigv4.WrongRegion as exc:
        request.service = _scope_service(request)
        log.info("signed for region %r", exc.region)
        presigned = "authorization" not in request.headers
        raise wrong_region_error(request.service, exc.region, region, presigned=presigned) from exc
    except sigv4.Malformed as exc:
        log.info("malformed signature: %s", exc)
        request.service = _scope_service(request)
        raise failure_error(Failure.MALFORMED_AUTH, request.service) from exc


def unsigned_check(request: Request) -> None:
    """An unsigned request may only be one AWS serves unsigned: a public API,
    or any S3 request, which is then authorized as the anonymous caller (only
    a public bucket policy can let it through). Its body is checked as a
    signed one's is; signed chunks without a seed signature are refused."""
    if request.service == "cognito-idp" and request.operation is None:
        return  # the public JWKS / OpenID configuration documents
    if request.service == "s3":
        if request.headers.get("x-amz-content-sha256") in (sigv4.SIGNED_CHUNKS, sigv4.SIGNED_TRAILER):
            raise failure_error(Failure.MISSING_AUTH, "s3")  # signed chunks with no seed to chain them on
        body_check(request)
        return
    if request.operation in unsigned_operations(request.service):
        return
    log.info("unsigned %s %s refused", request.service, request.operation or request.raw_path)
    raise failure_error(Failure.MISSING_AUTH, request.service)


def anonymous_context(source_ip: str, *, region: str) -> dict[str, Any]:
    """The condition keys an unsigned request brings to a bucket policy: the
    time, the address and the transport, and no principal but its type."""
    now = dt.datetime.now(dt.timezone.utc)
    context = _request_context(now, source_ip, region=region)
    del context["aws:principalaccount"]  # nobody's account
    context["aws:principaltype"] = "Anonymous"
    return context


def principal_authenticate(
    request: Request, signature: sigv4.Signature, *, admin: AdminKey, source_ip: str
) -> Principal:
    """The caller, once its key, token, signature and clock are checked."""
    service = request.service
    now = dt.datetime.now(dt.timezone.utc)
    key = _key(signature.access_key_id, admin)
    if key is None:
        log.info("unknown access key %s", signature.access_key_id)
        raise failure_error(Failure.UNKNOWN_KEY, service)
    if key.session_token is not None:
        if signature.session_token is None:  # a temporary key is unknown without its token
            log.info("temporary key %s sent without its session token", signature.access_key_id)
            raise failure_error(Failure.UNKNOWN_KEY, service)
        if not hmac.compare_digest(signature.session_token.encode(), key.session_token.encode()):
            log.info("wrong session token for %s", signature.access_key_id)
            raise failure_error(Failure.BAD_TOKEN, service)
    if key.expiration is not None and key.expiration <= now:
        raise failure_error(Failure.EXPIRED_TOKEN, service)
    if service == "s3" and not signature.presigned and "x-amz-content-sha256" not in request.headers:
        raise AwsError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
    computed = sigv4.expected(
        signature,
        secret=key.secret,
        method=request.method,
        raw_path=request.raw_path,
        query=request.query,
        headers=request.headers,
        payload_hash=sigv4.payload_hash(signature, request.headers, request.body),
    )
    if not sigv4.matches(signature, computed):
        log.info("signature mismatch for %s %s", request.method, request.raw_path)
        raise failure_error(Failure.BAD_SIGNATURE, service)
    if request.streamed is not None and not sigv4.streaming_verified(
        signature, request.streamed, secret=key.secret, declared=request.headers.get("x-amz-content-sha256", "")
    ):
        log.info("chunk or trailer signature mismatch for %s %s", request.method, request.raw_path)
        raise failure_error(Failure.BAD_SIGNATURE, service)
    if signature.presigned:
        if now > signature.time + dt.timedelta(seconds=signature.expires_seconds or 0):
            raise failure_error(Failure.PRESIGN_EXPIRED, service)
    elif abs(now - signature.time) > sigv4.MAX_SKEW:
        raise failure_error(Failure.SKEWED, service)
    declared = request.headers.get("x-amz-content-sha256", "")
    if service == "s3" and _HEX64.match(declared) and hashlib.sha256(request.body).hexdigest() != declared:
        raise AwsError(
            "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400
        )
    if service == "s3":
        body_check(request)
    context = {**_request_context(now, source_ip, region=signature.region), **key.principal.context}
    if key.principal.issued is not None:  # temporary credentials only, as on AWS
        context["aws:tokenissuetime"] = _iso(key.principal.issued)
    return dataclasses.replace(key.principal, context=context)


def body_check(request: Request) -> None:
    """The body as received (aws-chunked decoded) against its `Content-MD5`
    and checksum, once the sender is known and before anything is stored."""
    streamed = request.streamed
    try:
        s3_checksums.body_check(
            headers=request.headers,
            body=request.body if streamed is None else streamed.payload,
            trailers=streamed.trailers if streamed is not None else {},
            whole_object=request.method == "POST" and "uploadId" in request.query_dict,
        )
    except AwsError as error:
        log.info("body of %s %s refused: %s", request.method, request.raw_path, error.code)
        raise


def _key(access_key_id: str, admin: AdminKey) -> _Key | None:
    """The secret, token and principal behind an access key, wherever it was issued."""
    if access_key_id == admin.access_key_id:
        root = f"arn:aws:iam::{moto_seams.ACCOUNT_ID}:root"
        # No policy limits the root, but a bucket policy's conditions may still name it.
        context = {"aws:principalarn": root, "aws:principaltype": "Account", "aws:userid": moto_seams.ACCOUNT_ID}
        principal = Principal(
            arn=root, admin=True, context=context, kind="Root", access_key_id=access_key_id, user_id=moto_seams.ACCOUNT_ID
        )
        return _Key(admin.secret_access_key, None, None, principal)
    session = session_get(access_key_id)
    if session is not None:  # identity-pool and classic-flow credentials
        c = session.credentials
        role = moto_seams.iam.role_by_arn(session.role_arn)
        context = {
            **session.context,
            "aws:userid": c.user_id,
            "aws:principalarn": session.role_arn,
            "aws:principaltype": "AssumedRole",
        }
        principal = Principal(
            arn=c.arn,
            admin=False,
            policies=role.policies if role else (),
            context=context,
            access_key_id=access_key_id,
            user_id=c.user_id,
            policy_names=role.policy_names if role else (),
            role_arn=session.role_arn,
            role_id=role.role_id if role else None,
            role_name=role.name if role else None,
            issued=session.issued,
        )
        return _Key(c.secret_access_key, c.session_token, c.expiration, principal)
    known = moto_seams.sts.session_key(access_key_id) or moto_seams.iam.user_key(access_key_id)
    if known is None or not known.active:
        return None
    role = None
    if known.user_name is None:
        role = moto_seams.iam.role_by_arn(known.principal_arn)
        policies, names = (role.policies, role.policy_names) if role else ((), ())
        context: dict[str, Any] = {"aws:principaltype": "AssumedRole"}
    else:
        named = moto_seams.iam.named_user_policies(known.user_name)
        names, policies = tuple(n for n, _ in named), tuple(d for _, d in named)
        context = {"aws:principaltype": "User", "aws:username": known.user_name}
    context.update({"aws:userid": known.user_id, "aws:principalarn": known.principal_arn})
    principal = Principal(
        arn=known.caller_arn,
        admin=False,
        policies=policies,
        context=context,
        kind="AssumedRole" if known.user_name is None else "IAMUser",
        access_key_id=access_key_id,
        user_id=known.user_id,
        policy_names=names,
        role_arn=known.principal_arn if known.user_name is None else None,
        role_id=role.role_id if role else None,
        role_name=role.name if role else None,
        user_name=known.user_name,
    )
    return _Key(known.secret_access_key, known.session_token, known.expiration, principal)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_context(now: dt.datetime, source_ip: str, *, region: str) -> dict[str, Any]:
    """The global condition keys every signed request brings to IAM
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    `aws:SourceIp` is the peer address: the sandbox trusts no forwarding
    header, so a client cannot choose the address a policy tests.
    `aws:RequestedRegion` is the signature's region, which the gateway has
    already checked; IAM and STS's global endpoint sign with us-east-1, as
    AWS reports for them."""
    context = {
        "aws:currenttime": _iso(now),
        "aws:epochtime": str(int(now.timestamp())),
        "aws:securetransport": "false",  # the sandbox speaks plain HTTP
        "aws:principalaccount": moto_seams.ACCOUNT_ID,
        "aws:requestedregion": region,
    }
    if source_ip:  # absent rather than empty: an IpAddress condition then fails, NotIpAddress holds, as for any missing key
        context["aws:sourceip"] = source_ip
    return context


def _scope_service(request: Request) -> str:
    """The service a malformed signature claims, for the format of its refusal only."""
    credential = request.query_dict.get("X-Amz-Credential", "")
    match = re.search(r"Credential=([^,\s]+)", request.headers.get("authorization", ""))
    parts = (match[1] if match else credential).split("/")
    return parts[3] if len(parts) == 5 and parts[3] in SERVED else "s3"
