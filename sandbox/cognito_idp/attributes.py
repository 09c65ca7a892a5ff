"""Which attributes a user may set for herself, and which her ID token
carries, through one app client.

A user writes her own attributes with her access token (UpdateUserAttributes)
or at sign-up (SignUp), and Cognito lets her write only what her app client's
`WriteAttributes` lists; left empty, the standard attributes and no custom
one. moto lets anyone write anything, even attributes the pool does not have,
and a role mapped from a claim users can write (workshop lab 5) is only a
misconfiguration if the rest are refused. Likewise an ID token carries only
the custom attributes its client may read (`ReadAttributes`; left empty, the
standard ones), where moto puts every custom attribute in every ID token.
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html#user-pool-settings-attribute-permissions-and-scopes

This module is the rule alone; `sandbox/moto_seams/cognitoidp.py` applies it
to moto's pools and clients. Administrators (AdminUpdateUserAttributes,
AdminCreateUser) are not limited by it, as on AWS.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sandbox.errors import AwsError

# What an app client without WriteAttributes may write: the standard
# attributes, without the `*_verified` flags or `sub`, which only Cognito
# and administrators set (CreateUserPoolClient, WriteAttributes).
STANDARD_WRITABLE = frozenset(
    {
        "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name",
        "name", "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at",
        "website", "zoneinfo",
    }
)
UNAUTHORIZED = "A client attempted to write unauthorized attribute"


def attributes_write_check(*, names: Iterable[str], schema: Collection[str], write_attributes: Collection[str] | None) -> None:
    """Refuse (AwsError) a self-service write of `names`: any attribute the
    pool does not have, as AWS words it, then any its client may not write."""
    names = list(names)
    unknown = [name for name in names if name not in schema]
    if unknown:
        listed = "\n".join(f"user.{name}: Attribute does not exist in the schema." for name in unknown)
        raise AwsError("InvalidParameterException", f"Invalid user attributes: {listed}")
    writable = frozenset(write_attributes) if write_attributes else STANDARD_WRITABLE
    if any(name not in writable for name in names):
        raise AwsError("NotAuthorizedException", UNAUTHORIZED)


def id_token_readable(claims: Mapping[str, Any], *, read_attributes: Collection[str] | None) -> dict[str, Any]:
    """`claims` without the custom attributes the token's client may not read."""
    readable = frozenset(read_attributes or ())
    return {name: value for name, value in claims.items() if not name.startswith("custom:") or name in readable}
