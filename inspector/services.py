"""What the inspector shows, as plain functions: which role this session's
identity gets and why, that role's policies as IAM holds them, the sandbox's
explanation of one of the caller's own requests, and the admin's join of the
audit trail with the sandbox's trail ("who got which role").

Nothing here trusts the browser with more than its own: a decision is handed
on only when its principal is the caller's own identity ID.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from accounts.models import AuditEvent, User
from accounts.store import CredentialStore, SsoLogin
from core import sandbox
from core.aws import AwsCallError, NotFound, s3_browser_endpoint
from core.deployment import Deployment
from infra import aws as iam

log = logging.getLogger(__name__)

SUB = "${cognito-identity.amazonaws.com:sub}"


def role_name(arn: str) -> str:
    """`photoshare-authenticated` of `arn:aws:iam::123456789012:role/photoshare-authenticated`."""
    return arn.rsplit("/", 1)[-1]


# --- who this session is ------------------------------------------------------------------

def session_identity_id(*, user: User | None, store: CredentialStore) -> str:
    """The identity ID whose decisions this session may see: the user's, or this session's guest's."""
    return (user.identity_id if user else store.guest_identity_id) or ""


def _stored_claims(store: CredentialStore) -> dict[str, Any]:
    """The claims of the session's ID token. It was verified when it was kept
    (`CredentialStore.tokens_keep`) and only the server holds it, so its
    payload is read, not verified again."""
    tokens = store.tokens
    if tokens is None:
        return {}
    try:
        payload = tokens.id_token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


@dataclass(frozen=True)
class RuleMatch:
    """How the pool's `Rules` mapping for an OpenID Connect provider decided:
    the provider, the claim the deciding rule looks at (and its value in this
    session's token, None when the token lacks it), and the rule that chose
    the role, or, when none matched, the mapping's AmbiguousRoleResolution."""

    issuer: str
    provider: str  # the Logins key and RoleMappings key: host and path
    claim: str = ""
    claim_value: str | None = None
    rule: dict[str, str] | None = None  # Claim, MatchType, Value, RoleARN as GetIdentityPoolRoles has it
    fallback: str = ""  # AuthenticatedRole | Deny, when no rule matched
    mapping_type: str = ""  # Rules | Token | "" (no mapping for the provider)
    error: str = ""  # the mapping could not be read

    @property
    def rule_text(self) -> str:
        if self.error:
            return self.error
        if self.rule is not None:
            r = self.rule
            return f"Claim {r['Claim']}, MatchType {r['MatchType']}, Value {r['Value']} → RoleARN {r['RoleARN']}"
        if self.mapping_type == "Rules":
            return f"no rule matched: AmbiguousRoleResolution {self.fallback}"
        return "no Rules mapping for this provider: the identity pool's authenticated role"


@dataclass(frozen=True)
class RoleChoice:
    """The role the identity pool gives this session, and why, in a sentence."""

    arn: str
    kind: str  # authenticated | moderator | team | denied | unauthenticated
    reason: str
    groups: tuple[str, ...] = ()
    sso: RuleMatch | None = None  # signed in with an OpenID Connect provider

    @property
    def name(self) -> str:
        return role_name(self.arn)


def role_expected(*, user: User | None, store: CredentialStore, deployment: Deployment) -> RoleChoice:
    """The identity pool's choice, as its configuration makes it (role mapping
    `Type: Token`, `AmbiguousRoleResolution: AuthenticatedRole`). The browser
    checks it against what STS says its credentials are."""
    if user is None:
        return RoleChoice(
            deployment.unauthenticated_role_arn,
            "unauthenticated",
            "You are a guest: Django called GetCredentialsForIdentity with no login, so the identity pool gave its "
            "unauthenticated role.",
        )
    sso = store.sso
    if sso is not None:
        return _sso_role(sso=sso, deployment=deployment)
    claims = _stored_claims(store)
    groups = tuple(str(g) for g in claims.get("cognito:groups", []) if isinstance(g, str))
    preferred = claims.get("cognito:preferred_role")
    if isinstance(preferred, str) and preferred:
        kind = "moderator" if preferred == deployment.moderator_role_arn else "authenticated"
        return RoleChoice(
            preferred,
            kind,
            f"Your ID token carries cognito:preferred_role = {role_name(preferred)} (from your user-pool group "
            f"{', '.join(groups) or '?'}), and the identity pool's role mapping (Type: Token) takes the token's "
            "preferred role.",
            groups,
        )
    return RoleChoice(
        deployment.authenticated_role_arn,
        "authenticated",
        "Your ID token carries no cognito:preferred_role (you are in no group with a role), so the role mapping "
        "falls back to the identity pool's authenticated role (AmbiguousRoleResolution: AuthenticatedRole).",
        groups,
    )


