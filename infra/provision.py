"""Create, repair and remove the Photoshare deployment: one user pool, one
app client, the `moderators` group, one identity pool, three roles, the
photo bucket and the albums table, in the sandbox or on AWS with the same code.

`deployment_provision` is idempotent: it finds each resource by name, compares
what it finds with what it wants, and changes (and reports) only what differs,
so running it again repairs drift and otherwise changes nothing. Where a
Describe call leaves out a field (moto and AWS do not always return the same
ones), only what is returned is compared, or a second run would "repair" a
field it cannot see.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.aws import user_pool_provider_name
from core.deployment import Deployment, deployment_save
from infra import aws

Report = Callable[[str], None]

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
_PLACEHOLDER = re.compile(r"__[A-Z_]+__")

MODERATORS = "moderators"
MODERATORS_PRECEDENCE = 1  # the lowest wins cognito:preferred_role
ACCESS_POLICY = "s3-access"  # inline policy name on every role
MODERATION_POLICY = "moderation"  # the moderator role's second inline policy
ROLE_KINDS = ("authenticated", "unauthenticated", "moderator")
TEAM = "team"  # the team role's kind in Names.roles: people of OIDC_TEAM_DOMAIN, mapped by their `hd` claim
TEAM_POLICY = "team-access"  # the team role's second inline policy
ALBUMS_POLICY = "albums-access"  # every signed-in role's DynamoDB policy (issue 17); guests get none

PASSWORD_POLICY = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
# What a browser sends when it signs S3 requests itself (SigV4 in headers):
# uploads carry Cache-Control (keys never change, so images cache for good),
# and publishing is a CopyObject of the pinned version, named in its headers.
# Viewing needs none of these: a presigned GET carries everything in its URL.
CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"]
CORS_HEADERS = [
    "authorization",
    "cache-control",
    "content-type",
    "x-amz-content-sha256",
    "x-amz-copy-source",
    "x-amz-date",
    "x-amz-metadata-directive",
    "x-amz-security-token",
    "x-amz-user-agent",
]
CORS_MAX_AGE = 3000  # seconds browsers may cache a preflight answer
ABORT_UPLOADS_RULE = "abort-incomplete-multipart-uploads"
ABORT_UPLOADS_AFTER = 1  # days; parts of abandoned uploads are billed until aborted
# Versioning pins each photo to the version the server checked (uploads.services);
# what an owner writes over it, or deletes, leaves a noncurrent version behind.
NONCURRENT_RULE = "expire-noncurrent-versions"
NONCURRENT_AFTER = 1  # days after a version stops being current; then it is deleted


class ProvisionError(Exception):
    """Provisioning cannot go on; the message says what to do, for people."""


@dataclass(frozen=True)
class Names:
    """Every resource's name, derived from PHOTOSHARE_NAME and PHOTOSHARE_BUCKET."""

    user_pool: str
    app_client: str
    identity_pool: str
    bucket: str
    roles: dict[str, str] = field(default_factory=dict)  # kind -> role name
    albums_table: str = ""


def deployment_names() -> Names:
    name = settings.PHOTOSHARE_NAME
    if not settings.PHOTOSHARE_BUCKET:
        raise ImproperlyConfigured("PHOTOSHARE_BUCKET is required on AWS: bucket names are global, pick your own.")
    return Names(
        user_pool=f"{name}-users",
        app_client=f"{name}-web",
        # Identity pool names allow only word characters and spaces.
        identity_pool=re.sub(r"[^\w ]", "_", f"{name} identities"),
        bucket=settings.PHOTOSHARE_BUCKET,
        roles={**{kind: f"{name}-{kind}" for kind in ROLE_KINDS}, TEAM: f"{name}-team-{team_slug()}"},
        albums_table=f"{name}-albums",
    )


def team_slug() -> str:
    """`wintercorp` for wintercorp.com: the team's name in its role and its
    prefix `teams/<slug>/`, letters, digits and hyphens only."""
    label = settings.OIDC_TEAM_DOMAIN.strip().lower().split(".", 1)[0]
    slug = re.sub(r"[^a-z0-9-]", "-", label).strip("-")
    if not slug:
        raise ImproperlyConfigured(f"OIDC_TEAM_DOMAIN must be a domain name such as wintercorp.com, not {settings.OIDC_TEAM_DOMAIN!r}.")
    return slug


