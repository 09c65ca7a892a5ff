"""May the caller do it: each IAM action the request needs, evaluated on the
caller's identity policies, failing closed.

S3 needs are read from the REST request (`sandbox/s3/actions.py`),
DynamoDB's from its JSON request and the table's key schema
(`sandbox/dynamodb/actions.py`: one need per table of a batch and per item
of a transaction, with `dynamodb:LeadingKeys` and the other condition keys);
every other service needs `<service>:<operation>` on the resource the
request names. The evaluator runs as an enforcer (`Mode.ENFORCE`): a statement with an
operator it does not know never allows. Refusals name the principal, action
and resource in AWS's current form for same-account denials, S3's included
(the resource ARN in quotes):

    User: <arn> is not authorized to perform: <action> on resource: "<arn>"
    because no identity-based policy allows the <action> action
    ... with an explicit deny in an identity-based policy

(DynamoDB's, in its `AccessDeniedException`, leaves the ARN unquoted.)

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html

A session may also carry session policies (`sandbox/sts/session_policies.py`:
`AssumeRole*`'s `Policy` and `PolicyArns`, or Cognito's scope-down for
guests). Then a need is allowed only if the role's policies allow it and the
session policies (one set: an allow from any of them) allow it too; an
explicit deny in either refuses. Whichever side refused is named in AWS's
words ("... because no session policy allows ...", "... with an explicit
deny in a session policy"), and its explanation is the one recorded.

`sts:AssumeRole` needs one thing more: the role's trust policy must allow
the caller (`sandbox/sts/trust.py`), the account root included, whose
identity no policy limits. Its refusal is STS's ("User: <arn> is not
authorized to perform: sts:AssumeRole on resource: <role arn>").

S3 needs meet the bucket's policy too (`sandbox/s3/bucket_policies.py`):
an explicit deny there refuses ("... with an explicit deny in a
resource-based policy"), and an allow there grants without an identity
allow, within the session policies unless it names the session itself. The
account root is refused only by a bucket-policy Deny naming it, and never
for the bucket policy's own Get/Put/Delete. Unsigned S3 requests are
authorized once, as the anonymous caller (`*`), by the bucket policy alone
(`anonymous_authorize`), and are refused as S3 refuses them: "Access Denied".

A multi-object delete is decided key by key: the refused keys are kept on
the `Verdict`, and the gateway hands moto only the others.

With inspection on, the decision is made by `iampolicy.explain` (which
decides as `evaluate` does, and keeps why) and handed back for the gateway
to keep under the request's ID: decided once, recorded where decided.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iampolicy import Decision, Effect, Explanation, Mode, evaluate, explain
from iampolicy.principals import WEB_IDENTITY_PROVIDER, Caller
from sandbox import moto_seams
from sandbox.cognito_identity import responses as cognito_identity
from sandbox.dynamodb import actions as dynamodb_actions
from sandbox.errors import AwsError, Failure, failure_error
from sandbox.gateway.authentication import Principal
from sandbox.gateway.request import Request, unsigned_operations
from sandbox.s3 import actions as s3_actions
from sandbox.s3 import bucket_policies
from sandbox.s3.actions import DeleteRequest, Need
from sandbox.sts import trust
from sandbox.sts.session_policies import SessionPolicy
from sandbox.sts.sessions import session_policies

log = logging.getLogger("sandbox")


@dataclass
class Verdict:
    """What authorization decided: allowed or not, each need it looked at (in
    order, up to the first refused; every key of a multi-object delete), and
    for a refusal AWS's message and error."""

    allowed: bool
    exempt: str | None = None  # why IAM was not asked, for the exempt requests
    explained: list[Explanation] = field(default_factory=list)  # empty with inspection off
    message: str | None = None
    error: AwsError | None = None  # also a policy PutBucketPolicy refuses to store, IAM having allowed the call
    # A multi-object delete: the objects moto may delete, and those refused (key, version ID).
    deletes: DeleteRequest | None = None
    refused: tuple[tuple[str, str | None], ...] = ()


def exemption(request: Request, principal: Principal | None) -> str | None:
    """Why IAM does not authorize this request, or None when it does: the
    account root's key (outside S3, whose bucket policies may still deny it,
    and `sts:AssumeRole`, whose trust policy decides), `sts:GetCallerIdentity`
    (always allowed), and the public APIs, which stay public when signed
    (`principal` None: unsigned)."""
    if principal is not None and principal.admin and not _assumes_role(request) and request.service != "s3":
        return _ROOT
    if request.service == "sts" and request.operation == "GetCallerIdentity":
        return "sts:GetCallerIdentity: AWS allows it to every caller, whatever their policies."
    if request.operation in unsigned_operations(request.service):
        return f"{request.service}:{request.operation} is a public API: AWS serves it without a signature."
    return None