def rule_matches(rule: dict[str, Any], claims: dict[str, Any]) -> bool:
    """One rule of a `Rules` mapping against the token's claims, as Cognito
    matches them (NotEqual is skipped when the claim is missing).
    https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html"""
    value = claims.get(rule.get("Claim", ""))
    if value is None:
        return False
    value, wanted = str(value), str(rule.get("Value", ""))
    return {
        "Equals": value == wanted,
        "Contains": wanted in value,
        "StartsWith": value.startswith(wanted),
        "NotEqual": value != wanted,
    }.get(rule.get("MatchType", ""), False)


def _sso_role(*, sso: SsoLogin, deployment: Deployment) -> RoleChoice:
    """The role for an SSO session, read off the pool's role mapping for its
    provider (GetIdentityPoolRoles, with the server's credentials) and the
    ID token claims the session kept when it verified the token: the first
    rule that matches wins, else AmbiguousRoleResolution."""
    issuer = str(sso.claims.get("iss", ""))
    base = {"issuer": issuer, "provider": sso.provider}
    try:
        mapping = iam.identity_pool_roles_get(identity_pool_id=deployment.identity_pool_id)["RoleMappings"].get(sso.provider) or {}
    except AwsCallError as exc:
        log.warning("inspector: could not read the role mappings: %s %s", exc.code, exc.detail)
        match = RuleMatch(**base, error="The server could not read the identity pool's role mapping just now.")
        return RoleChoice(deployment.authenticated_role_arn, "authenticated", _sso_reason(match, deployment), sso=match)
    rules = (mapping.get("RulesConfiguration") or {}).get("Rules") or [] if mapping.get("Type") == "Rules" else []
    chosen = next((rule for rule in rules if rule_matches(rule, sso.claims)), None)
    shown = chosen or (rules[0] if rules else {})
    claim = shown.get("Claim", "")
    value = sso.claims.get(claim) if claim else None
    match = RuleMatch(
        **base,
        claim=claim,
        claim_value=None if value is None else str(value),
        rule=chosen,
        fallback=mapping.get("AmbiguousRoleResolution", "") if chosen is None else "",
        mapping_type=mapping.get("Type", ""),
    )
    if chosen is not None:
        arn = chosen["RoleARN"]
    elif match.mapping_type == "Rules" and match.fallback == "Deny":
        arn = ""
    else:
        arn = deployment.authenticated_role_arn
    kind = "denied" if not arn else ("team" if arn == deployment.team_role_arn else "authenticated")
    return RoleChoice(arn, kind, _sso_reason(match, deployment), sso=match)


def _sso_reason(match: RuleMatch, deployment: Deployment) -> str:
    start = f"You signed in with {match.issuer}: Django put its ID token in Logins under {match.provider}, with no user pool in between."
    if match.error:
        return f"{start} {match.error}"
    if match.rule is not None:
        return (
            f"{start} Your token's {match.claim} is {match.claim_value}, which the identity pool's role mapping for that provider "
            f"(Type: Rules, first match wins) matches with {match.rule['Claim']} {match.rule['MatchType']} {match.rule['Value']}, "
            f"so it gave {role_name(match.rule['RoleARN'])}."
        )
    if match.mapping_type == "Rules":
        have = f"is {match.claim_value}" if match.claim_value is not None else "is missing"
        outcome = "refuses credentials" if match.fallback == "Deny" else f"gives the pool's authenticated role, {role_name(deployment.authenticated_role_arn)}"
        return f"{start} Your token's {match.claim or 'claim'} {have}, so no rule of the role mapping matched, and AmbiguousRoleResolution: {match.fallback} {outcome}."
    return f"{start} The pool has no Rules mapping for this provider, so it gives its authenticated role."


def issue_recorded(*, identity_id: str) -> AuditEvent | None:
    """The audit trail's last issue of credentials to this identity."""
    if not identity_id:
        return None
    return (
        AuditEvent.objects.filter(identity_id=identity_id, outcome=AuditEvent.Outcome.ISSUED).order_by("-created_at").first()
    )


