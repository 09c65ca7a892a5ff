"""The explaining evaluation: it decides as the enforcer does (over every
policy case of `test_evaluator.py` and a seeded random sweep), and it says
why: an explicit deny, an implicit deny, a failed condition, a resolved
policy variable. Pure functions: no sandbox."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from iampolicy import Effect, Mode, evaluate, explain
from tests.iampolicy import test_evaluator as cases

BUCKET = "arn:aws:s3:::photos"
SUB = "${cognito-identity.amazonaws.com:sub}"
ME = "us-east-1:0000aaaa-0000-4000-8000-000000000001"
CONTEXT = {"cognito-identity.amazonaws.com:sub": ME, "aws:sourceip": "203.0.113.7"}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _parametrized(test: Any) -> list[Any]:
    """The case table of an existing parametrized test, so a new case there is checked here too."""
    [mark] = [m for m in test.pytestmark if m.name == "parametrize"]
    return list(mark.args[1])


DECISION_CASES = _parametrized(cases.test_decision)
UNKNOWN_CASES = [(c[1], c[2]) for c in cases.UNKNOWN_CASES]


@pytest.mark.parametrize("statements, action, key, effect", DECISION_CASES)
def test_agrees_with_the_enforcer_on_every_decision_case(statements, action, key, effect):
    """Each case of test_evaluator's decision table: the same effect as evaluate(..., Mode.ENFORCE)."""
    documents = [policy(*statements)]
    resource = f"{BUCKET}/{key}"
    enforced = evaluate(documents, action=action, resource=resource, context=CONTEXT, mode=Mode.ENFORCE)
    explained = explain(documents, action=action, resource=resource, context=CONTEXT)
    assert explained.effect is enforced.effect is effect
    assert explained.decision is enforced


@pytest.mark.parametrize("statements, enforced", UNKNOWN_CASES)
def test_agrees_with_the_enforcer_on_what_it_cannot_decide(statements, enforced):
    """A statement with an operator it does not implement never applies, as when enforcing."""
    explained = explain([policy(*statements)], action="s3:PutObject", resource=f"{BUCKET}/public/x.jpg", context=CONTEXT)
    assert explained.effect is enforced


def test_agrees_with_the_enforcer_on_trust_policies():
    """Trust policies (a Principal to match) decide as evaluate does, for each case of test_trust_policy."""
    for principal, aud, amr, allowed in _parametrized(cases.test_trust_policy):
        context = {"cognito-identity.amazonaws.com:aud": aud, "cognito-identity.amazonaws.com:amr": amr}
        explained = explain([cases.TRUST], action="sts:AssumeRoleWithWebIdentity", resource="arn:aws:iam::1:role/r",
                            context=context, principal=principal)
        assert explained.allowed is allowed