def needs(request: Request, *, region: str) -> list[Need]:
    """Every permission the request needs; all must be allowed."""
    if request.service == "s3":
        return s3_actions.needs(
            method=request.method,
            raw_path=request.raw_path,
            query=request.query_dict,
            headers=request.headers,
            body=request.body,
        )
    if request.service == "dynamodb":
        return dynamodb_actions.needs(
            request.operation or "", request.params, region=region, schema_of=moto_seams.dynamodb.key_schema
        )
    return [Need(f"{request.service}:{request.operation}", _resource(request.service, request.params, region))]


IDENTITY, SESSION, RESOURCE = "identity-based policy", "session policy", "resource-based policy"  # the sides of a decision
_ROOT = "The account root's key: IAM policies do not limit the root user."


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision, *, side: str = IDENTITY) -> str:
    """AWS's same-account access-denied message, naming the kind of policy
    that refused. DynamoDB alone leaves the resource ARN unquoted."""
    article = "an" if side == IDENTITY else "a"
    why = f"with an explicit deny in {article} {side}" if decision.explicit_deny else (
        f"because no {side} allows the {action} action"
    )
    named = resource if action.startswith("dynamodb:") else f'"{resource}"'
    return f"User: {principal_arn} is not authorized to perform: {action} on resource: {named} {why}"


def _decide(
    documents: tuple[str, ...], names: tuple[str, ...], need: Need, context: dict[str, Any], explained: bool
) -> tuple[Decision, Explanation | None]:
    if explained:
        explanation = explain(documents, action=need.action, resource=need.resource, context=context, names=names)
        return explanation.decision, explanation
    return evaluate(documents, action=need.action, resource=need.resource, context=context, mode=Mode.ENFORCE), None


@dataclass(frozen=True)
class SessionExplanation(Explanation):
    """The session policies' side of a decision, whose reason says that it is
    the session, not the role, that refuses."""

    def reason(self) -> str:
        inner = super().reason().replace("the caller's policies", "the session policies")
        if self.effect is Effect.DENY:
            return f"A session policy denies it, whatever the role allows: {inner}"
        if self.effect is Effect.IMPLICIT_DENY:
            return f"The role's policies allow {self.action}, but no session policy does: {inner}"
        return inner


def _caller(principal: Principal) -> Caller:
    """The principal as a bucket policy names it; a session the identity pool
    issued carries its web-identity keys, and so its federated provider."""
    federated = WEB_IDENTITY_PROVIDER if f"{WEB_IDENTITY_PROVIDER}:aud" in principal.context else None
    return Caller(account=moto_seams.ACCOUNT_ID, arn=principal.arn, role_arn=principal.role_arn, federated=federated)


Side = tuple[Decision, str, Explanation | None]


def _need_decide(
    principal: Principal, session: tuple[SessionPolicy, ...], need: Need, context: dict[str, Any], explained: bool
) -> tuple[Decision, str, list[Explanation]]:
    """The need's decision, the side that made it, and the explanations to
    keep, the deciding side's last. Without session policies and a bucket
    policy the role's policies alone decide."""
    role_decision, role_why = _decide(principal.policies, principal.policy_names, need, context, explained)
    role: Side = (role_decision, IDENTITY, role_why)
    sides: list[Side] = [role]
    limited: Side | None = None
    if session:
        documents, names = tuple(p.document for p in session), tuple(p.name for p in session)
        decision, why = _decide(documents, names, need, context, explained)
        if why is not None:
            why = SessionExplanation(**{f.name: getattr(why, f.name) for f in dataclasses.fields(why)})
        limited = (decision, SESSION, why)
        sides.append(limited)
    caller = _caller(principal)
    bucket = bucket_policies.bucket_decide(need, caller, context, explained=explained)
    granted: Side | None = None
    if bucket is not None:
        sides.append((bucket.decision, RESOURCE, bucket.explanation))
    for side in sides:  # an explicit deny in any wins
        if side[0].explicit_deny:
            return side[0], side[1], _whys(sides, side)
    if role[0].allowed:
        granted = role
    elif bucket is not None and bucket.decision.allowed:
        granted = sides[-1]
    if granted is not None and (limited is None or limited[0].allowed):
        return Decision.ALLOW, granted[1], _whys(sides, granted)
    if limited is not None and bucket is not None and bucket_policies.session_grant(bucket, need, caller, context):
        return Decision.ALLOW, RESOURCE, _whys(sides, sides[-1])  # granted to the session itself: no session policy limits it
    # Nothing grants it (the role's side is named), or the session policies do not allow what is granted.
    refusing = role if granted is None or limited is None else limited
    return Decision.IMPLICIT_DENY, refusing[1], _whys(sides, refusing)


