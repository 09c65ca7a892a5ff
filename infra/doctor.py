"""`manage.py doctor`: audit a live deployment for the well-known traps of the
user pool + identity pool pattern.

Policy questions are decided by evaluating each role's real policies (inline
and attached managed, plus the bucket policy) with the same IAM evaluator the
sandbox enforces with, against probe requests: a guest, a signed-in user
looking at another user's keys, a token from some other identity pool. No
string matching on policy text, so a policy written differently but meaning
the same thing gets the same verdict, and the audit reads the same on the
sandbox and on AWS. Permissions boundaries and SCPs are not read: they can
only narrow what a role allows, so a finding here may be a false alarm there,
never a miss.

Reading goes through `infra.aws` only (`deployment_inspect`); judging is pure
(`deployment_audit`), so every rule can be exercised on a real snapshot.
https://docs.aws.amazon.com/cognito/latest/developerguide/security-best-practices.html
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.conf import settings

from infra import aws
from infra.demo_users import DEMO_USERS
from infra.provision import MODERATORS
from core.deployment import Deployment
from iampolicy import Decision, Mode, evaluate

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"
AUD = f"{COGNITO_IDENTITY}:aud"
SUB = f"{COGNITO_IDENTITY}:sub"
AMR = f"{COGNITO_IDENTITY}:amr"
DEMO_EMAILS = tuple(user.email for user in DEMO_USERS)
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


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    why: str
    fix: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


# Every rule doctor knows, with the why and the fix it reports. A finding adds
# the specific "what" (which role, which request).
RULES = _rules(
    Rule(
        "guest-write",
        Severity.CRITICAL,
        "Guests can write",
        "Anyone on the internet gets guest credentials from the unsigned GetId and "
        "GetCredentialsForIdentity calls, without an account; a guest role that can write "
        "lets strangers upload, overwrite or delete photos, or change the bucket.",
        "Give the unauthenticated role s3:GetObject on public/* and s3:ListBucket with an "
        "s3:prefix condition on public/ only (infra/policies), then run `manage.py provision`.",
    ),
    Rule(
        "guest-read-outside-public",
        Severity.CRITICAL,
        "Guests can read outside public/",
        "Guest credentials are free for anyone; any read they allow outside public/ exposes "
        "users' private photos, or their identity IDs through listings, to the whole internet.",
        "Limit the unauthenticated role's s3:GetObject to public/* and its s3:ListBucket to an "
        "s3:prefix under public/, then run `manage.py provision`.",
    ),
    Rule(
        "trust-no-aud",
        Severity.CRITICAL,
        "Role trust does not name this identity pool",
        "Without a StringEquals condition on cognito-identity.amazonaws.com:aud, a token from "
        "any identity pool, including one an attacker creates in their own account with the "
        "classic flow on, can be exchanged for this role's credentials.",
        'Add "StringEquals": {"cognito-identity.amazonaws.com:aud": "<this identity pool ID>"} '
        "to the role's trust policy (`manage.py provision` rewrites it).",
    ),
    Rule(
        "trust-assume-role",
        Severity.HIGH,
        "Role trust allows sts:AssumeRole",
        "Identity-pool roles are assumed with sts:AssumeRoleWithWebIdentity only. Trusting "
        "sts:AssumeRole lets principals other than the identity pool (another account, or "
        "anyone with a wildcard principal) assume the role, bypassing Cognito entirely.",
        "Make the trust policy's only action sts:AssumeRoleWithWebIdentity for the principal "
        '{"Federated": "cognito-identity.amazonaws.com"} (`manage.py provision` rewrites it).',
    ),
    Rule(
        "trust-no-amr",
        Severity.HIGH,
        "Signed-in role trusts guests",
        "Without a ForAnyValue:StringLike condition requiring amr = authenticated, a guest "
        "token from this pool is accepted, so with the classic flow or a wrong mapping a "
        "stranger gets a signed-in user's (or a moderator's) permissions.",
        'Add "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"} '
        "to the role's trust policy (`manage.py provision` rewrites it).",
    ),
    Rule(
        "guest-trust-no-amr",
        Severity.LOW,
        "Guest role trust does not require amr = unauthenticated",
        "Each identity-pool role should say which kind of identity it is for; a guest role that "
        "also trusts signed-in tokens hides mistakes in role mapping and widens what the "
        "classic flow could reach.",
        'Add "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "unauthenticated"} '
        "to the guest role's trust policy (`manage.py provision` rewrites it).",
    ),
    Rule(
        "classic-flow",
        Severity.HIGH,
        "Classic (basic) flow is on",
        "In the classic flow the client, not Cognito, picks the role: GetOpenIdToken then "
        "sts:AssumeRoleWithWebIdentity on any role whose trust accepts the token, so a plain "
        "user can take the moderator role and role mapping stops protecting anything. A pool "
        "without the flag set has been seen to allow it (aws-cli#7652).",
        "Set AllowClassicFlow to false explicitly on the identity pool (`manage.py provision` does).",
    ),
    Rule(
        "role-mapping-writable-claim",
        Severity.CRITICAL,
        "Role mapping reads a claim users can write",
        "Any user can set the attributes their app client may write (at sign-up or with "
        "UpdateUserAttributes), so a mapping rule on such a claim lets every user pick their "
        'own role. AWS: "Only map claims that cannot be directly set by the end user."',
        "Map roles with Type: Token (groups, set by an administrator) or with rules on claims "
        "users cannot write such as cognito:groups; or remove the attribute from the app "
        "client's WriteAttributes.",
    ),
    Rule(
        "listbucket-unscoped",
        Severity.HIGH,
        "ListBucket without an s3:prefix condition",
        "Listing the whole bucket (or all of private/) shows every user's keys: the names of "
        "their private photos and their identity IDs, which then only one policy mistake "
        "separates from their data.",
        "Allow s3:ListBucket only with a StringLike condition on s3:prefix naming the caller's "
        "own private/${cognito-identity.amazonaws.com:sub}/ and one publisher's public/<id>/ "
        "at a time (infra/policies), then run `manage.py provision`.",
    ),
    Rule(
        "owner-scope",
        Severity.CRITICAL,
        "Object access not scoped to the owner's identity ID",
        "The access matrix makes private/<id>/ owner-only and public/<id>/ writable by its "
        "owner only; a resource not scoped by ${cognito-identity.amazonaws.com:sub} (or scoped "
        "by ${aws:userid}, which every identity-pool session of a role shares) lets one "
        "signed-in user read, change or list another's photos.",
        "Write object resources and s3:prefix conditions as private/${cognito-identity.amazonaws.com:sub}/* "
        "and public/${cognito-identity.amazonaws.com:sub}/* (infra/policies), then run `manage.py provision`.",
    ),
    Rule(
        "cors-any-origin",
        Severity.MEDIUM,
        "Bucket CORS allows any origin",
        "A wildcard origin lets any web page drive the bucket from a visitor's browser; the "
        "app's rule should name its own origin so nothing else can.",
        "Set the CORS rule's AllowedOrigins to the app's exact origin(s) (APP_ORIGINS), then run "
        "`manage.py provision`.",
    ),
    Rule(
        "block-public-access-off",
        Severity.HIGH,
        "Block Public Access is off",
        "With any of the four Block Public Access flags off, one public ACL or bucket policy "
        "(a console click, a copied snippet) publishes every user's photos to the internet.",
        "Turn on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets "
        "for the bucket (`manage.py provision` does).",
    ),
    Rule(
        "bucket-versioning-off",
        Severity.MEDIUM,
        "Bucket versioning is off",
        "Owners may write their own keys at any time, and no IAM condition can make a key "
        "write-once. Photoshare pins each photo to the S3 version it checked; without versioning "
        "there is no version to pin, so an owner can replace a verified photo with anything (any "
        "size, any bytes) after the check, and viewers get the replacement.",
        "Turn on versioning for the bucket, with the lifecycle rule that expires noncurrent "
        "versions (`manage.py provision` does both).",
    ),
    Rule(
        "server-side-token-check-off",
        Severity.MEDIUM,
        "ServerSideTokenCheck is off",
        "Without it the identity pool does not ask the user pool whether the user was signed "
        "out or deleted, so a revoked ID token keeps buying AWS credentials until it expires.",
        "Set ServerSideTokenCheck to true on the identity pool's user-pool provider "
        "(`manage.py provision` does).",
    ),
    Rule(
        "extra-login-provider",
        Severity.MEDIUM,
        "Identity pool accepts other login providers",
        "Every provider the identity pool trusts can mint signed-in identities that get the "
        "authenticated role; anything besides this user pool and app client is a door "
        "Photoshare does not guard.",
        "Leave this user pool and app client as the identity pool's only provider "
        "(`manage.py provision` does).",
    ),
    Rule(
        "demo-users-on-aws",
        Severity.HIGH,
        "Demo users exist on AWS",
        "The demo accounts have a password printed in the README and on the console; on a "
        "real deployment anyone can sign in as them.",
        "Delete them: `aws cognito-idp admin-delete-user --user-pool-id <pool> --username <email>`; "
        "demo users are for PHOTOSHARE_AWS=local only.",
    ),
)


@dataclass(frozen=True)
class Finding:
    rule: Rule
    resource: str  # what the finding is about: a role ARN, the bucket, the pool
    what: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule.id,
            "severity": self.rule.severity.value,
            "title": self.rule.title,
            "resource": self.resource,
            "what": self.what,
            "why": self.rule.why,
            "fix": self.rule.fix,
        }


# --- what doctor reads ------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    arn: str
    role_id: str  # AROA...: ${aws:userid} is "<role id>:<session name>"
    trust: str  # the trust policy, JSON text
    policies: tuple[str, ...]  # inline and attached managed policy documents, JSON text

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def shared_userid(self) -> str:
        """${aws:userid} of every identity-pool session of this role: Cognito
        names them all CognitoIdentityCredentials, so a prefix built on it is
        one prefix shared by every user."""
        return f"{self.role_id}:CognitoIdentityCredentials"


@dataclass(frozen=True)
class Snapshot:
    """Everything the rules look at, read once from the live deployment."""

    deployment: Deployment
    region: str
    on_aws: bool
    identity_pool: Mapping[str, Any]  # DescribeIdentityPool
    pool_roles: Mapping[str, str]  # GetIdentityPoolRoles' Roles
    role_mappings: Mapping[str, Any]  # GetIdentityPoolRoles' RoleMappings
    groups: tuple[Mapping[str, Any], ...]  # the user pool's groups (ListGroups)
    roles: Mapping[str, Role]  # every role the pool can hand out, by ARN
    app_client: Mapping[str, Any]  # DescribeUserPoolClient
    cors_rules: tuple[Mapping[str, Any], ...]
    public_access_block: Mapping[str, bool]  # {} when the bucket has none
    versioning: str  # GetBucketVersioning's Status: "Enabled", "Suspended", or "" (never enabled)
    bucket_policy: str | None
    demo_users: tuple[str, ...]  # demo emails present in the user pool

    @property
    def provider(self) -> str:
        return f"cognito-idp.{self.region}.amazonaws.com/{self.deployment.user_pool_id}"

    @property
    def guest_role_arns(self) -> set[str]:
        arn = self.pool_roles.get("unauthenticated")
        return {arn} if arn else set()

    @property
    def moderator_role_arns(self) -> set[str]:
        arns = {g["RoleArn"] for g in self.groups if g.get("GroupName") == MODERATORS and g.get("RoleArn")}
        return arns | {self.deployment.moderator_role_arn}

    @property
    def signed_in_role_arns(self) -> set[str]:
        default = self.pool_roles.get("authenticated")
        return {*([default] if default else []), *_mapped_role_arns(self.role_mappings, self.groups)}


def _mapped_role_arns(role_mappings: Mapping[str, Any], groups: Iterable[Mapping[str, Any]]) -> list[str]:
    """Roles a signed-in user can get besides the pool's default: each mapping
    rule's role, and each group's role (what a Token mapping hands out)."""
    arns = [
        rule["RoleARN"]
        for mapping in role_mappings.values()
        for rule in (mapping.get("RulesConfiguration") or {}).get("Rules", [])
    ]
    return arns + [g["RoleArn"] for g in groups if g.get("RoleArn")]


def _role_read(*, arn: str) -> Role:
    """The trust policy and every identity policy of a role: inline and
    attached managed, since IAM enforces all of them together."""
    name = arn.rsplit("/", 1)[-1]  # a role ARN may carry a path before the name
    role = aws.role_get(name=name)
    documents = [aws.role_policy_get(role=name, name=policy) for policy in aws.role_policy_names(role=name)]
    documents += [aws.managed_policy_document(policy_arn=p) for p in aws.role_attached_policy_arns(role=name)]
    return Role(
        arn=arn,
        role_id=role.get("RoleId", ""),
        trust=_as_json(role["AssumeRolePolicyDocument"]),
        policies=tuple(_as_json(d) for d in documents),
    )


def _as_json(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _absent_as(default: Any, read: Any, **kwargs: Any) -> Any:
    """`read(**kwargs)`, or `default` when AWS says that configuration does not exist."""
    try:
        return read(**kwargs)
    except aws.NotFound:
        return default


def deployment_inspect(*, deployment: Deployment) -> Snapshot:
    """Read everything the rules need, through infra.aws only. Raises
    `aws.AwsError` when some part of the deployment cannot be read."""
    pool = aws.identity_pool_describe(identity_pool_id=deployment.identity_pool_id)
    pool_roles = aws.identity_pool_roles_get(identity_pool_id=deployment.identity_pool_id)
    roles_by_type = dict(pool_roles.get("Roles") or {})
    role_mappings = dict(pool_roles.get("RoleMappings") or {})
    groups = tuple(aws.group_list(pool_id=deployment.user_pool_id))
    handed_out = dict.fromkeys([*(a for a in roles_by_type.values() if a), *_mapped_role_arns(role_mappings, groups)])
    on_aws = settings.PHOTOSHARE_AWS == "aws"
    bucket = deployment.bucket
    return Snapshot(
        deployment=deployment,
        region=settings.AWS_REGION,
        on_aws=on_aws,
        identity_pool=pool,
        pool_roles=roles_by_type,
        role_mappings=role_mappings,
        groups=groups,
        roles={arn: _role_read(arn=arn) for arn in handed_out},
        app_client=aws.app_client_describe(pool_id=deployment.user_pool_id, client_id=deployment.app_client_id),
        cors_rules=tuple(_absent_as([], aws.bucket_cors_get, bucket=bucket)),
        public_access_block=_absent_as({}, aws.bucket_public_access_block_get, bucket=bucket),
        versioning=aws.bucket_versioning_get(bucket=bucket),
        bucket_policy=_absent_as(None, aws.bucket_policy_get, bucket=bucket),
        # Demo users are expected in the sandbox; only AWS needs the lookup.
        demo_users=tuple(aws.user_emails_present(pool_id=deployment.user_pool_id, emails=DEMO_EMAILS)) if on_aws else (),
    )


# --- probes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One request doctor asks IAM about: `action` on `resource` (for
    ListBucket, with `prefix` as s3:prefix; None means the key is absent)."""

    action: str
    resource: str
    prefix: str | None = None
    label: str = ""

    def describe(self) -> str:
        if self.action == "s3:ListBucket":
            shown = "no prefix" if self.prefix is None else f"prefix {self.prefix!r}"
            return f"s3:ListBucket with {shown}"
        return f"{self.action} on {self.label or self.resource}"


