"""Uploading straight from the browser to S3, under the real CSP and the
bucket's real CORS rule, then registering and showing the photo."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import IMAGE_LOADED, sign_in
from tests.images import png_bytes
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(page, base_url: str, name: str, mime: str, data: bytes, *, public: bool = False) -> None:
    page.goto(f"{base_url}/photos/upload/")
    page.set_input_files("#photo-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.fill("#photo-title", "Orange square")
    if public:
        page.check("#photo-public")
    page.click("#upload-form button[type=submit]")


def test_a_photo_goes_from_the_browser_to_s3_and_into_the_gallery(live_site, live_server, page, sandbox, settings, tmp_path):
    """Alice uploads a PNG: it lands under private/<her identity ID>/, is registered, and shows in her gallery."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    _upload(page, live_server.url, "square.png", "image/png", png_bytes())
    page.wait_for_url(f"{live_server.url}/photos/")
    image = page.locator("[data-testid=photo-image]")
    expect(image).to_have_count(1)
    page.wait_for_function(IMAGE_LOADED)
    alice = User.objects.get(email="alice@example.com")
    photo = Photo.objects.get(owner=alice)
    assert photo.key.startswith(f"private/{alice.identity_id}/") and photo.content_type == "image/png"
    stored = sandbox.client("s3").get_object(Bucket=live_site.bucket, Key=photo.key)
    assert stored["Body"].read() == png_bytes()
    assert stored["CacheControl"] == "private, max-age=31536000, immutable"
    assert photo.thumb_key.startswith(f"private/{alice.identity_id}/thumbs/") and (photo.width, photo.height) == (2, 2)
    page.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)
    assert page.problems == []


def test_a_file_that_is_not_an_image_is_refused_and_removed(live_site, live_server, page, sandbox, settings):
    """A text file sent as image/png reaches S3, fails the server's check, and is deleted again."""
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    _upload(page, live_server.url, "notes.png", "image/png", b"just some text, not a picture")
    expect(page.locator('[data-role="status"]')).to_have_text("That file is not a JPEG, PNG, GIF or WebP image.")
    bob = User.objects.get(email="bob@example.com")
    assert not Photo.objects.filter(owner=bob).exists()
    listed = sandbox.client("s3").list_objects_v2(Bucket=live_site.bucket, Prefix=f"private/{bob.identity_id}/")
    assert listed.get("KeyCount", 0) == 0


def test_a_png_named_like_a_jpeg_goes_as_the_png_it_is(live_site, live_server, page, sandbox, settings):
    """A PNG chosen as photo.jpg (the browser says image/jpeg): upload.js sends its own type, so it registers as image/png."""
    sign_in(page, live_server.url, "carol@example.com", settings.DEMO_PASSWORD)
    _upload(page, live_server.url, "photo.jpg", "image/jpeg", png_bytes())
    page.wait_for_url(f"{live_server.url}/photos/")
    photo = Photo.objects.get(owner=User.objects.get(email="carol@example.com"))
    assert photo.content_type == "image/png" and photo.key.endswith(".png")
    stored = sandbox.client("s3").head_object(Bucket=live_site.bucket, Key=photo.key)
    assert stored["ContentType"] == "image/png" and stored["VersionId"] == photo.version_id
    assert page.problems == []
