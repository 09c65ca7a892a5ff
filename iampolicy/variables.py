"""Policy variables and wildcards: how a pattern in a policy meets a value in
a request.

IAM user guide, "IAM policy elements: Variables and tags"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
- `${key}` is replaced by the request's value for that condition key; a key
  the request does not carry makes the whole entry not match (it is never
  replaced by an empty string, which would widen `private/${...}/*`);
- `${*}`, `${?}` and `${$}` are a literal `*`, `?` and `$`;
- `*` matches any run of characters and `?` any one, but only where the
  policy author wrote them: a substituted value or an escape stays literal,
  so an identity ID cannot smuggle a wildcard into a Resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

Context = Mapping[str, str | Sequence[str]]  # condition keys, lower-cased, to their values

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
# What `*` and `?` become once variables are substituted, so that a literal
# `*` from a value or an escape is not taken for a wildcard.
_ANY_RUN, _ANY_ONE = "\0", "\1"


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


def _wildcards(text: str) -> str:
    return text.replace("*", _ANY_RUN).replace("?", _ANY_ONE)


def _wildcard_pattern(text: str, context: Context) -> str | None:
    """`text` with variables substituted and its own `*`/`?` turned into
    wildcard markers, or None if a variable has no value."""
    out: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        out.append(_wildcards(text[position : match.start()]))
        try:
            out.append(_variable(match.group(1), context))
        except _Missing:
            return None
        position = match.end()
    out.append(_wildcards(text[position:]))
    return "".join(out)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if ch == _ANY_RUN else "." if ch == _ANY_ONE else re.escape(ch) for ch in pattern
    )
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, context: Context, *, ignore_case: bool = False) -> bool:
    """Whether `value` matches the policy `pattern` (variables, `*`, `?`)."""
    wildcard = _wildcard_pattern(pattern, context)
    return wildcard is not None and _glob(wildcard, ignore_case).fullmatch(value) is not None


def action_like(pattern: str, action: str) -> bool:
    """Whether `action` matches an `Action` entry: wildcards, no variables,
    and case-insensitive, as IAM compares action names."""
    return _glob(_wildcards(pattern), True).fullmatch(action) is not None
