"""Policy variables, escapes and wildcards, as the IAM user guide's
"IAM policy elements: Variables and tags" describes them. Pure functions:
no sandbox."""

from __future__ import annotations

import pytest

from iampolicy import like, substitute
from iampolicy.variables import action_like

SUB = "cognito-identity.amazonaws.com:sub"
ME = "us-east-1:0000aaaa-0000-4000-8000-000000000001"
CONTEXT = {SUB: ME, "aws:userid": "AROAEXAMPLE:CognitoIdentityCredentials", "amr": ["authenticated", "x"]}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("private/${cognito-identity.amazonaws.com:sub}/*", f"private/{ME}/*"),
        ("private/${Cognito-Identity.amazonaws.com:SUB}/*", f"private/{ME}/*"),  # key names are case-insensitive
        ("${aws:userid}", "AROAEXAMPLE:CognitoIdentityCredentials"),
        ("literal ${*} ${?} ${$}", "literal * ? $"),
        ("no variables", "no variables"),
        ("${aws:username}/x", None),  # a key the request lacks: the entry does not match
        ("${amr}", None),  # a multi-valued key is not a variable
    ],
)
def test_substitute(text, expected):
    """A variable becomes the request's value; an escape its literal; a missing or multi-valued key None."""
    assert substitute(text, CONTEXT) == expected


@pytest.mark.parametrize(
    "pattern, value, matches",
    [
        ("private/${cognito-identity.amazonaws.com:sub}/*", f"private/{ME}/a.jpg", True),
        ("private/${cognito-identity.amazonaws.com:sub}/*", "private/us-east-1:other/a.jpg", False),
        ("private/${aws:username}/*", "private//a.jpg", False),  # never an empty string in its place
        ("a?c", "abc", True),
        ("a?c", "abbc", False),
        ("a*c", "ac", True),
        ("a*c", "a\nb\nc", True),  # `*` runs across newlines too
        ("a${*}c", "a*c", True),  # the escape is a literal star...
        ("a${*}c", "abc", False),  # ...not a wildcard
        ("a${?}c", "abc", False),
        ("a${$}c", "a$c", True),
        ("Private/*", "private/x", False),  # resources are case-sensitive
        ("a.c", "abc", False),  # regex characters are literal
    ],
)
def test_like(pattern, value, matches):
    """Wildcards only where the policy wrote them; substituted values and escapes stay literal."""
    assert like(pattern, value, CONTEXT) is matches


def test_substituted_value_cannot_smuggle_a_wildcard():
    """An identity ID holding `*` matches only itself, never another user's prefix."""
    context = {SUB: "us-east-1:*"}
    assert like("private/${cognito-identity.amazonaws.com:sub}/x", "private/us-east-1:*/x", context)
    assert not like("private/${cognito-identity.amazonaws.com:sub}/x", "private/us-east-1:victim/x", context)


@pytest.mark.parametrize(
    "pattern, action, matches",
    [
        ("s3:GetObject", "s3:getobject", True),  # actions are case-insensitive
        ("s3:Get*", "s3:GetObjectVersion", True),
        ("s3:*", "iam:PassRole", False),
        ("*", "iam:PassRole", True),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:${*}", "s3:GetObject", False),  # no variables in actions
    ],
)
def test_action_like(pattern, action, matches):
    """Action entries: wildcards, case-insensitive, no policy variables."""
    assert action_like(pattern, action) is matches
