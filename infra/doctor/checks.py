"""The checks: each turns the snapshot into findings of one or a few rules.

The role checks ask IAM (`infra.doctor.probes`) whether a role may make
requests it must never make; the others read the configuration itself. All
of them are pure: `deployment_audit` judges a `Snapshot` without calling
AWS, so every rule can be exercised on a real snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from infra.doctor.probes import (
    COGNITO_IDENTITY,
    Ids,
    Probe,
    Verdict,
    albums_guest_write_probes,
    albums_other_probes,
    albums_scan_probes,
    guest_read_probes,
    guest_write_probes,
    listbucket_probes,
    owner_probes,
    probes_allowed,
    request_context,
    signed_in_amr,
    trust_verdict,
)
from infra.doctor.rules import RULES, Finding
from infra.doctor.snapshot import Role, Snapshot

MAX_LISTED = 4  # probe results quoted per finding; the rest are counted

# Attributes an app client may write when its WriteAttributes is left empty
# (CreateUserPoolClient: "your app can write the values of the Standard
# attributes"). Attribute names are also the ID token's claim names.
STANDARD_WRITABLE = frozenset(
    {
        "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name",
        "name", "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at",
        "website", "zoneinfo",
    }
)
# What a `Type: Token` mapping reads: set only through group membership,
# which a user cannot change.
TOKEN_MAPPING_CLAIMS = ("cognito:roles", "cognito:preferred_role")
# OpenID Connect claims the person, not the provider, decides (the standard
# profile claims, OIDC Core 5.1), and `email`: a provider may let anyone put an
# address they do not own there, and a Rules mapping cannot also require
# `email_verified` (its rules are alternatives, one claim each). The provider's
# own assertions (`hd`, `sub`, `iss`, `aud`, a group claim) are not here.
OIDC_SELF_ASSERTED = frozenset(
    {
        "address", "birthdate", "email", "family_name", "gender", "given_name", "locale", "middle_name", "name",
        "nickname", "phone_number", "picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo",
    }
)
# Substring matches: `wintercorp.com` Contains-matches `wintercorp.com.evil.example`,
# a domain anyone can register; `StartsWith` the same.
SUBSTRING_MATCHES = ("Contains", "StartsWith")


# --- what a role may do --------------------------------------------------------------------


def _summary(allowed: Sequence[tuple[Probe, Verdict]], ids: Ids, role: Role) -> str:
    """The allowed probes, with doctor's made-up IDs shown as what they stand
    for, then what doctor could not decide about them."""
    shown = "; ".join(probe.describe() for probe, _ in allowed[:MAX_LISTED])
    for value, placeholder in (
        (ids.other, "<another identity>"),
        (ids.guest, "<this guest>"),
        (role.shared_userid, "${aws:userid}"),
    ):
        shown = shown.replace(value, placeholder)
    more = len(allowed) - MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "") + "." + _undecided(verdict for _, verdict in allowed)


def _undecided(verdicts: Iterable[Verdict]) -> str:
    """A finding's note on the statements doctor could not evaluate, if any."""
    reasons = dict.fromkeys(reason for verdict in verdicts for reason in verdict.undecided)
    if not reasons:
        return ""
    return (
        " Doctor could not fully decide (it counts an Allow it cannot evaluate as applying, a Deny as not): "
        + "; ".join(reasons)
        + "."
    )


def _guest_context(s: Snapshot, ids: Ids, role: Role | None = None) -> dict[str, Any]:
    return request_context(pool_id=s.deployment.identity_pool_id, identity_id=ids.guest, amr=["unauthenticated"], role=role)


def _signed_in_context(s: Snapshot, ids: Ids, role: Role | None = None) -> dict[str, Any]:
    return request_context(pool_id=s.deployment.identity_pool_id, identity_id=ids.me, amr=signed_in_amr(s, "doctor-probe"), role=role)


