"""Team photos in Chromium (issue 16): dana signs in with the Winter Corp SSO
button and uploads to Team photos straight from her browser (one file in
parts, with progress and a thumbnail), erin signs in the same way and sees
it, read with her own credentials, and frank, signed in through the same
SSO but not from wintercorp.com, has no Team photos entry and gets not
found on the page. All against the real sandbox, its OIDC provider and its
Rules mapping; every wait is bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.actors import page_sso_sign_in
from tests.browser.conftest import IMAGE_LOADED, context_page
from tests.images import jpeg_of_size, png_bytes
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)

TEAM_PAGE = "/teams/wintercorp/"
NAV_ENTRY = "[data-testid=team-photos-link]"
WAIT = 60_000  # ms any one upload or image may take here
MB = 1000 * 1000


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_dana_uploads_to_team_photos_erin_sees_them_frank_does_not(
    sso_live_site, live_server, browser, sandbox, tmp_path, width
):
    """The whole story, at a phone's width and a laptop's."""
    base = live_server.url
    # dana: the SSO button, the nav entry, the team's empty page, then its upload button.
    dana = context_page(browser, width=width)
    page_sso_sign_in(dana, base, "dana@wintercorp.com")
    dana.click(NAV_ENTRY)
    dana.wait_for_url(f"{base}{TEAM_PAGE}")
    expect(dana.get_by_test_id("team-heading")).to_have_text("Team photos")
    shoot(dana, tmp_path, f"team-empty-{width}")
    dana.get_by_test_id("team-upload").click()
    dana.wait_for_url(f"{base}/photos/upload/?to=wintercorp")
    expect(dana.get_by_test_id("destination-team")).to_be_checked()

    big, small = tmp_path / "harbour.jpg", tmp_path / "square.png"
    big.write_bytes(jpeg_of_size(10 * MB))  # above the 8 MiB threshold: a multipart upload
    small.write_bytes(png_bytes(40, 30))
    dana.set_input_files("[data-testid=upload-picker]", [str(big), str(small)])
    items = dana.locator("[data-testid=upload-item]")
    expect(items).to_have_count(2)
    expect(items.first.locator("[data-testid=upload-public]")).to_be_hidden()  # a team's photos are never published
    shoot(dana, tmp_path, f"team-upload-{width}")
    uploaded_parts: list[str] = []
    dana.on("request", lambda r: uploaded_parts.append(r.url) if r.method == "PUT" and "partNumber=" in r.url else None)
    dana.click("[data-testid=upload-start]")
    expect(dana.get_by_test_id("upload-batch-progress")).to_be_visible()
    dana.wait_for_url(f"{base}{TEAM_PAGE}", timeout=WAIT)
    expect(dana.locator("[data-testid=photo-card]")).to_have_count(2)
    dana.wait_for_function(IMAGE_LOADED, timeout=WAIT)

    dana_user = User.objects.get(email="dana@wintercorp.com")
    photos = list(Photo.objects.filter(owner=dana_user).order_by("size"))
    assert [p.visibility for p in photos] == ["team", "team"] and {p.team for p in photos} == {"wintercorp"}
    folder = f"teams/wintercorp/{dana_user.identity_id}/"
    assert all(p.key.startswith(folder) and p.thumb_key.startswith(f"{folder}thumbs/") for p in photos)
    assert photos[-1].size == 10 * MB and len(uploaded_parts) >= 2  # the big one went up in parts
    stored = sandbox.client("s3").get_object(Bucket=sso_live_site.bucket, Key=photos[-1].key, VersionId=photos[-1].version_id)
    assert stored["ContentLength"] == 10 * MB
    assert dana.problems == []

    # erin: the same SSO, the nav entry, dana's photos read with her own credentials.
    erin = context_page(browser, width=width)
    page_sso_sign_in(erin, base, "erin@wintercorp.com")
    erin.click(NAV_ENTRY)
    erin.wait_for_url(f"{base}{TEAM_PAGE}")
    cards = erin.locator("[data-testid=photo-card]")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("by dana")
    erin.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=photo-image]')].every((img) => img.naturalWidth > 0)", timeout=WAIT
    )
    shoot(erin, tmp_path, f"team-gallery-{width}")
    cards.first.locator("a.title").click()
    expect(erin.get_by_test_id("photo-image")).to_have_attribute("data-state", "loaded", timeout=WAIT)
    expect(erin.get_by_test_id("publish")).to_have_count(0)
    expect(erin.get_by_test_id("delete")).to_have_count(0)  # dana's, not hers
    shoot(erin, tmp_path, f"team-photo-{width}")
    assert erin.problems == []

    # frank: signed in by the same SSO, from example.org: no entry, and the page is not found.
    frank = context_page(browser, width=width)
    page_sso_sign_in(frank, base, "frank@example.org")
    expect(frank.locator(".who")).to_have_text("frank@example.org")
    expect(frank.locator(NAV_ENTRY)).to_have_count(0)
    frank.goto(f"{base}/photos/upload/")
    expect(frank.get_by_test_id("upload-destination")).to_have_count(0)
    expect(frank.locator(NAV_ENTRY)).to_have_count(0)
    answer = frank.goto(f"{base}{TEAM_PAGE}")
    assert answer.status == 404
    assert "dana" not in frank.content()
    shoot(frank, tmp_path, f"team-not-found-{width}")
    assert frank.goto(f"{base}/photos/{photos[0].pk}/").status == 404
    for page in (dana, erin, frank):
        page.context.close()
