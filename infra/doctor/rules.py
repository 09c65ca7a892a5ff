"""What `doctor` knows to look for: every rule's id, severity, title, why it
matters and the fix, and the `Finding` a check makes of one. The texts live
here, apart from the checks, so that a reviewer reads every promise doctor
makes in one place, and so that `--json` and the text report say the same.
Cognito's own list of these traps: "Security best practices for Amazon
Cognito identity pools"
(https://docs.aws.amazon.com/cognito/latest/developerguide/identity-pools-security-best-practices.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
# the specific "what" (which role, which request). Within one severity, the
# report lists findings in this order.
RULES = _rules(
    Rule(
        "guest-write",
        Severity.CRITICAL,
        "Guests can write",
        "Anyone on the internet gets guest credentials from the unsigned GetId and "
        "GetCredentialsForIdentity calls, without an account; a guest role that can write "
        "lets strangers upload, overwrite or delete photos, or change the bucket.",
        "Give the unauthenticated role s3:GetObject and s3:GetObjectVersion on public/* and s3:ListBucket with an "
        "s3:prefix condition on public/ only (infra/policies), then run `manage.py provision`.",
    ),
    Rule(
        "guest-read-outside-public",
        Severity.CRITICAL,
        "Guests can read outside public/",
        "Guest credentials are free for anyone; any read they allow outside public/ exposes "
        "users' private photos, or their identity IDs through listings, to the whole internet.",
        "Limit the unauthenticated role's s3:GetObject and s3:GetObjectVersion to public/* and its s3:ListBucket to an "
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
        "dynamodb-leading-keys-missing",
        Severity.CRITICAL,
        "Albums not scoped to the owner's identity ID",
        "The albums table keeps every user's albums, each under its owner's identity ID as partition "
        "key; the browser reads and writes it with its own credentials. Without a "
        "ForAllValues:StringEquals condition on dynamodb:LeadingKeys = ${cognito-identity.amazonaws.com:sub} "
        "(or with ForAnyValue:, which a batch naming one's own key beside another's satisfies), one "
        "signed-in user reads, rewrites or deletes another's albums.",
        'Grant the item actions on the table only with "Condition": {"ForAllValues:StringEquals": '
        '{"dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}} (infra/policies/albums.json), '
        "then run `manage.py provision`.",
    ),
    Rule(
        "dynamodb-scan-allowed",
        Severity.HIGH,
        "Users may Scan the albums table",
        "A Scan reads every item of the table, every user's albums, and names no partition key, so "
        "dynamodb:LeadingKeys cannot limit it: a ForAllValues: condition holds for the empty set of keys "
        "a Scan has. It shows each user's identity ID, album titles and the IDs of photos they keep private.",
        "Remove dynamodb:Scan (and dynamodb:* or wildcards that include it) from the roles the identity "
        "pool hands out; list albums with a Query on the caller's own partition (`manage.py provision` "
        "writes the policy so).",
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
        "role-mapping-self-asserted-claim",
        Severity.HIGH,
        "Role mapping on a claim people choose",
        "A Rules mapping for an OpenID Connect provider decides the role on a claim the person "
        "signing in sets for themselves (a profile claim such as name or preferred_username, or "
        "email, which some providers do not verify and which no rule can tie to email_verified), "
        "so anyone with an account at that provider can claim the role.",
        "Map on a claim the provider itself asserts, such as Google's hd (the Workspace domain) or "
        "a group claim your IdP sets, with MatchType Equals (`manage.py provision` maps hd Equals "
        "OIDC_TEAM_DOMAIN).",
    ),
    Rule(
        "role-mapping-lookalike-domain",
        Severity.HIGH,
        "Role mapping matches a look-alike domain",
        "Contains and StartsWith match substrings: a rule giving a role when hd or email contains "
        "wintercorp.com also gives it to wintercorp.com.evil.example, a domain anyone can register "
        "and run an account under.",
        "Use MatchType Equals on the exact domain (hd Equals wintercorp.com), then run "
        "`manage.py provision`.",
    ),
    Rule(
        "role-mapping-fallback-privileged",
        Severity.MEDIUM,
        "Role mapping falls back to a privileged role",
        "AmbiguousRoleResolution AuthenticatedRole gives everyone who matches no rule the pool's "
        "authenticated role. When that role is itself one the rules single out (a team or moderator "
        "role), the rules decide nothing: everyone who can sign in with that provider gets it. Deny "
        "was probably meant, or the authenticated role should be the ordinary one. Medium, not "
        "high: the role is still limited by its own policy and trust.",
        "Set the pool's authenticated role back to <name>-authenticated (`manage.py provision` "
        "does), or set AmbiguousRoleResolution to Deny if only people the rules match may sign in.",
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
    what: str  # the specific problem found, in one or two sentences
