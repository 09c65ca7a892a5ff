"""Whom a resource-based policy's `Principal` or `NotPrincipal` names.

Two callers ask. A role's trust policy is matched against one form of the
caller at a time (`{"AWS": <arn>}`, `{"Federated": <provider>}`: a mapping),
as `sandbox/sts/trust.py` asks. A bucket policy is matched against the whole
caller (a `Caller`), whose forms AWS checks from the account down
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):

- `"*"` and `{"AWS": "*"}` name everyone, the anonymous caller included;
- the account (`"123456789012"` or `arn:aws:iam::123456789012:root`)
  delegates to the account: it names the root itself, and in a Deny every
  principal of the account, but an Allow naming it grants an IAM user or role
  nothing ("an administrator in that account must then grant access");
- a role ARN names every session of the role, a session ARN
  (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) that session, an
  IAM user's ARN that user;
- `{"Federated": "cognito-identity.amazonaws.com"}` names the sessions the
  identity pool issued (enhanced and classic flow). AWS documents this form
  for trust policies only; the sandbox can tell a web-identity session from
  its condition keys, so it matches it, as naming the role (see below);
- `NotPrincipal` (with Deny: "everyone except") excludes the caller only
  when it names every level of it: the account, then the role, then the
  session, as the IAM guide warns ("AWS might validate the account first,
  then the role, and then the assumed-role user"). With Allow AWS does not
  support it, and an enforcer applies nothing it does not support.

Session policies limit what a grant naming the role gives, not a grant
naming the session ARN itself (IAM user guide, "Session policies"); so a
`Caller` can be asked with `session_only`, where only the session's own ARN
counts for an Allow. `*` and the federated provider count as naming the role,
so a guest's scope-down still limits a public grant. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from iampolicy.conditions import as_list

WEB_IDENTITY_PROVIDER = "cognito-identity.amazonaws.com"


@dataclass(frozen=True)
class Caller:
    """The request's principal as resource-based policies name it. `account`
    None is the anonymous caller, whom only `*` names."""

    account: str | None
    arn: str | None  # the principal itself: a session ARN, an IAM user's ARN, the account root's ARN
    role_arn: str | None = None  # a session's role
    federated: str | None = None  # the web-identity provider behind a session
    session_only: bool = False  # an Allow counts only where it names the session's own ARN

    ANONYMOUS: ClassVar[Caller]

    @property
    def root(self) -> bool:
        return self.account is not None and self.arn == f"arn:aws:iam::{self.account}:root"

    @property
    def anonymous(self) -> bool:
        return self.account is None

    def as_session_only(self) -> Caller:
        return replace(self, session_only=True)

    def _account_forms(self) -> tuple[str, ...]:
        return () if self.account is None else (self.account, f"arn:aws:iam::{self.account}:root")

    def levels(self) -> tuple[tuple[str, ...], ...]:
        """The caller's chain, from the account down, each level by every ARN
        that names it; NotPrincipal must name each level to exclude the caller."""
        if self.account is None:
            return ()
        chain = [self._account_forms()]
        if self.role_arn is not None:
            chain.append((self.role_arn,))
        if self.arn is not None and not self.root:
            chain.append((self.arn,))
        return tuple(chain)

    def named_by(self, element: Any, *, effect: Any) -> bool:
        """Whether a statement's `Principal` names this caller."""
        if element == "*":
            return not self.session_only or effect == "Deny"
        if not isinstance(element, Mapping):
            return False
        aws = [str(v) for v in as_list(element.get("AWS"))]
        federated = [str(v) for v in as_list(element.get("Federated"))]
        if "*" in aws:
            return not self.session_only or effect == "Deny"
        if self.session_only and effect != "Deny":
            return self.arn is not None and self.arn in aws
        if self.arn is not None and self.arn in aws:
            return True
        if self.role_arn is not None and self.role_arn in aws:
            return True
        if self.federated is not None and self.federated in federated:
            return True
        if any(form in aws for form in self._account_forms()):
            return effect == "Deny" or self.root  # an Allow to the account delegates to its identity policies
        return False

    def excluded_by(self, element: Any) -> bool:
        """Whether a statement's `NotPrincipal` leaves this caller out."""
        if element == "*":
            return True
        if not isinstance(element, Mapping):
            return False
        aws = {str(v) for v in as_list(element.get("AWS"))}
        if "*" in aws:
            return True
        federated = {str(v) for v in as_list(element.get("Federated"))}
        levels = self.levels()
        if not levels:
            return False  # the anonymous caller: only "*" leaves it out
        for forms in levels:
            named = any(f in aws for f in forms) or (forms == (self.role_arn,) and self.federated in federated)
            if not named:
                return False
        return True


Caller.ANONYMOUS = Caller(account=None, arn=None)


def _mapping_matches(element: Any, wanted: Mapping[str, str]) -> bool:
    """One form of the caller against `Principal`: `*`, or a value (or `*`) under its kind."""
    if element == "*":
        return True
    if not isinstance(element, Mapping):
        return False
    return any(value in as_list(element.get(kind)) or "*" in as_list(element.get(kind)) for kind, value in wanted.items())


def principal_named(element: Any, wanted: Mapping[str, str] | Caller, *, effect: Any) -> bool:
    """Whether `Principal` names the caller (`wanted`: one form, or the whole `Caller`)."""
    if isinstance(wanted, Caller):
        return wanted.named_by(element, effect=effect)
    return _mapping_matches(element, wanted)


def principal_excluded(element: Any, wanted: Mapping[str, str] | Caller, *, effect: Any) -> bool:
    """Whether `NotPrincipal` leaves the caller out of the statement. For a
    `Caller`, a NotPrincipal with Allow leaves everyone out: AWS does not
    support it, and an enforcer grants nothing it does not support."""
    if isinstance(wanted, Caller):
        return effect != "Deny" or wanted.excluded_by(element)
    return _mapping_matches(element, wanted)
