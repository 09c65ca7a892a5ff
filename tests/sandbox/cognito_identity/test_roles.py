"""Role resolution without a server: a role mapping and a token's claims in,
the role AWS would pick out, in the order the developer guide documents.
https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html"""

from __future__ import annotations

import pytest

from sandbox.cognito_identity.roles import claim_matches, role_resolve, rules_role, token_role
from sandbox.errors import AwsError

AUTH = "arn:aws:iam::123456789012:role/auth"
MOD = "arn:aws:iam::123456789012:role/mod"
ADMIN = "arn:aws:iam::123456789012:role/admin"
TEAM = "arn:aws:iam::123456789012:role/team-wintercorp"


def _token(ambiguous: str = "AuthenticatedRole") -> dict:
    return {"Type": "Token", "AmbiguousRoleResolution": ambiguous}


def _rules(*rules: tuple[str, str, str, str], ambiguous: str = "AuthenticatedRole") -> dict:
    return {
        "Type": "Rules",
        "AmbiguousRoleResolution": ambiguous,
        "RulesConfiguration": {"Rules": [{"Claim": c, "MatchType": m, "Value": v, "RoleARN": r} for c, m, v, r in rules]},
    }


@pytest.mark.parametrize(
    ("mapping", "claims", "custom", "expected"),
    [
        pytest.param(None, {"cognito:preferred_role": MOD}, None, AUTH, id="no-mapping-default-role"),
        pytest.param(_token(), {"cognito:preferred_role": MOD, "cognito:roles": [MOD, ADMIN]}, None, MOD, id="token-preferred"),
        pytest.param(_token(), {"cognito:roles": [MOD, ADMIN]}, ADMIN, ADMIN, id="token-custom-among-roles"),
        pytest.param(_token(), {"cognito:roles": [MOD]}, None, MOD, id="token-single-role"),
        pytest.param(_token(), {"cognito:roles": [MOD, ADMIN]}, None, AUTH, id="token-ambiguous-authenticated"),
        pytest.param(_token("Deny"), {"cognito:roles": [MOD, ADMIN]}, None, None, id="token-ambiguous-deny"),
        pytest.param(_token(), {}, None, AUTH, id="token-no-role-claims"),
        pytest.param(_token("Deny"), {}, None, None, id="token-no-role-claims-deny"),
        pytest.param(_rules(("cognito:groups", "Contains", "mod", MOD)), {"cognito:groups": ["moderators"]}, None, MOD,
                     id="rules-contains-in-list"),
        pytest.param(_rules(("email", "Equals", "a@x", MOD)), {"email": "a@x"}, None, MOD, id="rules-equals"),
        pytest.param(_rules(("email", "Equals", "a@x", MOD)), {"email": "b@x"}, None, AUTH, id="rules-no-match-authenticated"),
        pytest.param(_rules(("email", "Equals", "a@x", MOD), ambiguous="Deny"), {"email": "b@x"}, None, None,
                     id="rules-no-match-deny"),
        pytest.param(_rules(("email", "StartsWith", "adm", ADMIN)), {"email": "admin@x"}, None, ADMIN, id="rules-starts-with"),
        pytest.param(_rules(("email", "NotEqual", "a@x", MOD)), {"email": "b@x"}, None, MOD, id="rules-not-equal"),
        pytest.param(_rules(("email", "NotEqual", "a@x", MOD)), {"email": "a@x"}, None, AUTH, id="rules-not-equal-same"),
        pytest.param(_rules(("custom:tier", "NotEqual", "gold", MOD)), {"email": "a@x"}, None, AUTH,
                     id="rules-not-equal-missing-claim-skipped"),
        pytest.param(_rules(("custom:tier", "NotEqual", "gold", MOD), ambiguous="Deny"), {}, None, None,
                     id="rules-not-equal-missing-claim-deny"),
        pytest.param(_rules(("email", "Equals", "a@x", MOD), ("email", "Contains", "@", ADMIN)), {"email": "a@x"}, None, MOD,
                     id="rules-first-match-wins"),
        pytest.param(_rules(("email", "Equals", "a@x", MOD)), {"email": "a@x"}, ADMIN, MOD, id="rules-ignore-custom-role"),
        # An OpenID Connect provider's claims (issue 16): Google Workspace's `hd`, the hosted domain.
        pytest.param(_rules(("hd", "Equals", "wintercorp.com", TEAM)), {"hd": "wintercorp.com"}, None, TEAM, id="oidc-hd-team"),
        pytest.param(_rules(("hd", "Equals", "wintercorp.com", TEAM)), {"hd": "example.org"}, None, AUTH, id="oidc-hd-other"),
        pytest.param(_rules(("hd", "Equals", "wintercorp.com", TEAM)), {"email": "f@gmail.com"}, None, AUTH, id="oidc-no-hd"),
        pytest.param(_rules(("hd", "Equals", "wintercorp.com", TEAM), ambiguous="Deny"), {"hd": "example.org"}, None, None,
                     id="oidc-hd-other-deny"),
        pytest.param(_rules(("hd", "Equals", "wintercorp.com", TEAM)), {"hd": "wintercorp.com.evil.example"}, None, AUTH,
                     id="oidc-hd-look-alike-equals"),
        pytest.param(_rules(("hd", "Contains", "wintercorp.com", TEAM)), {"hd": "wintercorp.com.evil.example"}, None, TEAM,
                     id="oidc-hd-look-alike-contains-pitfall"),
    ],
)
def test_role_resolution(mapping, claims, custom, expected):
    """The role a login gets for each mapping type, match type and ambiguity rule (None: denied)."""
    assert role_resolve(mapping, claims, authenticated_role=AUTH, custom_role_arn=custom) == expected


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"cognito:roles": [MOD]}, id="not-among-roles"),
        pytest.param({"cognito:preferred_role": ADMIN}, id="only-preferred"),
        pytest.param({}, id="no-roles"),
    ],
)
def test_custom_role_outside_the_token_is_refused(claims):
    """Type Token: a CustomRoleArn the token's cognito:roles do not list is NotAuthorizedException."""
    with pytest.raises(AwsError) as refused:
        token_role(claims, custom_role_arn=ADMIN, ambiguous=AUTH)
    assert refused.value.code == "NotAuthorizedException"