@dataclass(frozen=True)
class _Ids:
    """The identity IDs (and foreign pool) probes use: made up, so they never
    match a real one, and shaped like AWS's so patterns treat them alike."""

    me: str
    other: str
    guest: str
    foreign_pool: str

    @classmethod
    def made_up(cls, region: str) -> "_Ids":
        return cls(*(f"{region}:d0c70000-0000-4000-8000-0000000000{n}" for n in ("a1", "b2", "c3", "f4")))


def _object(bucket: str, key: str, action: str) -> Probe:
    return Probe(action, f"arn:aws:s3:::{bucket}/{key}", label=key)


def _list(bucket: str, prefix: str | None) -> Probe:
    return Probe("s3:ListBucket", f"arn:aws:s3:::{bucket}", prefix)


def _guest_write_probes(s: Snapshot, ids: _Ids, role: Role) -> list[Probe]:
    bucket = s.deployment.bucket
    keys = [
        f"public/{ids.guest}/doctor-probe.jpg",
        f"public/{ids.other}/doctor-probe.jpg",
        f"private/{ids.guest}/doctor-probe.jpg",
        f"private/{ids.other}/doctor-probe.jpg",
        f"private/{role.shared_userid}/doctor-probe.jpg",
        "doctor-probe.jpg",
    ]
    probes = [_object(bucket, key, action) for key in keys for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl")]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    probes += [
        Probe(action, bucket_arn, label=f"the bucket {bucket}")
        for action in (
            "s3:PutBucketPolicy", "s3:PutBucketCORS", "s3:PutBucketPublicAccessBlock", "s3:PutBucketAcl",
            "s3:PutLifecycleConfiguration", "s3:DeleteBucket",
        )
    ]
    # Beyond S3: turning guest credentials into more power.
    account = s.deployment.authenticated_role_arn.split(":")[4]
    pool_arn = f"arn:aws:cognito-identity:{s.region}:{account}:identitypool/{s.deployment.identity_pool_id}"
    user_pool_arn = f"arn:aws:cognito-idp:{s.region}:{account}:userpool/{s.deployment.user_pool_id}"
    probes += [
        Probe("iam:PutRolePolicy", arn, label=f"role {arn.rsplit('/', 1)[-1]}") for arn in sorted(s.guest_role_arns)
    ]
    probes += [
        Probe("cognito-identity:SetIdentityPoolRoles", pool_arn, label="the identity pool"),
        Probe("cognito-idp:AdminUpdateUserAttributes", user_pool_arn, label="the user pool"),
        Probe("cognito-idp:AdminAddUserToGroup", user_pool_arn, label="the user pool"),
    ]
    return probes


