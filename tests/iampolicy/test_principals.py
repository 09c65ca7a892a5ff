"""Whom a resource-based policy's `Principal` and `NotPrincipal` name: each
form AWS accepts, against the root, an IAM user, a role session, a web-identity
session and the anonymous caller; the one-form mappings trust policies use;
and `evaluate` / `explain` deciding with a whole `Caller`.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"""

from __future__ import annotations

import json

import pytest

from iampolicy import Mode, evaluate, explain
from iampolicy.principals import Caller, principal_excluded, principal_named

ACCOUNT = "123456789012"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/photos"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/photos/alice"
USER = f"arn:aws:iam::{ACCOUNT}:user/bob"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other"
COGNITO = "cognito-identity.amazonaws.com"

ROOT = Caller(account=ACCOUNT, arn=ROOT_ARN)
IAM_USER = Caller(account=ACCOUNT, arn=USER)
ROLE_SESSION = Caller(account=ACCOUNT, arn=SESSION, role_arn=ROLE)
WEB_SESSION = Caller(account=ACCOUNT, arn=SESSION, role_arn=ROLE, federated=COGNITO)
ANONYMOUS = Caller.ANONYMOUS

NAMED_CASES = [
    # Principal, caller, effect, named
    ("*", ANONYMOUS, "Allow", True),
    ({"AWS": "*"}, ANONYMOUS, "Allow", True),
    ({"AWS": ["arn:aws:iam::999999999999:root", "*"]}, ANONYMOUS, "Allow", True),
    ({"AWS": ACCOUNT}, ANONYMOUS, "Deny", False),
    ({"AWS": ROLE}, ANONYMOUS, "Allow", False),
    ("*", ROOT, "Deny", True),
    ({"AWS": ACCOUNT}, ROOT, "Allow", True),
    ({"AWS": ROOT_ARN}, ROOT, "Deny", True),
    ({"AWS": ROLE}, ROOT, "Deny", False),
    ({"AWS": SESSION}, ROLE_SESSION, "Allow", True),
    ({"AWS": ROLE}, ROLE_SESSION, "Allow", True),
    ({"AWS": [OTHER_ROLE, ROLE]}, ROLE_SESSION, "Allow", True),
    ({"AWS": OTHER_ROLE}, ROLE_SESSION, "Allow", False),
    ({"AWS": f"{ROLE}*"}, ROLE_SESSION, "Allow", False),  # no wildcards in Principal but "*" itself
    # The account delegates: an Allow naming it grants a role nothing, a Deny naming it refuses everyone in it.
    ({"AWS": ACCOUNT}, ROLE_SESSION, "Allow", False),
    ({"AWS": ROOT_ARN}, ROLE_SESSION, "Allow", False),
    ({"AWS": ACCOUNT}, ROLE_SESSION, "Deny", True),
    ({"AWS": ROOT_ARN}, IAM_USER, "Deny", True),
    ({"AWS": "arn:aws:iam::999999999999:root"}, ROLE_SESSION, "Deny", False),
    ({"AWS": USER}, IAM_USER, "Allow", True),
    ({"AWS": USER}, ROLE_SESSION, "Allow", False),
    ({"Federated": COGNITO}, WEB_SESSION, "Allow", True),
    ({"Federated": COGNITO}, ROLE_SESSION, "Allow", False),
    ({"Federated": "accounts.google.com"}, WEB_SESSION, "Allow", False),
    ({"Service": "s3.amazonaws.com"}, ROLE_SESSION, "Allow", False),
    ("arn:aws:iam::123456789012:role/photos", ROLE_SESSION, "Allow", False),  # a bare string other than "*" names no one
    # Asked for grants naming the session itself (which no session policy limits):
    ({"AWS": SESSION}, ROLE_SESSION.as_session_only(), "Allow", True),
    ({"AWS": ROLE}, ROLE_SESSION.as_session_only(), "Allow", False),
    ("*", ROLE_SESSION.as_session_only(), "Allow", False),
    ({"Federated": COGNITO}, WEB_SESSION.as_session_only(), "Allow", False),
]