def test_twenty_five_rules_are_tried_in_order():
    """With 25 rules, the first that matches decides, even when a later one matches too; the 25th is still read."""
    rules = [{"Claim": "n", "MatchType": "Equals", "Value": str(i), "RoleARN": f"{AUTH}-{i}"} for i in range(24)]
    rules.append({"Claim": "n", "MatchType": "Contains", "Value": "2", "RoleARN": f"{AUTH}-last"})
    assert len(rules) == 25
    assert rules_role(rules, {"n": "23"}, ambiguous=None) == f"{AUTH}-23"  # Contains "2" matches too, later
    assert rules_role(rules, {"n": "42"}, ambiguous=None) == f"{AUTH}-last"
    assert rules_role(rules, {"n": "99"}, ambiguous=None) is None


@pytest.mark.parametrize(
    ("match_type", "claim", "value", "expected"),
    [
        ("Equals", "a", "a", True),
        ("Equals", ["x", "a"], "a", True),
        ("Equals", "ab", "a", False),
        ("Contains", "moderators", "mod", True),
        ("Contains", ["x", "moderators"], "mod", True),
        ("StartsWith", "admin@x", "adm", True),
        ("StartsWith", "x-admin", "adm", False),
        ("NotEqual", "a", "a", False),
        ("NotEqual", ["a", "b"], "a", False),
        ("NotEqual", "b", "a", True),
        ("Equals", True, "True", True),
    ],
)
def test_claim_matches(match_type, claim, value, expected):
    """Each MatchType against one value or a list of values (a list matches if any value does)."""
    assert claim_matches(match_type, claim, value) is expected
