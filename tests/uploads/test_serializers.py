"""photo_json: the fields browsers get, the pinned versions they sign reads
for, and a take-down told to the owner only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from uploads.models import Photo
from uploads.serializers import photo_json

KEY = "private/us-east-1:00000000-0000-4000-8000-000000000000/11111111-1111-4111-8111-111111111111.png"


@pytest.fixture
def people(db) -> dict[str, User]:
    return {
        name: User.objects.create(username=f"sub-{name}", email=f"{name}@example.com", first_name=first)
        for name, first in [("owner", ""), ("stranger", ""), ("named", "Ada")]
    }


def _photo(owner: User, **fields) -> Photo:
    values = {"key": KEY, "version_id": "v1", "visibility": "private", "content_type": "image/png", "size": 42, **fields}
    return Photo.objects.create(owner=owner, **values)


def test_a_plain_photo_has_nulls_for_what_it_lacks(people):
    """No thumbnail, no public copy, no dimensions: null, not empty strings."""
    answer = photo_json(_photo(people["owner"]), viewer=people["owner"])
    assert answer["thumbKey"] is None and answer["thumbVersionId"] is None
    assert answer["publicKey"] is None and answer["publicVersionId"] is None and answer["publicThumbKey"] is None
    assert (answer["width"], answer["height"], answer["versionId"], answer["size"]) == (None, None, "v1", 42)
    assert answer["owner"] == {"displayName": "owner"} and answer["takenDown"] is None


def test_created_is_iso_8601_utc_with_z(people):
    """Whatever the time zone of the stored value."""
    photo = _photo(people["owner"])
    photo.created_at = dt.datetime(2026, 3, 4, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert photo_json(photo, viewer=people["owner"])["created"] == "2026-03-04T05:08:09Z"


@pytest.mark.parametrize("owner, shown", [("owner", "owner"), ("named", "Ada")])
def test_the_display_name_never_shows_the_whole_email(people, owner, shown):
    """The name if there is one, else the part of the email before the @."""
    assert photo_json(_photo(people[owner]), viewer=AnonymousUser())["owner"]["displayName"] == shown


@pytest.mark.parametrize("viewer, told", [("owner", True), ("stranger", False), ("guest", False)])
def test_only_the_owner_is_told_of_a_take_down(people, viewer, told):
    """The reason and time for the owner; null for anyone else."""
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    photo = _photo(people["owner"], taken_down_at=at, taken_down_reason="Spam", taken_down_by=people["stranger"])
    who = AnonymousUser() if viewer == "guest" else people[viewer]
    expected = {"reason": "Spam", "at": "2026-01-02T03:04:05Z"} if told else None
    assert photo_json(photo, viewer=who)["takenDown"] == expected


def test_a_team_photo_names_its_team_and_others_none(people):
    """`team` is the team's slug for a team photo, null for the owner's own."""
    team_key = "teams/wintercorp/us-east-1:00000000-0000-4000-8000-000000000000/22222222-2222-4222-8222-222222222222.png"
    team_photo = _photo(people["owner"], key=team_key, visibility="team", team="wintercorp")
    assert photo_json(team_photo, viewer=people["stranger"])["team"] == "wintercorp"
    assert photo_json(_photo(people["named"]), viewer=people["named"])["team"] is None
