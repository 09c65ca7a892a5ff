"""The enforcer's decision, explained: for every statement, whether its
action, each resource pattern (with its policy variables resolved) and each
condition (the policy's values against the request's) matched, and for the
whole request one sentence a person can act on.

AWS answers a denial with `AccessDenied` and, at best, "no identity-based
policy allows the action". The usual causes (a `${cognito-identity.amazonaws.com:sub}`
that resolved to someone else's ID, a `ListBucket` sent without an `s3:prefix`)
are invisible in that answer, so this module keeps what the evaluator saw.

`explain(..., )` decides exactly as `evaluate(..., mode=Mode.ENFORCE)` does
(the tests check it over every policy case): an explicit Deny beats an Allow,
which beats the implicit deny, and a statement with a condition it cannot
evaluate does not apply (an enforcer fails closed). Unlike `evaluate` it looks
at every statement instead of stopping at the first Deny, because the
explanation needs the near misses too. Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iampolicy.conditions import NotUnderstood, as_list, condition_holds
from iampolicy.evaluator import Decision, Effect, _principal_matches, _statements
from iampolicy.variables import Context, action_like, like, substitute

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = frozenset("*?$")


@dataclass(frozen=True)
class ConditionCheck:
    operator: str
    key: str
    policy_values: tuple[Any, ...]
    request_value: Any  # the context's value: a string, a list, or None when the request lacks the key
    holds: bool
    understood: bool = True  # False: an operator (or block) the evaluator does not implement

    def as_json(self, context: Context) -> dict[str, Any]:
        resolved = [substitute(v, context) if isinstance(v, str) else v for v in self.policy_values]
        return {
            "operator": self.operator,
            "key": self.key,
            "policyValues": list(self.policy_values),
            "resolvedValues": resolved,
            "requestValue": list(self.request_value) if isinstance(self.request_value, (list, tuple)) else self.request_value,
            "holds": self.holds,
            "understood": self.understood,
        }


@dataclass(frozen=True)
class ResourceCheck:
    pattern: str
    resolved: str | None  # None: a policy variable in it has no value for this request
    matches: bool


@dataclass(frozen=True)
class StatementCheck:
    """What one statement made of the request."""

    policy: str  # "role/inline-policy", a managed policy ARN, or "policy 1"
    sid: str | None
    index: int  # its position in its document, from 1
    effect: str  # as written: "Allow", "Deny" (anything else never applies)
    principal_matches: bool | None  # None for identity policies, which name no principal
    action_element: str | None  # "Action", "NotAction", or None when it has neither
    action_matches: bool
    resource_element: str | None  # "Resource", "NotResource", or None
    resource_matches: bool
    resources: tuple[ResourceCheck, ...]
    variables: tuple[tuple[str, Any], ...]  # each policy variable it uses and the request's value
    conditions: tuple[ConditionCheck, ...]
    unreadable: tuple[str, ...]  # why parts of its Condition could not be read
    applies: bool

    @property
    def name(self) -> str:
        return f'"{self.sid}"' if self.sid else str(self.index)

    def failed_conditions(self) -> list[ConditionCheck]:
        return [c for c in self.conditions if not c.holds]

    def explanation(self, action: str, resource: str) -> str:
        """One sentence: why this statement did or did not apply."""
        if self.effect not in ("Allow", "Deny"):
            return f"Does not apply: its Effect is {json.dumps(self.effect)}, neither Allow nor Deny."
        if self.principal_matches is False:
            return "Does not apply: it names another principal."
        if self.action_element is None:
            return "Does not apply: it has neither an Action nor a NotAction element."
        if not self.action_matches:
            if self.action_element == "NotAction":
                return f"Does not apply: its NotAction excludes {action}."
            return f"Does not apply: its Action does not include {action}."
        if not self.resource_matches:
            if self.resource_element is None:
                return "Does not apply: it has neither a Resource nor a NotResource element."
            if self.resource_element == "NotResource":
                return f"Does not apply: its NotResource excludes {resource}."
            return f"Does not apply: {resource} matches none of its resources ({_patterns(self.resources)})."
        failed = [c for c in self.conditions if c.understood and not c.holds]
        if failed:
            return f"Does not apply: its condition {_condition_text(failed[0])} does not hold, since {_request_side(failed[0])}."
        if self.unreadable or any(not c.understood for c in self.conditions):
            reasons = "; ".join(self.not_understood())
            return f"Does not apply: the sandbox cannot evaluate it ({reasons}), and an enforcer applies nothing it cannot evaluate."
        verb = "allows" if self.effect == "Allow" else "explicitly denies"
        under = ", and every condition holds" if self.conditions else ""
        return f"Applies: it {verb} {action} on {resource}{under}."

    def not_understood(self) -> list[str]:
        return [*self.unreadable, *(f"condition operator {c.operator} is not implemented" for c in self.conditions if not c.understood)]

    def as_json(self, action: str, resource: str, context: Context) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "sid": self.sid,
            "index": self.index,
            "effect": self.effect,
            "applies": self.applies,
            "actionMatches": self.action_matches,
            "resourceMatches": self.resource_matches,
            "resources": [{"pattern": r.pattern, "resolved": r.resolved, "matches": r.matches} for r in self.resources],
            "variables": dict(self.variables),
            "conditions": [c.as_json(context) for c in self.conditions],
            "explanation": self.explanation(action, resource),
        }


@dataclass(frozen=True)
class Explanation:
    """One permission (an action on a resource) decided, with every statement's part in it."""

    action: str
    resource: str
    context: Mapping[str, Any]
    effect: Effect
    statements: tuple[StatementCheck, ...]
    policy_count: int

    @property
    def decision(self) -> Decision:
        return {Effect.ALLOW: Decision.ALLOW, Effect.DENY: Decision.DENY}.get(self.effect, Decision.IMPLICIT_DENY)

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW

    def reason(self) -> str:
        """One sentence for a person: what decided it, or what is missing."""
        action, resource = self.action, self.resource
        applying = [s for s in self.statements if s.applies]
        if self.effect is Effect.DENY:
            s = next(s for s in applying if s.effect == "Deny")
            return f"Statement {s.name} of {s.policy} explicitly denies {action} on {resource}, and an explicit deny overrides every allow."
        if self.effect is Effect.ALLOW:
            s = next(s for s in applying if s.effect == "Allow")
            return f"Statement {s.name} of {s.policy} allows {action} on {resource}."
        if not self.policy_count:
            return f"The caller has no identity-based policy, so nothing allows {action} on {resource}."
        allows = [s for s in self.statements if s.effect == "Allow" and s.principal_matches is not False]
        near = [s for s in allows if s.action_matches and s.resource_matches]
        for s in near:
            failed = [c for c in s.conditions if c.understood and not c.holds]
            if failed:
                c = failed[0]
                if _absent(c.request_value):
                    return f"No statement allows {action} on {resource} without {_article(c.key)} {c.key}."
                return (
                    f"No statement allows {action} on {resource} with {c.key} {_shown(c.request_value)}: "
                    f"statement {s.name} of {s.policy} allows it only if {_condition_text(c, self.context)}."
                )
        if near:
            s = near[0]
            return (
                f"No statement the sandbox can evaluate allows {action} on {resource}: statement {s.name} of {s.policy} "
                f"would, but {'; '.join(s.not_understood())}, and an enforcer applies nothing it cannot evaluate."
            )
        by_action = [s for s in allows if s.action_matches and s.resource_element == "Resource"]
        if by_action:
            names = ", ".join(s.name for s in by_action)
            covered = ", ".join(_resolved(r) for s in by_action for r in s.resources)
            return (
                f"No statement allows {action} on {resource}: the statements that allow {action} ({names}) "
                f"cover only {covered}."
            )
        return f"No statement allows {action}: none of the caller's policies names that action."

    def as_json(self) -> dict[str, Any]:
        """The decision's `needs[]` entry of `GET /_sandbox/decisions/<request id>`."""
        return {
            "action": self.action,
            "resource": self.resource,
            "context": {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in self.context.items()},
            "effect": self.effect.value,
            "reason": self.reason(),
            "statements": [s.as_json(self.action, self.resource, self.context) for s in self.statements],
        }