def oidc_provider_name() -> str:
    """OIDC_ISSUER as IAM and the identity pool name it (host and path, no
    scheme): the provider's `Logins` key and its RoleMappings key. Empty when
    no OIDC provider is configured."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        return ""
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"OIDC_ISSUER must be an http(s) URL with no query or fragment, not {issuer!r}.")
    return parts.netloc + parts.path.rstrip("/")


def server_policy_path() -> Path:
    """Beside the deployment IDs, named like them per PHOTOSHARE_AWS."""
    deployment_file = Path(settings.PHOTOSHARE_DEPLOYMENT_FILE)
    return deployment_file.with_name(f"server-policy-{settings.PHOTOSHARE_AWS}.json")


def server_policy(*, bucket: str, role_arn: str, identity_pool_id: str) -> dict[str, Any]:
    """The Django server's policy: its roles' account is the one in their ARNs,
    the identity pool's region the prefix of its ID (`us-east-1:...`)."""
    return policy_render(
        name="server",
        bucket=bucket,
        deployment=settings.PHOTOSHARE_NAME,
        account=role_arn.split(":")[4],
        identity_pool_id=identity_pool_id,
        region=identity_pool_id.split(":", 1)[0],
    )


def policy_render(
    *,
    name: str,
    bucket: str = "",
    identity_pool_id: str = "",
    deployment: str = "",
    account: str = "",
    region: str = "",
    team: str = "",
    table_arn: str = "",
) -> dict[str, Any]:
    """`infra/policies/<name>.json` with its placeholders filled in
    (`__NAME__` is the deployment's name, which its roles' names start with;
    `__ACCOUNT__` the account they are in, `__TEAM__` the team's slug,
    `__TABLE_ARN__` the albums table's ARN, as DescribeTable gives it)."""
    text = (POLICIES_DIR / f"{name}.json").read_text()
    values = {
        "__BUCKET__": bucket,
        "__IDENTITY_POOL_ID__": identity_pool_id,
        "__NAME__": deployment,
        "__ACCOUNT__": account,
        "__REGION__": region,
        "__TEAM__": team,
        "__TABLE_ARN__": table_arn,
    }
    for placeholder, value in values.items():
        if placeholder in text and not value:
            raise ValueError(f"policy {name} needs a value for {placeholder}")
        text = text.replace(placeholder, value)
    left = _PLACEHOLDER.search(text)
    if left:
        raise ValueError(f"policy {name} has an unknown placeholder {left.group()}")
    return json.loads(text)


# --- what we want -------------------------------------------------------------------------


def user_pool_config() -> dict[str, Any]:
    """The settings UpdateUserPool can change (it resets any it is not given)."""
    return {
        "Policies": {"PasswordPolicy": PASSWORD_POLICY},
        "AutoVerifiedAttributes": ["email"],
        # A changed email stays unverified until its code is entered; until then
        # the old address keeps working for sign-in and recovery.
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": not settings.SELF_SIGN_UP},
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    }


# Fixed when the pool is created. No custom attributes at all, so none can be
# writable by the app client (a writable one must never decide a role).
USER_POOL_FIXED = {"UsernameAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": False}}


def app_client_config() -> dict[str, Any]:
    """The confidential client Django signs users in with (UpdateUserPoolClient
    resets what it is not given, so this is all of it)."""
    return {
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "IdTokenValidity": 1,
        "AccessTokenValidity": 1,
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {"IdToken": "hours", "AccessToken": "hours", "RefreshToken": "days"},
        # Only what the app shows; and only email is writable, since Cognito
        # lets a client write every attribute when WriteAttributes is unset.
        "ReadAttributes": ["email", "email_verified"],
        "WriteAttributes": ["email"],
        # Sign-in and password reset answer alike for unknown and known emails.
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "AllowedOAuthFlowsUserPoolClient": False,
    }


