"""Whole-policy decisions: Deny > Allow > implicit deny, the Action and
Resource elements and their Not forms, trust policies, and what each mode
does with a statement it cannot decide. Pure functions: no sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iampolicy import Decision, Effect, Mode, Undecided, evaluate

BUCKET = "arn:aws:s3:::photos"
SUB = "${cognito-identity.amazonaws.com:sub}"
ME = "us-east-1:0000aaaa-0000-4000-8000-000000000001"
CONTEXT = {"cognito-identity.amazonaws.com:sub": ME, "aws:sourceip": "203.0.113.7"}
# Operators the evaluator does not implement (a binary comparison; a qualifier IAM does not have).
BINARY = {"BinaryEquals": {"aws:SourceIp": "AAAA"}}
SOME_VALUE = {"ForSomeValue:StringLike": {"aws:CurrentTime": "*"}}
WRONG_IDENTITY = {"StringEquals": {"cognito-identity.amazonaws.com:sub": "someone-else"}}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "s3:PutObject", resource: Any = f"{BUCKET}/*", **elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **elements}


def deny(action: Any = "s3:PutObject", resource: Any = f"{BUCKET}/*", **elements: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **elements}


def decide(*statements: dict[str, Any], action: str = "s3:PutObject", key: str = "public/x.jpg", mode: Mode = Mode.ENFORCE) -> Decision:
    return evaluate([policy(*statements)], action=action, resource=f"{BUCKET}/{key}", context=CONTEXT, mode=mode)


@pytest.mark.parametrize(
    "statements, action, key, effect",
    [
        ([], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),
        ([allow()], "s3:PutObject", "a.jpg", Effect.ALLOW),
        ([allow(), deny()], "s3:PutObject", "a.jpg", Effect.DENY),  # an explicit Deny beats an Allow...
        ([deny(), allow()], "s3:PutObject", "a.jpg", Effect.DENY),  # ...in whatever order
        ([deny(resource=f"{BUCKET}/private/*"), allow()], "s3:PutObject", "public/a.jpg", Effect.ALLOW),
        ([allow(action="s3:GetObject")], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),
        ([allow(action=["s3:GetObject", "s3:Put*"])], "s3:PutObject", "a.jpg", Effect.ALLOW),
        ([allow(action="S3:putobject")], "s3:PutObject", "a.jpg", Effect.ALLOW),
        ([allow(resource=f"{BUCKET}/private/{SUB}/*")], "s3:PutObject", f"private/{ME}/a.jpg", Effect.ALLOW),
        ([allow(resource=f"{BUCKET}/private/{SUB}/*")], "s3:PutObject", "private/someone-else/a.jpg", Effect.IMPLICIT_DENY),
        ([{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}], "s3:PutObject", "a.jpg", Effect.ALLOW),
        ([{"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"}], "s3:DeleteObject", "a.jpg", Effect.IMPLICIT_DENY),
        ([{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/private/*"}], "s3:GetObject", "public/a.jpg", Effect.ALLOW),
        ([{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/private/*"}], "s3:GetObject", "private/a.jpg", Effect.IMPLICIT_DENY),
        ([allow(), {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}], "s3:PutObject", "a.jpg", Effect.DENY),
        ([{"Effect": "Allow", "Resource": "*"}], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),  # no Action at all
        ([{"Effect": "Allow", "Action": "*"}], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),  # no Resource at all
        ([{"Effect": "Maybe", "Action": "*", "Resource": "*"}], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),
        ([allow(Condition=WRONG_IDENTITY)], "s3:PutObject", "a.jpg", Effect.IMPLICIT_DENY),
    ],
)
def test_decision(statements, action, key, effect):
    """Deny > Allow > implicit deny over Action/NotAction and Resource/NotResource."""
    decision = decide(*statements, action=action, key=key)
    assert (decision.effect, decision.undecided) == (effect, ())
    assert decision.allowed is (effect is Effect.ALLOW)
    assert decision.explicit_deny is (effect is Effect.DENY)


def test_policies_are_evaluated_together():
    """An Allow in one document and a Deny in another: the Deny wins; an unreadable document adds nothing."""
    documents = [policy(allow()), "not json", json.dumps(["no", "statement"]), policy(deny())]
    decision = evaluate(documents, action="s3:PutObject", resource=f"{BUCKET}/a.jpg", context=CONTEXT, mode=Mode.ENFORCE)
    assert decision is Decision.DENY
    assert evaluate(documents[:3], action="s3:PutObject", resource=f"{BUCKET}/a.jpg", context=CONTEXT, mode=Mode.ENFORCE).allowed


TRUST = policy(
    {
        "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
        },
    }
)


@pytest.mark.parametrize(
    "principal, aud, amr, allowed",
    [
        ({"Federated": "cognito-identity.amazonaws.com"}, "us-east-1:pool", ["authenticated", "provider"], True),
        ({"Federated": "cognito-identity.amazonaws.com"}, "us-east-1:other-pool", ["authenticated"], False),
        ({"Federated": "cognito-identity.amazonaws.com"}, "us-east-1:pool", ["unauthenticated"], False),
        ({"AWS": "arn:aws:iam::999999999999:root"}, "us-east-1:pool", ["authenticated"], False),
    ],
)
def test_trust_policy(principal, aud, amr, allowed):
    """A trust policy names its principal, the pool's aud and the amr; a statement without Principal never applies."""
    context = {"cognito-identity.amazonaws.com:aud": aud, "cognito-identity.amazonaws.com:amr": amr}
    decision = evaluate([TRUST], action="sts:AssumeRoleWithWebIdentity", resource="arn:aws:iam::1:role/r",
                        context=context, mode=Mode.ENFORCE, principal=principal)
    assert decision.allowed is allowed


