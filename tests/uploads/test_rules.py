"""uploads.rules, the one definition of the key format, the image types and
the size limit: pure functions, no sandbox needed."""

from __future__ import annotations

import uuid

import pytest

from uploads.rules import (
    IMAGE_TYPES,
    MAX_PHOTO_BYTES,
    MULTIPART_PART_BYTES,
    MULTIPART_THRESHOLD,
    NOT_AN_IMAGE,
    TOO_LARGE,
    PhotoKey,
    browser_rules,
    image_type_sniff,
    key_parse,
    key_prefix,
    key_prefixes,
    megabytes,
    public_key_for,
    thumb_key_for,
)

ME = "us-east-1:1b2c3d4e-0000-4000-8000-000000000001"
UUID = str(uuid.UUID(int=7))


@pytest.mark.parametrize(
    "key, expected",
    [
        pytest.param(f"private/{ME}/{UUID}.jpg", PhotoKey("private", ME, f"{UUID}.jpg", False), id="private photo"),
        pytest.param(f"public/{ME}/{UUID}.webp", PhotoKey("public", ME, f"{UUID}.webp", False), id="public photo"),
        pytest.param(f"private/{ME}/holiday.png", PhotoKey("private", ME, "holiday.png", False), id="any safe name"),
        pytest.param(f"private/{ME}/thumbs/{UUID}.jpg", PhotoKey("private", ME, f"{UUID}.jpg", True), id="thumbnail"),
        pytest.param(f"public/{ME}/thumbs/{UUID}.jpg", PhotoKey("public", ME, f"{UUID}.jpg", True), id="public thumbnail"),
        pytest.param(f"private/{ME}/thumbs/{UUID}.png", None, id="thumbnail not jpg"),
        pytest.param(f"private/{ME}/thumbs/holiday.jpg", None, id="thumbnail not a uuid"),
        pytest.param(f"private/{ME}/thumbs/", None, id="thumbs folder only"),
        pytest.param(f"private/{ME}/sub/{UUID}.jpg", None, id="other sub-folder"),
        pytest.param(f"shared/{ME}/{UUID}.jpg", None, id="unknown visibility"),
        pytest.param(f"private/{ME}/../{UUID}.jpg", None, id="dot-dot"),
        pytest.param(f"private/not-an-identity/{UUID}.jpg", None, id="no region in the identity"),
        pytest.param(f"private/{ME}/{UUID}.jpg\n", None, id="trailing newline"),
        pytest.param(f"private/{ME}/", None, id="no name"),
        pytest.param(f"teams/wintercorp/{ME}/{UUID}.png", PhotoKey("team", ME, f"{UUID}.png", False, "wintercorp"), id="team photo"),
        pytest.param(
            f"teams/wintercorp/{ME}/thumbs/{UUID}.jpg", PhotoKey("team", ME, f"{UUID}.jpg", True, "wintercorp"), id="team thumbnail"
        ),
        pytest.param(f"teams/wintercorp/{UUID}.png", None, id="team photo without an identity folder"),
        pytest.param(f"teams/Winter_Corp/{ME}/{UUID}.png", None, id="team slug of another shape"),
        pytest.param(f"teams/-x/{ME}/{UUID}.png", None, id="team slug starting with a hyphen"),
        pytest.param(f"teams//{ME}/{UUID}.png", None, id="empty team"),
        pytest.param(f"teams/wintercorp/../{ME}/{UUID}.png", None, id="team dot-dot"),
        pytest.param(f"team/wintercorp/{ME}/{UUID}.png", None, id="team without the s"),
    ],
)
def test_key_parse(key, expected):
    """Well-formed photo and thumbnail keys give their parts; every other shape gives None."""
    assert key_parse(key) == expected


def test_prefixes_round_trip_through_the_parser():
    """A key made in a prefix the server hands out parses back to that identity and visibility."""
    for visibility, prefix in key_prefixes(identity_id=ME).items():
        assert prefix == key_prefix(visibility=visibility, identity_id=ME)
        parsed = key_parse(f"{prefix}{UUID}.png")
        assert (parsed.visibility, parsed.identity_id, parsed.thumbnail) == (visibility, ME, False)


