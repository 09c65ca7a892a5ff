"""The photo pages through the test client: the public gallery, My photos,
one photo and the upload form. The pages give the browser photo JSON and
never a presigned URL; catalog rows are made directly, since no page reads S3."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import uuid

import pytest
from django.test import Client

from sandbox.server import free_port
from tests.uploads.conftest import PNG, TEAM, team_key
from uploads.models import Photo
from uploads.rules import IMAGE_TYPES, MAX_PHOTO_BYTES, MAX_PHOTO_SIZE, NOT_AN_IMAGE
from uploads.views import PAGE_SIZE

HOME = "/"
GALLERY = "/photos/"
UPLOAD = "/photos/upload/"
API = "/api/photos"

CARD = re.compile(r'data-testid="photo-card" data-photo-id="([^"]+)"')
BADGE = re.compile(r'data-photo-id="([^"]+)">.*?<span class="badge[^"]*" data-testid="badge">([^<]+)</span>', re.S)


def make_photo(member, *, visibility: str = "private", title: str = "A photo", taken_down: bool = False, **fields) -> Photo:
    """A catalog row under the member's own prefix (the pages never look at the bucket)."""
    key = member.key(visibility=visibility)
    public = visibility == "public" and not taken_down
    return Photo.objects.create(
        owner=member.user,
        key=key,
        version_id="v-" + uuid.uuid4().hex,
        visibility="public" if public else "private",
        title=title,
        content_type="image/png",
        size=len(PNG),
        width=2,
        height=2,
        public_key=key if public else "",
        public_version_id="pv-1" if public else "",
        taken_down_at=dt.datetime.now(dt.timezone.utc) if taken_down else None,
        taken_down_reason="Not yours to share" if taken_down else "",
        **fields,
    )


def page_data(response) -> dict:
    found = re.search(r'<script id="page-data" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    return json.loads(found.group(1))


def cards(response) -> list[str]:
    return CARD.findall(response.content.decode())


# --- who may open which page ------------------------------------------------------------------


@pytest.mark.parametrize("path", [GALLERY, UPLOAD])
def test_photo_pages_send_a_signed_out_visitor_to_sign_in(shared_site, path):
    """Signed out: a redirect to the sign-in page that comes back here afterwards."""
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/sign-in/?next={path}"


def test_the_home_page_shows_a_guest_everyones_public_photos_only(owner, stranger):
    """Public photos of both members, newest first; private and taken-down ones are nowhere on the page."""
    first = make_photo(owner, visibility="public", title="Harbour")
    second = make_photo(stranger, visibility="public", title="Hills")
    private = make_photo(owner, title="Secret")
    down = make_photo(stranger, visibility="public", taken_down=True, title="Removed")
    response = Client().get(HOME)
    assert response.status_code == 200
    assert cards(response) == [str(second.pk), str(first.pk)]
    text = response.content.decode()
    assert "Secret" not in text and private.key not in text
    assert "Removed" not in text and down.key not in text
    [data] = [p for p in page_data(response)["photos"] if p["id"] == str(first.pk)]
    assert data["publicKey"] == first.public_key and data["publicVersionId"] == "pv-1" and data["mine"] is False


def test_no_page_carries_a_presigned_url(owner):
    """Home, My photos and the photo page give keys and versions; the browser signs, never the server."""
    photo = make_photo(owner, visibility="public")
    for path in (HOME, GALLERY, f"/photos/{photo.pk}/"):
        text = owner.client.get(path).content.decode()
        assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text, path
        assert photo.version_id in text, path


def test_the_pages_answer_without_s3(owner, settings):
    """S3 unreachable: the galleries and the photo page still render from the catalog (no listing on the request path)."""
    photo = make_photo(owner, visibility="public")
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    for path in (HOME, GALLERY, f"/photos/{photo.pk}/"):
        assert owner.client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "visibility, taken_down, badge",
    [("private", False, "private"), ("public", False, "public"), ("public", True, "taken down")],
)
def test_my_photos_badges_each_photo(owner, stranger, visibility, taken_down, badge):
    """My photos shows the owner's photo with its badge, and none of the stranger's."""
    mine = make_photo(owner, visibility=visibility, taken_down=taken_down)
    make_photo(stranger, visibility="public")
    response = owner.client.get(GALLERY)
    assert cards(response) == [str(mine.pk)]
    assert dict(BADGE.findall(response.content.decode())) == {str(mine.pk): badge}


