"""The requests `doctor` asks IAM about, and the asking.

Each check is a question such as "may a guest write?", turned into probe
requests (a guest writing under its own prefix, under another identity's,
at the bucket's root; a signed-in user reading another user's keys) with
the request context IAM would see for them. Doctor then evaluates the role's
real policies (inline and attached managed, plus the bucket policy) with
`iampolicy` in audit mode: no string matching on policy text, so a policy
written differently but meaning the same gets the same verdict, and the
audit reads the same on the sandbox and on AWS.

Audit mode fails open: a statement with a condition `iampolicy` cannot
decide (an operator it does not implement, or `IpAddress` and `Date*` on
the source address and time, which no probe can know) counts as applying if it
allows, and as not applying if it denies, so doctor may raise a false alarm
but never misses a role that IAM might let through. Each `Verdict` carries
what could not be decided, so the report can say so. Permissions
boundaries and SCPs are not read, for the same reason: they can only narrow
what a role allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iampolicy import Decision, Mode, evaluate
from iampolicy.conditions import UNKNOWN

from infra.doctor.snapshot import Role, Snapshot

COGNITO_IDENTITY = "cognito-identity.amazonaws.com"
AUD = f"{COGNITO_IDENTITY}:aud"
SUB = f"{COGNITO_IDENTITY}:sub"
AMR = f"{COGNITO_IDENTITY}:amr"


# --- the requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request doctor asks IAM about: `action` on `resource` (for
    ListBucket, with `prefix` as s3:prefix; None means the key is absent; for
    DynamoDB, with `leading_keys` as dynamodb:LeadingKeys, the partition keys
    the request touches, None for a Scan, which names none)."""

    action: str
    resource: str
    prefix: str | None = None
    label: str = ""
    leading_keys: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.action == "s3:ListBucket":
            shown = "no prefix" if self.prefix is None else f"prefix {self.prefix!r}"
            return f"s3:ListBucket with {shown}"
        if self.leading_keys is not None:
            return f"{self.action} on {self.label or self.resource} with partition key {' and '.join(self.leading_keys)}"
        return f"{self.action} on {self.label or self.resource}"


@dataclass(frozen=True)
class Ids:
    """The identity IDs (and foreign pool) probes use: made up, so they never
    match a real one, and shaped like AWS's so patterns treat them alike."""

    me: str
    other: str
    guest: str
    foreign_pool: str

    @classmethod
    def made_up(cls, region: str) -> "Ids":
        return cls(*(f"{region}:d0c70000-0000-4000-8000-0000000000{n}" for n in ("a1", "b2", "c3", "f4")))


def _object(bucket: str, key: str, action: str) -> Probe:
    return Probe(action, f"arn:aws:s3:::{bucket}/{key}", label=key)


def _list(bucket: str, prefix: str | None) -> Probe:
    return Probe("s3:ListBucket", f"arn:aws:s3:::{bucket}", prefix)


def guest_write_probes(s: Snapshot, ids: Ids, role: Role) -> list[Probe]:
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


# --- the albums table (issue 17) ----------------------------------------------------------

# Every DynamoDB action that reads or writes items by key, and so names a
# partition key IAM compares with dynamodb:LeadingKeys.
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)
# Their batch forms touch several partitions at once: a caller's own beside another's.
BATCH_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems", "dynamodb:TransactGetItems")
# Actions that read every partition and name none, so LeadingKeys cannot limit them.
WHOLE_TABLE_ACTIONS = ("dynamodb:Scan",)


def albums_table_arn(s: Snapshot) -> str:
    """The albums table's ARN: the deployment's account (its roles') and region."""
    account = s.deployment.authenticated_role_arn.split(":")[4]
    return f"arn:aws:dynamodb:{s.region}:{account}:table/{s.deployment.albums_table}"


def _table(s: Snapshot, action: str, leading_keys: tuple[str, ...] | None) -> Probe:
    return Probe(action, albums_table_arn(s), label=f"table {s.deployment.albums_table}", leading_keys=leading_keys)


def albums_other_probes(s: Snapshot, ids: Ids, *, me: str) -> list[Probe]:
    """Item requests on another identity's albums: alone, and in a batch beside the caller's own
    (a ForAnyValue: condition lets that through)."""
    probes = [_table(s, action, (ids.other,)) for action in ITEM_ACTIONS]
    probes += [_table(s, action, (me, ids.other)) for action in BATCH_ACTIONS]
    return probes


def albums_scan_probes(s: Snapshot) -> list[Probe]:
    # No partition key: a ForAllValues: condition on LeadingKeys holds for an empty set.
    return [_table(s, action, None) for action in WHOLE_TABLE_ACTIONS]


