"""Reading DynamoDB's expressions for IAM: the top-level attribute names an
expression names, and the one partition-key equality of a key condition;
anything this reader could read differently from DynamoDB is refused
(ValidationException). Pure functions, no sandbox."""

from __future__ import annotations

import pytest

from sandbox.dynamodb.expressions import attribute_names, key_condition_partition
from sandbox.errors import AwsError

NAMES = {"#t": "title", "#p": "identityId", "#s": "secret"}
VALUES = {":me": {"S": "us-east-1:me"}, ":n": {"N": "7"}, ":a": {"S": "a"}, ":b": {"S": "b"}}

ATTRIBUTE_CASES = [
    ("title", {"title"}),
    ("title, secret", {"title", "secret"}),
    ("#t, #s", {"title", "secret"}),
    ("title.part, photos[0]", {"title", "photos"}),
    ("#t.#s", {"title"}),  # nested: the top-level attribute counts
    ("SET title = :a, #s = if_not_exists(#s, :b) REMOVE old ADD n :n DELETE tags :a", {"title", "secret", "old", "n", "tags"}),
    ("SET photos = list_append(photos, :a)", {"photos"}),
    ("attribute_not_exists(title) AND (size(secret) > :n OR NOT contains(tags, :a))", {"title", "secret", "tags"}),
    ("version = :n", {"version"}),
    ("a BETWEEN :a AND :b", {"a"}),
    ("kind IN (:a, :b)", {"kind"}),
    ("#t=:a", {"title"}),
]


@pytest.mark.parametrize(("expression", "expected"), ATTRIBUTE_CASES)
def test_attribute_names(expression, expected):
    """Every top-level attribute an expression names, placeholders resolved, functions and keywords left out."""
    assert attribute_names(expression, NAMES, parameter="X") == expected


@pytest.mark.parametrize("expression", ["", "   ", "title; DROP", "#undefined", "title & secret", "a" * 5000, 7])
def test_unreadable_expression_refused(expression):
    """Empty, unknown characters, an undefined placeholder, too long, not text: ValidationException."""
    with pytest.raises(AwsError) as caught:
        attribute_names(expression, NAMES, parameter="ProjectionExpression")
    assert caught.value.code == "ValidationException"


PARTITION_CASES = [
    ("identityId = :me", "us-east-1:me"),
    (":me = identityId", "us-east-1:me"),
    ("#p = :me", "us-east-1:me"),
    ("identityId = :me AND albumId = :a", "us-east-1:me"),
    ("identityId = :me and begins_with(albumId, :a)", "us-east-1:me"),
    ("(#p = :me AND begins_with (albumId, :a))", "us-east-1:me"),
    ("identityId = :me AND albumId BETWEEN :a AND :b", "us-east-1:me"),
    ("identityId=:n", "7"),
]


@pytest.mark.parametrize(("expression", "expected"), PARTITION_CASES)
def test_partition_equality_read(expression, expected):
    """The value compared with `=` to the partition key, either way round, placeholders resolved."""
    assert key_condition_partition(expression, NAMES, VALUES, partition_key="identityId") == expected


NO_PARTITION = [
    "albumId = :a",  # the sort key only
    "identityId > :me",
    "identityId <= :me",
    "begins_with(identityId, :me)",
    "identityId BETWEEN :a AND :b",
    "identityId = :me OR albumId = :a",
    "NOT identityId = :me",
    "identityId IN (:me, :a)",
    "identityId = :me AND identityId = :a",
    "identityId = :me AND #p = :a",
    "identityId = :missing",
    "identityId = albumId",
    ":me = identityId = :a",
    "other.identityId = :me",
]


@pytest.mark.parametrize("expression", NO_PARTITION)
def test_no_single_partition_equality_refused(expression):
    """No one clear `<partition key> = :value`: refused, never read as some partition."""
    with pytest.raises(AwsError) as caught:
        key_condition_partition(expression, NAMES, VALUES, partition_key="identityId")
    assert caught.value.code == "ValidationException"


@pytest.mark.parametrize("value", [{"SS": ["a"]}, {"S": "a", "N": "1"}, {"S": 1}, "a", {"BOOL": True}])
def test_partition_value_must_be_scalar(value):
    """A set, two types, a number where text belongs, a bare string, a boolean: not a key value."""
    with pytest.raises(AwsError):
        key_condition_partition("identityId = :v", {}, {":v": value}, partition_key="identityId")


_PARTS = ["identityId", "#p", "#t", ":me", ":a", "=", "<", ">=", "<>", "(", ")", ",", ".", "[", "0", "]", "AND", "or",
          "NOT", "IN", "BETWEEN", "begins_with", "size", " ", "SET", "REMOVE", "+", "-", "albumId", "\t", "é", "$"]


def test_random_expressions_refused_with_aws_errors_only():
    """20,000 random token strings: each is read or refused with a ValidationException, never another exception."""
    import random

    rng = random.Random(5)
    for _ in range(20_000):
        expression = "".join(rng.choice(_PARTS) + rng.choice(["", " "]) for _ in range(rng.randint(0, 12)))
        for read in (
            lambda: attribute_names(expression, NAMES, parameter="X"),
            lambda: key_condition_partition(expression, NAMES, VALUES, partition_key="identityId"),
        ):
            try:
                read()
            except AwsError as error:
                assert error.code == "ValidationException"