def test_a_long_title_is_shown_whole_and_escaped(owner):
    """A 200-character title with markup: all of it on the card, as text, never HTML."""
    title = '<img src=x onerror="alert(1)">' + "t" * 170
    make_photo(owner, title=title)
    text = owner.client.get(GALLERY).content.decode()
    assert title not in text
    assert html.escape(title) in text


@pytest.mark.parametrize("path", [HOME, GALLERY])
def test_an_empty_gallery_says_what_to_do(owner, path):
    """No photos: the page points to the upload page."""
    response = owner.client.get(path)
    assert cards(response) == []
    assert 'href="/photos/upload/"' in response.content.decode()


def test_the_next_page_link_works_without_javascript(owner):
    """PAGE_SIZE + 1 photos: the first page links to a second one holding the oldest, which has no next link."""
    photos = [make_photo(owner, visibility="public", title=f"Photo {n}") for n in range(PAGE_SIZE + 1)]
    first = owner.client.get(HOME)
    assert len(cards(first)) == PAGE_SIZE
    link = re.search(r'data-testid="next-page" rel="next" class="[^"]*" href="([^"]+)"', first.content.decode())
    second = owner.client.get(html.unescape(link.group(1)))
    assert cards(second) == [str(photos[0].pk)]
    assert 'data-testid="next-page"' not in second.content.decode()


def test_a_made_up_cursor_is_404(owner):
    """A cursor the server did not make is no page."""
    assert owner.client.get(HOME, {"cursor": "not-a-cursor"}).status_code == 404


# --- one photo --------------------------------------------------------------------------------


def test_the_owner_gets_the_photo_page_with_every_action(owner):
    """Title, size and dimensions, and rename, publish, delete with its confirmation; the owner's prefixes in the page data."""
    photo = make_photo(owner, title="Orange square")
    response = owner.client.get(f"/photos/{photo.pk}/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Orange square" in text and "2 × 2 pixels" in text
    for testid in ("photo-image", "rename", "publish", "delete", "delete-confirm"):
        assert f'data-testid="{testid}"' in text, testid
    assert 'data-testid="take-down"' not in text
    data = page_data(response)
    assert data["prefixes"]["public"] == f"public/{owner.identity_id}/"
    assert data["urls"]["publish"] == f"{API}/{photo.pk}/publish"


@pytest.mark.parametrize("visibility, status", [("private", 404), ("public", 200)])
def test_another_user_sees_a_photo_only_when_it_is_public(owner, stranger, visibility, status):
    """Someone else's private photo is 404 (never 403); a public one opens, with none of the owner's actions."""
    photo = make_photo(owner, visibility=visibility)
    response = stranger.client.get(f"/photos/{photo.pk}/")
    assert response.status_code == status
    if status == 200:
        text = response.content.decode()
        assert 'data-testid="delete"' not in text and 'data-testid="rename"' not in text
        assert page_data(response)["prefixes"] == {}


def test_a_taken_down_photo_tells_its_owner_why_and_is_gone_for_others(owner, stranger):
    """The owner reads "taken down by a moderator" and the reason; anyone else gets 404."""
    photo = make_photo(owner, visibility="public", taken_down=True)
    text = owner.client.get(f"/photos/{photo.pk}/").content.decode()
    assert "Taken down by a moderator" in text and "Not yours to share" in text
    assert stranger.client.get(f"/photos/{photo.pk}/").status_code == 404
    assert Client().get(f"/photos/{photo.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/photos/not-a-uuid/", f"/photos/{uuid.uuid4()}/"])
def test_an_unknown_or_malformed_photo_id_is_404(shared_site, path):
    """No such photo: 404."""
    assert Client().get(path).status_code == 404