def issue_summary(event: AuditEvent | None, *, choice: RoleChoice) -> dict[str, Any]:
    """The audit record as the page shows it, beside the role's reason."""
    if event is None:
        return {"recorded": False, "reason": choice.reason}
    if not event.authenticated:
        source = "as a guest (no login)"
    elif not event.provider or event.provider.startswith("cognito-idp."):
        source = "from the user pool"
    else:  # an OpenID Connect provider (SSO) or the developer provider (an emailed link)
        source = f"through {event.provider}"
    return {
        "recorded": True,
        "issuedAt": event.created_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authenticated": event.authenticated,
        "provider": event.provider,
        "expiration": event.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") if event.expiration else None,
        "roleName": choice.name,
        "reason": choice.reason,
        "summary": f"The audit trail recorded credentials for identity {event.identity_id} {source} at "
        f"{event.created_at.astimezone(dt.timezone.utc):%H:%M:%S} UTC.",
    }


# --- the role's policies, as IAM has them ---------------------------------------------------

@dataclass(frozen=True)
class PolicyText:
    """One inline policy, pretty-printed, cut where the identity-ID variable is
    so the template can highlight it: `parts` alternates text and variable."""

    name: str
    parts: tuple[tuple[str, bool], ...]  # (text, is the variable)


@dataclass(frozen=True)
class RolePolicies:
    role: str
    policies: tuple[PolicyText, ...] = ()
    error: str = ""

    @property
    def uses_variable(self) -> bool:
        return any(variable for policy in self.policies for _, variable in policy.parts)


def role_policies(*, role: str) -> RolePolicies:
    """The role's inline policies, read from IAM by the server (locally with
    the sandbox's admin key; on AWS the server needs iam:ListRolePolicies and
    iam:GetRolePolicy on the role). A failure becomes a fixed sentence."""
    try:
        names = iam.role_policy_names(role=role)
        documents = [(name, iam.role_policy_get(role=role, name=name)) for name in names]
    except AwsCallError as exc:
        log.warning("inspector: could not read the policies of %s: %s %s", role, exc.code, exc.detail)
        return RolePolicies(role, error="The server could not read this role's policy from IAM just now.")
    return RolePolicies(role, tuple(PolicyText(name, _cut(json.dumps(doc, indent=2))) for name, doc in documents))


def _cut(text: str) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    for index, piece in enumerate(text.split(SUB)):
        if index:
            parts.append((SUB, True))
        if piece:
            parts.append((piece, False))
    return tuple(parts)


# --- one decision, for its own caller ----------------------------------------------------------

class NotYours(Exception):
    """No decision the caller may see under that id (unknown, or another identity's)."""


def decision_for(*, request_id: str, identity_id: str) -> dict[str, Any]:
    """The sandbox's decision, only if its principal is `identity_id`.
    ValueError for an id that cannot be one; NotYours otherwise refused;
    SandboxOnly on AWS; Unreachable / AwsCallError when the sandbox fails."""
    try:
        found = sandbox.decision(request_id=request_id)
    except NotFound:
        raise NotYours() from None
    principal = found.get("principal") or {}
    if not identity_id or principal.get("identityId") != identity_id:
        # Someone else's request ids are not secret enough to be a key: match the identity.
        log.info("inspector: decision %s is not %s's", request_id, identity_id or "an identity")
        raise NotYours()
    return found


# --- who got which role: the audit trail joined with the sandbox's trail -----------------------

TRAIL_PAGES = 20  # at most 20,000 records read per view
JOIN_WINDOW = dt.timedelta(seconds=30)  # an audit row is written just after its GetCredentialsForIdentity
EXPIRATION_SAME = dt.timedelta(milliseconds=5)  # the audit row keeps the expiration Cognito answered


@dataclass
class KeyUse:
    role: str = ""
    calls: int = 0
    denied: int = 0


@dataclass
class Trail:
    """The sandbox's trail, indexed for the join."""

    # identity ID -> [(eventTime, access key, the credentials' expiration)]
    issues: dict[str, list[tuple[dt.datetime, str, dt.datetime | None]]] = field(default_factory=lambda: defaultdict(list))
    uses: dict[str, KeyUse] = field(default_factory=lambda: defaultdict(KeyUse))
    available: bool = True


