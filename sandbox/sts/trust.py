"""May this caller assume this role: the role's trust policy on
`sts:AssumeRole`, the resource-policy half of the decision (the caller's
identity policies are the other half, and both must allow).

A trust policy names the caller in any of the forms AWS accepts for it: an
IAM user by its ARN, a role session by its assumed-role ARN or by its role's
ARN, and any principal of the account by `arn:aws:iam::<account>:root` or
the bare account ID (which delegates the choice to the account's identity
policies). A statement applies if it names the caller in any form, so each
form is evaluated and an explicit deny in any of them wins.

AWS refuses `AssumeRole` to the root user altogether ("Roles may not be
assumed by root accounts"); the sandbox's admin key is the account root and
its provisioning and tests assume roles with it, so here the root may, but
only where the trust policy names the account, its root or `*`.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iampolicy import Decision, Effect, Explanation, Mode, evaluate, explain
from sandbox import moto_seams

ACTION = "sts:AssumeRole"


def caller_forms(*, caller_arn: str, role_arn: str | None) -> list[str]:
    """Every way a trust policy's `"AWS"` principal may name this caller."""
    account = moto_seams.ACCOUNT_ID
    forms = [caller_arn, role_arn, f"arn:aws:iam::{account}:root", account]
    return list(dict.fromkeys(f for f in forms if f))


def request_context(params: Mapping[str, Any]) -> dict[str, str]:
    """The condition keys `AssumeRole` itself brings, as trust policies test them."""
    keys = {"RoleSessionName": "sts:rolesessionname", "ExternalId": "sts:externalid", "SourceIdentity": "sts:sourceidentity"}
    return {key: params[name] for name, key in keys.items() if isinstance(params.get(name), str)}


def trust_decide_by(
    role: moto_seams.iam.RoleView, *, caller_arn: str, role_arn: str | None, context: Mapping[str, Any]
) -> tuple[Decision, str]:
    """The trust policy's decision for this caller (enforcing: a condition it
    cannot decide never allows), and the form of the caller that decided it
    (the caller's own ARN when nothing names it), to explain the same case."""
    lowered = {k.lower(): v for k, v in context.items()}
    allowed: tuple[Decision, str] | None = None
    for form in caller_forms(caller_arn=caller_arn, role_arn=role_arn):
        decision = evaluate(
            [role.trust_policy], action=ACTION, resource=role.arn, context=lowered, mode=Mode.ENFORCE,
            principal={"AWS": form},
        )
        if decision.explicit_deny:
            return decision, form
        if decision.allowed and allowed is None:
            allowed = (decision, form)
    return allowed if allowed is not None else (Decision.IMPLICIT_DENY, caller_arn)


@dataclass(frozen=True)
class TrustExplanation(Explanation):
    """The trust policy's side of an `AssumeRole` decision, whose reason says
    that it is the role's trust, not the caller's policies, that decides."""

    def reason(self) -> str:
        # Statements naming another principal do not apply, so "names that action" is about this caller's.
        inner = super().reason().replace("the caller's policies", "the trust statements naming this caller")
        if self.effect is Effect.ALLOW:
            return f"The role's trust policy admits the caller: {inner}"
        return f"The role's trust policy does not admit the caller, whatever its own policies allow: {inner}"


def trust_explain(
    role: moto_seams.iam.RoleView | None, *, form: str, context: Mapping[str, Any], role_arn: str
) -> TrustExplanation:
    """`iampolicy.explain` on the trust policy for the deciding form of the
    caller; a role that does not exist is explained as a trust naming no one."""
    document = role.trust_policy if role is not None else '{"Version": "2012-10-17", "Statement": []}'
    name = f"{role.name} trust policy" if role is not None else "the trust policy of a role that does not exist"
    explanation = explain(
        [document], action=ACTION, resource=role_arn, context={k.lower(): v for k, v in context.items()},
        names=(name,), principal={"AWS": form},
    )
    return TrustExplanation(**{f.name: getattr(explanation, f.name) for f in dataclasses.fields(explanation)})


def denial_message(caller_arn: str, role_arn: str, decision: Decision) -> str:
    """STS's words when the trust policy refuses: the role's ARN unquoted, and
    no reason unless a statement denies explicitly."""
    why = " with an explicit deny in a resource-based policy" if decision.explicit_deny else ""
    return f"User: {caller_arn} is not authorized to perform: {ACTION} on resource: {role_arn}{why}"