def test_an_unknown_visibility_has_no_prefix():
    """key_prefix refuses a visibility the key format does not have."""
    with pytest.raises(ValueError):
        key_prefix(visibility="shared", identity_id=ME)


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"\xff\xd8\xff\xe0" + bytes(8), "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + bytes(4), "image/png"),
        (b"GIF87a" + bytes(6), "image/gif"),
        (b"GIF89a" + bytes(6), "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBP", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVE", None),
        (b"\x89PNG\r\n", None),
        (b"", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    ],
)
def test_image_type_sniff(head, expected):
    """The type a file's first bytes say, by the one table of signatures."""
    assert image_type_sniff(head) == expected


def test_the_browser_is_told_the_same_rules():
    """browser_rules carries the prefixes, the types, their signatures and the limit, taken from this module."""
    rules = browser_rules(identity_id=ME)
    assert rules["prefixes"] == key_prefixes(identity_id=ME)
    assert rules["maxBytes"] == MAX_PHOTO_BYTES
    assert set(rules["types"]) == set(IMAGE_TYPES)
    assert rules["messages"]["notAnImage"] == NOT_AN_IMAGE
    for content_type, told in rules["types"].items():
        for signature in told["signatures"]:
            head = bytearray(rules["sniffBytes"])
            for offset, part in signature:
                head[offset : offset + len(part)] = bytes(part)
            assert image_type_sniff(bytes(head)) == content_type


def test_without_an_identity_the_browser_gets_no_prefix():
    """Before the user has an identity there is no prefix to upload to."""
    assert browser_rules(identity_id="")["prefixes"] == {}


def test_the_limits_come_from_settings(settings):
    """The size limit and the multipart sizes are the settings' values, handed to the browser as they are."""
    rules = browser_rules(identity_id=ME)
    assert (rules["maxBytes"], rules["multipartThreshold"], rules["partBytes"]) == (
        settings.MAX_PHOTO_BYTES,
        settings.MULTIPART_THRESHOLD,
        settings.MULTIPART_PART_BYTES,
    )
    assert (MULTIPART_THRESHOLD, MULTIPART_PART_BYTES) == (settings.MULTIPART_THRESHOLD, settings.MULTIPART_PART_BYTES)


def test_the_too_large_messages_name_the_limit():
    """Both the server's and the browser's too-large messages say the limit in MB; the browser's leaves room for the file."""
    rules = browser_rules(identity_id=ME)
    limit = megabytes(MAX_PHOTO_BYTES)
    assert limit in TOO_LARGE and limit in rules["messages"]["tooLarge"]
    told = rules["messages"]["tooLargeFile"].format(name="holiday.jpg", size=megabytes(60 * 1024 * 1024))
    assert told == f"holiday.jpg is 60 MB; photos can be at most {limit}."
    assert rules["messages"]["notAnImageFile"].format(name="notes.txt").startswith("notes.txt is not a JPEG")


@pytest.mark.parametrize(
    "size, expected",
    [
        (50 * 1024 * 1024, "50 MB"),
        (8 * 1024 * 1024, "8 MB"),
        (int(12.5 * 1024 * 1024), "12.5 MB"),
        (3 * 1024 * 1024 + 1, "3.0 MB"),
    ],
)
def test_megabytes(size, expected):
    """Sizes for people, in MB of 1024 * 1024 bytes."""
    assert megabytes(size) == expected


def test_a_team_key_has_its_thumbnail_in_the_same_folder_and_no_public_copy():
    """thumbs/ beside it in the member's team folder; a team's photos are never published, so no public key."""
    key = f"{key_prefix(visibility='team', identity_id=ME, team='wintercorp')}{UUID}.png"
    assert key == f"teams/wintercorp/{ME}/{UUID}.png"
    assert thumb_key_for(key) == f"teams/wintercorp/{ME}/thumbs/{UUID}.jpg"
    assert public_key_for(key) is None and public_key_for(thumb_key_for(key)) is None


@pytest.mark.parametrize("team", ["", "Winter", "a/b", "-x", "x" * 64])
def test_a_bad_team_slug_makes_no_prefix(team):
    with pytest.raises(ValueError):
        key_prefix(visibility="team", identity_id=ME, team=team)


def test_browser_rules_give_the_teams_folders_only_when_asked():
    assert browser_rules(identity_id=ME)["teamPrefixes"] == {}
    assert browser_rules(identity_id=ME, teams=("wintercorp",))["teamPrefixes"] == {"wintercorp": f"teams/wintercorp/{ME}/"}
    assert browser_rules(identity_id="", teams=("wintercorp",))["teamPrefixes"] == {}