def albums_guest_write_probes(s: Snapshot, ids: Ids) -> list[Probe]:
    """A guest writing albums, even under its own identity ID: guests keep nothing."""
    return [_table(s, action, (ids.guest,)) for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")]


READS = ("s3:GetObject", "s3:GetObjectVersion")  # a plain read and a read of one version


def guest_read_probes(s: Snapshot, ids: Ids, role: Role) -> list[Probe]:
    bucket = s.deployment.bucket
    keys = (f"private/{owner}/doctor-probe.jpg" for owner in (ids.guest, ids.other, role.shared_userid))
    # A pinned read (?versionId=) is s3:GetObjectVersion: probed beside GetObject wherever reads must fail.
    probes = [_object(bucket, key, action) for key in (*keys, "doctor-probe.jpg") for action in READS]
    probes += [_list(bucket, prefix) for prefix in (None, "", "private/", f"private/{ids.other}/", "doctor-probe/")]
    return probes


def listbucket_probes(s: Snapshot) -> list[Probe]:
    # A listing that is not scoped: the whole bucket, a made-up prefix, or all of private/.
    return [_list(s.deployment.bucket, prefix) for prefix in (None, "", "doctor-probe/", "private/")]


def owner_probes(s: Snapshot, ids: Ids, role: Role, *, moderator: bool) -> list[Probe]:
    """Requests on prefixes that are not the caller's: another identity's, and
    the one every session of the role shares (${aws:userid})."""
    bucket = s.deployment.bucket
    probes = []
    for owner in (ids.other, role.shared_userid):
        private, public = f"private/{owner}/doctor-probe.jpg", f"public/{owner}/doctor-probe.jpg"
        probes += [_object(bucket, private, action) for action in (*READS, "s3:PutObject", "s3:DeleteObject")]
        probes.append(_list(bucket, f"private/{owner}/"))
        probes.append(_object(bucket, public, "s3:PutObject"))
        if not moderator:  # moderators may delete anyone's public photos; nobody else may
            probes.append(_object(bucket, public, "s3:DeleteObject"))
    return probes


def request_context(*, pool_id: str, identity_id: str, amr: Sequence[str], role: Role | None = None) -> dict[str, Any]:
    """The condition keys IAM sees for a request made with identity-pool
    credentials (or, without `role`, for the token a trust policy is shown)."""
    context = {
        AUD.lower(): pool_id,
        SUB.lower(): identity_id,
        AMR.lower(): list(amr),
        "aws:securetransport": "true",  # the app and the SDKs only speak HTTPS
        # Where and when a future request comes from is not known here: a
        # condition on these is undecided (so audited open), not false.
        **{key: UNKNOWN for key in ("aws:sourceip", "aws:currenttime", "aws:epochtime", "aws:tokenissuetime")},
        # Nor which tags an object has or a request sets (any key, there or not).
        **{key: UNKNOWN for key in ("s3:existingobjecttag/*", "s3:requestobjecttag/*", "s3:requestobjecttagkeys")},
    }
    if role is not None:
        context["aws:userid"] = role.shared_userid
    return context


def signed_in_amr(s: Snapshot, subject: str) -> list[str]:
    return ["authenticated", s.provider, f"{s.provider}:CognitoSignIn:{subject}"]


# --- asking IAM ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether IAM may allow a request, and, when doctor could not fully
    decide, which statements it counted as applying and why."""

    allowed: bool
    undecided: tuple[str, ...] = ()


def _verdict(decisions: Sequence[tuple[Decision, Sequence[str]]]) -> Verdict:
    """Decisions of policies IAM applies together (each with the names of
    its documents): an explicit Deny in any wins, else any Allow allows."""
    if any(decision.explicit_deny for decision, _ in decisions):
        return Verdict(False)
    allowed = any(decision.allowed for decision, _ in decisions)
    certainly_allowed = any(d.allowed and all(u.effect != "Allow" for u in d.undecided) for d, _ in decisions)
    undecided = tuple(
        f"{names[u.policy - 1]}, {u.effect} statement {u.statement}: {'; '.join(u.reasons)}"
        for decision, names in decisions
        for u in decision.undecided
        if u.effect == "Deny" or not certainly_allowed
    )
    return Verdict(allowed, undecided)


def probe_verdict(s: Snapshot, role: Role, probe: Probe, context: Mapping[str, Any]) -> Verdict:
    """Whether IAM may let `role` make the probe request: identity policies
    and the bucket policy together."""
    request = dict(context)
    if probe.prefix is not None:
        request["s3:prefix"] = probe.prefix
    if probe.leading_keys is not None:
        request["dynamodb:leadingkeys"] = list(probe.leading_keys)
    decisions = [
        (evaluate(role.policies, action=probe.action, resource=probe.resource, context=request, mode=Mode.AUDIT), role.policy_names)
    ]
    if s.bucket_policy and probe.resource.startswith(f"arn:aws:s3:::{s.deployment.bucket}"):
        bucket = evaluate(
            [s.bucket_policy], action=probe.action, resource=probe.resource, context=request, mode=Mode.AUDIT, principal={"AWS": role.arn}
        )
        decisions.append((bucket, ("the bucket policy",)))
    return _verdict(decisions)


def probes_allowed(s: Snapshot, role: Role, probes: Iterable[Probe], context: Mapping[str, Any]) -> list[tuple[Probe, Verdict]]:
    """The probes IAM may allow, each with its verdict."""
    verdicts = ((probe, probe_verdict(s, role, probe, context)) for probe in probes)
    return [(probe, verdict) for probe, verdict in verdicts if verdict.allowed]


def trust_verdict(role: Role, *, action: str, context: Mapping[str, Any], principal: Mapping[str, str]) -> Verdict:
    """Whether the role's trust policy may let `principal` assume it with this token."""
    decision = evaluate([role.trust], action=action, resource=role.arn, context=context, mode=Mode.AUDIT, principal=principal)
    return _verdict([(decision, ("the trust policy",))])