def _check_guest_role(s: Snapshot, ids: Ids) -> list[Finding]:
    findings = []
    for arn in sorted(s.guest_role_arns):
        role = s.roles[arn]
        context = _guest_context(s, ids, role)
        for rule, probes in (
            ("guest-write", [*guest_write_probes(s, ids, role), *albums_guest_write_probes(s, ids)]),
            ("guest-read-outside-public", guest_read_probes(s, ids, role)),
        ):
            allowed = probes_allowed(s, role, probes, context)
            if allowed:
                findings.append(Finding(RULES[rule], arn, f"The guest role {role.name} allows {_summary(allowed, ids, role)}"))
    return findings


def _check_signed_in_roles(s: Snapshot, ids: Ids) -> list[Finding]:
    findings = []
    for arn in sorted(s.signed_in_role_arns):
        role = s.roles[arn]
        probes = owner_probes(s, ids, role, moderator=arn in s.moderator_role_arns)
        allowed = probes_allowed(s, role, probes, _signed_in_context(s, ids, role))
        if allowed:
            what = (
                f"Signed in as one identity, the role {role.name} allows, on keys that are not that "
                f"identity's: {_summary(allowed, ids, role)}"
            )
            findings.append(Finding(RULES["owner-scope"], arn, what))
    return findings


def _check_listbucket(s: Snapshot, ids: Ids) -> list[Finding]:
    findings = []
    for arn in sorted(s.roles):
        role = s.roles[arn]
        context = _guest_context(s, ids, role) if arn in s.guest_role_arns else _signed_in_context(s, ids, role)
        allowed = probes_allowed(s, role, listbucket_probes(s), context)
        if allowed:
            findings.append(Finding(RULES["listbucket-unscoped"], arn, f"The role {role.name} allows {_summary(allowed, ids, role)}"))
    return findings


def _check_albums(s: Snapshot, ids: Ids) -> list[Finding]:
    """Every role the pool hands out, on the albums table: another identity's
    items, and a Scan, which names no partition key at all."""
    findings = []
    for arn in sorted(s.roles):
        role = s.roles[arn]
        guest = arn in s.guest_role_arns
        context = _guest_context(s, ids, role) if guest else _signed_in_context(s, ids, role)
        me = ids.guest if guest else ids.me
        allowed = probes_allowed(s, role, albums_other_probes(s, ids, me=me), context)
        if allowed:
            what = f"Signed in as one identity, the role {role.name} allows {_summary(allowed, ids, role)}"
            findings.append(Finding(RULES["dynamodb-leading-keys-missing"], arn, what))
        scans = probes_allowed(s, role, albums_scan_probes(s), context)
        if scans:
            findings.append(Finding(RULES["dynamodb-scan-allowed"], arn, f"The role {role.name} allows {_summary(scans, ids, role)}"))
    return findings


# --- who may assume a role ------------------------------------------------------------------


def _check_trust(s: Snapshot, ids: Ids) -> list[Finding]:
    findings = []
    web_identity, federated = "sts:AssumeRoleWithWebIdentity", {"Federated": COGNITO_IDENTITY}
    # The tokens doctor offers each trust policy: this pool's guest and
    # signed-in tokens, and both kinds from some other identity pool.
    as_guest, as_user = _guest_context(s, ids), _signed_in_context(s, ids)
    foreign = [
        request_context(pool_id=ids.foreign_pool, identity_id=ids.other, amr=amr)
        for amr in (signed_in_amr(s, "doctor-probe"), ["unauthenticated"])
    ]
    # Plain sts:AssumeRole from Cognito, or from any principal of another account.
    anyone = {"Federated": COGNITO_IDENTITY, "AWS": "arn:aws:iam::999999999999:root"}
    for arn in sorted(s.roles):
        role = s.roles[arn]
        guest_only = arn in s.guest_role_arns and arn not in s.signed_in_role_arns

        def finding(rule: str, what: str, verdicts: Iterable[Verdict]) -> Finding:
            return Finding(RULES[rule], arn, what + _undecided(verdicts))

        accepted = [v for v in (trust_verdict(role, action=web_identity, context=c, principal=federated) for c in foreign) if v.allowed]
        if accepted:
            what = f"The trust policy of {role.name} accepts a web identity token issued by another identity pool."
            findings.append(finding("trust-no-aud", what, accepted))
        assume = trust_verdict(role, action="sts:AssumeRole", context=as_guest if guest_only else as_user, principal=anyone)
        if assume.allowed:
            findings.append(finding("trust-assume-role", f"The trust policy of {role.name} allows sts:AssumeRole.", [assume]))
        guest = trust_verdict(role, action=web_identity, context=as_guest, principal=federated)
        if not guest_only and guest.allowed:
            what = (
                f"The trust policy of {role.name}, a role for signed-in users, accepts this pool's guest tokens "
                "(amr: unauthenticated)."
            )
            findings.append(finding("trust-no-amr", what, [guest]))
        user = trust_verdict(role, action=web_identity, context=as_user, principal=federated)
        if guest_only and user.allowed:
            what = f"The trust policy of the guest role {role.name} also accepts signed-in tokens (amr: authenticated)."
            findings.append(finding("guest-trust-no-amr", what, [user]))
    return findings


