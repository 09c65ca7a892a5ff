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

- `Date*` values are "one of the W3C implementations of the ISO 8601 date
  formats" (https://www.w3.org/TR/NOTE-datetime: `2020-01-01`,
  `2020-01-01T00:00:00Z`, `...T00:00:00.5+02:00`) or epoch seconds, either
  side; they take no policy variables;
- `IpAddress` / `NotIpAddress` values are RFC 4632 CIDR blocks, IPv4 or IPv6;
  an address without a mask is a /32 (or /128).
A value that is no date, address or number makes its comparison false (the
negated operators' true), as IAM answers a key whose value has the wrong type;
nothing here raises on a request's or a policy's values.

What this module does not implement (the `Binary` operators, a qualifier it
does not know, a block that is not a key-to-values map) raises `NotUnderstood`
instead of guessing, and the first use of each unknown operator is logged as
a warning: whether that means "does not apply" or "may apply" is the caller's
choice (see `iampolicy.evaluator`). So does a key whose value the caller
marked `UNKNOWN` (an auditor cannot know a future request's source address or
time; absent would make every condition on it false, and the audit miss it);
`Null` still answers for such a key, which is there. `"<prefix>/*": UNKNOWN`
marks a whole family of keys unknown, whether each is there included
(`s3:ExistingObjectTag/*`: any tag an object may or may not have), so `Null`
on one is undecided too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from iampolicy.variables import Context, like, substitute

QUALIFIERS = ("ForAnyValue", "ForAllValues")

log = logging.getLogger("iampolicy")


class _Unknown:
    """A context value that exists but cannot be known where the policy is
    evaluated (see the module docstring)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


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


# W3C's profile of ISO 8601: a year, a month, a day, then optionally a time
# to the minute, the second or a fraction of it, which must carry its zone.
_W3C_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?)?)?",
    re.ASCII,  # `\d` alone would take any script's digits, which IAM does not
)
_EPOCH = re.compile(r"\d{1,12}(?:\.\d{1,9})?", re.ASCII)


@lru_cache(maxsize=4096)
def _instant(text: str) -> float | None:
    """`text` as seconds since the epoch, or None if IAM would not read it as a date.

    All digits is epoch time, not a year: that is how `aws:EpochTime` arrives,
    and a bare year in a policy is far rarer than an epoch value."""
    if _EPOCH.fullmatch(text):
        return float(text)
    match = _W3C_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        offset = dt.timedelta(0)
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            offset = sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment = dt.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0),
            tzinfo=dt.timezone(offset),
        )
    except ValueError:  # month 13, hour 25, an offset of a day or more...
        return None
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def _date(comparison: str) -> Matcher:
    compare = _NUMERIC_COMPARISONS[comparison]

    def match(policy: str, value: str, context: Context) -> bool:
        # No policy variables: IAM does not substitute them in Date operators.
        left, right = _instant(str(value)), _instant(str(policy))
        return left is not None and right is not None and compare(left, right)

    return match


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)  # 203.0.113.7/24 means its /24, as in IAM
    except ValueError:
        return None


@lru_cache(maxsize=1024)  # a client's address repeats on every request it makes
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack listener reports an IPv4 client as ::ffff:a.b.c.d; IAM sees the IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _ip_address(policy: str, value: str, context: Context) -> bool:
    network, address = _network(str(policy)), _address(str(value))
    # `in` does not compare versions: an IPv4 address would "match" an IPv6 block bit for bit.
    return network is not None and address is not None and address.version == network.version and address in network


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
    **{f"Date{name}": (_date(name), False) for name in _NUMERIC_COMPARISONS},
    "DateNotEquals": (_date("Equals"), True),
    "IpAddress": (_ip_address, False),
    "NotIpAddress": (_ip_address, True),
}

_warned: set[str] = set()


def _not_implemented(operator: str) -> NotUnderstood:
    if operator not in _warned:  # once per operator and process: a policy is evaluated on every request
        _warned.add(operator)
        log.warning("condition operator %s is not implemented; a statement using it is not decided here", operator)
    return NotUnderstood(f"condition operator {operator} is not implemented")


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


def _family_unknown(context: Context, key: str) -> bool:
    """Whether the caller marked the family `key` belongs to UNKNOWN
    (`s3:existingobjecttag/*` for `s3:existingobjecttag/team`)."""
    return "/" in key and context.get(key.split("/", 1)[0] + "/*") is UNKNOWN


def condition_holds(operator: str, key: str, policy_values: list[Any], context: Context) -> bool:
    """Whether `operator` on `key` holds for the request `context`; raises
    `NotUnderstood` for an operator this module does not implement."""
    qualifier, name, if_exists = _parse(operator)
    present = context.get(key.lower())
    if present is None and _family_unknown(context, key.lower()):
        if name == "Null" or name in OPERATORS:  # whether it is there at all is not known either
            raise NotUnderstood(f"the value of {key} is not known before the request is made")
    if name == "Null":
        wants_missing = str(policy_values[0]).lower() == "true" if policy_values else True
        return (present is None) == wants_missing
    if name not in OPERATORS:
        raise _not_implemented(operator)
    if present is UNKNOWN:
        raise NotUnderstood(f"the value of {key} is not known before the request is made")
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