def _guest_read_probes(s: Snapshot, ids: _Ids, role: Role) -> list[Probe]:
    bucket = s.deployment.bucket
    keys = (f"private/{owner}/doctor-probe.jpg" for owner in (ids.guest, ids.other, role.shared_userid))
    probes = [_object(bucket, key, "s3:GetObject") for key in (*keys, "doctor-probe.jpg")]
    probes += [_list(bucket, prefix) for prefix in (None, "", "private/", f"private/{ids.other}/", "doctor-probe/")]
    return probes


def _listbucket_probes(s: Snapshot) -> list[Probe]:
    # A listing that is not scoped: the whole bucket, a made-up prefix, or all of private/.
    return [_list(s.deployment.bucket, prefix) for prefix in (None, "", "doctor-probe/", "private/")]


def _owner_probes(s: Snapshot, ids: _Ids, role: Role, *, moderator: bool) -> list[Probe]:
    """Requests on prefixes that are not the caller's: another identity's, and
    the one every session of the role shares (${aws:userid})."""
    bucket = s.deployment.bucket
    probes = []
    for owner in (ids.other, role.shared_userid):
        private, public = f"private/{owner}/doctor-probe.jpg", f"public/{owner}/doctor-probe.jpg"
        probes += [_object(bucket, private, action) for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")]
        probes.append(_list(bucket, f"private/{owner}/"))
        probes.append(_object(bucket, public, "s3:PutObject"))
        if not moderator:  # moderators may delete anyone's public photos; nobody else may
            probes.append(_object(bucket, public, "s3:DeleteObject"))
    return probes


def _context(*, pool_id: str, identity_id: str, amr: Sequence[str], role: Role | None = None) -> dict[str, Any]:
    context = {
        AUD.lower(): pool_id,
        SUB.lower(): identity_id,
        AMR.lower(): list(amr),
        "aws:securetransport": "true",  # the app and the SDKs only speak HTTPS
    }
    if role is not None:
        context["aws:userid"] = role.shared_userid
    return context


def _signed_in_amr(s: Snapshot, subject: str) -> list[str]:
    return ["authenticated", s.provider, f"{s.provider}:CognitoSignIn:{subject}"]


def _allows(s: Snapshot, role: Role, probe: Probe, context: Mapping[str, Any]) -> bool:
    """Whether IAM lets `role` make the probe request: identity policies and
    the bucket policy together, an explicit Deny in either winning."""
    request = dict(context)
    if probe.prefix is not None:
        request["s3:prefix"] = probe.prefix
    decisions = [evaluate(role.policies, action=probe.action, resource=probe.resource, context=request, mode=Mode.AUDIT)]
    if s.bucket_policy and probe.resource.startswith(f"arn:aws:s3:::{s.deployment.bucket}"):
        decisions.append(
            evaluate(
                [s.bucket_policy], action=probe.action, resource=probe.resource, context=request, mode=Mode.AUDIT, principal={"AWS": role.arn}
            )
        )
    if Decision.DENY in decisions:
        return False
    return any(d.allowed for d in decisions)


def _allowed(s: Snapshot, role: Role, probes: Iterable[Probe], context: Mapping[str, Any]) -> list[Probe]:
    return [p for p in probes if _allows(s, role, p, context)]


def _summary(probes: Sequence[Probe], ids: _Ids, role: Role) -> str:
    """The allowed probes, with doctor's made-up IDs shown as what they stand for."""
    shown = "; ".join(p.describe() for p in probes[:MAX_LISTED])
    for value, placeholder in (
        (ids.other, "<another identity>"),
        (ids.guest, "<this guest>"),
        (role.shared_userid, "${aws:userid}"),
    ):
        shown = shown.replace(value, placeholder)
    more = len(probes) - MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


# --- rules -----------------------------------------------------------------------------

def _check_guest_role(s: Snapshot, ids: _Ids) -> list[Finding]:
    findings = []
    for arn in sorted(s.guest_role_arns):
        role = s.roles[arn]
        context = _context(pool_id=s.deployment.identity_pool_id, identity_id=ids.guest, amr=["unauthenticated"], role=role)
        writes = _allowed(s, role, _guest_write_probes(s, ids, role), context)
        if writes:
            what = f"The guest role {role.name} allows {_summary(writes, ids, role)}."
            findings.append(Finding(RULES["guest-write"], arn, what))
        reads = _allowed(s, role, _guest_read_probes(s, ids, role), context)
        if reads:
            what = f"The guest role {role.name} allows {_summary(reads, ids, role)}."
            findings.append(Finding(RULES["guest-read-outside-public"], arn, what))
    return findings


def _check_signed_in_roles(s: Snapshot, ids: _Ids) -> list[Finding]:
    findings = []
    amr = _signed_in_amr(s, "doctor-probe")
    for arn in sorted(s.signed_in_role_arns):
        role = s.roles[arn]
        context = _context(pool_id=s.deployment.identity_pool_id, identity_id=ids.me, amr=amr, role=role)
        reach = _allowed(s, role, _owner_probes(s, ids, role, moderator=arn in s.moderator_role_arns), context)
        if reach:
            findings.append(
                Finding(
                    RULES["owner-scope"],
                    arn,
                    f"Signed in as one identity, the role {role.name} allows, on keys that are not that "
                    f"identity's: {_summary(reach, ids, role)}.",
                )
            )
    return findings


def _check_listbucket(s: Snapshot, ids: _Ids) -> list[Finding]:
    findings = []
    pool_id = s.deployment.identity_pool_id
    for arn in sorted(s.roles):
        role = s.roles[arn]
        if arn in s.guest_role_arns:
            context = _context(pool_id=pool_id, identity_id=ids.guest, amr=["unauthenticated"], role=role)
        else:
            context = _context(pool_id=pool_id, identity_id=ids.me, amr=_signed_in_amr(s, "doctor-probe"), role=role)
        listed = _allowed(s, role, _listbucket_probes(s), context)
        if listed:
            what = f"The role {role.name} allows {_summary(listed, ids, role)}."
            findings.append(Finding(RULES["listbucket-unscoped"], arn, what))
    return findings


def _trusts(role: Role, *, action: str, context: Mapping[str, Any], principal: Mapping[str, str]) -> bool:
    return evaluate([role.trust], action=action, resource=role.arn, context=context, mode=Mode.AUDIT, principal=principal).allowed


def _check_trust(s: Snapshot, ids: _Ids) -> list[Finding]:
    findings = []
    pool_id = s.deployment.identity_pool_id
    web_identity, federated = "sts:AssumeRoleWithWebIdentity", {"Federated": COGNITO_IDENTITY}
    signed_in_amr = _signed_in_amr(s, "doctor-probe")
    # The tokens doctor offers each trust policy: this pool's guest and
    # signed-in tokens, and both kinds from some other identity pool.
    as_guest = _context(pool_id=pool_id, identity_id=ids.guest, amr=["unauthenticated"])
    as_user = _context(pool_id=pool_id, identity_id=ids.me, amr=signed_in_amr)
    foreign = [_context(pool_id=ids.foreign_pool, identity_id=ids.other, amr=amr) for amr in (signed_in_amr, ["unauthenticated"])]
    # Plain sts:AssumeRole from Cognito, or from any principal of another account.
    anyone = {"Federated": COGNITO_IDENTITY, "AWS": "arn:aws:iam::999999999999:root"}
    for arn in sorted(s.roles):
        role = s.roles[arn]
        guest_only = arn in s.guest_role_arns and arn not in s.signed_in_role_arns
        if any(_trusts(role, action=web_identity, context=c, principal=federated) for c in foreign):
            what = f"The trust policy of {role.name} accepts a web identity token issued by another identity pool."
            findings.append(Finding(RULES["trust-no-aud"], arn, what))
        if _trusts(role, action="sts:AssumeRole", context=as_guest if guest_only else as_user, principal=anyone):
            findings.append(Finding(RULES["trust-assume-role"], arn, f"The trust policy of {role.name} allows sts:AssumeRole."))
        if not guest_only and _trusts(role, action=web_identity, context=as_guest, principal=federated):
            what = (
                f"The trust policy of {role.name}, a role for signed-in users, accepts this pool's guest tokens "
                "(amr: unauthenticated)."
            )
            findings.append(Finding(RULES["trust-no-amr"], arn, what))
        if guest_only and _trusts(role, action=web_identity, context=as_user, principal=federated):
            what = f"The trust policy of the guest role {role.name} also accepts signed-in tokens (amr: authenticated)."
            findings.append(Finding(RULES["guest-trust-no-amr"], arn, what))
    return findings


def _check_identity_pool(s: Snapshot) -> list[Finding]:
    findings = []
    pool = s.identity_pool
    pool_id = s.deployment.identity_pool_id
    if pool.get("AllowClassicFlow") is not False:
        state = "on" if pool.get("AllowClassicFlow") else "not set (AWS may treat that as on)"
        findings.append(Finding(RULES["classic-flow"], pool_id, f"AllowClassicFlow is {state} on identity pool {pool_id}."))
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
    extra += list(pool.get("OpenIdConnectProviderARNs") or [])
    extra += list(pool.get("SamlProviderARNs") or [])
    if pool.get("DeveloperProviderName"):
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
    writable = writable_claims(app_client=s.app_client)
    for key, mapping in sorted(s.role_mappings.items()):
        if mapping.get("Type") == "Token":
            read = list(TOKEN_MAPPING_CLAIMS)
        else:
            read = [rule.get("Claim", "") for rule in (mapping.get("RulesConfiguration") or {}).get("Rules", [])]
        hits = sorted({claim for claim in read if claim in writable})
        if hits:
            findings.append(
                Finding(
                    RULES["role-mapping-writable-claim"],
                    s.deployment.identity_pool_id,
                    f"The {mapping.get('Type')} role mapping for {key} reads {', '.join(hits)}, which app client "
                    f"{s.deployment.app_client_id} lets users write.",
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
    ids = _Ids.made_up(snapshot.region)
    findings = [
        *_check_guest_role(snapshot, ids),
        *_check_trust(snapshot, ids),
        *_check_identity_pool(snapshot),
        *_check_role_mappings(snapshot),
        *_check_listbucket(snapshot, ids),
        *_check_signed_in_roles(snapshot, ids),
        *_check_bucket(snapshot),
        *_check_demo_users(snapshot),
    ]
    order = list(RULES)
    return sorted(findings, key=lambda f: (f.rule.severity.rank, order.index(f.rule.id), f.resource))


# --- reports ----------------------------------------------------------------------------

def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity.value: sum(f.rule.severity is severity for f in findings) for severity in Severity}


def report_text(*, snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    d = snapshot.deployment
    where = "AWS" if snapshot.on_aws else "the sandbox"
    lines = [f"Auditing identity pool {d.identity_pool_id}, user pool {d.user_pool_id} and bucket {d.bucket} on {where}.", ""]
    for finding in findings:
        rule = finding.rule
        lines += [
            f"[{rule.severity.value.upper()}] {rule.id}: {rule.title}",
            f"  Resource: {finding.resource}",
            f"  What: {finding.what}",
            f"  Why:  {rule.why}",
            f"  Fix:  {rule.fix}",
            "",
        ]
    if findings:
        counts = ", ".join(f"{n} {severity}" for severity, n in _counts(findings).items() if n)
        noun = "problem" if len(findings) == 1 else "problems"
        lines.append(f"doctor: {len(findings)} {noun} found ({counts}).")
    else:
        lines.append(f"doctor: no problems found ({len(RULES)} rules checked).")
    return "\n".join(lines)


def report_json(*, snapshot: Snapshot, findings: Sequence[Finding]) -> str:
    d = snapshot.deployment
    return json.dumps(
        {
            "ok": not findings,
            "deployment": {
                "aws": "aws" if snapshot.on_aws else "local",
                "region": snapshot.region,
                "user_pool_id": d.user_pool_id,
                "app_client_id": d.app_client_id,
                "identity_pool_id": d.identity_pool_id,
                "bucket": d.bucket,
            },
            "counts": _counts(findings),
            "findings": [f.as_dict() for f in findings],
        },
        indent=2,
    )