# --- the identity pool, the app client and the bucket ----------------------------------------


def _check_identity_pool(s: Snapshot) -> list[Finding]:
    findings = []
    pool = s.identity_pool
    pool_id = s.deployment.identity_pool_id
    if pool.get("AllowClassicFlow") is not False:
        state = "on" if pool.get("AllowClassicFlow") else "not set (AWS may treat that as on)"
        findings.append(Finding(RULES["classic-flow"], pool_id, f"AllowClassicFlow is {state} for identity pool {pool_id}."))
    providers = pool.get("CognitoIdentityProviders") or []
    ours = [p for p in providers if p.get("ProviderName") == s.provider and p.get("ClientId") == s.deployment.app_client_id]
    for provider in ours:
        if not provider.get("ServerSideTokenCheck"):
            findings.append(
                Finding(
                    RULES["server-side-token-check-off"],
                    pool_id,
                    f"ServerSideTokenCheck is off for {provider['ProviderName']} (client {provider['ClientId']}).",
                )
            )
    extra = [f"{p.get('ProviderName')} (client {p.get('ClientId')})" for p in providers if p not in ours]
    extra += [f"{name}" for name in (pool.get("SupportedLoginProviders") or {})]
    # The OIDC provider and the developer provider `provision` sets up are ours (issue 16).
    extra += [arn for arn in pool.get("OpenIdConnectProviderARNs") or [] if arn != s.deployment.oidc_provider_arn]
    extra += list(pool.get("SamlProviderARNs") or [])
    if pool.get("DeveloperProviderName") and pool["DeveloperProviderName"] != s.developer_provider:
        extra.append(f"developer provider {pool['DeveloperProviderName']}")
    if extra:
        findings.append(
            Finding(RULES["extra-login-provider"], pool_id, f"Identity pool {pool_id} also accepts: {', '.join(extra)}.")
        )
    return findings


def writable_claims(*, app_client: Mapping[str, Any]) -> frozenset[str]:
    """ID-token claims a user of this app client can set for themselves."""
    listed = app_client.get("WriteAttributes")
    return frozenset(listed) if listed else STANDARD_WRITABLE


