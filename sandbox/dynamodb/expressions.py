"""DynamoDB's expressions, read only as far as IAM needs them: which
attribute names a request names (`dynamodb:Attributes`) and the partition
key's equality in a `Query`'s key condition (`dynamodb:LeadingKeys`).

moto parses the same expressions again to execute them, so this reader is
strict where a difference would matter: a character it does not know, an
undefined `#name` or `:value`, or a key condition that is not exactly one
`<partition key> = :value` (no `OR`, `NOT` or `IN`, the key named once) is
refused with DynamoDB's `ValidationException` before anything is decided.
Names it reports may be more than moto uses (a name nested in a path, say,
counts by its top-level attribute), never fewer.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.errors import AwsError

MAX_EXPRESSION = 4096  # characters; DynamoDB's limit on any one expression

_TOKEN = re.compile(
    r"\s+"
    r"|(?P<name>#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<op><>|<=|>=|[=<>(),.\[\]+-])"
    r"|(?P<number>[0-9]+)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
    re.ASCII,
)
# Words that are never attribute names in an expression (case does not matter to DynamoDB).
_KEYWORDS = frozenset({"and", "or", "not", "between", "in", "set", "remove", "add", "delete"})
_NOT_IN_KEY_CONDITIONS = frozenset({"or", "not", "in"})

Token = tuple[str, str]  # (kind, text)


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def tokens(expression: Any, *, parameter: str) -> list[Token]:
    """The expression's tokens, or a ValidationException naming the parameter."""
    if not isinstance(expression, str) or not expression.strip():
        raise validation(f"Invalid {parameter}: The expression can not be empty;")
    if len(expression) > MAX_EXPRESSION:
        raise validation(f"Invalid {parameter}: Expression size has exceeded the maximum allowed size;")
    found: list[Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise validation(f"Invalid {parameter}: Syntax error; token: \"{expression[position:position + 10]}\"")
        if match.lastgroup is not None:
            found.append((match.lastgroup, match.group()))
        position = match.end()
    return found


def _resolve(token: Token, names: Mapping[str, Any]) -> str:
    kind, text = token
    if kind == "word":
        return text
    resolved = names.get(text)
    if not isinstance(resolved, str) or not resolved:
        raise validation(
            f"Value provided in ExpressionAttributeNames unused in expressions or undefined; attribute name: {text}"
        )
    return resolved


def _attribute_positions(found: list[Token]) -> list[int]:
    """Where top-level attribute names stand: a `#name` or a word that is
    not a keyword, not a function (followed by `(`) and not nested (after `.`)."""
    positions = []
    for index, (kind, text) in enumerate(found):
        if kind not in ("name", "word"):
            continue
        if index > 0 and found[index - 1][1] == ".":
            continue
        if kind == "word" and (text.lower() in _KEYWORDS or (index + 1 < len(found) and found[index + 1][1] == "(")):
            continue
        positions.append(index)
    return positions


def attribute_names(expression: Any, names: Mapping[str, Any], *, parameter: str) -> set[str]:
    """The top-level attribute names an expression names."""
    found = tokens(expression, parameter=parameter)
    return {_resolve(found[i], names) for i in _attribute_positions(found)}


def scalar(value: Any, *, what: str) -> str:
    """A key attribute's value as IAM compares it: the text of an S, N or B value."""
    if isinstance(value, Mapping) and len(value) == 1:
        (kind, text), = value.items()
        if kind in ("S", "N", "B") and isinstance(text, str):
            return text
    raise validation(f"One or more parameter values were invalid: {what} must be a string, number or binary value")


def key_condition_partition(
    expression: Any, names: Mapping[str, Any], values: Mapping[str, Any], *, partition_key: str
) -> str:
    """The partition-key value of a `KeyConditionExpression`: it must hold
    exactly one `<partition key> = :value` (either way round) and name the
    partition key nowhere else, as DynamoDB requires of a key condition."""
    parameter = "KeyConditionExpression"
    found = tokens(expression, parameter=parameter)
    if any(kind == "word" and text.lower() in _NOT_IN_KEY_CONDITIONS for kind, text in found):
        raise validation(f"Invalid {parameter}: OR, NOT and IN are not allowed in a key condition")
    equalities: list[str] = []
    for index in _attribute_positions(found):
        if _resolve(found[index], names) != partition_key:
            continue
        before = found[index - 2:index] if index >= 2 else []
        after = found[index + 1:index + 3]
        left = len(before) == 2 and before[0][0] == "value" and before[1][1] == "="
        right = len(after) == 2 and after[0][1] == "=" and after[1][0] == "value"
        if right and not left:
            equalities.append(after[1][1])
        elif left and not right:
            equalities.append(before[0][1])
        else:
            raise validation(f"Query key condition not supported: the partition key {partition_key} must be compared with =")
    if len(equalities) != 1:
        raise validation(f"Query condition missed key schema element: {partition_key}")
    placeholder = equalities[0]
    if placeholder not in values:
        raise validation(f"Value provided in ExpressionAttributeValues unused in expressions or undefined; keys: {{{placeholder}}}")
    return scalar(values[placeholder], what=f"the value of {partition_key}")
