"""The photo pages and POST /api/photos through the test client, with the
upload made as upload.js makes it (the member's own credentials, straight to
S3) and the effects checked in the catalog and in the bucket."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest
import requests
from django.test import Client

from sandbox.server import free_port
from tests.uploads.conftest import JPEG, PNG
from uploads.models import Photo
from uploads.rules import IMAGE_TYPES, MAX_PHOTO_BYTES
from uploads.services import photo_register
from uploads.views import REGISTER_BODY_MAX, UNAVAILABLE

API = "/api/photos"
GALLERY = "/photos/"
UPLOAD = "/photos/upload/"
BAD_BODY = 'Send JSON with a string "key" and an optional string "title".'
NOT_YOURS = "That upload is not in your folder."
NOT_AN_IMAGE = "That file is not a JPEG, PNG, GIF or WebP image."
DELETED = "Photo deleted."
NOT_YOURS_TO_DELETE = "That photo is not yours, or is already gone."

# <li class="photo" data-key="..."> then its <img src="...">, as gallery.html renders them.
PHOTO_ITEM = re.compile(r'<li class="photo" data-key="([^"]*)">\s*<img src="([^"]*)"')


def is_json_error(response, status: int, message: str | None = None) -> bool:
    """A JSON {"error": ...} answer, never cached, with this status (and message)."""
    return (
        response.status_code == status
        and response["Content-Type"] == "application/json"
        and response["Cache-Control"] == "no-store"
        and set(response.json()) == {"error"}
        and (message is None or response.json()["error"] == message)
    )


def register(client: Client, body: bytes | dict, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(API, data=data, content_type="application/json", **extra)


def gallery_items(response) -> dict[str, str]:
    """key -> the presigned URL of its <img>, from the gallery page."""
    return {html.unescape(key): html.unescape(src) for key, src in PHOTO_ITEM.findall(response.content.decode())}


# --- GET /photos/ -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [GALLERY, UPLOAD])
def test_photo_pages_send_a_signed_out_visitor_to_sign_in(shared_site, path):
    """Signed out: a redirect to the sign-in page that comes back here afterwards."""
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/sign-in/?next={path}"


def test_the_gallery_shows_the_users_photos_with_working_presigned_urls(owner, stranger):
    """Each of the owner's photos, private and public, with a SigV4 URL that fetches its bytes; the stranger's photo is nowhere on the page."""
    mine = {owner.key(): PNG, owner.key(visibility="public"): JPEG}
    for key, body in mine.items():
        owner.upload(key, body)
        photo_register(user=owner.user, key=key)
    theirs = stranger.key()
    stranger.upload(theirs, PNG)
    photo_register(user=stranger.user, key=theirs)

    response = owner.client.get(GALLERY)

    assert response.status_code == 200
    items = gallery_items(response)
    assert set(items) == set(mine)
    for key, url in items.items():
        assert "X-Amz-Signature=" in url and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        download = requests.get(url, timeout=5)
        assert download.status_code == 200 and download.content == mine[key]
        assert download.headers["Content-Type"] == Photo.objects.get(key=key).content_type
    assert theirs not in response.content.decode()
    assert stranger.identity_id not in response.content.decode()


def test_the_gallery_shows_an_upload_that_was_never_registered(owner):
    """An upload whose registration never came (a closed tab) appears on the next visit, and is cataloged."""
    key = owner.key()
    owner.upload(key, PNG)
    response = owner.client.get(GALLERY)
    assert list(gallery_items(response)) == [key]
    assert Photo.objects.get().key == key


def test_a_title_is_shown_escaped(owner):
    """A title with markup is text on the page, never HTML (the catalog holds what the user typed)."""
    key = owner.key()
    owner.upload(key, PNG)
    title = '<img src=x onerror="alert(1)">'
    assert register(owner.client, {"key": key, "title": title}).status_code == 201
    page = owner.client.get(GALLERY).content.decode()
    assert title not in page
    assert html.escape(title) in page


def test_the_gallery_says_so_when_s3_does_not_answer(owner, settings):
    """S3 unreachable: the page still renders (200) with the fixed 'not answering' message and no photos."""
    owner.upload(owner.key(), PNG)
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    response = owner.client.get(GALLERY)
    assert response.status_code == 200
    assert UNAVAILABLE in response.content.decode()
    assert gallery_items(response) == {}


# --- GET /photos/upload/ ----------------------------------------------------------------------


def test_the_upload_page_gives_upload_js_its_urls_and_a_working_csrf_token(owner):
    """data-credentials-url, data-register-url and data-csrf-token on the form; the token lets a strict client register."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = owner.client.cookies
    page = strict.get(UPLOAD)
    assert page.status_code == 200
    text = page.content.decode()
    form = re.search(r'<form[^>]*id="upload-form"[^>]*>', text).group(0)
    data = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', form))
    assert data["credentials-url"] == "/api/credentials"
    assert data["register-url"] == API
    assert data["rules"] == "upload-rules"
    assert len(data["csrf-token"]) >= 32
    key = owner.key()
    owner.upload(key, PNG)
    response = register(strict, {"key": key}, HTTP_X_CSRFTOKEN=data["csrf-token"])
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


