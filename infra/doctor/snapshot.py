"""What `doctor` reads from the live deployment, once, through `infra.aws`
only: the identity pool and its roles, every role it can hand out with all
of that role's policies, the app client, the groups and the bucket's
settings. The checks then judge this snapshot without another call, so each
rule can be exercised on a real snapshot with one answer changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from core.deployment import Deployment
from infra import aws
from infra.demo_users import DEMO_USERS
from infra.provision import MODERATORS

DEMO_EMAILS = tuple(user.email for user in DEMO_USERS)


@dataclass(frozen=True)
class Role:
    arn: str
    role_id: str  # AROA...: ${aws:userid} is "<role id>:<session name>"
    trust: str  # the trust policy, JSON text
    policies: tuple[str, ...]  # inline and attached managed policy documents, JSON text
    policy_names: tuple[str, ...]  # for each of `policies`, what a report calls it

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
    developer_provider: str = ""  # PHOTOSHARE_DEVELOPER_PROVIDER: the pool's one expected DeveloperProviderName

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
    inline = aws.role_policy_names(role=name)
    attached = aws.role_attached_policy_arns(role=name)
    documents = [aws.role_policy_get(role=name, name=policy) for policy in inline]
    documents += [aws.managed_policy_document(policy_arn=p) for p in attached]
    return Role(
        arn=arn,
        role_id=role.get("RoleId", ""),
        trust=_as_json(role["AssumeRolePolicyDocument"]),
        policies=tuple(_as_json(d) for d in documents),
        policy_names=(*(f"inline policy {p}" for p in inline), *(f"managed policy {p}" for p in attached)),
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
    """Read everything the rules need. Raises `aws.AwsCallError` when some
    part of the deployment cannot be read."""
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
        developer_provider=settings.PHOTOSHARE_DEVELOPER_PROVIDER,
    )
