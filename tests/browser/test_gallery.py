"""The photo pages in Chromium: publishing for guests, what each user sees,
moderation, deleting with a confirmation, and the layout at 390 and 1280 px.
Every image is presigned by the browser itself, with its own credentials."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import Page, TimeoutError, expect

from accounts.models import User
from tests.browser.conftest import context_page, sign_in
from tests.images import png_bytes
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}  # CSS pixels


def upload(page: Page, base_url: str, title: str, *, public: bool = False) -> Photo:
    """Upload a PNG through the upload page; back on My photos, the photo as cataloged."""
    page.goto(f"{base_url}/photos/upload/")
    page.set_input_files("#photo-file", files=[{"name": "square.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.get_by_test_id("upload-title").fill(title)
    if public:
        page.get_by_test_id("upload-public").check()
    page.get_by_test_id("upload-start").click()
    try:
        page.wait_for_url(f"{base_url}/photos/", timeout=15_000)
    except TimeoutError as exc:  # say what the page said
        raise AssertionError(page.get_by_test_id("upload-item").inner_text()) from exc
    return Photo.objects.get(title=title)


def card(page: Page, photo: Photo):
    return page.locator(f'[data-testid="photo-card"][data-photo-id="{photo.pk}"]')


def image_loaded(page: Page, photo: Photo) -> None:
    """The card's image, signed in this browser, has loaded."""
    image = card(page, photo).locator('[data-testid="photo-image"]')
    expect(image).to_have_attribute("data-state", "loaded", timeout=15_000)


def publish(page: Page, base_url: str, photo: Photo) -> None:
    page.goto(f"{base_url}/photos/{photo.pk}/")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("unpublish")).to_be_visible(timeout=15_000)


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_published_photo_is_read_by_a_guest_with_the_guests_own_key(live_site, live_server, page, browser, settings):
    """Alice uploads and publishes; a new guest sees it on the home page, its image signed with the guest's access key."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "Harbour at dawn, long title that is not cut short")
    publish(page, live_server.url, photo)
    photo.refresh_from_db()
    assert photo.visibility == "public" and photo.public_key.startswith("public/")

    guest = context_page(browser)
    signed: list[str] = []
    guest.on("request", lambda request: signed.append(request.url) if request.resource_type == "image" and "X-Amz-Credential" in request.url else None)
    guest.goto(live_server.url)
    expect(card(guest, photo)).to_contain_text("Harbour at dawn, long title that is not cut short")
    image_loaded(guest, photo)
    credentials = guest.evaluate(
        """async () => { const token = document.querySelector('[data-identity-menu]').dataset.csrfToken;
             const r = await fetch('/api/credentials', {method: 'POST', headers: {'X-CSRFToken': token}});
             return r.json(); }"""
    )
    assert credentials["authenticated"] is False
    [url] = [u for u in signed if unquote(urlsplit(u).path).endswith(photo.public_thumb_key or photo.public_key)]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Credential"][0].startswith(credentials["accessKeyId"] + "/")
    assert query["versionId"] == [photo.public_thumb_version_id or photo.public_version_id]
    assert guest.problems == [] and page.problems == []
    guest.context.close()


def test_bob_sees_alices_public_photo_but_not_her_private_one(live_site, live_server, page, browser, settings):
    """On the home page and by URL: the public photo shows, the private one is nowhere and 404s."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    shown = upload(page, live_server.url, "Shown to all", public=True)
    hidden = upload(page, live_server.url, "Only mine")
    bob = context_page(browser)
    sign_in(bob, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    bob.goto(live_server.url)
    expect(card(bob, shown)).to_be_visible()
    image_loaded(bob, shown)
    expect(card(bob, hidden)).to_have_count(0)
    assert bob.goto(f"{live_server.url}/photos/{hidden.pk}/").status == 404
    assert bob.goto(f"{live_server.url}/photos/{shown.pk}/").status == 200
    expect(bob.get_by_test_id("publish")).to_have_count(0)
    expect(bob.get_by_test_id("delete")).to_have_count(0)
    bob.context.close()


def test_carol_takes_a_photo_down_and_alice_sees_why(live_site, live_server, page, browser, settings):
    """The moderator's browser deletes the public copy and the server records it; alice sees the badge and the reason."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "Questionable", public=True)
    carol = context_page(browser)
    sign_in(carol, live_server.url, "carol@example.com", settings.DEMO_PASSWORD)
    carol.goto(f"{live_server.url}/photos/{photo.pk}/")
    carol.fill("#take-down-reason", "Not your photo to share")
    carol.get_by_test_id("take-down").click()
    carol.wait_for_url(f"{live_server.url}/")
    expect(card(carol, photo)).to_have_count(0)
    photo.refresh_from_db()
    assert photo.taken_down_at is not None and photo.taken_down_by == User.objects.get(email="carol@example.com")

    page.goto(f"{live_server.url}/photos/")
    expect(card(page, photo).get_by_test_id("badge")).to_have_text("taken down")
    page.goto(f"{live_server.url}/photos/{photo.pk}/")
    expect(page.get_by_test_id("taken-down-notice")).to_contain_text("Taken down by a moderator")
    expect(page.get_by_test_id("taken-down-notice")).to_contain_text("Not your photo to share")
    assert carol.problems == []
    carol.context.close()


def test_bob_gets_no_take_down_control(live_site, live_server, page, settings):
    """A user without the moderator role sees no "Take down" on a public photo."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "Fine photo", public=True)
    page.context.clear_cookies()
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/photos/{photo.pk}/")
    expect(page.locator("[data-testid=photo-image]")).to_have_attribute("data-state", "loaded", timeout=15_000)
    expect(page.get_by_test_id("take-down")).to_have_count(0)


def test_alice_deletes_a_photo_only_after_confirming(live_site, live_server, page, sandbox, settings):
    """The first click only asks; "Keep it" keeps it; the confirmation deletes the row and the object."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "To be deleted")
    page.goto(f"{live_server.url}/photos/{photo.pk}/")
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("delete-confirm")).to_be_visible()
    page.get_by_role("button", name="Keep it").click()
    expect(page.get_by_test_id("delete-confirm")).to_be_hidden()
    assert Photo.objects.filter(pk=photo.pk).exists()
    page.get_by_test_id("delete").click()
    page.get_by_test_id("delete-confirm").click()
    page.wait_for_url(f"{live_server.url}/photos/")
    assert not Photo.objects.filter(pk=photo.pk).exists()
    listed = sandbox.client("s3").list_objects_v2(Bucket=live_site.bucket, Prefix=photo.key)
    assert listed.get("KeyCount", 0) == 0
    assert page.problems == []


def test_alice_renames_and_walks_her_photos_with_the_arrow_keys(live_site, live_server, page, settings):
    """Rename saves the new title; ← and → go to the newer and the older photo."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    older = upload(page, live_server.url, "First")
    newer = upload(page, live_server.url, "Second")
    page.goto(f"{live_server.url}/photos/{newer.pk}/")
    page.fill("#photo-title", "Second, renamed")
    page.get_by_test_id("rename").click()
    expect(page.locator("[data-role=status]")).to_have_text("Saved.")
    newer.refresh_from_db()
    assert newer.title == "Second, renamed"
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"{live_server.url}/photos/{older.pk}/")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"{live_server.url}/photos/{newer.pk}/")


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_the_main_pages_fit_the_screen(live_site, live_server, browser, settings, tmp_path, width):
    """Home, My photos, a photo and the upload page: no sideways scroll, "Sign out" on screen; screenshots of each."""
    page = context_page(browser, width)
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    public = upload(page, live_server.url, "A long title for a public photo of the harbour at dawn", public=True)
    upload(page, live_server.url, "Private one")
    pages = {"home": "/", "my-photos": "/photos/", "photo": f"/photos/{public.pk}/", "upload": "/photos/upload/"}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        shoot(page, tmp_path, f"{name}-{width}")
    page.locator("[data-identity-menu] summary").click()
    expect(page.locator("[data-identity-menu]")).to_have_attribute("data-state", "ready", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, tmp_path, f"identity-menu-{width}")
    page.context.clear_cookies()
    page.goto(live_server.url)
    page.wait_for_load_state("networkidle")
    shoot(page, tmp_path, f"home-guest-{width}")
    assert page.problems == []
    page.context.close()