@pytest.mark.parametrize("element, caller, effect, named", NAMED_CASES)
def test_principal_names(element, caller, effect, named):
    """Each Principal form names exactly the callers AWS says it does."""
    assert principal_named(element, caller, effect=effect) is named


EXCLUDED_CASES = [
    # NotPrincipal (with Deny), caller, left out of the Deny
    ({"AWS": [SESSION, ROLE, ROOT_ARN]}, ROLE_SESSION, True),
    ({"AWS": [SESSION, ROLE, ACCOUNT]}, ROLE_SESSION, True),
    ({"AWS": [SESSION, ROLE]}, ROLE_SESSION, False),  # the account is not named, so the account is denied
    ({"AWS": [ROLE, ROOT_ARN]}, ROLE_SESSION, False),  # the session is not named
    ({"AWS": [SESSION, ROOT_ARN]}, ROLE_SESSION, False),  # the role is not named
    ({"AWS": [USER, ROOT_ARN]}, IAM_USER, True),
    ({"AWS": USER}, IAM_USER, False),
    ({"AWS": ROOT_ARN}, ROOT, True),
    ({"AWS": ROLE}, ROOT, False),
    ({"AWS": ROOT_ARN}, ANONYMOUS, False),
    ("*", ANONYMOUS, True),
    ({"AWS": "*"}, ROLE_SESSION, True),
    ({"Federated": COGNITO, "AWS": [SESSION, ROOT_ARN]}, WEB_SESSION, True),
]


@pytest.mark.parametrize("element, caller, excluded", EXCLUDED_CASES)
def test_not_principal_leaves_out_only_a_caller_named_at_every_level(element, caller, excluded):
    """A NotPrincipal Deny spares a caller only if it names the account, the role and the session."""
    assert principal_excluded(element, caller, effect="Deny") is excluded


def test_not_principal_with_allow_grants_no_one():
    """AWS does not support NotPrincipal with Allow; the enforcer lets it grant nothing."""
    assert principal_excluded({"AWS": OTHER_ROLE}, ROLE_SESSION, effect="Allow") is True


@pytest.mark.parametrize(
    "element, wanted, named",
    [
        ({"AWS": ROLE}, {"AWS": ROLE}, True),
        ({"AWS": "*"}, {"AWS": ROLE}, True),
        ({"Federated": COGNITO}, {"Federated": COGNITO}, True),
        ({"Federated": COGNITO}, {"AWS": ROLE}, False),
        ("*", {"AWS": ROLE}, True),
    ],
)
def test_one_form_mappings_keep_their_meaning(element, wanted, named):
    """Trust policies (and doctor) still match one form of the caller at a time, as before."""
    assert principal_named(element, wanted, effect="Allow") is named
    assert principal_excluded(element, wanted, effect="Deny") is named


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BUCKET_POLICY = _policy(
    {"Sid": "RoleReads", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
)


@pytest.mark.parametrize(
    "caller, resource, effect",
    [
        (ROLE_SESSION, "arn:aws:s3:::b/a.jpg", "Allow"),
        (ROLE_SESSION, "arn:aws:s3:::b/secret/a.jpg", "Deny"),
        (IAM_USER, "arn:aws:s3:::b/a.jpg", "ImplicitDeny"),
        (IAM_USER, "arn:aws:s3:::b/secret/a.jpg", "Deny"),
        (ANONYMOUS, "arn:aws:s3:::b/secret/a.jpg", "ImplicitDeny"),
    ],
)
def test_evaluate_and_explain_agree_with_a_caller(caller, resource, effect):
    """A bucket policy decided for a whole Caller, the same way by evaluate and explain."""
    decided = evaluate([BUCKET_POLICY], action="s3:GetObject", resource=resource, context={}, mode=Mode.ENFORCE, principal=caller)
    explained = explain([BUCKET_POLICY], action="s3:GetObject", resource=resource, context={}, principal=caller)
    assert decided.effect.value == effect
    assert explained.effect is decided.effect
