"""Lab 2: a guest role that can write.

Guest credentials cost nothing: the app (or anyone, with the unsigned GetId
and GetCredentialsForIdentity) hands them to every visitor. One s3:PutObject
on public/* in the unauthenticated role lets any stranger overwrite any
published photo, without an account.
https://docs.aws.amazon.com/cognito/latest/developerguide/identity-pools-security-best-practices.html
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from workshop import changes
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import Outsider, refused, victim_cleanup

SID = "GuestsUploadToPublic"
VICTIM = "alice@example.com"
PHOTO_NAME = "lab02-published-photo.txt"


def _broken(*, deployment: Deployment) -> dict:
    document = changes.provisioned_access_policy(deployment=deployment, kind="unauthenticated")
    document["Statement"].append(
        {"Sid": SID, "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{deployment.bucket}/public/*"}
    )
    return document


def apply(*, deployment: Deployment, report: Report) -> None:
    document = _broken(deployment=deployment)
    changes.access_policy_put(deployment=deployment, kind="unauthenticated", document=document, report=report)


def revert(*, deployment: Deployment, report: Report) -> None:
    changes.role_restore(deployment=deployment, kind="unauthenticated", report=report)


def applied(*, deployment: Deployment) -> bool:
    return changes.statement(changes.access_policy_get(deployment=deployment, kind="unauthenticated"), SID) is not None


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step(f"Setup, as the victim: {VICTIM} signs in and puts a photo in her public prefix, where every guest reads it")
    alice = outsider.user_credentials(VICTIM, settings.DEMO_PASSWORD)
    key = f"public/{alice['identityId']}/{PHOTO_NAME}"
    outsider.s3(alice).put_object(Bucket=alice["bucket"], Key=key, Body=b"alice's published photo\n", ContentType="text/plain")
    try:
        outsider.step("A stranger with no account opens the site: the app hands the visitor guest credentials")
        guest = outsider.guest_credentials()
        outsider.got(f"guest identity {guest['identityId']}, key {guest['accessKeyId']}")
        outsider.step(f"The guest overwrites s3://{guest['bucket']}/{key}")
        try:
            answer = outsider.s3(guest).put_object(
                Bucket=guest["bucket"], Key=key, Body=b"defaced by a guest\n", ContentType="text/plain"
            )
        except ClientError as exc:
            return refused(exc)
        outsider.got(f"{key} overwritten (new version {answer.get('VersionId', '?')})")
        return AttackResult(succeeded=True, obtained=(key,))
    finally:
        victim_cleanup(outsider, alice, key)


LAB = Lab(
    number=2,
    slug="02-guest-write",
    title="Guest role that can write",
    rule="guest-write",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=f'Statement "{SID}" of the guest (unauthenticated) role\'s s3-access policy allows s3:PutObject on public/*',
)