def _time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time, or seconds since the epoch (how the JSON services' answers carry an expiration)."""
    try:
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None


def trail_read(*, since: dt.datetime | None) -> Trail:
    """Every record since `since`, in pages (bounded), indexed by identity ID
    (each GetCredentialsForIdentity and the access key it issued) and by
    access key (the role its calls ran as, its S3 calls and denials)."""
    index = Trail()
    seen: set[str] = set()
    cursor = since
    try:
        for _ in range(TRAIL_PAGES):
            records = sandbox.trail(since=cursor, limit=sandbox.TRAIL_LIMIT_MAX)
            fresh = [r for r in records if r.get("eventID") not in seen]
            for record in fresh:
                seen.add(str(record.get("eventID")))
                _index(index, record)
            if len(records) < sandbox.TRAIL_LIMIT_MAX or not fresh:
                break
            cursor = _time(records[-1].get("eventTime")) or cursor
    except AwsCallError as exc:
        log.warning("inspector: the sandbox's trail is unavailable: %s %s", exc.code, exc.detail)
        index.available = False
    return index


def _index(index: Trail, record: dict[str, Any]) -> None:
    response = record.get("responseElements") or {}
    if record.get("eventName") == "GetCredentialsForIdentity" and not record.get("errorCode") and isinstance(response, dict):
        credentials = response.get("credentials") or {}
        key = credentials.get("accessKeyId")
        identity_id = response.get("identityId") or (record.get("requestParameters") or {}).get("identityId")
        when = _time(record.get("eventTime"))
        if key and identity_id and when:
            index.issues[identity_id].append((when, key, _time(credentials.get("expiration"))))
    who = record.get("userIdentity") or {}
    key = who.get("accessKeyId")
    if not key:
        return
    use = index.uses[key]
    issuer = ((who.get("sessionContext") or {}).get("sessionIssuer") or {}).get("userName")
    if issuer:
        use.role = issuer
    if record.get("eventSource") == "s3.amazonaws.com":
        use.calls += 1
        if record.get("errorCode") in ("AccessDenied", "AccessDeniedException"):
            use.denied += 1


@dataclass(frozen=True)
class Grant:
    event: AuditEvent
    who: str
    role: str
    access_key_id: str
    calls: int
    denied: int
    in_trail: bool

    @property
    def line(self) -> str:
        at = self.event.created_at.astimezone(dt.timezone.utc).strftime("%H:%M")
        source = "from the user pool" if self.event.authenticated else "as a guest"
        role = f"role {self.role}" if self.role else "a role the trail does not show yet"
        used = (
            f"used it for {self.calls} S3 call{'s' if self.calls != 1 else ''}, {self.denied} denied"
            if self.in_trail
            else "no matching GetCredentialsForIdentity in the sandbox's trail"
        )
        return f"{self.who}, identity {self.event.identity_id}, got {role} at {at} {source}; {used}"


def role_grants(*, events: list[AuditEvent], trail: Trail, deployment: Deployment | None) -> list[Grant]:
    """Each issue of credentials with what the trail says was done with them:
    the audit row gives the person and the identity ID, the trail's
    GetCredentialsForIdentity for that identity (at the same moment) gives the
    access key, and every record signed with that key gives the role and the
    S3 calls. CloudTrail alone has the key and the identity ID, never the person."""
    grants = []
    for event in events:
        key = _key_issued(trail, identity_id=event.identity_id, at=event.created_at, expiration=event.expiration)
        use = trail.uses.get(key, KeyUse()) if key else KeyUse()
        role = use.role
        if not role and deployment is not None and not event.authenticated:
            role = role_name(deployment.unauthenticated_role_arn)  # guests have one role only
        who = (event.user.email or event.sub) if event.user else (event.sub or "a guest")
        grants.append(Grant(event, who, role, key, use.calls, use.denied, bool(key)))
    return grants


def _key_issued(trail: Trail, *, identity_id: str, at: dt.datetime, expiration: dt.datetime | None) -> str:
    """The access key of the identity's GetCredentialsForIdentity that issued
    these credentials: the one with the same expiration (exact: two issues in
    one second differ there), else the nearest to `at` within JOIN_WINDOW
    (CloudTrail's eventTime has whole seconds)."""
    issues = trail.issues.get(identity_id, [])
    if expiration is not None:
        for _, key, expires in issues:
            if expires is not None and abs(expires - expiration) < EXPIRATION_SAME:
                return key
    candidates = [(abs(when - at), key) for when, key, _ in issues if abs(when - at) <= JOIN_WINDOW]
    return min(candidates)[1] if candidates else ""