def identity_pool_config(*, name: str, provider: str, client_id: str, oidc_provider_arn: str = "") -> dict[str, Any]:
    return {
        "IdentityPoolName": name,
        "AllowUnauthenticatedIdentities": settings.ALLOW_GUESTS,
        # Set explicitly: pools created without the flag have been seen allowing
        # the classic flow, which lets a caller pick any role that trusts the pool.
        "AllowClassicFlow": False,
        # This user pool and app client only; ServerSideTokenCheck refuses tokens
        # of users signed out globally or deleted.
        "CognitoIdentityProviders": [{"ProviderName": provider, "ClientId": client_id, "ServerSideTokenCheck": True}],
        "SupportedLoginProviders": {},
        # OIDC_ISSUER's IAM provider only; its tokens' audience is checked by IAM's ClientIDList.
        "OpenIdConnectProviderARNs": [oidc_provider_arn] if oidc_provider_arn else [],
        "SamlProviderARNs": [],
        # Sign-in links: the server vouches for the person (GetOpenIdTokenForDeveloperIdentity).
        "DeveloperProviderName": settings.PHOTOSHARE_DEVELOPER_PROVIDER,
    }


# Describe leaving these out is itself drift: their absence has meant "on".
_IDENTITY_POOL_REQUIRED = ("AllowUnauthenticatedIdentities", "AllowClassicFlow", "CognitoIdentityProviders")


def identity_pool_roles_config(
    *, roles: dict[str, str], provider: str, client_id: str, oidc_provider: str = ""
) -> dict[str, Any]:
    """Token mapping: a moderator's ID token carries the moderator role in
    `cognito:preferred_role`, a claim only group membership sets; everyone
    else falls back to the authenticated role.

    Rules mapping for the OIDC provider: `hd` is the hosted domain the
    provider itself vouches for (Google sets it only for its Workspace
    accounts; people cannot choose it), matched with Equals, since Contains or
    StartsWith would let `wintercorp.com.evil.example` in. No match falls back
    to the authenticated role: everyone else from that provider is an ordinary
    signed-in user, which is what the role without `teams/*` is for."""
    mappings: dict[str, Any] = {f"{provider}:{client_id}": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}}
    if oidc_provider:
        mappings[oidc_provider] = {
            "Type": "Rules",
            "AmbiguousRoleResolution": "AuthenticatedRole",
            "RulesConfiguration": {
                "Rules": [
                    {"Claim": "hd", "MatchType": "Equals", "Value": settings.OIDC_TEAM_DOMAIN, "RoleARN": roles[TEAM]}
                ]
            },
        }
    return {
        "Roles": {"authenticated": roles["authenticated"], "unauthenticated": roles["unauthenticated"]},
        "RoleMappings": mappings,
    }


