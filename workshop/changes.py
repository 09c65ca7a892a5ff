"""The admin-side edits labs make, and the way back.

A lab breaks one thing by starting from what provisioning sets (the
rendered `infra/policies` documents, `infra.provision`'s configs) and
changing exactly that, so `apply` is idempotent; `revert` hands the same
resource back to `infra.provision`'s own ensure function, so it restores
exactly what provisioning sets and never a copy of it kept here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from core.deployment import Deployment
from infra import aws, provision
from workshop.base import Report

ROLE_ARNS = {
    "authenticated": "authenticated_role_arn",
    "unauthenticated": "unauthenticated_role_arn",
    "moderator": "moderator_role_arn",
}


def role_name(*, deployment: Deployment, kind: str) -> str:
    return getattr(deployment, ROLE_ARNS[kind]).rsplit("/", 1)[-1]


def _provisioned_policies(*, deployment: Deployment, kind: str) -> dict[str, dict[str, Any]]:
    table_arn = provision.albums_table_arn(table=deployment.albums_table) if kind != "unauthenticated" else ""
    return provision.role_policies(kind=kind, bucket=deployment.bucket, albums_table_arn=table_arn)


def provisioned_access_policy(*, deployment: Deployment, kind: str) -> dict[str, Any]:
    """The role's `s3-access` policy exactly as provisioning writes it (a copy to edit)."""
    policies = _provisioned_policies(deployment=deployment, kind=kind)
    return copy.deepcopy(policies[provision.ACCESS_POLICY])


def access_policy_get(*, deployment: Deployment, kind: str) -> dict[str, Any]:
    try:
        return aws.role_policy_get(role=role_name(deployment=deployment, kind=kind), name=provision.ACCESS_POLICY)
    except aws.NotFound:
        return {}


def access_policy_put(*, deployment: Deployment, kind: str, document: dict[str, Any], report: Report) -> None:
    name = role_name(deployment=deployment, kind=kind)
    if access_policy_get(deployment=deployment, kind=kind) == document:
        return
    aws.role_policy_put(role=name, name=provision.ACCESS_POLICY, document=json.dumps(document))
    report(f"Changed policy {provision.ACCESS_POLICY} of role {name}")


def provisioned_trust(*, deployment: Deployment, kind: str) -> dict[str, Any]:
    """The role's trust policy exactly as provisioning writes it (a copy to edit)."""
    return copy.deepcopy(provision.role_trust(kind=kind, identity_pool_id=deployment.identity_pool_id))


def trust_get(*, deployment: Deployment, kind: str) -> dict[str, Any]:
    return aws.role_get(name=role_name(deployment=deployment, kind=kind)).get("AssumeRolePolicyDocument") or {}


def trust_put(*, deployment: Deployment, kind: str, document: dict[str, Any], report: Report) -> None:
    if trust_get(deployment=deployment, kind=kind) == document:
        return
    name = role_name(deployment=deployment, kind=kind)
    aws.role_trust_update(name=name, trust_policy=json.dumps(document))
    report(f"Changed the trust policy of role {name}")


def role_restore(*, deployment: Deployment, kind: str, report: Report) -> None:
    """The role's trust and inline policies back to provisioning's, by
    provisioning's own code (`role_ensure` repairs exactly this drift)."""
    provision.role_ensure(
        name=role_name(deployment=deployment, kind=kind),
        trust=provision.role_trust(kind=kind, identity_pool_id=deployment.identity_pool_id),
        policies=_provisioned_policies(deployment=deployment, kind=kind),
        report=report,
    )


def statement(document: dict[str, Any], sid: str) -> dict[str, Any] | None:
    """The statement of `document` with this Sid."""
    return next((s for s in document.get("Statement", []) if isinstance(s, dict) and s.get("Sid") == sid), None)