def test_the_photo_page_links_the_newer_and_the_older_photo(owner):
    """rel=prev is the newer photo, rel=next the older one, in the owner's own photos."""
    older, middle, newer = (make_photo(owner, title=t) for t in ("old", "middle", "new"))
    text = owner.client.get(f"/photos/{middle.pk}/").content.decode()
    assert f'rel="prev" href="/photos/{newer.pk}/"' in text
    assert f'rel="next" href="/photos/{older.pk}/"' in text


# --- the upload form --------------------------------------------------------------------------


def test_the_upload_page_gives_upload_js_its_urls_and_a_working_csrf_token(owner):
    """data-credentials-url, data-register-url, data-gallery-url and data-csrf-token on the form; the token passes a strict client."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = owner.client.cookies
    page = strict.get(UPLOAD)
    assert page.status_code == 200
    form = re.search(r'<form[^>]*id="upload-form"[^>]*>', page.content.decode()).group(0)
    data = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', form))
    assert (data["credentials-url"], data["register-url"], data["gallery-url"]) == ("/api/credentials", API, GALLERY)
    assert data["rules"] == "upload-rules"
    key = owner.key()
    owner.upload(key, PNG)
    response = strict.post(API, data=json.dumps({"key": key}), content_type="application/json", HTTP_X_CSRFTOKEN=data["csrf-token"])
    assert response.status_code == 201


def _page_rules(client: Client) -> dict:
    text = client.get(UPLOAD).content.decode()
    found = re.search(r'<script id="upload-rules" type="application/json">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


def test_the_upload_page_tells_upload_js_the_users_own_prefixes(owner, stranger):
    """The page data holds this member's own prefixes (never another's): upload.js adds only <uuid>.<extension>."""
    rules = _page_rules(owner.client)
    assert rules["identityId"] == owner.identity_id
    assert rules["prefixes"] == {"private": f"private/{owner.identity_id}/", "public": f"public/{owner.identity_id}/"}
    assert stranger.identity_id not in json.dumps(rules)


def test_the_upload_page_tells_upload_js_the_servers_types_and_limit(owner):
    """The accepted types with their extensions and signatures, the size limit and the messages are the server's."""
    rules = _page_rules(owner.client)
    assert rules["maxBytes"] == MAX_PHOTO_BYTES
    assert {t: v["extension"] for t, v in rules["types"].items()} == {t: v.extension for t, v in IMAGE_TYPES.items()}
    assert rules["types"]["image/png"]["signatures"] == [[[0, list(b"\x89PNG\r\n\x1a\n")]]]
    assert rules["messages"]["notAnImage"] == NOT_AN_IMAGE


def test_the_upload_page_tells_upload_js_when_to_go_multipart(owner, settings):
    """The multipart threshold and part size are the settings; the page states the limit as the server words it."""
    rules = _page_rules(owner.client)
    assert (rules["multipartThreshold"], rules["partBytes"]) == (settings.MULTIPART_THRESHOLD, settings.MULTIPART_PART_BYTES)
    assert "{name}" in rules["messages"]["notAnImageFile"] and "{size}" in rules["messages"]["tooLargeFile"]
    text = owner.client.get(UPLOAD).content.decode()
    assert f"at most {MAX_PHOTO_SIZE} each" in text
    assert re.search(r'<input type="file" id="photo-file"[^>]* multiple', text)


# --- team photos ------------------------------------------------------------------------------

TEAM_PAGE = f"/teams/{TEAM}/"
NAV_ENTRY = 'data-testid="team-photos-link"'


def make_team_photo(member, *, title: str = "A team photo") -> Photo:
    """A catalog row of a team photo in the member's folder of the team's prefix."""
    return Photo.objects.create(
        owner=member.user,
        key=team_key(member),
        version_id="v-" + uuid.uuid4().hex,
        visibility="team",
        team=TEAM,
        title=title,
        content_type="image/png",
        size=len(PNG),
    )


