"""The classic (basic) flow: identity-pool OpenID tokens and the STS
`AssumeRoleWithWebIdentity` call that accepts them.

In the basic flow the client, not Cognito, picks the role: it takes the
token from `GetOpenIdToken` to STS with any role ARN. The only guard is the
role's trust policy, which is why `doctor` insists the flow stays off and every
trust policy names the pool's `aud`. The sandbox signs the tokens with a key
of its own, made at start-up, so no token outlives the process.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from iampolicy import Mode, evaluate
from sandbox import moto_seams
from sandbox.errors import AwsError
from sandbox.sts import session_policies
from sandbox.sts.sessions import Session, session_create

ISSUER = "https://cognito-identity.amazonaws.com"
PROVIDER = "cognito-identity.amazonaws.com"
TOKEN_LIFETIME = 600  # seconds; GetOpenIdToken tokens last ten minutes
_KEY_ID = f"sandbox-{uuid.uuid4().hex[:8]}"
_PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

MIN_DURATION, MAX_DURATION = 900, 43200  # seconds, STS's bounds for DurationSeconds


def openid_token_issue(
    *, identity_id: str, pool_id: str, amr: Sequence[str], lifetime: int = TOKEN_LIFETIME, extra: Mapping[str, Any] | None = None
) -> str:
    """An identity-pool OpenID token; `lifetime` (seconds) and `extra` claims
    for GetOpenIdTokenForDeveloperIdentity's TokenDuration and tags."""
    now = int(time.time())
    claims = {**(extra or {}), "iss": ISSUER, "sub": identity_id, "aud": pool_id, "amr": list(amr), "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, _PRIVATE_KEY, algorithm="RS256", headers={"kid": _KEY_ID})


def openid_token_key() -> tuple[str, rsa.RSAPublicKey]:
    """(kid, public key) of the tokens this process issues, for the identity
    pool's own check of the tokens presented back to it in `Logins`."""
    return _KEY_ID, _PRIVATE_KEY.public_key()


def web_identity_context(claims: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """The condition keys a Cognito web identity brings to IAM."""
    return {
        f"{PROVIDER}:aud": claims["aud"],
        f"{PROVIDER}:sub": claims["sub"],
        f"{PROVIDER}:amr": list(claims.get("amr", [])),
    }


def trust_allows(role: moto_seams.iam.RoleView, context: Mapping[str, Any]) -> bool:
    decision = evaluate(
        [role.trust_policy],
        action="sts:AssumeRoleWithWebIdentity",
        resource=role.arn,
        context={k.lower(): v for k, v in context.items()},
        mode=Mode.ENFORCE,
        principal={"Federated": PROVIDER},
    )
    return decision.allowed


def _verify(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AwsError("InvalidIdentityToken", "The ID Token provided is not a valid JWT.", 400) from exc
    issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    if issuer != ISSUER:
        raise AwsError("InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}", 400)
    if header.get("kid") != _KEY_ID or header.get("alg") != "RS256":
        raise AwsError("InvalidIdentityToken", "Couldn't verify the signature of the web identity token.", 400)
    try:
        return jwt.decode(
            token,
            _PRIVATE_KEY.public_key(),
            algorithms=["RS256"],
            issuer=ISSUER,
            options={"verify_aud": False, "require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AwsError("ExpiredTokenException", "Token expired: the web identity token has expired.", 400) from exc
    except jwt.InvalidTokenError as exc:
        raise AwsError("InvalidIdentityToken", "Couldn't verify the signature of the web identity token.", 400) from exc


def session_elements(session: Session) -> str:
    """`<AssumedRoleUser>` and `<Credentials>`, as every AssumeRole* answer has them."""
    c = session.credentials
    expiration = c.expiration.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<AssumedRoleUser><Arn>{escape(c.arn)}</Arn><AssumedRoleId>{escape(c.user_id)}</AssumedRoleId></AssumedRoleUser>"
        f"<Credentials><AccessKeyId>{c.access_key_id}</AccessKeyId><SecretAccessKey>{c.secret_access_key}</SecretAccessKey>"
        f"<SessionToken>{c.session_token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
    )


def packed_size_element(params: Mapping[str, str], policies: Sequence[session_policies.SessionPolicy]) -> str:
    """`<PackedPolicySize>`, which STS answers only when session policies were passed."""
    if not policies:
        return ""
    arns = [p.name for p in policies if p.name != session_policies.INLINE_NAME]
    return f"<PackedPolicySize>{session_policies.packed_percent(params.get('Policy'), arns)}</PackedPolicySize>"


def params_required(params: Mapping[str, str], *names: str) -> None:
    """STS's ValidationError for the first of `names` missing or empty."""
    for name in names:
        if not params.get(name):
            raise AwsError("ValidationError", f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null", 400)


def duration_of(params: Mapping[str, str]) -> int:
    """`DurationSeconds` (default one hour) within STS's bounds, or its ValidationError."""
    try:
        duration = int(params.get("DurationSeconds", "3600"))
    except ValueError as exc:
        raise AwsError("ValidationError", "DurationSeconds must be a number.", 400) from exc
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise AwsError("ValidationError", f"DurationSeconds must be between {MIN_DURATION} and {MAX_DURATION}.", 400)
    return duration


def assume_role_with_web_identity(params: Mapping[str, str], *, region: str) -> bytes:
    """STS `AssumeRoleWithWebIdentity` for tokens this sandbox issued."""
    params_required(params, "RoleArn", "RoleSessionName", "WebIdentityToken")
    duration = duration_of(params)
    policies = session_policies.from_request(params)
    claims = _verify(params["WebIdentityToken"])
    role = moto_seams.iam.role_by_arn(params["RoleArn"])
    context = web_identity_context(claims)
    if role is None or not trust_allows(role, context):
        raise AwsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    session = session_create(
        role_arn=role.arn,
        context=context,
        duration_seconds=duration,
        region=region,
        session_name=params["RoleSessionName"],
        policies=policies,
    )
    return (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult>"
        f"<SubjectFromWebIdentityToken>{escape(claims['sub'])}</SubjectFromWebIdentityToken>"
        f"<Audience>{escape(str(claims['aud']))}</Audience>"
        f"{session_elements(session)}"
        f"<Provider>{PROVIDER}</Provider>"
        f"{packed_size_element(params, policies)}"
        "</AssumeRoleWithWebIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>"
    ).encode()