# The seeded sweep: random statements built from these parts, each checked against the enforcer.
_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "s3:ListBucket", "*", "iam:ListRoles"]
_RESOURCES = [f"{BUCKET}/*", f"{BUCKET}/private/{SUB}/*", f"{BUCKET}/public/*/*", BUCKET, "*", f"{BUCKET}/private/${{aws:username}}/*"]
_CONDITIONS = [
    None,
    {"StringLike": {"s3:prefix": ["private/" + SUB + "/*", "public/*"]}},
    {"StringEquals": {"cognito-identity.amazonaws.com:sub": ME}},
    {"StringNotEquals": {"cognito-identity.amazonaws.com:sub": ME}},
    {"Null": {"s3:prefix": "true"}},
    {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"BinaryEquals": {"aws:SourceIp": "AAAA"}},
    {"StringEqualsIfExists": {"s3:prefix": "public/"}},
    {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
    "not a map",
]
_REQUESTS = [
    ("s3:GetObject", f"{BUCKET}/private/{ME}/a.jpg", {}),
    ("s3:PutObject", f"{BUCKET}/private/someone-else/a.jpg", {}),
    ("s3:GetObject", f"{BUCKET}/public/x/a.jpg", {}),
    ("s3:ListBucket", BUCKET, {}),
    ("s3:ListBucket", BUCKET, {"s3:prefix": "public/"}),
    ("s3:ListBucket", BUCKET, {"s3:prefix": f"private/{ME}/"}),
    ("iam:ListRoles", "*", {}),
]


def _random_statement(rng: random.Random) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Deny", "Maybe"])}
    statement[rng.choice(["Action", "Action", "NotAction"])] = rng.sample(_ACTIONS, rng.randint(1, 2))
    if rng.random() < 0.95:
        statement[rng.choice(["Resource", "Resource", "NotResource"])] = rng.sample(_RESOURCES, rng.randint(1, 2))
    condition = rng.choice(_CONDITIONS)
    if condition is not None:
        statement["Condition"] = condition
    return statement


def test_agrees_with_the_enforcer_on_random_policies():
    """1,000 seeded random policies of 1 to 4 statements, each request: the effects are equal."""
    rng = random.Random(13)
    amr = {"cognito-identity.amazonaws.com:amr": ["authenticated", "cognito-idp.us-east-1.amazonaws.com/p"]}
    for _ in range(1000):
        documents = [policy(*(_random_statement(rng) for _ in range(rng.randint(1, 4)))) for _ in range(rng.randint(1, 2))]
        action, resource, extra = rng.choice(_REQUESTS)
        context = {**CONTEXT, **amr, **extra}
        enforced = evaluate(documents, action=action, resource=resource, context=context, mode=Mode.ENFORCE)
        explained = explain(documents, action=action, resource=resource, context=context)
        assert explained.effect is enforced.effect, (documents, action, resource, context)


# --- what it says ---------------------------------------------------------------------------


def test_an_explicit_deny_names_its_statement():
    """An explicit deny is explained by the Deny statement that applied, which overrides the Allow."""
    documents = [policy({"Sid": "Uploads", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"}),
                 policy({"Sid": "NoPrivate", "Effect": "Deny", "Action": "s3:*", "Resource": f"{BUCKET}/private/*"})]
    explained = explain(documents, action="s3:PutObject", resource=f"{BUCKET}/private/a.jpg", context=CONTEXT,
                        names=["role/uploads", "role/guard"])
    assert explained.effect is Effect.DENY
    assert explained.reason() == (
        f'Statement "NoPrivate" of role/guard explicitly denies s3:PutObject on {BUCKET}/private/a.jpg, '
        "and an explicit deny overrides every allow."
    )
    allow_, deny_ = explained.as_json()["statements"]
    assert (allow_["applies"], deny_["applies"]) == (True, True)
    assert (deny_["policy"], deny_["sid"], deny_["index"], deny_["effect"]) == ("role/guard", "NoPrivate", 1, "Deny")


def test_an_implicit_deny_says_which_resources_are_allowed():
    """No statement covers the resource: the reason lists what the action is allowed on, variables resolved."""
    documents = [policy({"Sid": "Own", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/private/{SUB}/*"})]
    other = f"{BUCKET}/private/us-east-1:someone-else/a.jpg"
    explained = explain(documents, action="s3:GetObject", resource=other, context=CONTEXT, names=["auth/photos"])
    assert explained.effect is Effect.IMPLICIT_DENY
    assert explained.reason() == (
        f'No statement allows s3:GetObject on {other}: the statements that allow s3:GetObject ("Own") '
        f"cover only {BUCKET}/private/{ME}/*."
    )
    [statement] = explained.as_json()["statements"]
    assert (statement["actionMatches"], statement["resourceMatches"], statement["applies"]) == (True, False, False)
    assert statement["explanation"] == f"Does not apply: {other} matches none of its resources ({BUCKET}/private/{ME}/*)."


def test_an_implicit_deny_for_an_action_nothing_names():
    """No statement names the action at all: the reason says so."""
    explained = explain([policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})],
                        action="s3:PutObject", resource=f"{BUCKET}/a.jpg", context=CONTEXT)
    assert explained.reason() == "No statement allows s3:PutObject: none of the caller's policies names that action."
    assert explain([], action="s3:PutObject", resource="*", context=CONTEXT).reason().startswith("The caller has no identity-based policy")


LIST_OWN = {
    "Sid": "OwnerListsOwnPrefixes",
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": BUCKET,
    "Condition": {"StringLike": {"s3:prefix": [f"private/{SUB}/*", f"public/{SUB}/*"]}},
}


@pytest.mark.parametrize("extra", [{}, {"s3:prefix": ""}], ids=["no prefix", "empty prefix"])
def test_a_list_without_a_prefix(extra):
    """ListBucket without an s3:prefix (or an empty one): the condition on the missing key is named."""
    explained = explain([policy(LIST_OWN)], action="s3:ListBucket", resource=BUCKET, context={**CONTEXT, **extra})
    assert explained.effect is Effect.IMPLICIT_DENY
    assert explained.reason() == f"No statement allows s3:ListBucket on {BUCKET} without an s3:prefix."
    [condition] = explained.as_json()["statements"][0]["conditions"]
    assert condition == {
        "operator": "StringLike",
        "key": "s3:prefix",
        "policyValues": [f"private/{SUB}/*", f"public/{SUB}/*"],
        "resolvedValues": [f"private/{ME}/*", f"public/{ME}/*"],
        "requestValue": extra.get("s3:prefix"),
        "holds": False,
        "understood": True,
    }


def test_a_failed_condition_shows_both_values():
    """A prefix the condition does not allow: the request's value against the policy's, resolved."""
    context = {**CONTEXT, "s3:prefix": "private/us-east-1:someone-else/"}
    explained = explain([policy(LIST_OWN)], action="s3:ListBucket", resource=BUCKET, context=context, names=["auth/photos"])
    assert explained.reason() == (
        f'No statement allows s3:ListBucket on {BUCKET} with s3:prefix "private/us-east-1:someone-else/": '
        f'statement "OwnerListsOwnPrefixes" of auth/photos allows it only if s3:prefix is StringLike '
        f'"private/{ME}/*" or "public/{ME}/*".'
    )
    [statement] = explained.as_json()["statements"]
    assert statement["explanation"] == (
        f'Does not apply: its condition s3:prefix is StringLike "private/{SUB}/*" or "public/{SUB}/*" does not hold, '
        'since the request\'s s3:prefix is "private/us-east-1:someone-else/".'
    )


def test_a_resolved_policy_variable():
    """An allowed read of one's own prefix: each pattern with its variable resolved, and the variable's value."""
    documents = [policy({"Sid": "Own", "Effect": "Allow", "Action": ["s3:GetObject"],
                         "Resource": [f"{BUCKET}/private/{SUB}/*", f"{BUCKET}/home/${{aws:username}}/*"]})]
    explained = explain(documents, action="s3:GetObject", resource=f"{BUCKET}/private/{ME}/a.jpg", context=CONTEXT,
                        names=["auth/photos"])
    assert explained.allowed
    assert explained.reason() == f'Statement "Own" of auth/photos allows s3:GetObject on {BUCKET}/private/{ME}/a.jpg.'
    [statement] = explained.as_json()["statements"]
    assert statement["resources"] == [
        {"pattern": f"{BUCKET}/private/{SUB}/*", "resolved": f"{BUCKET}/private/{ME}/*", "matches": True},
        {"pattern": f"{BUCKET}/home/${{aws:username}}/*", "resolved": None, "matches": False},
    ]
    assert statement["variables"] == {"cognito-identity.amazonaws.com:sub": ME, "aws:username": None}
    assert statement["explanation"] == f"Applies: it allows s3:GetObject on {BUCKET}/private/{ME}/a.jpg."


def test_a_condition_it_cannot_evaluate_is_said_so():
    """An Allow under BinaryEquals: not applied when enforcing, and the reason says why."""
    documents = [policy({"Sid": "Office", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                         "Condition": {"BinaryEquals": {"aws:SourceIp": "AAAA"}}})]
    explained = explain(documents, action="s3:PutObject", resource=f"{BUCKET}/a.jpg", context=CONTEXT)
    assert explained.effect is Effect.IMPLICIT_DENY
    assert "condition operator BinaryEquals is not implemented" in explained.reason()
    [condition] = explained.as_json()["statements"][0]["conditions"]
    assert (condition["holds"], condition["understood"], condition["requestValue"]) == (False, False, "203.0.113.7")
