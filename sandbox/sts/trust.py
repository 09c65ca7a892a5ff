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

from collections.abc import Mapping
from typing import Any

from iampolicy import Decision, Mode, evaluate
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


def trust_decide(
    role: moto_seams.iam.RoleView, *, caller_arn: str, role_arn: str | None, context: Mapping[str, Any]
) -> Decision:
    """The trust policy's decision for this caller; enforcing, so a condition
    it cannot decide never allows."""
    lowered = {k.lower(): v for k, v in context.items()}
    allowed: Decision | None = None
    for form in caller_forms(caller_arn=caller_arn, role_arn=role_arn):
        decision = evaluate(
            [role.trust_policy], action=ACTION, resource=role.arn, context=lowered, mode=Mode.ENFORCE,
            principal={"AWS": form},
        )
        if decision.explicit_deny:
            return decision
        if decision.allowed and allowed is None:
            allowed = decision
    return allowed if allowed is not None else Decision.IMPLICIT_DENY


def denial_message(caller_arn: str, role_arn: str, decision: Decision) -> str:
    """STS's words when the trust policy refuses: the role's ARN unquoted, and
    no reason unless a statement denies explicitly."""
    why = " with an explicit deny in a resource-based policy" if decision.explicit_deny else ""
    return f"User: {caller_arn} is not authorized to perform: {ACTION} on resource: {role_arn}{why}"
