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
from functools import lru_cache
from typing import Any

from iampolicy.conditions import NotUnderstood, as_list, condition_holds
from iampolicy.evaluator import Decision, Effect, _statements
from iampolicy.principals import Caller, principal_excluded, principal_named
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
class _Compiled:
    """What one statement says, read once per policy document (the documents
    are cached by their text, as the evaluator caches them)."""

    index: int
    sid: str | None
    effect: str
    principal: Any
    not_principal: Any
    has_principal: bool
    action_element: str | None
    actions: tuple[str, ...]
    resource_element: str | None
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[Any, ...]], ...]  # (operator, key, policy values)
    unreadable: tuple[str, ...]
    variable_names: tuple[str, ...]


@lru_cache(maxsize=1024)
def _compiled(document: str) -> tuple[_Compiled, ...]:
    out = []
    for index, statement in enumerate(_statements(document), 1):
        action_element = next((e for e in ("Action", "NotAction") if e in statement), None)
        resource_element = next((e for e in ("Resource", "NotResource") if e in statement), None)
        resources = tuple(str(p) for p in as_list(statement[resource_element])) if resource_element else ()
        conditions: list[tuple[str, str, tuple[Any, ...]]] = []
        unreadable: list[str] = []
        raw = statement.get("Condition")
        if raw and not isinstance(raw, Mapping):
            unreadable.append("the Condition element is not a map of operators")
        elif raw:
            for operator, block in raw.items():
                if not isinstance(block, Mapping):
                    unreadable.append(f"condition {operator} is not a map of keys to values")
                    continue
                conditions += [(operator, str(key), tuple(as_list(values))) for key, values in block.items()]
        names: dict[str, None] = {}
        for text in [*resources, *(v for _, _, values in conditions for v in values)]:
            if isinstance(text, str):
                names.update((n, None) for n in _VARIABLE.findall(text) if n not in _ESCAPES)
        sid = statement.get("Sid")
        out.append(
            _Compiled(
                index=index,
                sid=sid if isinstance(sid, str) and sid else None,
                effect=str(statement.get("Effect")),
                principal=statement.get("Principal"),
                not_principal=statement.get("NotPrincipal"),
                has_principal="Principal" in statement or "NotPrincipal" in statement,
                action_element=action_element,
                actions=tuple(str(p) for p in as_list(statement[action_element])) if action_element else (),
                resource_element=resource_element,
                resources=resources,
                conditions=tuple(conditions),
                unreadable=tuple(unreadable),
                variable_names=tuple(names),
            )
        )
    return tuple(out)


class StatementCheck:
    """What one statement made of the request. The matching is done when the
    request is decided; resolving the patterns for display waits until the
    explanation is read (it changes nothing in the decision)."""

    __slots__ = ("_compiled", "policy", "principal_matches", "action_matches", "resource_hits",
                 "resource_matches", "condition_results", "applies", "_context")

    def __init__(
        self,
        compiled: _Compiled,
        *,
        policy: str,
        principal_matches: bool | None,
        action_matches: bool,
        resource_hits: tuple[bool, ...],
        resource_matches: bool,
        condition_results: tuple[tuple[bool, bool], ...],  # (holds, understood) per condition
        applies: bool,
        context: Context,
    ) -> None:
        self._compiled = compiled
        self.policy = policy
        self.principal_matches = principal_matches
        self.action_matches = action_matches
        self.resource_hits = resource_hits
        self.resource_matches = resource_matches
        self.condition_results = condition_results
        self.applies = applies
        self._context = context

    @property
    def sid(self) -> str | None:
        return self._compiled.sid

    @property
    def index(self) -> int:
        return self._compiled.index

    @property
    def effect(self) -> str:
        return self._compiled.effect

    @property
    def action_element(self) -> str | None:
        return self._compiled.action_element

    @property
    def resource_element(self) -> str | None:
        return self._compiled.resource_element

    @property
    def unreadable(self) -> tuple[str, ...]:
        return self._compiled.unreadable

    @property
    def resources(self) -> tuple[ResourceCheck, ...]:
        return tuple(
            ResourceCheck(p, substitute(p, self._context), hit) for p, hit in zip(self._compiled.resources, self.resource_hits)
        )

    @property
    def variables(self) -> tuple[tuple[str, Any], ...]:
        return tuple((n, self._context.get(n.lower())) for n in self._compiled.variable_names)

    @property
    def conditions(self) -> tuple[ConditionCheck, ...]:
        return tuple(
            ConditionCheck(operator, key, values, self._context.get(key.lower()), holds, understood)
            for (operator, key, values), (holds, understood) in zip(self._compiled.conditions, self.condition_results)
        )

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


def _principal_ok(compiled: _Compiled, principal: Mapping[str, str] | Caller | None) -> bool | None:
    if principal is None:
        return None
    if not compiled.has_principal:
        return False
    if compiled.principal is not None and not principal_named(compiled.principal, principal, effect=compiled.effect):
        return False
    return compiled.not_principal is None or not principal_excluded(compiled.not_principal, principal, effect=compiled.effect)


def _statement_check(
    compiled: _Compiled,
    *,
    policy: str,
    action: str,
    resource: str,
    context: Context,
    principal: Mapping[str, str] | Caller | None,
) -> StatementCheck:
    principal_matches = _principal_ok(compiled, principal)
    element = compiled.action_element
    named = element is not None and any(action_like(p, action) for p in compiled.actions)
    action_matches = named if element == "Action" else (element == "NotAction" and not named)
    hits = tuple(like(p, resource, context) for p in compiled.resources)
    if compiled.resource_element == "Resource":
        resource_matches = any(hits)
    elif compiled.resource_element == "NotResource":
        resource_matches = not any(hits)
    else:
        resource_matches = principal is not None  # identity policies must name resources; trust policies don't
    results = []
    for operator, key, values in compiled.conditions:
        try:
            results.append((condition_holds(operator, key, list(values), context), True))
        except NotUnderstood:
            results.append((False, False))
    applies = (
        principal_matches is not False
        and action_matches
        and resource_matches
        and not compiled.unreadable
        and all(holds for holds, _ in results)
        and compiled.effect in ("Allow", "Deny")
    )
    return StatementCheck(
        compiled,
        policy=policy,
        principal_matches=principal_matches,
        action_matches=action_matches,
        resource_hits=hits,
        resource_matches=resource_matches,
        condition_results=tuple(results),
        applies=bool(applies),
        context=context,
    )


def explain(
    documents: Iterable[str],
    *,
    action: str,
    resource: str = "*",
    context: Context,
    names: Sequence[str] = (),
    principal: Mapping[str, str] | Caller | None = None,
) -> Explanation:
    """Decide `action` on `resource` as `evaluate(..., mode=Mode.ENFORCE)` does,
    keeping every statement's part in it. `names[i]` labels `documents[i]`
    ("photoshare-authenticated/photos"); unnamed ones are "policy <n>"."""
    checks: list[StatementCheck] = []
    count = 0
    for number, document in enumerate(documents, 1):
        count += 1
        label = names[number - 1] if number - 1 < len(names) else f"policy {number}"
        compiled = _compiled(document) if isinstance(document, str) else ()
        checks += [
            _statement_check(c, policy=label, action=action, resource=resource, context=context, principal=principal)
            for c in compiled
        ]
    applying = {s.effect for s in checks if s.applies}
    effect = Effect.DENY if "Deny" in applying else Effect.ALLOW if "Allow" in applying else Effect.IMPLICIT_DENY
    return Explanation(action, resource, context, effect, tuple(checks), count)