# --- building the checks ----------------------------------------------------------------


def _article(key: str) -> str:
    """`an s3:prefix`, `a cognito-identity...`: by the sound of the first letter's name."""
    return "an" if key[:1].lower() in "aefhilmnorsx" else "a"


def _absent(value: Any) -> bool:
    # An empty `?prefix=` asks for the whole bucket, as no prefix does: both read "without".
    return value is None or value == "" or value == [] or value == ()


def _shown(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _resolved(check: ResourceCheck) -> str:
    if check.resolved is None:
        return f"{check.pattern} (a variable in it has no value here, so it matches nothing)"
    return check.resolved


def _patterns(resources: Sequence[ResourceCheck]) -> str:
    return ", ".join(_resolved(r) for r in resources)


def _condition_text(check: ConditionCheck, context: Context | None = None) -> str:
    values = [substitute(v, context) if context is not None and isinstance(v, str) else v for v in check.policy_values]
    shown = " or ".join(json.dumps(v) for v in values) or "(no values)"
    return f"{check.key} is {check.operator} {shown}"


def _request_side(check: ConditionCheck) -> str:
    if check.request_value is None:
        return f"the request has no {check.key}"
    return f"the request's {check.key} is {_shown(check.request_value)}"


def _variables(texts: Iterable[Any], context: Context) -> tuple[tuple[str, Any], ...]:
    found: dict[str, Any] = {}
    for text in texts:
        if isinstance(text, str):
            for name in _VARIABLE.findall(text):
                if name not in _ESCAPES and name not in found:
                    found[name] = context.get(name.lower())
    return tuple(found.items())


def _conditions(conditions: Any, context: Context) -> tuple[tuple[ConditionCheck, ...], tuple[str, ...]]:
    if not conditions:
        return (), ()
    if not isinstance(conditions, Mapping):
        return (), ("the Condition element is not a map of operators",)
    checks: list[ConditionCheck] = []
    unreadable: list[str] = []
    for operator, block in conditions.items():
        if not isinstance(block, Mapping):
            unreadable.append(f"condition {operator} is not a map of keys to values")
            continue
        for key, values in block.items():
            policy_values = tuple(as_list(values))
            request_value = context.get(str(key).lower())
            try:
                holds, understood = condition_holds(operator, key, list(policy_values), context), True
            except NotUnderstood:
                holds, understood = False, False
            checks.append(ConditionCheck(operator, str(key), policy_values, request_value, holds, understood))
    return tuple(checks), tuple(unreadable)


def _statement_check(
    statement: Mapping[str, Any],
    *,
    policy: str,
    index: int,
    action: str,
    resource: str,
    context: Context,
    principal: Mapping[str, str] | None,
) -> StatementCheck:
    principal_matches: bool | None = None
    if principal is not None:
        principal_matches = (
            ("Principal" in statement or "NotPrincipal" in statement)
            and ("Principal" not in statement or _principal_matches(statement["Principal"], principal))
            and ("NotPrincipal" not in statement or not _principal_matches(statement["NotPrincipal"], principal))
        )
    action_element = next((e for e in ("Action", "NotAction") if e in statement), None)
    action_hit = action_element is not None and any(action_like(str(p), action) for p in as_list(statement[action_element]))
    action_matches = action_hit if action_element == "Action" else (action_element == "NotAction" and not action_hit)
    resource_element = next((e for e in ("Resource", "NotResource") if e in statement), None)
    resources: tuple[ResourceCheck, ...] = ()
    if resource_element is not None:
        resources = tuple(
            ResourceCheck(str(p), substitute(str(p), context), like(str(p), resource, context))
            for p in as_list(statement[resource_element])
        )
        hit = any(r.matches for r in resources)
        resource_matches = hit if resource_element == "Resource" else not hit
    else:
        resource_matches = principal is not None  # identity policies must name resources; trust policies don't
    conditions, unreadable = _conditions(statement.get("Condition"), context)
    variables = _variables(
        [*(r.pattern for r in resources), *(v for c in conditions for v in c.policy_values)], context
    )
    effect = statement.get("Effect")
    applies = (
        principal_matches is not False
        and action_matches
        and resource_matches
        and not unreadable
        and all(c.holds for c in conditions)
        and effect in ("Allow", "Deny")
    )
    sid = statement.get("Sid")
    return StatementCheck(
        policy=policy,
        sid=sid if isinstance(sid, str) and sid else None,
        index=index,
        effect=str(effect),
        principal_matches=principal_matches,
        action_element=action_element,
        action_matches=action_matches,
        resource_element=resource_element,
        resource_matches=resource_matches,
        resources=resources,
        variables=variables,
        conditions=conditions,
        unreadable=unreadable,
        applies=bool(applies),
    )


def explain(
    documents: Iterable[str],
    *,
    action: str,
    resource: str = "*",
    context: Context,
    names: Sequence[str] = (),
    principal: Mapping[str, str] | None = None,
) -> Explanation:
    """Decide `action` on `resource` as `evaluate(..., mode=Mode.ENFORCE)` does,
    keeping every statement's part in it. `names[i]` labels `documents[i]`
    ("photoshare-authenticated/photos"); unnamed ones are "policy <n>"."""
    checks: list[StatementCheck] = []
    count = 0
    for number, document in enumerate(documents, 1):
        count += 1
        label = names[number - 1] if number - 1 < len(names) else f"policy {number}"
        for index, statement in enumerate(_statements(document), 1):
            checks.append(
                _statement_check(
                    statement, policy=label, index=index, action=action, resource=resource, context=context, principal=principal
                )
            )
    applying = {s.effect for s in checks if s.applies}
    effect = Effect.DENY if "Deny" in applying else Effect.ALLOW if "Allow" in applying else Effect.IMPLICIT_DENY
    return Explanation(action, resource, dict(context), effect, tuple(checks), count)
