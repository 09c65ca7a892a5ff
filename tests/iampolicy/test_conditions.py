"""Condition operators, one table row per case, as the IAM user guide's
"IAM JSON policy elements: Condition operators" describes them. Pure
functions: no sandbox."""

from __future__ import annotations

import pytest

from iampolicy import NotUnderstood
from iampolicy.conditions import condition_holds, conditions_hold

SUB = "cognito-identity.amazonaws.com:sub"
AMR = "cognito-identity.amazonaws.com:amr"
ME = "us-east-1:0000aaaa-0000-4000-8000-000000000001"
CONTEXT = {
    SUB: ME,
    AMR: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/pool"],
    "s3:prefix": f"private/{ME}/",
    "s3:max-keys": "100",
    "aws:securetransport": "false",
    "aws:principalarn": "arn:aws:iam::123456789012:role/photoshare-authenticated",
    "empty": [],
}


@pytest.mark.parametrize(
    "operator, key, values, holds",
    [
        # String, with policy variables in the value
        ("StringEquals", SUB, [ME], True),
        ("StringEquals", SUB, [ME.upper()], False),
        ("StringEquals", "s3:prefix", ["private/${cognito-identity.amazonaws.com:sub}/"], True),
        ("StringEquals", "s3:prefix", ["private/${aws:username}/"], False),  # variable without a value
        ("StringNotEquals", SUB, ["someone-else"], True),
        ("StringNotEquals", SUB, [ME], False),
        ("StringEqualsIgnoreCase", SUB, [ME.upper()], True),
        ("StringNotEqualsIgnoreCase", SUB, [ME.upper()], False),
        ("StringLike", "s3:prefix", ["private/${cognito-identity.amazonaws.com:sub}/*"], True),
        ("StringLike", "s3:prefix", ["public/*"], False),
        ("StringLike", "s3:prefix", ["public/*", "private/*"], True),  # listed values are alternatives
        ("StringNotLike", "s3:prefix", ["public/*"], True),
        ("StringNotLike", "s3:prefix", ["private/*"], False),
        # Arn
        ("ArnLike", "aws:principalarn", ["arn:aws:iam::*:role/photoshare-*"], True),
        ("ArnEquals", "aws:principalarn", ["arn:aws:iam::123456789012:role/photoshare-authenticated"], True),
        ("ArnNotLike", "aws:principalarn", ["arn:aws:iam::*:role/other"], True),
        ("ArnNotEquals", "aws:principalarn", ["arn:aws:iam::123456789012:role/photoshare-authenticated"], False),
        # Numeric
        ("NumericEquals", "s3:max-keys", ["100"], True),
        ("NumericNotEquals", "s3:max-keys", ["100"], False),
        ("NumericLessThan", "s3:max-keys", ["101"], True),
        ("NumericLessThan", "s3:max-keys", ["100"], False),
        ("NumericLessThanEquals", "s3:max-keys", ["100"], True),
        ("NumericGreaterThan", "s3:max-keys", ["99"], True),
        ("NumericGreaterThanEquals", "s3:max-keys", ["101"], False),
        ("NumericEquals", "s3:prefix", ["1"], False),  # not a number: false, not an error
        # Bool
        ("Bool", "aws:securetransport", ["false"], True),
        ("Bool", "aws:securetransport", ["true"], False),
        # Null: is the key absent?
        ("Null", "s3:delimiter", ["true"], True),
        ("Null", "s3:prefix", ["true"], False),
        ("Null", "s3:prefix", ["false"], True),
    ],
)
def test_operator(operator, key, values, holds):
    """Each operator family on a key the request carries."""
    assert condition_holds(operator, key, values, CONTEXT) is holds


@pytest.mark.parametrize(
    "operator, holds",
    [
        ("StringEquals", False),  # a missing key fails a positive operator...
        ("StringLike", False),
        ("NumericLessThan", False),
        ("Bool", False),
        ("StringNotEquals", True),  # ...and satisfies a negated one
        ("StringNotLike", True),
        ("ArnNotLike", True),
        ("StringEqualsIfExists", True),  # IfExists: no key, no test
        ("StringLikeIfExists", True),
        ("ForAllValues:StringEquals", True),  # vacuously true: AWS's trap for ForAllValues
        ("ForAnyValue:StringEquals", False),
    ],
)
def test_missing_key(operator, holds):
    """A condition on a key the request does not carry."""
    assert condition_holds(operator, "s3:delimiter", ["/"], CONTEXT) is holds


