"""May the caller do it: each IAM action the request needs, evaluated on the
caller's identity policies, failing closed.

S3 needs are read from the REST request (`sandbox/s3/actions.py`); every
other service needs `<service>:<operation>` on the resource the request
names. The evaluator runs as an enforcer (`Mode.ENFORCE`): a statement with an
operator it does not know never allows. Refusals name the principal, action
and resource in AWS's current form for same-account denials, S3's included
(the resource ARN in quotes):

    User: <arn> is not authorized to perform: <action> on resource: "<arn>"
    because no identity-based policy allows the <action> action
    ... with an explicit deny in an identity-based policy

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
from sandbox import moto_seams
from sandbox.cognito_identity import responses as cognito_identity
from sandbox.errors import AwsError, Failure, failure_error
from sandbox.gateway.authentication import Principal
from sandbox.gateway.request import Request, unsigned_operations
from sandbox.s3 import actions as s3_actions
from sandbox.s3.actions import Need
from sandbox.sts import trust
from sandbox.sts.session_policies import SessionPolicy
from sandbox.sts.sessions import session_policies

log = logging.getLogger("sandbox")


@dataclass
class Verdict:
    """What authorization decided: allowed or not, each need it looked at (in
    order, up to the first refused), and for a refusal AWS's message and error."""

    allowed: bool
    exempt: str | None = None  # why IAM was not asked, for the exempt requests
    explained: list[Explanation] = field(default_factory=list)  # empty with inspection off
    message: str | None = None
    error: AwsError | None = None


def exemption(request: Request, principal: Principal | None) -> str | None:
    """Why IAM does not authorize this request, or None when it does: the
    account root's key, `sts:GetCallerIdentity` (always allowed), and the
    public APIs, which stay public when signed (`principal` None: unsigned)."""
    if principal is not None and principal.admin and not _assumes_role(request):
        return "The account root's key: IAM policies do not limit the root user."
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
    return [Need(f"{request.service}:{request.operation}", _resource(request.service, request.params, region))]


IDENTITY, SESSION = "identity-based policy", "session policy"  # the two sides of a session's decision


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision, *, side: str = IDENTITY) -> str:
    """AWS's same-account access-denied message, naming the kind of policy that refused."""
    article = "an" if side == IDENTITY else "a"
    why = f"with an explicit deny in {article} {side}" if decision.explicit_deny else (
        f"because no {side} allows the {action} action"
    )
    return f'User: {principal_arn} is not authorized to perform: {action} on resource: "{resource}" {why}'


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


def _need_decide(
    principal: Principal, session: tuple[SessionPolicy, ...], need: Need, context: dict[str, Any], explained: bool
) -> tuple[Decision, str, Explanation | None]:
    """The need's decision, the side that made it, and that side's explanation.
    Without session policies the role's policies alone decide."""
    role_decision, role_why = _decide(principal.policies, principal.policy_names, need, context, explained)
    if not session:
        return role_decision, IDENTITY, role_why
    documents, names = tuple(p.document for p in session), tuple(p.name for p in session)
    session_decision, session_why = _decide(documents, names, need, context, explained)
    if session_why is not None:
        session_why = SessionExplanation(**{f.name: getattr(session_why, f.name) for f in dataclasses.fields(session_why)})
    sides = ((role_decision, IDENTITY, role_why), (session_decision, SESSION, session_why))
    for side in sides:  # an explicit deny in either wins
        if side[0].explicit_deny:
            return side
    for side in sides:  # then both must allow; the first that does not is the one named
        if not side[0].allowed:
            return side
    return sides[0]


def request_authorize(request: Request, principal: Principal, *, region: str, explained: bool = False) -> Verdict:
    """Every need in turn, until one is refused (AccessDenied in the service's
    format, in `Verdict.error`). `explained` decides with `iampolicy.explain`
    and keeps each need's explanation; otherwise `evaluate` decides alone."""
    verdict = Verdict(allowed=True)
    session = session_policies(principal.access_key_id)
    # The root's identity is not limited by policies, but a role's trust still decides for it.
    for need in [] if principal.admin else needs(request, region=region):
        context = {**principal.context, **need.context}
        decision, side, explanation = _need_decide(principal, session, need, context, explained)
        if explanation is not None:
            verdict.explained.append(explanation)
        if not decision.allowed:
            detail = denial_message(principal.arn, need.action, need.resource, decision, side=side)
            log.info("denied: %s", detail)
            verdict.allowed, verdict.message = False, detail
            verdict.error = failure_error(Failure.ACCESS_DENIED, request.service, detail=detail)
            return verdict
    if _assumes_role(request):
        _trust_authorize(request, principal, verdict, explained=explained)
    return verdict


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
    if service == "sts" and params.get("RoleArn"):
        return params["RoleArn"]
    return "*"