def test_alice_unpublishes_and_guests_no_longer_see_it(live_site, live_server, page, browser, sandbox, settings):
    """Unpublish: the public copy is deleted, the badge says private, the home page is empty for a guest."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "Briefly public", public=False)
    publish(page, live_server.url, photo)
    photo.refresh_from_db()
    public_key = photo.public_key
    page.get_by_test_id("unpublish").click()
    expect(page.get_by_test_id("publish")).to_be_visible(timeout=15_000)
    photo.refresh_from_db()
    assert photo.visibility == "private" and photo.public_key == ""
    listed = sandbox.client("s3").list_objects_v2(Bucket=live_site.bucket, Prefix=public_key)
    assert listed.get("KeyCount", 0) == 0
    guest = context_page(browser)
    guest.goto(live_server.url)
    expect(card(guest, photo)).to_have_count(0)
    guest.context.close()


def test_an_image_whose_object_is_gone_makes_the_page_recheck_it(live_site, live_server, page, browser, sandbox, settings):
    """The original and thumbnail deleted behind the app's back: in a new session (nothing cached) the image fails,
    the page asks for a recheck, and the row goes."""
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, live_server.url, "Deleted elsewhere")
    # The upload page goes on to My photos by itself; leave it first, or that page sees the deletion and rechecks.
    page.goto("about:blank")
    s3 = sandbox.client("s3")
    assert photo.thumb_key  # an empty prefix would list the whole bucket
    for key in (photo.key, photo.thumb_key):
        for version in s3.list_object_versions(Bucket=live_site.bucket, Prefix=key).get("Versions", []):
            s3.delete_object(Bucket=live_site.bucket, Key=key, VersionId=version["VersionId"])
    later = context_page(browser)
    # Signing in lands on My photos, so the recheck may start before sign_in() returns: wait for it from the start.
    later.goto(f"{live_server.url}/accounts/sign-in/?next=/photos/")
    later.fill("input[name=email]", "alice@example.com")
    later.fill("input[name=password]", settings.DEMO_PASSWORD)
    with later.expect_response(lambda response: response.url.endswith(f"/api/photos/{photo.pk}/recheck")) as answer:
        later.click("button[type=submit]")
    assert answer.value.status == 404
    expect(card(later, photo).locator(".gone-note")).to_be_visible()
    assert not Photo.objects.filter(pk=photo.pk).exists()
    later.context.close()
