"""The `Condition` element: each operator, and what happens when the request
lacks the key.

IAM user guide, "IAM JSON policy elements: Condition operators"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
and "Single-valued vs. multivalued context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
- every operator in a block, and every key under it, must hold (AND); the
  values listed for one key are alternatives (OR);
- a key the request does not carry fails the condition, except for the
  negated operators (`StringNotEquals`, ...), `...IfExists` and
  `ForAllValues:`, which then hold; `Null` asks exactly that question;
- `ForAnyValue:` holds if one request value matches, `ForAllValues:` if
  every one does; a negated operator without a qualifier must hold for
  every value.

What this module does not implement (the `Date*`, `IpAddress`, `Binary`
operators, a qualifier it does not know, a block that is not a key-to-values
map) raises `NotUnderstood` instead of guessing: whether that means "does
not apply" or "may apply" is the caller's choice (see `iampolicy.evaluator`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from iampolicy.variables import Context, like, substitute

QUALIFIERS = ("ForAnyValue", "ForAllValues")


class NotUnderstood(Exception):
    """A condition this evaluator cannot decide; `reasons` say which and why."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def as_list(value: Any) -> list[Any]:
    """A policy element's value as a list (IAM allows one value or a list)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- the operator families ---------------------------------------------------------

Matcher = Callable[[str, str, Context], bool]  # (policy value, request value, context)


def _string_equals(*, ignore_case: bool) -> Matcher:
    def match(policy: str, value: str, context: Context) -> bool:
        expected = substitute(policy, context)
        if expected is None:
            return False
        return expected.lower() == value.lower() if ignore_case else expected == value

    return match


def _string_like(policy: str, value: str, context: Context) -> bool:
    return like(policy, value, context)


_NUMERIC_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _numeric(comparison: str) -> Matcher:
    compare = _NUMERIC_COMPARISONS[comparison]

    def match(policy: str, value: str, context: Context) -> bool:
        try:
            return compare(float(value), float(policy))
        except ValueError:  # not a number: the condition is simply false, as in IAM
            return False

    return match


def _bool(policy: str, value: str, context: Context) -> bool:
    return str(policy).lower() == str(value).lower()


# Operator name -> (matcher, negated). A negated operator is its positive
# twin's answer turned around.
OPERATORS: dict[str, tuple[Matcher, bool]] = {
    "StringEquals": (_string_equals(ignore_case=False), False),
    "StringNotEquals": (_string_equals(ignore_case=False), True),
    "StringEqualsIgnoreCase": (_string_equals(ignore_case=True), False),
    "StringNotEqualsIgnoreCase": (_string_equals(ignore_case=True), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_like, False),
    "ArnLike": (_string_like, False),
    "ArnNotEquals": (_string_like, True),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
    **{f"Numeric{name}": (_numeric(name), False) for name in _NUMERIC_COMPARISONS},
    "NumericNotEquals": (_numeric("Equals"), True),
}


# --- one condition, then a whole Condition element ---------------------------------------


def _parse(operator: str) -> tuple[str | None, str, bool]:
    """`ForAnyValue:StringLikeIfExists` -> ("ForAnyValue", "StringLike", True)."""
    qualifier = None
    if ":" in operator and operator.split(":", 1)[0] in QUALIFIERS:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    return qualifier, operator, if_exists


def condition_holds(operator: str, key: str, policy_values: list[Any], context: Context) -> bool:
    """Whether `operator` on `key` holds for the request `context`; raises
    `NotUnderstood` for an operator this module does not implement."""
    qualifier, name, if_exists = _parse(operator)
    present = context.get(key.lower())
    if name == "Null":
        wants_missing = str(policy_values[0]).lower() == "true" if policy_values else True
        return (present is None) == wants_missing
    if name not in OPERATORS:
        raise NotUnderstood(f"condition operator {operator} is not implemented")
    matcher, negated = OPERATORS[name]
    values = as_list(present)

    if present is None or not values:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def one(value: str) -> bool:
        hit = any(matcher(str(p), value, context) for p in policy_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues" or (negated and qualifier is None):
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(conditions: Any, context: Context) -> bool:
    """Whether a statement's whole `Condition` element holds.

    False as soon as one understood condition fails: then nothing it did not
    understand could make the statement apply. Otherwise raises
    `NotUnderstood` with every condition it could not decide, or returns True."""
    if not conditions:  # absent or empty: nothing to hold
        return True
    if not isinstance(conditions, Mapping):
        raise NotUnderstood("the Condition element is not a map of operators")
    unknown: list[str] = []
    for operator, block in conditions.items():
        if not isinstance(block, Mapping):
            unknown.append(f"condition {operator} is not a map of keys to values")
            continue
        for key, values in block.items():
            try:
                if not condition_holds(operator, key, as_list(values), context):
                    return False
            except NotUnderstood as exc:
                unknown.extend(exc.reasons)
    if unknown:
        raise NotUnderstood(*dict.fromkeys(unknown))  # each reason once, in policy order
    return True
