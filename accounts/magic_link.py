""""Email me a sign-in link": developer-authenticated identities.

No password and no user pool: whoever can read the mailbox is the person.
The link carries the email and a random link id, signed with Django's
TimestampSigner (SECRET_KEY, a salt of its own), so the server keeps nothing
when it sends one. It is good for LINK_MAX_AGE, and once: the first use
records its id (UsedSignInLink), and every later use finds it there.

The person is then the app's own user, `developer_user_id_for(email)`; the
server vouches for them to the identity pool with its own credentials
(GetOpenIdTokenForDeveloperIdentity, in accounts.services), and they get the
pool's authenticated role and their own `private/<identity id>/` like
everyone else.
https://docs.aws.amazon.com/cognito/latest/developerguide/developer-authenticated-identities.html
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import UsedSignInLink, User
from core.db import row_insert

log = logging.getLogger(__name__)

LINK_MAX_AGE = 15 * 60  # seconds a link is good for
SALT = "accounts.magic_link"  # so no other signed value of the app passes for a link
TOKEN_MAX = 600  # characters; a real token is about 120
# uuid5 of the email in a namespace of our own: the same email is always the
# same developer user (and identity), with nothing to store to keep it so,
# and no two requests can make two users for one address.
DEVELOPER_NAMESPACE = uuid.UUID("6f1d8a52-3c0e-5b7a-9a43-2d4c1b7e9f10")
USERNAME_PREFIX = "magic:"  # Django usernames of these users; user-pool users' are bare subs

SUBJECT = "Your Photoshare sign-in link"
BODY = """Someone (we hope you) asked to sign in to Photoshare with this email address.

Open this link within 15 minutes to sign in. It works once.

{url}

If it was not you, ignore this email: nobody can sign in without the link."""


class LinkRefused(Exception):
    """The link is tampered with, expired, reused or not a link at all; the
    reason is for the log, the person sees one fixed message."""


def developer_user_id_for(email: str) -> str:
    """The app's own user id for `email` (already normalised: lower case),
    the `Logins` value under PHOTOSHARE_DEVELOPER_PROVIDER."""
    return str(uuid.uuid5(DEVELOPER_NAMESPACE, email))


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def link_token(*, email: str, signer: signing.TimestampSigner | None = None) -> str:
    """A new link's token: the email and a fresh link id, signed and timestamped."""
    return (signer or _signer()).sign_object({"email": email, "id": secrets.token_hex(16)}, compress=True)


def link_read(token: str) -> tuple[str, str]:
    """(email, link id) of a valid link not used yet, or LinkRefused."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        raise LinkRefused("no token, or too long")
    try:
        payload = _signer().unsign_object(token, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkRefused(f"expired: {exc}") from exc
    except (signing.BadSignature, ValueError) as exc:  # ValueError: a signed value that is not our JSON
        raise LinkRefused(f"bad signature: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("email"), str) or not isinstance(payload.get("id"), str):
        raise LinkRefused("signed, but not a link's payload")
    if UsedSignInLink.objects.filter(link_id=payload["id"]).exists():
        raise LinkRefused(f"link {payload['id']} was used already")
    return payload["email"], payload["id"]


def link_use(token: str) -> tuple[str, str]:
    """As link_read, and the link is used up: of two requests with one link
    at the same moment, one INSERT wins and the other is refused."""
    email, link_id = link_read(token)
    _used_links_prune()
    try:
        row_insert(UsedSignInLink(link_id=link_id))
    except IntegrityError as exc:
        raise LinkRefused(f"link {link_id} was used already") from exc
    return email, link_id


def _used_links_prune() -> None:
    """Forget links used more than LINK_MAX_AGE ago: they were signed before
    they were used, so they have expired, and the signature alone refuses
    them now. The table stays as small as fifteen minutes of sign-ins."""
    UsedSignInLink.objects.filter(used_at__lt=timezone.now() - dt.timedelta(seconds=LINK_MAX_AGE)).delete()


def link_release(link_id: str) -> None:
    """Give a link back when signing in failed on our side (AWS did not
    answer), so the person can try it again within its 15 minutes."""
    UsedSignInLink.objects.filter(link_id=link_id).delete()


def link_send(*, email: str, url_for: Callable[[str], str]) -> None:
    """Email a new link to `email`; `url_for(token)` makes the absolute URL.
    A delivery failure is logged, not shown: the page answers the same
    whether or not anything went out (and whoever the address belongs to)."""
    try:
        send_mail(SUBJECT, BODY.format(url=url_for(link_token(email=email))), None, [email])
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        log.warning("could not send a sign-in link: %s", exc)


def developer_user_get_or_create(*, email: str) -> User:
    """The Django user of the developer identity for `email`, keyed on its
    developer user id; made on first use, with no usable password (as
    accounts.backends does for user-pool users: one INSERT, no transaction)."""
    users = get_user_model().objects
    username = USERNAME_PREFIX + developer_user_id_for(email)
    found = users.filter(username=username).first()
    if found is not None:
        return found
    user = get_user_model()(username=username, email=email)
    user.set_unusable_password()
    try:
        row_insert(user)
    except IntegrityError:  # the same person's first link in another request, just now
        return users.get(username=username)
    return user