def test_enforce_returns_the_three_decisions():
    """Enforcing, the answer is always one of the three decided constants, so `is` comparisons hold."""
    assert decide(allow()) is Decision.ALLOW
    assert decide(deny()) is Decision.DENY
    assert decide() is Decision.IMPLICIT_DENY
    assert decide(allow(Condition=BINARY)) is Decision.IMPLICIT_DENY


# What each mode makes of statements it cannot decide: (statements, enforce, audit, undecided statements).
# Audit: a possible Allow is allowed; a possible Deny never denies; only what could change the decision is listed.
UNKNOWN_CASES = [
    ("Allow under BinaryEquals", [allow(Condition=BINARY)], Effect.IMPLICIT_DENY, Effect.ALLOW, ["Allow 1"]),
    ("Allow under ForSomeValue", [allow(Condition=SOME_VALUE)], Effect.IMPLICIT_DENY, Effect.ALLOW, ["Allow 1"]),
    ("Allow under a malformed block", [allow(Condition={"StringEquals": "x"})], Effect.IMPLICIT_DENY, Effect.ALLOW, ["Allow 1"]),
    ("Allow under BinaryEquals and a failing condition", [allow(Condition={**BINARY, **WRONG_IDENTITY})],
     Effect.IMPLICIT_DENY, Effect.IMPLICIT_DENY, []),
    ("Allow under BinaryEquals on another action", [allow(action="s3:GetObject", Condition=BINARY)],
     Effect.IMPLICIT_DENY, Effect.IMPLICIT_DENY, []),
    ("plain Allow, Allow under BinaryEquals", [allow(), allow(Condition=BINARY)], Effect.ALLOW, Effect.ALLOW, []),
    ("Deny under BinaryEquals alone", [deny(Condition=BINARY)], Effect.IMPLICIT_DENY, Effect.IMPLICIT_DENY, ["Deny 1"]),
    ("plain Allow, Deny under BinaryEquals", [allow(), deny(Condition=BINARY)], Effect.ALLOW, Effect.ALLOW, ["Deny 2"]),
    ("plain Allow, Deny under ForSomeValue", [allow(), deny(Condition=SOME_VALUE)], Effect.ALLOW, Effect.ALLOW, ["Deny 2"]),
    ("plain Deny, Allow under BinaryEquals", [deny(), allow(Condition=BINARY)], Effect.DENY, Effect.DENY, []),
    ("Allow and Deny both under BinaryEquals", [allow(Condition=BINARY), deny(Condition=BINARY)],
     Effect.IMPLICIT_DENY, Effect.ALLOW, ["Allow 1", "Deny 2"]),
]


@pytest.mark.parametrize(
    "statements, enforced, audited, undecided", [c[1:] for c in UNKNOWN_CASES], ids=[c[0] for c in UNKNOWN_CASES]
)
def test_enforce_fails_closed_audit_fails_open(statements, enforced, audited, undecided):
    """The enforcer never applies what it cannot decide; the auditor counts it as possibly applying and says so."""
    enforce, audit = decide(*statements, mode=Mode.ENFORCE), decide(*statements, mode=Mode.AUDIT)
    assert (enforce.effect, enforce.undecided) == (enforced, ())
    assert audit.effect is audited
    assert [f"{u.effect} {u.statement}" for u in audit.undecided] == undecided
    assert audit.certain is (not undecided)


def test_undecided_names_the_statement_and_the_operator():
    """The reason names the policy, the statement (its Sid when it has one) and the operator."""
    documents = [policy(allow(action="s3:GetObject")), policy(allow(Sid="UploadsFromAnywhere", Condition={**BINARY, **SOME_VALUE}))]
    decision = evaluate(documents, action="s3:PutObject", resource=f"{BUCKET}/a.jpg", context=CONTEXT, mode=Mode.AUDIT)
    assert decision.allowed and not decision.certain
    [undecided] = decision.undecided
    assert undecided == Undecided(
        policy=2,
        statement='"UploadsFromAnywhere"',
        effect="Allow",
        reasons=("condition operator BinaryEquals is not implemented", "condition operator ForSomeValue:StringLike is not implemented"),
    )
    assert str(undecided) == (
        'Allow statement "UploadsFromAnywhere" of policy 2: condition operator BinaryEquals is not implemented; '
        "condition operator ForSomeValue:StringLike is not implemented"
    )