def test_a_team_member_sees_the_teams_photos_and_the_nav_entry(dana, erin, frank):
    """erin's team page shows dana's and her own team photos (and none of frank's private ones), with its nav entry current."""
    mine, hers = make_team_photo(erin), make_team_photo(dana, title="Dana's")
    make_photo(frank, title="frank's private photo")
    response = erin.client.get(TEAM_PAGE)
    assert response.status_code == 200
    assert cards(response) == [str(hers.pk), str(mine.pk)]
    text = response.content.decode()
    assert f'href="{TEAM_PAGE}" {NAV_ENTRY} aria-current="page"' in text
    assert "by dana" in text and "wintercorp.com" in text
    assert f'href="/photos/upload/?to={TEAM}"' in text


@pytest.mark.parametrize("who", ["frank", "pool_user", "guest"])
def test_anyone_else_gets_not_found_and_no_nav_entry(request, dana, team_site, who):
    """frank (SSO, example.org), a user-pool user and a guest: the team page is the same 404 as an unknown team's,
    and no page has the nav entry."""
    make_team_photo(dana, title="Team secret")
    client = Client() if who == "guest" else request.getfixturevalue(who).client
    response = client.get(TEAM_PAGE)
    unknown = client.get("/teams/nosuchteam/")
    assert response.status_code == unknown.status_code == 404
    assert "Team secret" not in response.content.decode()
    main = re.compile(r"<main.*</main>", re.S)  # the rest holds a CSRF token, masked anew for each page
    assert main.search(response.content.decode()).group() == main.search(unknown.content.decode()).group()
    for path in (HOME, GALLERY, UPLOAD):
        assert NAV_ENTRY not in client.get(path, follow=True).content.decode(), path


def test_the_nav_entry_shows_on_every_page_for_a_member(dana):
    for path in (HOME, GALLERY, UPLOAD):
        assert NAV_ENTRY in dana.client.get(path).content.decode(), path


def test_the_team_page_pages_like_the_other_galleries(dana):
    """PAGE_SIZE + 1 team photos: a full first page, then the oldest on the second, in a bounded number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    photos = [make_team_photo(dana, title=f"Photo {n}") for n in range(PAGE_SIZE + 1)]
    dana.client.get(TEAM_PAGE)  # the session's role is asked once, then kept beside its credentials
    with CaptureQueriesContext(connection) as queries:
        first = dana.client.get(TEAM_PAGE)
    assert len(cards(first)) == PAGE_SIZE
    link = re.search(r'data-testid="next-page" rel="next" class="[^"]*" href="([^"]+)"', first.content.decode())
    second = dana.client.get(html.unescape(link.group(1)))
    assert cards(second) == [str(photos[0].pk)]
    assert len(queries) < 10  # the session, the user, one page of photos with their owners: not one per photo


def test_a_team_member_opens_a_team_photo_without_publish(dana, erin, frank):
    """erin opens dana's team photo (no owner controls); dana has rename and delete but no publish; frank gets 404."""
    photo = make_team_photo(dana)
    path = f"/photos/{photo.pk}/"
    seen = erin.client.get(path)
    assert seen.status_code == 200 and 'data-testid="rename"' not in seen.content.decode()
    assert f'href="{TEAM_PAGE}">Team photos</a>' in seen.content.decode()
    own = dana.client.get(path).content.decode()
    assert 'data-testid="rename"' in own and 'data-testid="delete"' in own and 'data-testid="publish"' not in own
    assert frank.client.get(path).status_code == 404


def test_the_upload_page_offers_the_team_to_a_member_only(dana, frank):
    """dana's page data holds her folder of the team's prefix and a destination choice; frank's holds neither."""
    rules = _page_rules(dana.client)
    assert rules["teamPrefixes"] == {TEAM: f"teams/{TEAM}/{dana.identity_id}/"}
    page = dana.client.get(UPLOAD).content.decode()
    assert 'data-testid="destination-team"' in page and 'data-testid="destination-mine" checked' in page
    chosen = dana.client.get(UPLOAD, {"to": TEAM}).content.decode()
    assert re.search(r'value="wintercorp" data-gallery-url="/teams/wintercorp/" data-testid="destination-team" checked', chosen)
    assert _page_rules(frank.client)["teamPrefixes"] == {}
    for query in ({}, {"to": TEAM}):
        assert 'name="destination"' not in frank.client.get(UPLOAD, query).content.decode()
