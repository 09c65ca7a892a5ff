"""moto's IAM: the policies the gateway evaluates, and the long-term keys of
IAM users.

moto stores roles, users and their policies but enforces none of them; the
gateway does, so it reads each principal's policy documents from here.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends

from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION


@dataclass(frozen=True)
class RoleView:
    arn: str
    name: str
    role_id: str
    trust_policy: str  # JSON text, parsed (and cached) by the evaluator
    policies: tuple[str, ...]  # inline and attached managed policy documents (JSON text)
    # What each of `policies` is called, for explanations: "<role>/<inline name>" or the managed policy's ARN.
    policy_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownKey:
    """An access key moto issued, as the request authenticator needs it."""

    secret_access_key: str
    session_token: str | None  # None for an IAM user's long-term key
    expiration: dt.datetime | None
    principal_arn: str  # the role ARN for a session, the user ARN for a user
    caller_arn: str
    user_id: str
    user_name: str | None
    active: bool = True


def _iam() -> Any:
    return iam_backends[ACCOUNT_ID][PARTITION]


def _default_document(managed: Any) -> str:
    return next(v.document for v in managed.versions if v.is_default)


def role_by_arn(arn: str) -> RoleView | None:
    try:
        role = _iam().get_role_by_arn(arn)
    except Exception:  # moto raises its own IAMNotFoundException; absence is all we need
        return None
    documents = [*role.policies.values(), *(_default_document(p) for p in role.managed_policies.values())]
    names = [*(f"{role.name}/{name}" for name in role.policies), *(p.arn for p in role.managed_policies.values())]
    trust = role.assume_role_policy_document
    return RoleView(
        arn=role.arn,
        name=role.name,
        role_id=role.id,
        trust_policy=trust if isinstance(trust, str) else json.dumps(trust),
        policies=tuple(documents),
        policy_names=tuple(names),
    )


def user_policies(user_name: str) -> tuple[str, ...]:
    """An IAM user's inline, attached, and group policy documents."""
    return tuple(document for _, document in named_user_policies(user_name))


def named_user_policies(user_name: str) -> tuple[tuple[str, str], ...]:
    """(name, document) for each of an IAM user's inline, attached and group
    policies: "<user>/<inline name>", "<group>/<inline name>" or the managed policy's ARN."""
    iam = _iam()
    user = iam.get_user(user_name)
    named = [*((f"{user.name}/{n}", d) for n, d in user.policies.items())]
    named += [(p.arn, _default_document(p)) for p in user.managed_policies.values()]
    for group in iam.get_groups_for_user(user_name):
        named += [*((f"{group.name}/{n}", d) for n, d in group.policies.items())]
        named += [(p.arn, _default_document(p)) for p in group.managed_policies.values()]
    return tuple(named)


def user_key(access_key_id: str) -> KnownKey | None:
    """An IAM user's long-term access key, or None."""
    user = _iam().get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    key = next(k for k in user.access_keys if k.access_key_id == access_key_id)
    return KnownKey(
        secret_access_key=key.secret_access_key,
        session_token=None,
        expiration=None,
        principal_arn=user.arn,
        caller_arn=user.arn,
        user_id=user.id,
        user_name=user.name,
        active=key.status == "Active",
    )


def managed_policy_document(arn: str) -> str | None:
    """A managed policy's default version (JSON text), or None if IAM has no such policy."""
    try:
        managed = _iam().get_policy(arn)
    except Exception:  # moto raises its own IAMNotFoundException; absence is all we need
        return None
    document = _default_document(managed)
    return document if isinstance(document, str) else json.dumps(document)
