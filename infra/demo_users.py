"""The demo users `make run` signs in with: alice and bob, and carol the
moderator, all with DEMO_PASSWORD.

Local mode only. Their password is printed on every start and written in the
README, so on AWS they would be accounts anyone can use; the check comes
before any AWS call, and `doctor` flags them if they appear there anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from infra import aws
from infra.provision import MODERATORS
from core.deployment import deployment_get


class LocalOnly(Exception):
    """Refused outside the sandbox; the message is meant for people."""


@dataclass(frozen=True)
class DemoUser:
    email: str
    moderator: bool = False


DEMO_USERS = (
    DemoUser("alice@example.com"),
    DemoUser("bob@example.com"),
    DemoUser("carol@example.com", moderator=True),
)


def demo_users_seed(*, report: Callable[[str], None]) -> tuple[DemoUser, ...]:
    """Create or repair the demo users: confirmed, email verified, password
    DEMO_PASSWORD, and in `moderators` exactly when they should be."""
    if settings.PHOTOSHARE_AWS != "local":
        raise LocalOnly(
            "Demo users are for the local sandbox only (PHOTOSHARE_AWS=local): their password is public, "
            "so on AWS they would be accounts anyone can use. Nothing was changed."
        )
    pool_id = deployment_get().user_pool_id
    for user in DEMO_USERS:
        _demo_user_ensure(pool_id=pool_id, user=user, report=report)
    return DEMO_USERS


def _demo_user_ensure(*, pool_id: str, user: DemoUser, report: Callable[[str], None]) -> None:
    try:
        existing = aws.user_get(pool_id=pool_id, username=user.email)
    except aws.NotFound:
        aws.user_create(pool_id=pool_id, email=user.email)
        report(f"Created {user.email}")
    else:
        if existing["UserAttributes"].get("email_verified") != "true":
            aws.user_attributes_update(pool_id=pool_id, username=user.email, attributes={"email_verified": "true"})
            report(f"Marked the email of {user.email} verified")
    # Set every time: Cognito cannot say whether the password is already this
    # one, and setting it permanently also confirms the user.
    aws.user_password_set(pool_id=pool_id, username=user.email, password=settings.DEMO_PASSWORD)
    groups = set(aws.user_groups(pool_id=pool_id, username=user.email))
    if user.moderator and MODERATORS not in groups:
        aws.user_group_add(pool_id=pool_id, username=user.email, group=MODERATORS)
        report(f"Added {user.email} to {MODERATORS}")
    if not user.moderator and MODERATORS in groups:
        aws.user_group_remove(pool_id=pool_id, username=user.email, group=MODERATORS)
        report(f"Removed {user.email} from {MODERATORS}")