def albums_table_config() -> dict[str, Any]:
    """The albums table: each item is one album, keyed by its owner's identity
    ID and then its own ID, so the partition key is exactly what
    `dynamodb:LeadingKeys` = `${cognito-identity.amazonaws.com:sub}` compares:
    a user's Query reaches only their own partition. On demand: nothing to size."""
    return {
        "KeySchema": [
            {"AttributeName": "identityId", "KeyType": "HASH"},
            {"AttributeName": "albumId", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "identityId", "AttributeType": "S"},
            {"AttributeName": "albumId", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def albums_table_arn(*, table: str) -> str:
    """The table's ARN as DynamoDB gives it (its account and region are the
    deployment's), for the signed-in roles' `albums-access` policy."""
    return aws.table_describe(name=table)["TableArn"]


def cors_rules() -> list[dict[str, Any]]:
    return [
        {
            "AllowedOrigins": list(settings.APP_ORIGINS),
            "AllowedMethods": CORS_METHODS,
            "AllowedHeaders": CORS_HEADERS,
            # Multipart completion needs each part's ETag; the inspector reads
            # x-amz-request-id to look up the sandbox's decision on a request.
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": CORS_MAX_AGE,
        }
    ]


def lifecycle_rules() -> list[dict[str, Any]]:
    return [
        {
            "ID": ABORT_UPLOADS_RULE,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_UPLOADS_AFTER},
        },
        {
            "ID": NONCURRENT_RULE,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_AFTER},
        },
    ]


def role_policies(*, kind: str, bucket: str, albums_table_arn: str) -> dict[str, dict[str, Any]]:
    """Inline policy name -> document for each role. Moderators and team
    members are signed-in users too, so their roles have the authenticated
    policy (and albums) plus their own. Guests have no albums: nothing of
    theirs is kept, and their identity is anyone's for the asking."""
    if kind == "unauthenticated":
        return {ACCESS_POLICY: policy_render(name="unauthenticated", bucket=bucket)}
    policies = {
        ACCESS_POLICY: policy_render(name="authenticated", bucket=bucket),
        ALBUMS_POLICY: policy_render(name="albums", table_arn=albums_table_arn),
    }
    if kind == "moderator":
        policies[MODERATION_POLICY] = policy_render(name="moderator", bucket=bucket)
    if kind == TEAM:
        policies[TEAM_POLICY] = policy_render(name="team", bucket=bucket, team=team_slug())
    return policies


def role_trust(*, kind: str, identity_pool_id: str) -> dict[str, Any]:
    trust = "trust-unauthenticated" if kind == "unauthenticated" else "trust-authenticated"
    return policy_render(name=trust, identity_pool_id=identity_pool_id)


# --- comparing ----------------------------------------------------------------------------


def _same(desired: Any, actual: Any) -> bool:
    """Whether `actual` already is `desired`, looking only at keys `actual`
    has; lists of strings are compared as sets (AWS may reorder them)."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return False
        return all(_same(value, actual[key]) for key, value in desired.items() if key in actual)
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(desired) != len(actual):
            return False
        if all(isinstance(item, str) for item in desired + actual):
            return sorted(desired) == sorted(actual)
        return all(_same(d, a) for d, a in zip(desired, actual))
    return desired == actual


def _drifted(desired: dict[str, Any], actual: dict[str, Any], *, required: tuple[str, ...] = ()) -> list[str]:
    """The top-level settings that differ, for the report."""
    return [
        key
        for key, value in desired.items()
        if (key in actual and not _same(value, actual[key])) or (key not in actual and key in required)
    ]


def _cors_normal(rules: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # Header names are case-insensitive; origins and methods are not reordered by meaning.
    return sorted(
        (
            tuple(sorted(r.get("AllowedOrigins", []))),
            tuple(sorted(r.get("AllowedMethods", []))),
            tuple(sorted(h.lower() for h in r.get("AllowedHeaders", []))),
            tuple(sorted(h.lower() for h in r.get("ExposeHeaders", []))),
            r.get("MaxAgeSeconds"),
        )
        for r in rules
    )


def _lifecycle_normal(rules: list[dict[str, Any]]) -> list[str]:
    # AWS may answer an empty filter as {} or {"Prefix": ""}; both mean the whole bucket.
    normal = []
    for rule in rules:
        rule = dict(rule)
        legacy = {"Prefix": rule.pop("Prefix")} if "Prefix" in rule else {}  # the old spelling of Filter.Prefix
        rule["Filter"] = {k: v for k, v in (rule.get("Filter") or legacy).items() if v != ""}
        normal.append(json.dumps(rule, sort_keys=True, default=str))
    return sorted(normal)


def _one(ids: list[str], what: str, name: str) -> str | None:
    if len(ids) > 1:
        raise ProvisionError(
            f"There are {len(ids)} {what}s named {name!r}; delete the extra ones (or choose another PHOTOSHARE_NAME)."
        )
    return ids[0] if ids else None


# --- provisioning -------------------------------------------------------------------------


def deployment_provision(*, report: Report) -> Deployment:
    """Bring the deployment to its intended state, saving its IDs; `report`
    gets one line per resource created or setting changed, and nothing when
    all was already as it should be."""
    names = deployment_names()
    pool_id = _user_pool_ensure(names=names, report=report)
    client = _app_client_ensure(pool_id=pool_id, names=names, report=report)
    provider = user_pool_provider_name(user_pool_id=pool_id)
    oidc_provider = oidc_provider_name()
    oidc_provider_arn = oidc_provider_ensure(name=oidc_provider, report=report) if oidc_provider else ""
    identity_pool_id = _identity_pool_ensure(
        names=names, provider=provider, client_id=client["ClientId"], oidc_provider_arn=oidc_provider_arn, report=report
    )
    table_arn = _albums_table_ensure(name=names.albums_table, report=report)
    # The team role exists only with an OIDC provider: nothing else maps to it.
    kinds = (*ROLE_KINDS, TEAM) if oidc_provider else ROLE_KINDS
    roles = {
        kind: role_ensure(
            name=names.roles[kind],
            trust=role_trust(kind=kind, identity_pool_id=identity_pool_id),
            policies=role_policies(kind=kind, bucket=names.bucket, albums_table_arn=table_arn),
            report=report,
        )
        for kind in kinds
    }
    _group_ensure(pool_id=pool_id, role_arn=roles["moderator"], report=report)
    _identity_pool_roles_ensure(
        identity_pool_id=identity_pool_id,
        desired=identity_pool_roles_config(
            roles=roles, provider=provider, client_id=client["ClientId"], oidc_provider=oidc_provider
        ),
        report=report,
    )
    _bucket_ensure(bucket=names.bucket, report=report)
    policy = server_policy(bucket=names.bucket, role_arn=roles["authenticated"], identity_pool_id=identity_pool_id)
    _file_ensure(
        path=server_policy_path(),
        content=json.dumps(policy, indent=2) + "\n",
        what="the Django server's IAM policy (attach it to the server's role or user on AWS)",
        report=report,
    )
    deployment = Deployment(
        user_pool_id=pool_id,
        app_client_id=client["ClientId"],
        app_client_secret=client["ClientSecret"],
        identity_pool_id=identity_pool_id,
        bucket=names.bucket,
        authenticated_role_arn=roles["authenticated"],
        unauthenticated_role_arn=roles["unauthenticated"],
        moderator_role_arn=roles["moderator"],
        team_role_arn=roles.get(TEAM, ""),
        oidc_provider_arn=oidc_provider_arn,
        albums_table=names.albums_table,
    )
    _deployment_ensure(deployment=deployment, report=report)
    return deployment


def _user_pool_ensure(*, names: Names, report: Report) -> str:
    desired = user_pool_config()
    pool_id = _one(aws.user_pool_ids_by_name(name=names.user_pool), "user pool", names.user_pool)
    if pool_id is None:
        pool_id = aws.user_pool_create(name=names.user_pool, config={**USER_POOL_FIXED, **desired})
        report(f"Created user pool {names.user_pool} ({pool_id})")
        return pool_id
    actual = aws.user_pool_describe(pool_id=pool_id)
    fixed = _drifted(USER_POOL_FIXED, actual)
    if fixed:
        raise ProvisionError(
            f"User pool {names.user_pool} has {', '.join(fixed)} set otherwise, and that cannot change after "
            "creation: run `manage.py deprovision`, then provision again."
        )
    changed = _drifted(desired, actual)
    if changed:
        aws.user_pool_update(pool_id=pool_id, config=desired)
        report(f"Updated user pool {names.user_pool}: {', '.join(changed)}")
    return pool_id


def _app_client_ensure(*, pool_id: str, names: Names, report: Report) -> dict[str, Any]:
    desired = app_client_config()
    client_id = _one(aws.app_client_ids_by_name(pool_id=pool_id, name=names.app_client), "app client", names.app_client)
    if client_id is None:
        client = aws.app_client_create(pool_id=pool_id, name=names.app_client, config={"GenerateSecret": True, **desired})
        report(f"Created app client {names.app_client} ({client['ClientId']})")
        return client
    client = aws.app_client_describe(pool_id=pool_id, client_id=client_id)
    if not client.get("ClientSecret"):
        raise ProvisionError(
            f"App client {names.app_client} has no secret, and a secret cannot be added later: "
            "run `manage.py deprovision`, then provision again."
        )
    changed = _drifted(desired, client)
    if changed:
        aws.app_client_update(pool_id=pool_id, client_id=client_id, name=names.app_client, config=desired)
        report(f"Updated app client {names.app_client}: {', '.join(changed)}")
    return client


def _identity_pool_ensure(*, names: Names, provider: str, client_id: str, oidc_provider_arn: str, report: Report) -> str:
    desired = identity_pool_config(
        name=names.identity_pool, provider=provider, client_id=client_id, oidc_provider_arn=oidc_provider_arn
    )
    pool_id = _one(aws.identity_pool_ids_by_name(name=names.identity_pool), "identity pool", names.identity_pool)
    if pool_id is None:
        pool_id = aws.identity_pool_create(config=desired)
        report(f"Created identity pool {names.identity_pool!r} ({pool_id})")
        return pool_id
    actual = aws.identity_pool_describe(identity_pool_id=pool_id)
    developer = actual.get("DeveloperProviderName")
    if developer and developer != desired["DeveloperProviderName"]:
        # Cognito keys every developer identity by this name and never lets it change.
        raise ProvisionError(
            f"Identity pool {names.identity_pool!r} has the developer provider name {developer!r}, and that cannot change "
            f"once set: set PHOTOSHARE_DEVELOPER_PROVIDER={developer}, or run `manage.py deprovision` and provision again "
            "(which signs out everyone who used a sign-in link)."
        )
    changed = _drifted(desired, actual, required=_IDENTITY_POOL_REQUIRED)
    if changed:
        aws.identity_pool_update(identity_pool_id=pool_id, config=desired)
        report(f"Updated identity pool {names.identity_pool!r}: {', '.join(changed)}")
    return pool_id


def oidc_provider_ensure(*, name: str, report: Report) -> str:
    """IAM's provider for OIDC_ISSUER (found by its host and path, as IAM
    names it) with exactly [OIDC_CLIENT_ID] as its audiences: another client
    ID there would let that client's ID tokens into the identity pool too.
    Repaired in place; deleting it would break every pool that names it."""
    wanted = settings.OIDC_CLIENT_ID
    for arn in aws.oidc_provider_arns():
        provider = aws.oidc_provider_get(arn=arn)
        if provider.get("Url", "").rstrip("/") != name:
            continue
        client_ids = provider.get("ClientIDList", [])
        if wanted not in client_ids:
            aws.oidc_provider_client_id_add(arn=arn, client_id=wanted)
            report(f"Added client ID {wanted} to the OpenID Connect provider {name}")
        for extra in client_ids:
            if extra != wanted:
                aws.oidc_provider_client_id_remove(arn=arn, client_id=extra)
                report(f"Removed client ID {extra} from the OpenID Connect provider {name}")
        return arn
    arn = aws.oidc_provider_create(url=settings.OIDC_ISSUER.rstrip("/"), client_ids=[wanted])
    report(f"Created the OpenID Connect provider {name} for client {wanted}")
    return arn


def role_ensure(*, name: str, trust: dict[str, Any], policies: dict[str, dict[str, Any]], report: Report) -> str:
    """The role with exactly this trust policy and these inline policies, and
    no others: anything more would widen the access matrix."""
    try:
        role = aws.role_get(name=name)
    except aws.NotFound:
        arn = aws.role_create(name=name, trust_policy=json.dumps(trust), description="Photoshare identity-pool role")
        for policy_name, document in policies.items():
            aws.role_policy_put(role=name, name=policy_name, document=json.dumps(document))
        report(f"Created role {name} with policies {', '.join(policies)}")
        return arn
    if role.get("AssumeRolePolicyDocument") != trust:
        aws.role_trust_update(name=name, trust_policy=json.dumps(trust))
        report(f"Repaired the trust policy of role {name}")
    for policy_name in aws.role_policy_names(role=name):
        if policy_name not in policies:
            aws.role_policy_delete(role=name, name=policy_name)
            report(f"Removed inline policy {policy_name} from role {name}")
    for policy_name, document in policies.items():
        try:
            current: dict[str, Any] | None = aws.role_policy_get(role=name, name=policy_name)
        except aws.NotFound:
            current = None
        if current != document:
            aws.role_policy_put(role=name, name=policy_name, document=json.dumps(document))
            report(f"{'Added' if current is None else 'Repaired'} policy {policy_name} of role {name}")
    for policy_arn in aws.role_attached_policy_arns(role=name):
        aws.role_policy_detach(role=name, policy_arn=policy_arn)
        report(f"Detached managed policy {policy_arn} from role {name}")
    return role["Arn"]


def _group_ensure(*, pool_id: str, role_arn: str, report: Report) -> None:
    wanted = {
        "role_arn": role_arn,
        "precedence": MODERATORS_PRECEDENCE,
        "description": "Photoshare moderators: may delete any published photo",
    }
    try:
        group = aws.group_get(pool_id=pool_id, name=MODERATORS)
    except aws.NotFound:
        aws.group_create(pool_id=pool_id, name=MODERATORS, **wanted)
        report(f"Created group {MODERATORS}")
        return
    if group.get("RoleArn") != role_arn or group.get("Precedence") != MODERATORS_PRECEDENCE:
        aws.group_update(pool_id=pool_id, name=MODERATORS, **wanted)
        report(f"Updated group {MODERATORS}: RoleArn, Precedence")


def _identity_pool_roles_ensure(*, identity_pool_id: str, desired: dict[str, Any], report: Report) -> None:
    actual = aws.identity_pool_roles_get(identity_pool_id=identity_pool_id)
    changed = [key for key in ("Roles", "RoleMappings") if actual.get(key) != desired[key]]
    if changed:
        aws.identity_pool_roles_set(
            identity_pool_id=identity_pool_id, roles=desired["Roles"], role_mappings=desired["RoleMappings"]
        )
        report(f"Set the identity pool's {' and '.join(changed)}")


def _bucket_ensure(*, bucket: str, report: Report) -> None:
    try:
        exists = aws.bucket_exists(bucket=bucket)
    except aws.AccessDenied as exc:
        raise ProvisionError(
            f"Bucket {bucket} exists but these credentials may not use it (bucket names are global: "
            "another account may own it). Choose another PHOTOSHARE_BUCKET."
        ) from exc
    if not exists:
        try:
            aws.bucket_create(bucket=bucket)
        except aws.AlreadyExists as exc:
            raise ProvisionError(f"Bucket name {bucket} is taken by another account; choose another PHOTOSHARE_BUCKET.") from exc
        report(f"Created bucket {bucket}")
    try:
        block = aws.bucket_public_access_block_get(bucket=bucket)
    except aws.NotFound:
        block = {}
    if block != PUBLIC_ACCESS_BLOCK:
        aws.bucket_public_access_block_put(bucket=bucket, config=PUBLIC_ACCESS_BLOCK)
        report(f"Turned on Block Public Access for bucket {bucket}")
    if aws.bucket_versioning_get(bucket=bucket) != "Enabled":
        aws.bucket_versioning_enable(bucket=bucket)
        report(f"Turned on versioning for bucket {bucket}, so each photo stays the version that was checked")
    try:
        cors = aws.bucket_cors_get(bucket=bucket)
    except aws.NotFound:
        cors = []
    if _cors_normal(cors) != _cors_normal(cors_rules()):
        aws.bucket_cors_put(bucket=bucket, rules=cors_rules())
        report(f"Set CORS of bucket {bucket} to {', '.join(settings.APP_ORIGINS)}")
    try:
        lifecycle = aws.bucket_lifecycle_get(bucket=bucket)
    except aws.NotFound:
        lifecycle = []
    if _lifecycle_normal(lifecycle) != _lifecycle_normal(lifecycle_rules()):
        aws.bucket_lifecycle_put(bucket=bucket, rules=lifecycle_rules())
        report(
            f"Set the lifecycle of bucket {bucket}: abort incomplete uploads after {ABORT_UPLOADS_AFTER} day, "
            f"expire noncurrent versions after {NONCURRENT_AFTER} day"
        )


def _albums_table_ensure(*, name: str, report: Report) -> str:
    """The albums table, created or checked; its ARN. The key schema cannot
    change after creation, so a table keyed otherwise stops provisioning
    (its items would be lost); billing can, and is repaired."""
    desired = albums_table_config()
    try:
        table = aws.table_describe(name=name)
    except aws.NotFound:
        table = aws.table_create(name=name, config=desired)
        report(f"Created table {name} (identityId, albumId; on demand)")
        return table["TableArn"]
    keys = {(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])}
    types = {(a["AttributeName"], a["AttributeType"]) for a in table.get("AttributeDefinitions", [])}
    wanted_types = {(a["AttributeName"], a["AttributeType"]) for a in desired["AttributeDefinitions"]}
    if keys != {(k["AttributeName"], k["KeyType"]) for k in desired["KeySchema"]} or not wanted_types <= types:
        raise ProvisionError(
            f"Table {name} is keyed otherwise than identityId (partition, string) and albumId (sort, string), and a "
            "table's keys cannot change: run `manage.py deprovision` (which deletes its albums), then provision again."
        )
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode")
    if billing and billing != desired["BillingMode"]:
        aws.table_billing_on_demand(name=name)
        report(f"Set table {name} to on-demand billing")
    return table["TableArn"]


def _file_ensure(*, path: Path, content: str, what: str, report: Report) -> None:
    try:
        if path.read_text() == content:
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    report(f"Wrote {what} to {path}")


def _deployment_ensure(*, deployment: Deployment, report: Report) -> None:
    path = Path(settings.PHOTOSHARE_DEPLOYMENT_FILE)
    try:
        saved = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        saved = None
    if saved != asdict(deployment):
        deployment_save(deployment)
        report(f"Saved the deployment IDs to {path}")


# --- removing -------------------------------------------------------------------------------


def deployment_deprovision(*, report: Report) -> None:
    """Remove everything `deployment_provision` makes, found by name, and the
    files it wrote; `report` gets one line per thing removed."""
    names = deployment_names()
    # The identity pool first, so no credentials are handed out for roles about to go.
    for pool_id in aws.identity_pool_ids_by_name(name=names.identity_pool):
        aws.identity_pool_delete(identity_pool_id=pool_id)
        report(f"Deleted identity pool {names.identity_pool!r} ({pool_id})")
    for pool_id in aws.user_pool_ids_by_name(name=names.user_pool):
        aws.user_pool_delete(pool_id=pool_id)  # its app clients, groups and users go with it
        report(f"Deleted user pool {names.user_pool} ({pool_id}) with its app client, group and users")
    for name in names.roles.values():
        _role_remove(name=name, report=report)
    try:
        aws.table_describe(name=names.albums_table)
    except aws.NotFound:
        pass
    else:
        aws.table_delete(name=names.albums_table)
        report(f"Deleted table {names.albums_table} and every album in it")
    _oidc_provider_remove(name=oidc_provider_name(), report=report)
    if aws.bucket_exists(bucket=names.bucket):
        count = aws.bucket_empty(bucket=names.bucket)
        aws.bucket_delete(bucket=names.bucket)
        report(f"Deleted bucket {names.bucket} and the {count} object{'s' if count != 1 else ''} in it")
    for path in (server_policy_path(), Path(settings.PHOTOSHARE_DEPLOYMENT_FILE)):
        if path.exists():
            path.unlink()
            report(f"Removed {path}")


def _oidc_provider_remove(*, name: str, report: Report) -> None:
    """The provider, unless another identity pool still names it: an account
    has one provider per URL, which another deployment (another
    PHOTOSHARE_NAME, or another app of the account) may share. Our own pool
    is deleted by then."""
    if not name:
        return
    for arn in aws.oidc_provider_arns():
        if aws.oidc_provider_get(arn=arn).get("Url", "").rstrip("/") != name:
            continue
        for pool_id in aws.identity_pool_ids_all():
            try:
                named = aws.identity_pool_describe(identity_pool_id=pool_id).get("OpenIdConnectProviderARNs", [])
            except aws.NotFound:  # deleted meanwhile
                continue
            if arn in named:  # kept, silently: deprovision reports only what it removed
                return
        aws.oidc_provider_delete(arn=arn)
        report(f"Deleted the OpenID Connect provider {name}")


def _role_remove(*, name: str, report: Report) -> None:
    try:
        inline = aws.role_policy_names(role=name)
    except aws.NotFound:
        return
    for policy_name in inline:
        aws.role_policy_delete(role=name, name=policy_name)
    for policy_arn in aws.role_attached_policy_arns(role=name):
        aws.role_policy_detach(role=name, policy_arn=policy_arn)
    aws.role_delete(name=name)
    report(f"Deleted role {name}")
