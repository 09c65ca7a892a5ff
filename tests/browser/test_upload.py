"""Uploading straight from the browser to S3, under the real CSP and the
bucket's real CORS rule, then registering and showing the photo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import IMAGE_LOADED, sign_in
from tests.images import jpeg_bytes, png_bytes
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)


def _choose(page, base_url: str, name: str, mime: str, data: bytes):
    """The upload page with one file chosen: its row."""
    page.goto(f"{base_url}/photos/upload/")
    page.set_input_files("#photo-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    return page.locator("[data-testid=upload-item]")


def _upload(page, base_url: str, name: str, mime: str, data: bytes, *, public: bool = False) -> None:
    item = _choose(page, base_url, name, mime, data)
    expect(item.locator("[data-testid=upload-title]")).to_have_value(name.rsplit(".", 1)[0])
    item.locator("[data-testid=upload-title]").fill("Orange square")
    if public:
        item.locator("[data-testid=upload-public]").check()
    page.click("[data-testid=upload-start]")


def test_a_photo_goes_from_the_browser_to_s3_and_into_the_gallery(live_site, live_server, page, sandbox, settings, tmp_path):
    """Alice uploads a PNG: it lands under private/<her identity ID>/, is registered, and shows in her gallery."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.method} {request.url}: {request.failure}"))
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
    assert photo.title == "Orange square"
    page.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)
    assert page.problems == []
    assert failed == []  # no net::ERR_ABORTED for the successful PUTs


def test_a_file_that_is_not_an_image_is_refused_before_upload(live_site, live_server, page, sandbox, settings):
    """A text file named notes.png is refused on the page, by name and size, and never reaches S3."""
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    item = _choose(page, live_server.url, "notes.png", "image/png", b"just some text, not a picture")
    expect(item).to_have_attribute("data-state", "refused")
    expect(item.locator("[data-testid=upload-status]")).to_have_text("notes.png (29 B) is not a JPEG, PNG, GIF or WebP image.")
    expect(page.get_by_test_id("upload-start")).to_be_disabled()
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


@pytest.mark.parametrize("width", [1280, 390])
def test_several_files_queue_each_with_its_preview_title_and_choice(live_site, live_server, page, settings, tmp_path, width):
    """Three files chosen at once: three rows, titles from the names, the non-image refused by name; a screenshot per width."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/photos/upload/")
    files = [
        {"name": "harbour at dawn.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)},
        {"name": "a-rather-long-file-name-from-a-camera-IMG_20260101_123456.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"},
    ]
    page.set_input_files("#photo-file", files=files)
    items = page.get_by_test_id("upload-item")
    expect(items).to_have_count(3)
    expect(items.nth(0).get_by_test_id("upload-title")).to_have_value("harbour at dawn")
    expect(items.nth(2)).to_have_attribute("data-state", "refused")
    expect(items.nth(2).get_by_test_id("upload-status")).to_contain_text("notes.txt (13 B)")
    page.wait_for_function("() => [...document.querySelectorAll('[data-role=preview][src]')].every((img) => img.naturalWidth > 0)")
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"upload-queue-{width}.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow, "the page scrolls sideways"
    assert page.problems == []