def test_if_exists_still_tests_a_present_key():
    """...IfExists only changes the answer when the key is absent."""
    assert condition_holds("StringEqualsIfExists", SUB, ["someone-else"], CONTEXT) is False
    assert condition_holds("StringEqualsIfExists", SUB, [ME], CONTEXT) is True


@pytest.mark.parametrize(
    "operator, values, holds",
    [
        ("ForAnyValue:StringLike", ["authenticated"], True),  # one of the amr values matches
        ("ForAnyValue:StringLike", ["unauthenticated"], False),
        ("ForAllValues:StringLike", ["authenticated"], False),  # the provider value does not
        ("ForAllValues:StringLike", ["authenticated", "cognito-idp.*"], True),
        ("StringLike", ["cognito-idp.*"], True),  # no qualifier, positive: any value
        ("StringNotLike", ["unauthenticated"], True),  # no qualifier, negated: every value
        ("StringNotLike", ["authenticated"], False),
    ],
)
def test_multivalued_key(operator, values, holds):
    """ForAnyValue / ForAllValues over the multi-valued amr key."""
    assert condition_holds(operator, AMR, values, CONTEXT) is holds


def test_empty_multivalued_key_counts_as_missing():
    """An empty list of values is the same as no key."""
    assert condition_holds("ForAnyValue:StringEquals", "empty", ["x"], CONTEXT) is False
    assert condition_holds("ForAllValues:StringEquals", "empty", ["x"], CONTEXT) is True


@pytest.mark.parametrize(
    "operator",
    ["IpAddress", "NotIpAddress", "DateGreaterThan", "DateLessThanIfExists", "BinaryEquals", "ForAnyValue:IpAddress",
     "ForSomeValue:StringEquals"],
)
def test_unknown_operator_is_not_understood(operator):
    """An operator this evaluator does not implement is not guessed at: it says so, naming the operator."""
    with pytest.raises(NotUnderstood) as caught:
        condition_holds(operator, "aws:sourceip", ["0.0.0.0/0"], CONTEXT)
    assert caught.value.reasons == (f"condition operator {operator} is not implemented",)


@pytest.mark.parametrize(
    "conditions, outcome",
    [
        (None, True),
        ({}, True),
        ({"StringEquals": {SUB: ME}, "Bool": {"aws:securetransport": "false"}}, True),  # every operator must hold
        ({"StringEquals": {SUB: ME}, "Bool": {"aws:securetransport": "true"}}, False),
        ({"StringEquals": {SUB: ME, "s3:prefix": "public/"}}, False),  # every key too
        # One understood condition fails: the statement certainly does not apply.
        ({"IpAddress": {"aws:sourceip": "0.0.0.0/0"}, "StringEquals": {SUB: "someone-else"}}, False),
        # Nothing understood fails: what was not understood decides, so it is reported.
        ({"IpAddress": {"aws:sourceip": "0.0.0.0/0"}, "StringEquals": {SUB: ME}},
         ("condition operator IpAddress is not implemented",)),
        ({"IpAddress": {"aws:sourceip": "0.0.0.0/0"}, "DateGreaterThan": {"aws:currenttime": "2020-01-01T00:00:00Z"}},
         ("condition operator IpAddress is not implemented", "condition operator DateGreaterThan is not implemented")),
        ({"StringEquals": "not a map"}, ("condition StringEquals is not a map of keys to values",)),
        (["not", "a", "map"], ("the Condition element is not a map of operators",)),
    ],
)
def test_conditions_hold(conditions, outcome):
    """A whole Condition element: all must hold; a definite failure wins over what is not understood."""
    if isinstance(outcome, bool):
        assert conditions_hold(conditions, CONTEXT) is outcome
    else:
        with pytest.raises(NotUnderstood) as caught:
            conditions_hold(conditions, CONTEXT)
        assert caught.value.reasons == outcome
