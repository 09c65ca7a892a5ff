"""accounts.magic_link: the signed link itself (made, read, used once,
expired, tampered with) and the user it makes. No AWS here: the link is
Django's signing and one table. The expired link is signed with a
timestamp in the past through TimestampSigner's own `timestamp()` hook, not
by waiting."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import signing
from django.utils import timezone

from accounts import magic_link
from accounts.magic_link import LinkRefused
from accounts.models import UsedSignInLink, User

EMAIL = "someone@example.org"


class _SignedInThePast(signing.TimestampSigner):
    """Signs as if it were `ago` seconds earlier."""

    def __init__(self, *, ago: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ago = ago

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.ago)


def test_a_fresh_link_reads_back_its_email(db):
    email, link_id = magic_link.link_read(magic_link.link_token(email=EMAIL))
    assert email == EMAIL and len(link_id) == 32


def test_a_link_is_used_once(db):
    token = magic_link.link_token(email=EMAIL)
    assert magic_link.link_use(token)[0] == EMAIL
    with pytest.raises(LinkRefused, match="used already"):
        magic_link.link_use(token)
    with pytest.raises(LinkRefused, match="used already"):
        magic_link.link_read(token)


def test_two_links_for_one_email_are_two_links(db):
    first, second = magic_link.link_token(email=EMAIL), magic_link.link_token(email=EMAIL)
    magic_link.link_use(first)
    assert magic_link.link_use(second)[0] == EMAIL


def test_a_link_older_than_15_minutes_is_refused(db):
    old = magic_link.link_token(email=EMAIL, signer=_SignedInThePast(ago=magic_link.LINK_MAX_AGE + 5, salt=magic_link.SALT))
    with pytest.raises(LinkRefused, match="expired"):
        magic_link.link_use(old)
    assert not UsedSignInLink.objects.exists()


def test_a_link_just_inside_15_minutes_works(db):
    recent = magic_link.link_token(email=EMAIL, signer=_SignedInThePast(ago=magic_link.LINK_MAX_AGE - 30, salt=magic_link.SALT))
    assert magic_link.link_use(recent)[0] == EMAIL


def test_a_tampered_link_is_refused(db):
    token = magic_link.link_token(email=EMAIL)
    value, stamp, signature = token.rsplit(":", 2)
    # Another payload under the original signature, and the original payload with a changed signature.
    other = magic_link.link_token(email="attacker@example.org").rsplit(":", 2)[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (f"{other}:{stamp}:{signature}", f"{value}:{stamp}:{flipped}", "", "x" * 5000, "not-a-link"):
        with pytest.raises(LinkRefused):
            magic_link.link_use(forged)
    assert not UsedSignInLink.objects.exists()


def test_a_value_signed_for_another_purpose_is_no_link(db):
    """The salt: a TimestampSigner value the app signs elsewhere does not pass."""
    elsewhere = signing.TimestampSigner().sign_object({"email": EMAIL, "id": "0" * 32})
    with pytest.raises(LinkRefused, match="bad signature"):
        magic_link.link_read(elsewhere)


def test_a_signed_value_of_the_wrong_shape_is_refused(db):
    not_a_link = signing.TimestampSigner(salt=magic_link.SALT).sign_object(["an", "array"])
    with pytest.raises(LinkRefused, match="payload"):
        magic_link.link_read(not_a_link)


def test_a_released_link_can_be_used_again(db):
    token = magic_link.link_token(email=EMAIL)
    _email, link_id = magic_link.link_use(token)
    magic_link.link_release(link_id)
    assert magic_link.link_use(token)[0] == EMAIL


def test_links_used_longer_ago_than_they_last_are_forgotten(db):
    """Only the record of a link still inside its 15 minutes is worth keeping."""
    old, recent = UsedSignInLink.objects.create(link_id="a" * 32), UsedSignInLink.objects.create(link_id="b" * 32)
    UsedSignInLink.objects.filter(pk=old.pk).update(used_at=timezone.now() - dt.timedelta(seconds=magic_link.LINK_MAX_AGE + 1))
    magic_link.link_use(magic_link.link_token(email=EMAIL))
    kept = set(UsedSignInLink.objects.values_list("link_id", flat=True))
    assert old.link_id not in kept and recent.link_id in kept and len(kept) == 2


def test_one_email_is_one_developer_user(db):
    first = magic_link.developer_user_get_or_create(email=EMAIL)
    again = magic_link.developer_user_get_or_create(email=EMAIL)
    other = magic_link.developer_user_get_or_create(email="other@example.org")
    assert first.pk == again.pk != other.pk
    assert first.username == "magic:" + magic_link.developer_user_id_for(EMAIL)
    assert first.email == EMAIL and not first.has_usable_password()
    assert User.objects.count() == 2


def test_the_developer_user_id_is_stable():
    """The same id across processes and restarts (uuid5 of the email, no
    secret, no state): changing it would give every link user a new identity
    and lose their photos, so the value is pinned."""
    assert magic_link.developer_user_id_for(EMAIL) == "0525fe3b-c1cb-5091-9a91-b53362ac5df1"
    assert magic_link.developer_user_id_for("other@example.org") != magic_link.developer_user_id_for(EMAIL)
