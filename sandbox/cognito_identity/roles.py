"""Which role an authenticated login gets: pure functions of the pool's role
mapping and the token's claims, in the order AWS documents.

- No mapping for the provider: the pool's authenticated role.
- `Type: Token`: `CustomRoleArn` if it is among the token's `cognito:roles`
  (refused if not), else `cognito:preferred_role`, else the only role in
  `cognito:roles`, else the ambiguous-role resolution.
- `Type: Rules`: the first rule that matches, in order (at most 25); a rule
  whose claim is missing matches nothing, `NotEqual` included; no match: the
  ambiguous-role resolution.
- The ambiguous-role resolution is the authenticated role
  (`AuthenticatedRole`) or no role at all (`Deny`, returned as None).

The claims are the verified token's, whichever provider issued it: a user
pool's (`cognito:groups`, `custom:*`) or an OpenID Connect provider's (`hd`,
`email`, ...); the mapping is keyed by `Login.mapping_key`. A rule is only as
safe as its claim: one the user can set (a user-pool attribute the app client
may write, an OIDC provider's self-asserted profile field) lets the user pick
the role, and `Contains` lets `wintercorp.com.evil.example` match `wintercorp.com`.
https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.cognito_identity.exceptions import not_authorized

MATCH_TYPES = frozenset({"Equals", "Contains", "StartsWith", "NotEqual"})


def claim_matches(match_type: str, claim: Any, value: str) -> bool:
    """Whether a claim (one value or a list, such as `cognito:groups`) matches a rule."""
    values = [str(v) for v in claim] if isinstance(claim, list) else [str(claim)]
    if match_type == "Equals":
        return value in values
    if match_type == "Contains":
        return any(value in v for v in values)
    if match_type == "StartsWith":
        return any(v.startswith(value) for v in values)
    return value not in values  # NotEqual


def token_role(claims: Mapping[str, Any], *, custom_role_arn: str | None, ambiguous: str | None) -> str | None:
    """`Type: Token`: the role the token's own role claims choose."""
    roles = claims.get("cognito:roles") or []
    if custom_role_arn:
        if custom_role_arn not in roles:
            raise not_authorized("The CustomRoleArn is not among the roles in the token (cognito:roles).")
        return custom_role_arn
    preferred = claims.get("cognito:preferred_role")
    if preferred:
        return preferred
    if len(roles) == 1:
        return roles[0]
    return ambiguous


def rules_role(rules: Sequence[Mapping[str, str]], claims: Mapping[str, Any], *, ambiguous: str | None) -> str | None:
    """`Type: Rules`: the role of the first rule the claims match."""
    for rule in rules:
        claim = claims.get(rule["Claim"])
        if claim is None:
            continue  # a missing claim matches no rule, NotEqual included
        if claim_matches(rule["MatchType"], claim, rule["Value"]):
            return rule["RoleARN"]
    return ambiguous


def role_resolve(
    mapping: Mapping[str, Any] | None,
    claims: Mapping[str, Any],
    *,
    authenticated_role: str | None,
    custom_role_arn: str | None = None,
) -> str | None:
    """The role for an authenticated login under the provider's role mapping
    (None: no mapping); None means the mapping denies."""
    if mapping is None:
        return authenticated_role
    ambiguous = authenticated_role if mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole" else None
    if mapping["Type"] == "Token":
        return token_role(claims, custom_role_arn=custom_role_arn, ambiguous=ambiguous)
    return rules_role(mapping["RulesConfiguration"]["Rules"], claims, ambiguous=ambiguous)