def _whys(sides: list[Side], deciding: Side) -> list[Explanation]:
    """The explanations to keep: the deciding side's, after the bucket
    policy's when that did not decide (a session's other side is left out,
    as it always was)."""
    kept = [s[2] for s in sides if s[1] == RESOURCE and s is not deciding and s[2] is not None]
    return [*kept, *([deciding[2]] if deciding[2] is not None else [])]


def request_authorize(request: Request, principal: Principal, *, region: str, explained: bool = False) -> Verdict:
    """Every need in turn, until one is refused (AccessDenied in the service's
    format, in `Verdict.error`); a multi-object delete's keys are each
    decided, and the refused ones kept. `explained` decides with
    `iampolicy.explain` and keeps each need's explanation; otherwise
    `evaluate` decides alone."""
    verdict = Verdict(allowed=True)
    required = [] if principal.admin and request.service != "s3" else needs(request, region=region)
    refused: list[int] = []
    if principal.admin:  # the root's identity is not limited by policies; a bucket policy's Deny and a role's trust still decide
        if request.service == "s3":
            _root_authorize(request, principal, required, verdict, refused, explained=explained)
    else:
        session = session_policies(principal.access_key_id)
        for need in required:
            context = {**principal.context, **need.context}
            decision, side, whys = _need_decide(principal, session, need, context, explained)
            verdict.explained += whys
            if not decision.allowed:
                detail = denial_message(principal.arn, need.action, need.resource, decision, side=side)
                if not _refuse(request, verdict, need, detail, refused):
                    return verdict
    if not verdict.allowed:
        return verdict
    _deletes_keep(request, required, verdict, refused)
    if request.service == "s3" and _puts_policy(request, required):
        verdict.error = bucket_policies.policy_check(
            bucket=bucket_policies.bucket_of(required[0].resource) or "",
            document=request.streamed.payload if request.streamed is not None else request.body,  # aws-chunked: as decoded
            principal_arn=principal.arn, resource=required[0].resource,
        )
        if verdict.error is not None and verdict.error.code == "AccessDenied":
            log.info("denied: %s", verdict.error.message)
            verdict.allowed, verdict.message = False, verdict.error.message
    if _assumes_role(request):
        _trust_authorize(request, principal, verdict, explained=explained)
    return verdict


def _root_authorize(
    request: Request, principal: Principal, required: list[Need], verdict: Verdict, refused: list[int], *, explained: bool
) -> None:
    """The account root against the bucket policies its needs meet: only an
    explicit Deny naming it refuses, and never the bucket policy's own
    Get/Put/Delete (AWS keeps those for the root so an owner cannot lock
    itself out: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html)."""
    caller, consulted, kept = _caller(principal), False, False
    for need in required:
        bucket = bucket_policies.bucket_decide(need, caller, {**principal.context, **need.context}, explained=explained)
        if bucket is None:
            continue
        consulted = True
        if bucket.explanation is not None:
            verdict.explained.append(bucket.explanation)
        if bucket.decision.explicit_deny:
            if bucket_policies.root_keeps(need.action):
                kept = True
                continue
            detail = denial_message(principal.arn, need.action, need.resource, bucket.decision, side=RESOURCE)
            if not _refuse(request, verdict, need, detail, refused):
                return
    if verdict.allowed and not refused:
        verdict.exempt = _ROOT if not consulted else (
            f"{_ROOT} The bucket policy denies it, but the root may always read, set and delete a bucket's policy."
            if kept else f"{_ROOT} No statement of the bucket policy denies it."
        )


