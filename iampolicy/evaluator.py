"""IAM policy evaluation, for identity policies and role trust policies.

The rules follow the IAM user guide ("Policy evaluation logic", "Condition
operators", "Policy variables"):
- an explicit Deny beats any Allow, which beats the implicit deny;
- `Action` is matched case-insensitively, `Resource` case-sensitively, both
  with `*` and `?` wildcards;
- a policy variable with no value in the request makes that entry not match;
  `${*}`, `${?}` and `${$}` are the literal characters;
- a condition on a key the request does not carry is false, except for the
  negated operators (true), `...IfExists` (true) and `ForAllValues:` (true).

Anything this evaluator does not understand (an unknown operator, say) makes
its statement not apply, which for an Allow fails closed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from functools import lru_cache
from typing import Any

Context = Mapping[str, str | Sequence[str]]  # condition keys are lower-cased


class Mode(Enum):
    """Who is asking. An enforcer fails closed: what it does not understand
    never allows. An auditor fails open: what it does not understand may
    apply, so it is reported rather than missed."""

    ENFORCE = "enforce"
    AUDIT = "audit"


class Decision(Enum):
    ALLOW = "Allow"
    DENY = "Deny"  # an explicit Deny matched
    IMPLICIT_DENY = "ImplicitDeny"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class _Missing(Exception):
    """A policy variable named a key the request does not have."""


def _variable(name: str, context: Context) -> str:
    if name in _ESCAPES:
        return _ESCAPES[name]
    value = context.get(name.lower())
    if value is None or not isinstance(value, str):  # multi-valued keys are not variables
        raise _Missing(name)
    return value


def substitute(text: str, context: Context) -> str | None:
    """`text` with its policy variables replaced, or None if one has no value."""
    try:
        return _VARIABLE.sub(lambda m: _variable(m.group(1), context), text)
    except _Missing:
        return None


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # Pieces split out by `_wildcard_pattern` as "\0" (any run) and "\1" (one char).
    regex = "".join(
        ".*" if ch == "\0" else "." if ch == "\1" else re.escape(ch) for ch in pattern
    )
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _wildcard_pattern(text: str, context: Context) -> str | None:
    """`text` with variables substituted and its own `*`/`?` turned into
    wildcard markers, so a substituted value or an escape stays literal."""
    out: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        out.append(text[position : match.start()].replace("*", "\0").replace("?", "\1"))
        try:
            out.append(_variable(match.group(1), context))
        except _Missing:
            return None
        position = match.end()
    out.append(text[position:].replace("*", "\0").replace("?", "\1"))
    return "".join(out)


def like(pattern: str, value: str, context: Context, *, ignore_case: bool = False) -> bool:
    wildcard = _wildcard_pattern(pattern, context)
    return wildcard is not None and _glob(wildcard, ignore_case).fullmatch(value) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- conditions ---------------------------------------------------------------

def _string_equals(policy: str, value: str, context: Context, ignore_case: bool) -> bool:
    expected = substitute(policy, context)
    if expected is None:
        return False
    return expected.lower() == value.lower() if ignore_case else expected == value


def _numeric(op: str):
    compare = {
        "Equals": lambda a, b: a == b,
        "LessThan": lambda a, b: a < b,
        "LessThanEquals": lambda a, b: a <= b,
        "GreaterThan": lambda a, b: a > b,
        "GreaterThanEquals": lambda a, b: a >= b,
    }[op]

    def match(policy: str, value: str, context: Context) -> bool:
        try:
            return compare(float(value), float(policy))
        except ValueError:
            return False

    return match


def _bool(policy: str, value: str, context: Context) -> bool:
    return str(policy).lower() == str(value).lower()


# Operator name -> (matcher(policy_value, request_value, context), negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (lambda p, v, c: _string_equals(p, v, c, False), False),
    "StringNotEquals": (lambda p, v, c: _string_equals(p, v, c, False), True),
    "StringEqualsIgnoreCase": (lambda p, v, c: _string_equals(p, v, c, True), False),
    "StringNotEqualsIgnoreCase": (lambda p, v, c: _string_equals(p, v, c, True), True),
    "StringLike": (lambda p, v, c: like(p, v, c), False),
    "StringNotLike": (lambda p, v, c: like(p, v, c), True),
    "ArnEquals": (lambda p, v, c: like(p, v, c), False),
    "ArnLike": (lambda p, v, c: like(p, v, c), False),
    "ArnNotEquals": (lambda p, v, c: like(p, v, c), True),
    "ArnNotLike": (lambda p, v, c: like(p, v, c), True),
    "Bool": (_bool, False),
    **{f"Numeric{op}": (_numeric(op), False) for op in ("Equals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")},
    "NumericNotEquals": (_numeric("Equals"), True),
}


def _condition(operator: str, key: str, policy_values: list[Any], context: Context) -> bool:
    qualifier = None
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]

    present = context.get(key.lower())
    if operator == "Null":
        wants_missing = str(policy_values[0]).lower() == "true" if policy_values else True
        return (present is None) == wants_missing
    if operator not in _OPERATORS:
        return False
    matcher, negated = _OPERATORS[operator]
    values = _as_list(present)

    if present is None or not values:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def one(value: str) -> bool:
        hit = any(matcher(str(p), value, context) for p in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if negated and qualifier is None:
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _conditions_hold(conditions: Mapping[str, Any] | None, context: Context) -> bool:
    for operator, block in (conditions or {}).items():
        if not isinstance(block, Mapping):
            return False
        for key, values in block.items():
            if not _condition(operator, key, _as_list(values), context):
                return False
    return True


# --- statements -----------------------------------------------------------------

def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_glob(p.replace("*", "\0").replace("?", "\1"), True).fullmatch(action) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str, context: Context) -> bool:
    return any(like(p, resource, context) for p in patterns)


def _principal_matches(principal: Any, wanted: Mapping[str, str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return any(value in _as_list(principal.get(kind)) or "*" in _as_list(principal.get(kind)) for kind, value in wanted.items())


def _statement_applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Context, principal: Mapping[str, str] | None
) -> bool:
    if principal is not None:
        if "Principal" in statement and not _principal_matches(statement["Principal"], principal):
            return False
        if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], principal):
            return False
        if "Principal" not in statement and "NotPrincipal" not in statement:
            return False
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), action):
            return False
    elif "NotAction" in statement:
        if _action_matches(_as_list(statement["NotAction"]), action):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), resource, context):
            return False
    elif "NotResource" in statement:
        if _resource_matches(_as_list(statement["NotResource"]), resource, context):
            return False
    elif principal is None:  # identity policies must name resources; trust policies don't
        return False
    return _conditions_hold(statement.get("Condition"), context)


@lru_cache(maxsize=1024)
def _statements(document: str) -> tuple[Mapping[str, Any], ...]:
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError):
        return ()
    statements = parsed.get("Statement", []) if isinstance(parsed, Mapping) else []
    return tuple(s for s in _as_list(statements) if isinstance(s, Mapping))


def evaluate(
    documents: Iterable[str],
    *,
    action: str,
    resource: str = "*",
    context: Context,
    mode: Mode,
    principal: Mapping[str, str] | None = None,
) -> Decision:
    """Decide `action` on `resource` under the policy `documents` (JSON text).

    `principal` (e.g. {"Federated": "cognito-identity.amazonaws.com"}) turns
    this into a resource-policy check such as a role's trust policy, where
    each statement must name the caller."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if not _statement_applies(statement, action, resource, context, principal):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