# --- POST /api/photos -------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["private", "public"])
def test_registering_a_valid_upload_answers_201_with_the_photo(owner, bucket, visibility):
    """201 JSON {id, key, visibility, gallery}, no-store; the row is in the catalog (title stripped) and the object stays."""
    key = owner.key(visibility=visibility)
    owner.upload(key, PNG)
    response = register(owner.client, {"key": key, "title": "  Orange square  "})
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    photo = Photo.objects.get()
    assert answer == {"id": str(photo.pk), "key": key, "visibility": visibility, "gallery": GALLERY}
    assert (photo.owner, photo.title, photo.content_type, photo.size) == (owner.user, "Orange square", "image/png", len(PNG))
    assert bucket.get(key) == PNG


def test_registering_the_same_upload_twice_gives_the_same_photo(owner):
    """A retried request: the same id both times, one row."""
    key = owner.key()
    owner.upload(key, PNG)
    first, second = register(owner.client, {"key": key}), register(owner.client, {"key": key})
    assert first.json()["id"] == second.json()["id"]
    assert Photo.objects.count() == 1


# {key} is a key under the member's own prefix, holding a real PNG.
BAD_BODIES = [
    pytest.param(b"{", id="not JSON"),
    pytest.param(b"\xff\xfe{}", id="not UTF-8"),
    pytest.param(b"", id="empty body"),
    pytest.param(b"{}", id="no key"),
    pytest.param(b'{"title": "x"}', id="title but no key"),
    pytest.param(b"[]", id="a list"),
    pytest.param(b'"{key}"', id="a bare string"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"key": 5}', id="number key"),
    pytest.param(b'{"key": null}', id="null key"),
    pytest.param(b'{"key": ["{key}"]}', id="list key"),
    pytest.param(b'{"key": "{key}", "title": 5}', id="number title"),
    pytest.param(b'{"key": "{key}", "title": null}', id="null title"),
    pytest.param(b'{"key": "{key}", "title": {"a": 1}}', id="object title"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_a_malformed_body_is_400_json_and_changes_nothing(owner, bucket, body):
    """The fixed 'send JSON with a string key' message; nothing cataloged, the upload left as it was."""
    key = owner.key()
    owner.upload(key, PNG)
    response = register(owner.client, body.replace(b"{key}", key.encode()))
    assert is_json_error(response, 400, BAD_BODY)
    assert not Photo.objects.exists()
    assert bucket.has(key)


def test_a_body_over_4_kb_is_refused_before_anything_else(owner, bucket):
    """A valid key with a long title, one byte over REGISTER_BODY_MAX: 400 'too large', not registered, not deleted."""
    key = owner.key()
    owner.upload(key, PNG)
    body = json.dumps({"key": key, "title": ""}).encode()
    body = body[:-2] + b"t" * (REGISTER_BODY_MAX + 1 - len(body)) + b'"}'
    assert len(body) == REGISTER_BODY_MAX + 1
    assert is_json_error(register(owner.client, body), 400, "That request is too large.")
    assert not Photo.objects.exists()
    assert bucket.has(key)


def test_a_body_of_exactly_4_kb_is_accepted(owner):
    """REGISTER_BODY_MAX bytes (padded with JSON whitespace) is still a registration: 201."""
    key = owner.key()
    owner.upload(key, PNG)
    body = json.dumps({"key": key}).encode()
    body = body[:-1] + b" " * (REGISTER_BODY_MAX - len(body)) + b"}"
    assert len(body) == REGISTER_BODY_MAX
    assert register(owner.client, body).status_code == 201


@pytest.mark.parametrize(
    "whose, body, message, kept",
    [
        pytest.param("stranger", PNG, NOT_YOURS, True, id="another user's upload"),
        pytest.param("owner", b"not a picture", NOT_AN_IMAGE, False, id="not an image"),
        pytest.param("owner", b"", NOT_AN_IMAGE, False, id="empty"),
    ],
)
def test_a_rejected_upload_is_400_json_with_its_message(owner, stranger, bucket, whose, body, message, kept):
    """The service's fixed message as {"error"}; nothing cataloged; the object kept only when it is not the user's."""
    uploader = stranger if whose == "stranger" else owner
    key = uploader.key()
    uploader.upload(key, body)
    response = register(owner.client, {"key": key})
    assert is_json_error(response, 400, message)
    assert not Photo.objects.exists()
    assert bucket.has(key) is kept


def test_a_polyglot_sent_as_html_is_400_json_and_deleted(owner, bucket):
    """GIF89a<html><script> stored as text/html: 400 with the fixed wrong-type message, and no version of it left."""
    key = owner.key()
    owner.upload(key, b"GIF89a<html><script>alert(1)</script></html>", "text/html")
    response = register(owner.client, {"key": key})
    assert is_json_error(response, 400, "That image was uploaded with a type other than its own. Please upload it again.")
    assert not Photo.objects.exists()
    assert bucket.versions(key) == []


def test_registering_when_signed_out_is_401_json(shared_site, bucket):
    """No session: 401 with 'sign in', nothing cataloged."""
    key = f"private/us-east-1:{uuid.uuid4()}/photo.png"
    bucket.put(key, PNG)
    assert is_json_error(register(Client(), {"key": key}), 401, "Sign in to upload photos.")
    assert not Photo.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405_json(owner, method):
    """Only POST: 405 JSON 'Use POST.' with Allow: POST."""
    response = getattr(owner.client, method)(API)
    assert is_json_error(response, 405, "Use POST.")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("token", [None, "x" * 64], ids=["no CSRF token", "wrong CSRF token"])
def test_a_registration_without_the_csrf_token_is_403_json(owner, bucket, token):
    """A cross-site POST with the user's cookies: 403 JSON, nothing cataloged, the upload untouched."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = owner.client.cookies
    strict.get(UPLOAD)  # the csrftoken cookie is set, as on a real visit
    key = owner.key()
    owner.upload(key, b"not a picture")  # would be deleted if the request got through
    extra = {"HTTP_X_CSRFTOKEN": token} if token else {}
    response = register(strict, {"key": key}, **extra)
    assert is_json_error(response, 403)
    assert not Photo.objects.exists()
    assert bucket.has(key)


def test_registering_when_s3_does_not_answer_is_503_json(owner, settings):
    """S3 unreachable after the upload: 503 with the fixed 'not answering' message, nothing cataloged."""
    key = owner.key()
    owner.upload(key, PNG)
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    assert is_json_error(register(owner.client, {"key": key}), 503, UNAVAILABLE)
    assert not Photo.objects.exists()


# --- POST /photos/<id>/delete/ ----------------------------------------------------------------


def _photo_of(member) -> Photo:
    key = member.key()
    member.upload(key, PNG)
    return photo_register(user=member.user, key=key)


def test_the_owner_deletes_a_photo_from_the_gallery(owner, bucket):
    """POST: back to the gallery saying 'Photo deleted.'; the row and the object are gone."""
    photo = _photo_of(owner)
    response = owner.client.post(f"/photos/{photo.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == GALLERY
    page = owner.client.get(response["Location"]).content.decode()
    assert DELETED in page
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not bucket.has(photo.key)


@pytest.mark.parametrize("target", ["another user's photo", "no such photo"])
def test_deleting_a_photo_that_is_not_yours_is_refused(owner, stranger, bucket, target):
    """POST: back to the gallery with 'not yours, or already gone'; the stranger's row and object stay."""
    theirs = _photo_of(stranger)
    photo_id = theirs.pk if target == "another user's photo" else uuid.uuid4()
    response = owner.client.post(f"/photos/{photo_id}/delete/", follow=True)
    assert response.redirect_chain == [(GALLERY, 302)]
    assert NOT_YOURS_TO_DELETE in response.content.decode()
    assert Photo.objects.filter(pk=theirs.pk, owner=stranger.user).exists()
    assert bucket.has(theirs.key)


def test_delete_by_get_is_405(owner, bucket):
    """A link or a prefetch cannot delete: GET is 405, the photo stays."""
    photo = _photo_of(owner)
    assert owner.client.get(f"/photos/{photo.pk}/delete/").status_code == 405
    assert Photo.objects.filter(pk=photo.pk).exists() and bucket.has(photo.key)


def test_delete_when_signed_out_goes_to_sign_in(owner, bucket):
    """No session: a redirect to sign-in, the photo stays."""
    photo = _photo_of(owner)
    response = Client().post(f"/photos/{photo.pk}/delete/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/sign-in/?next=")
    assert Photo.objects.filter(pk=photo.pk).exists() and bucket.has(photo.key)


def test_delete_without_the_csrf_token_is_403(owner, bucket):
    """A cross-site form POST with the owner's cookies: 403, the photo stays."""
    photo = _photo_of(owner)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = owner.client.cookies
    assert strict.post(f"/photos/{photo.pk}/delete/").status_code == 403
    assert Photo.objects.filter(pk=photo.pk).exists() and bucket.has(photo.key)