def anonymous_authorize(request: Request, *, context: Mapping[str, Any], region: str, explained: bool = False) -> Verdict:
    """An unsigned S3 request, as the anonymous caller (`*`): no identity
    policy, so only the bucket policy can grant it (and Block Public Access
    can take that grant away). S3 answers "Access Denied" and no more."""
    verdict = Verdict(allowed=True)
    required = needs(request, region=region)
    refused: list[int] = []
    for need in required:
        if bucket_policies.root_keeps(need.action):
            # Only the bucket owner's account may touch a bucket's policy: S3 answers 405 to anyone else.
            verdict.allowed, verdict.message = False, f"Anonymous callers may not call {need.action}."
            verdict.error = AwsError("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
            return verdict
        bucket = bucket_policies.bucket_decide(need, Caller.ANONYMOUS, {**context, **need.context}, explained=explained)
        if bucket is not None and bucket.explanation is not None:
            verdict.explained.append(bucket.explanation)
        if bucket is None or not bucket.decision.allowed:
            why = ("with an explicit deny in a resource-based policy" if bucket is not None and bucket.decision.explicit_deny
                   else f"because no resource-based policy allows the {need.action} action")
            detail = f'Anonymous caller is not authorized to perform: {need.action} on resource: "{need.resource}" {why}'
            if not _refuse(request, verdict, need, detail, refused, error=failure_error(Failure.MISSING_AUTH, "s3")):
                return verdict
    _deletes_keep(request, required, verdict, refused)
    return verdict


def unsigned_authorize(request: Request, *, context: Mapping[str, Any], region: str, explained: bool = False) -> Verdict:
    """An unsigned request: S3's as the anonymous caller; the other services'
    public APIs (the only unsigned requests authentication lets through) exempt."""
    if request.service == "s3":
        return anonymous_authorize(request, context=context, region=region, explained=explained)
    return Verdict(allowed=True, exempt=exemption(request, None))


def _refuse(
    request: Request, verdict: Verdict, need: Need, detail: str, refused: list[int], *, error: AwsError | None = None
) -> bool:
    """Record a refused need; True when the request goes on (a multi-object
    delete's key, listed in the answer), False when it is refused whole."""
    log.info("denied: %s", detail)
    if need.entry is not None:
        refused.append(need.entry)
        verdict.message = verdict.message or detail
        return True
    verdict.allowed, verdict.message = False, detail
    verdict.error = error or failure_error(Failure.ACCESS_DENIED, request.service, detail=detail)
    return False


def _deletes_keep(request: Request, required: list[Need], verdict: Verdict, refused: list[int]) -> None:
    """For a multi-object delete, the objects moto may delete and the refused ones, on the verdict."""
    if not required or required[0].entry is None:
        return
    whole = s3_actions.delete_request(request.body)
    denied = set(refused)
    verdict.deletes = whole.only(i for i in range(len(whole.objects)) if i not in denied)
    verdict.refused = whole.only(sorted(denied)).objects


def _puts_policy(request: Request, required: list[Need]) -> bool:
    return request.method == "PUT" and len(required) == 1 and required[0].action == "s3:PutBucketPolicy"


def _assumes_role(request: Request) -> bool:
    return request.service == "sts" and request.operation == "AssumeRole"


def _trust_authorize(request: Request, principal: Principal, verdict: Verdict, *, explained: bool) -> None:
    """The role's trust policy must also allow the caller (an absent role
    refuses in the same words, so a refusal does not reveal which roles exist)."""
    role_arn = str(request.params.get("RoleArn") or "")
    role = moto_seams.iam.role_by_arn(role_arn) if role_arn else None
    context = {**principal.context, **trust.request_context(request.params)}
    decision, form = (
        trust.trust_decide_by(role, caller_arn=principal.arn, role_arn=principal.role_arn, context=context)
        if role is not None else (Decision.IMPLICIT_DENY, principal.arn)
    )
    if explained:
        verdict.explained.append(trust.trust_explain(role, form=form, context=context, role_arn=role_arn))
    if not decision.allowed:
        detail = trust.denial_message(principal.arn, role_arn, decision)
        log.info("denied by trust policy: %s", detail)
        verdict.allowed, verdict.message = False, detail
        verdict.error = failure_error(Failure.ACCESS_DENIED, request.service, detail=detail)


def _resource(service: str, params: Mapping[str, Any], region: str) -> str:
    """The ARN a non-S3 call acts on, where the request names one."""
    account = moto_seams.ACCOUNT_ID
    if service == "cognito-identity":
        return cognito_identity.resource_arn(params, region)
    if service == "cognito-idp" and isinstance(params.get("UserPoolId"), str):
        return f"arn:aws:cognito-idp:{region}:{account}:userpool/{params['UserPoolId']}"
    if service == "iam":
        if params.get("RoleName"):
            return f"arn:aws:iam::{account}:role/{params['RoleName']}"
        if params.get("UserName"):
            return f"arn:aws:iam::{account}:user/{params['UserName']}"
        if params.get("PolicyArn"):
            return params["PolicyArn"]
        if params.get("OpenIDConnectProviderArn"):
            return params["OpenIDConnectProviderArn"]
        if isinstance(params.get("Url"), str):  # CreateOpenIDConnectProvider: the ARN it would make
            return moto_seams.iam.oidc_provider_arn_for_url(params["Url"])
    if service == "sts" and params.get("RoleArn"):
        return params["RoleArn"]
    return "*"
