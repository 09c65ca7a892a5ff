"""IAM policy evaluation, for identity policies and role trust policies.

The rules follow the IAM user guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
- an explicit Deny beats any Allow, which beats the implicit deny;
- `Action` is matched case-insensitively, `Resource` case-sensitively, both
  with `*` and `?` wildcards (`iampolicy.variables`);
- a statement applies only if every condition holds (`iampolicy.conditions`).

What the evaluator does not understand (a condition operator it does not
implement, such as `BinaryEquals`, a key whose value the caller marked
unknown, or a malformed `Condition`) it cannot decide, and the caller says
what that means:

- `Mode.ENFORCE` (the sandbox, answering a real request) treats such a
  statement as not applying. An Allow it does not understand never allows,
  which fails closed. A Deny it does not understand never fires, so an
  Allow beside it still allows: a known difference from AWS, listed among
  the sandbox's limits in README.md, and harmless for `infra/policies/`,
  which use no such operator.
- `Mode.AUDIT` (`doctor`, asking "could this role do X?") fails open: such a
  statement POSSIBLY applies, and the `Decision` lists it in `undecided`.
  A possible Allow counts as allowed, so "may a guest write?" is never
  answered no by mistake. A possible Deny does not count as denied, because
  concluding "denied" from a Deny that may not apply would hide an Allow
  that does. So in audit mode `allowed` is never false when IAM might allow,
  and `explicit_deny` is true only when a Deny certainly applies.

`undecided` keeps the statements that could change the decision: possible
Allows unless another statement certainly allows, and possible Denies unless
a Deny certainly applies. A caller that combines decisions (identity policies
and a bucket policy, say) can so tell a certain answer from a guess. It is
always empty in `Mode.ENFORCE`, whose decisions are `Decision.ALLOW`,
`Decision.DENY` or `Decision.IMPLICIT_DENY` themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any, ClassVar

from iampolicy.conditions import NotUnderstood, as_list, conditions_hold
from iampolicy.principals import Caller, principal_excluded, principal_named
from iampolicy.variables import Context, action_like, like


class Mode(Enum):
    """Who is asking. An enforcer fails closed: what it does not understand
    never applies. An auditor fails open: what it does not understand may
    apply, so it is reported rather than missed."""

    ENFORCE = "enforce"
    AUDIT = "audit"


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # an explicit Deny applied
    IMPLICIT_DENY = "ImplicitDeny"  # no statement allowed it


@dataclass(frozen=True)
class Undecided:
    """A statement the auditor could not decide, counted as possibly applying."""

    policy: int  # position of its document among those evaluated, from 1
    statement: str  # its Sid in quotes, or its position in the document, from 1
    effect: str  # "Allow" or "Deny"
    reasons: tuple[str, ...]  # e.g. "condition operator BinaryEquals is not implemented"

    def __str__(self) -> str:
        return f"{self.effect} statement {self.statement} of policy {self.policy}: {'; '.join(self.reasons)}"


@dataclass(frozen=True)
class Decision:
    effect: Effect
    undecided: tuple[Undecided, ...] = ()

    ALLOW: ClassVar[Decision]
    DENY: ClassVar[Decision]
    IMPLICIT_DENY: ClassVar[Decision]

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW

    @property
    def explicit_deny(self) -> bool:
        return self.effect is Effect.DENY

    @property
    def certain(self) -> bool:
        """False when a statement the evaluator could not decide might change the decision."""
        return not self.undecided


Decision.ALLOW = Decision(Effect.ALLOW)
Decision.DENY = Decision(Effect.DENY)
Decision.IMPLICIT_DENY = Decision(Effect.IMPLICIT_DENY)


# --- does one statement apply? --------------------------------------------------------------


def _applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Context, principal: Mapping[str, str] | Caller | None
) -> bool:
    """Whether `statement` applies to the request; raises `NotUnderstood` when
    everything matches but a condition could not be decided."""
    if principal is not None:
        effect = statement.get("Effect")
        if "Principal" in statement and not principal_named(statement["Principal"], principal, effect=effect):
            return False
        if "NotPrincipal" in statement and principal_excluded(statement["NotPrincipal"], principal, effect=effect):
            return False
        if "Principal" not in statement and "NotPrincipal" not in statement:
            return False
    if "Action" in statement:
        if not any(action_like(p, action) for p in as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_like(p, action) for p in as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        if not any(like(p, resource, context) for p in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(like(p, resource, context) for p in as_list(statement["NotResource"])):
            return False
    elif principal is None:  # identity policies must name resources; trust policies don't
        return False
    return conditions_hold(statement.get("Condition"), context)


@lru_cache(maxsize=1024)
def _statements(document: str) -> tuple[Mapping[str, Any], ...]:
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError):
        return ()
    statements = parsed.get("Statement", []) if isinstance(parsed, Mapping) else []
    return tuple(s for s in as_list(statements) if isinstance(s, Mapping))


def _name(statement: Mapping[str, Any], position: int) -> str:
    sid = statement.get("Sid")
    return f'"{sid}"' if isinstance(sid, str) and sid else str(position)


# --- all the statements together -------------------------------------------------------------


def _audited(allowed: bool, unsure: list[Undecided]) -> Decision:
    """The auditor's answer, no explicit Deny having certainly applied."""
    possibly_allowed = allowed or any(u.effect == "Allow" for u in unsure)
    relevant = tuple(u for u in unsure if u.effect == "Deny" or (u.effect == "Allow" and not allowed))
    return Decision(Effect.ALLOW if possibly_allowed else Effect.IMPLICIT_DENY, relevant)


def evaluate(
    documents: Iterable[str],
    *,
    action: str,
    resource: str = "*",
    context: Context,
    mode: Mode,
    principal: Mapping[str, str] | Caller | None = None,
) -> Decision:
    """Decide `action` on `resource` under the policy `documents` (JSON text).

    `context` maps lower-cased condition keys to their values. `principal`
    (e.g. {"Federated": "cognito-identity.amazonaws.com"}, one form of the
    caller, or a whole `iampolicy.principals.Caller`) turns this into a
    resource-policy check such as a role's trust policy or a bucket policy,
    where each statement must name the caller."""
    allowed = False
    unsure: list[Undecided] = []
    for policy, document in enumerate(documents, 1):
        for position, statement in enumerate(_statements(document), 1):
            try:
                if not _applies(statement, action, resource, context, principal):
                    continue
            except NotUnderstood as exc:
                if mode is Mode.AUDIT:
                    unsure.append(Undecided(policy, _name(statement, position), str(statement.get("Effect")), exc.reasons))
                continue  # Mode.ENFORCE: a statement it cannot decide does not apply
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    if unsure:
        return _audited(allowed, unsure)
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