def _check_role_mappings(s: Snapshot) -> list[Finding]:
    findings = []
    pool_id = s.deployment.identity_pool_id
    writable = writable_claims(app_client=s.app_client)
    for key, mapping in sorted(s.role_mappings.items()):
        rules = (mapping.get("RulesConfiguration") or {}).get("Rules", []) if mapping.get("Type") == "Rules" else []
        read = list(TOKEN_MAPPING_CLAIMS) if mapping.get("Type") == "Token" else [rule.get("Claim", "") for rule in rules]
        # A user pool's key is `cognito-idp.<region>.amazonaws.com/<pool>:<client>`; any other is an OIDC provider's
        # (or a social provider's) host and path, whose claims the app client's WriteAttributes do not govern.
        user_pool = key.startswith("cognito-idp.")
        hits = sorted({claim for claim in read if claim in (writable if user_pool else OIDC_SELF_ASSERTED)})
        if hits and user_pool:
            findings.append(
                Finding(
                    RULES["role-mapping-writable-claim"],
                    pool_id,
                    f"The {mapping.get('Type')} role mapping for {key} reads {', '.join(hits)}, which app client "
                    f"{s.deployment.app_client_id} lets users write.",
                )
            )
        elif hits:
            findings.append(
                Finding(
                    RULES["role-mapping-self-asserted-claim"],
                    pool_id,
                    f"The Rules role mapping for {key} reads {', '.join(hits)}, which the person signing in chooses, "
                    "not the provider.",
                )
            )
        loose = [rule for rule in rules if rule.get("MatchType") in SUBSTRING_MATCHES and "." in str(rule.get("Value", ""))]
        for rule in loose:
            findings.append(
                Finding(
                    RULES["role-mapping-lookalike-domain"],
                    pool_id,
                    f"The Rules role mapping for {key} gives {rule.get('RoleARN')} when {rule.get('Claim')} "
                    f"{rule.get('MatchType')} {rule.get('Value')!r}, which {rule.get('Value')}.evil.example also does.",
                )
            )
        # Rules meant to let only some people in, with the fallback handing everyone else a role at least as
        # privileged: the authenticated role is itself one the rules (or the moderators group) single out.
        privileged = {rule.get("RoleARN") for rule in rules} | s.moderator_role_arns
        fallback = s.pool_roles.get("authenticated")
        if rules and mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole" and fallback in privileged:
            findings.append(
                Finding(
                    RULES["role-mapping-fallback-privileged"],
                    pool_id,
                    f"The Rules role mapping for {key} falls back to the authenticated role {fallback}, which is also "
                    "a role its rules (or the moderators group) single out: whoever matches no rule gets it too.",
                )
            )
    return findings


def _check_bucket(s: Snapshot) -> list[Finding]:
    findings = []
    bucket = s.deployment.bucket
    wildcards = sorted({o for rule in s.cors_rules for o in rule.get("AllowedOrigins", []) if "*" in o})
    if wildcards:
        findings.append(
            Finding(
                RULES["cors-any-origin"], bucket, f"The CORS rules of bucket {bucket} allow the origin(s) {', '.join(wildcards)}."
            )
        )
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    off = [flag for flag in flags if not s.public_access_block.get(flag)]
    if off:
        findings.append(
            Finding(RULES["block-public-access-off"], bucket, f"Bucket {bucket} has {', '.join(off)} off.")
        )
    if s.versioning != "Enabled":
        state = "suspended" if s.versioning == "Suspended" else "never turned on"
        findings.append(Finding(RULES["bucket-versioning-off"], bucket, f"Versioning of bucket {bucket} is {state}."))
    return findings


def _check_demo_users(s: Snapshot) -> list[Finding]:
    if not s.on_aws or not s.demo_users:
        return []
    return [
        Finding(
            RULES["demo-users-on-aws"],
            s.deployment.user_pool_id,
            f"User pool {s.deployment.user_pool_id} on AWS has the demo user(s) {', '.join(s.demo_users)}.",
        )
    ]


def deployment_audit(*, snapshot: Snapshot) -> list[Finding]:
    """Every finding for `snapshot`, most severe first."""
    ids = Ids.made_up(snapshot.region)
    findings = [
        *_check_guest_role(snapshot, ids),
        *_check_trust(snapshot, ids),
        *_check_identity_pool(snapshot),
        *_check_role_mappings(snapshot),
        *_check_listbucket(snapshot, ids),
        *_check_signed_in_roles(snapshot, ids),
        *_check_albums(snapshot, ids),
        *_check_bucket(snapshot),
        *_check_demo_users(snapshot),
    ]
    order = list(RULES)
    return sorted(findings, key=lambda f: (f.rule.severity.rank, order.index(f.rule.id), f.resource))

