"""Albums in Chromium (issue 17): alice's browser creates an album, adds two
of her photos, renames it and finds it all after a reload, every album read
and write going from the browser straight to DynamoDB with her own
credentials (checked in the table with the admin key); a second tab's edit
on an older copy gets the conflict message; bob's inspector try-button
reading another identity's album is denied and explained. Layout at 390 and
1280 px, with screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import context_page, sign_in
from tests.browser.test_gallery import upload
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}  # CSS pixels
TIMEOUT = 15_000  # ms
CONFLICT = "This album was changed elsewhere. Reload to see the latest."
# Chromium logs each refused request as a failed load: DynamoDB answers its refusals with 400
# (the reason phrase after it is the server's own).
REFUSED_LOAD = "Failed to load resource: the server responded with a status of 400 "


def refusals_only(problems: list[str], count: int) -> None:
    """No script error or CSP violation: only `count` refused DynamoDB requests."""
    assert len(problems) == count and all(p.startswith(REFUSED_LOAD) for p in problems), problems


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def table_items(aws_settings: Any, table: str) -> list[dict[str, Any]]:
    """The albums table as the admin sees it (plain values)."""
    dynamodb = boto3.resource(
        "dynamodb",
        endpoint_url=aws_settings.AWS_ENDPOINT_URL,
        region_name=aws_settings.AWS_REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return dynamodb.Table(table).scan(ConsistentRead=True)["Items"]


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"


def album_open(page: Page, base_url: str, title: str) -> str:
    """From the album list, the album called `title`; its URL."""
    page.goto(f"{base_url}/albums/")
    expect(page.locator("[data-albums-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    page.get_by_test_id("album").filter(has_text=title).locator("a").click()
    expect(page.locator("[data-album-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    return page.url


def idle(page: Page) -> None:
    """The album page's write, if one is under way, has finished."""
    expect(page.locator("[data-album-page]")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT)


def images_loaded(page: Page, where: str, count: int) -> None:
    images = page.locator(f'[data-testid="{where}"] [data-testid="photo-image"]')
    expect(images).to_have_count(count, timeout=TIMEOUT)
    for index in range(count):
        expect(images.nth(index)).to_have_attribute("data-state", "loaded", timeout=TIMEOUT)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_alice_creates_an_album_adds_two_photos_renames_it_and_sees_it_after_reload(
    live_site, live_server, browser: Browser, aws_settings, settings, tmp_path, width
):
    """Create, add two photos, rename, reload: all there, in the order added, and the photo page names the album."""
    page = context_page(browser, width)
    base = live_server.url
    sign_in(page, base, "alice@example.com", settings.DEMO_PASSWORD)
    first = upload(page, base, "Harbour at dawn")
    second = upload(page, base, "Lighthouse, long title that wraps on a phone screen")
    dynamodb_calls: list[str] = []
    page.on("request", lambda r: dynamodb_calls.append(r.headers.get("x-amz-target", "")) if r.method == "POST" and r.headers.get("x-amz-target") else None)

    page.goto(f"{base}/albums/")
    expect(page.locator("[data-albums-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    expect(page.locator('[data-role="empty"]')).to_be_visible()
    shoot(page, tmp_path, f"albums-empty-{width}")
    page.get_by_test_id("album-create-title").fill("Summer by the sea")
    page.get_by_test_id("album-create").click()
    expect(page.get_by_test_id("album")).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_test_id("album")).to_contain_text("Summer by the sea")

    album_open(page, base, "Summer by the sea")
    expect(page.get_by_test_id("album-title")).to_have_text("Summer by the sea")
    images_loaded(page, "album-candidates", 2)
    for photo in (first, second):
        page.get_by_test_id("album-candidates").locator(f'[data-photo-id="{photo.pk}"]').get_by_test_id("album-add-photo").click()
        idle(page)
    images_loaded(page, "album-photos", 2)
    page.get_by_test_id("album-title-input").fill("Summer by the sea, 2026")
    page.get_by_test_id("album-rename").click()
    idle(page)
    expect(page.get_by_test_id("album-title")).to_have_text("Summer by the sea, 2026")

    page.reload()
    expect(page.locator("[data-album-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    expect(page.get_by_test_id("album-title")).to_have_text("Summer by the sea, 2026")
    expect(page.get_by_test_id("album-count")).to_have_text("2 photos")
    cards = page.get_by_test_id("album-photos").get_by_test_id("photo-card")
    assert [cards.nth(i).get_attribute("data-photo-id") for i in range(2)] == [str(first.pk), str(second.pk)]
    images_loaded(page, "album-photos", 2)
    expect(page.get_by_test_id("album-candidates").get_by_test_id("photo-card")).to_have_count(0)
    no_sideways_scroll(page)
    shoot(page, tmp_path, f"album-{width}")

    # What the browser wrote, as the table holds it: alice's partition, her identity ID as the key.
    [item] = table_items(aws_settings, live_site.albums_table)
    alice = Photo.objects.get(pk=first.pk).owner
    assert item["identityId"] == alice.identity_id
    assert item["title"] == "Summer by the sea, 2026"
    assert item["photoIds"] == [str(first.pk), str(second.pk)]
    assert item["version"] == 4  # created, two photos added, renamed: each write one version on
    assert {"DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.GetItem", "DynamoDB_20120810.Query"} <= set(dynamodb_calls)
    assert "DynamoDB_20120810.Scan" not in dynamodb_calls

    page.goto(f"{base}/photos/{first.pk}/")
    expect(page.locator("[data-in-albums]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    expect(page.get_by_test_id("photo-album")).to_have_text("Summer by the sea, 2026")
    no_sideways_scroll(page)
    shoot(page, tmp_path, f"album-photo-page-{width}")

    page.goto(f"{base}/albums/")
    expect(page.get_by_test_id("album")).to_contain_text("2 photos", timeout=TIMEOUT)
    no_sideways_scroll(page)
    shoot(page, tmp_path, f"albums-{width}")
    assert page.problems == []
    page.context.close()


def test_the_photo_page_adds_the_photo_to_an_album_and_removing_it_from_the_album_page_shows(
    live_site, live_server, browser: Browser, aws_settings, settings
):
    """Add to album on the photo page, then Remove and Delete on the album page: the table follows each step."""
    page = context_page(browser)
    base = live_server.url
    sign_in(page, base, "alice@example.com", settings.DEMO_PASSWORD)
    photo = upload(page, base, "Dunes")
    page.goto(f"{base}/albums/")
    page.get_by_test_id("album-create-title").fill("Walks")
    page.get_by_test_id("album-create").click()
    expect(page.get_by_test_id("album")).to_have_count(1, timeout=TIMEOUT)

    page.goto(f"{base}/photos/{photo.pk}/")
    expect(page.locator("[data-in-albums]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    expect(page.get_by_test_id("photo-albums")).to_have_text("In none of your albums yet.")
    page.get_by_test_id("photo-album-add").click()
    expect(page.get_by_test_id("photo-album")).to_have_text("Walks", timeout=TIMEOUT)
    [item] = table_items(aws_settings, live_site.albums_table)
    assert item["photoIds"] == [str(photo.pk)]

    album_open(page, base, "Walks")
    images_loaded(page, "album-photos", 1)
    page.get_by_test_id("album-photos").get_by_test_id("album-remove-photo").click()
    idle(page)
    expect(page.get_by_test_id("album-photos").get_by_test_id("photo-card")).to_have_count(0)
    expect(page.get_by_test_id("album-count")).to_have_text("0 photos")
    [item] = table_items(aws_settings, live_site.albums_table)
    assert item["photoIds"] == [] and item["version"] == 3

    page.get_by_test_id("album-delete").click()
    page.get_by_test_id("album-delete-confirm").click()
    page.wait_for_url(f"{base}/albums/")
    expect(page.locator('[data-role="empty"]')).to_be_visible(timeout=TIMEOUT)
    assert table_items(aws_settings, live_site.albums_table) == []
    assert page.problems == []
    page.context.close()


def test_a_concurrent_edit_from_a_second_tab_gets_the_conflict_message(
    live_site, live_server, browser: Browser, aws_settings, settings, tmp_path
):
    """Two tabs on one album: the first renames it; the second's rename, on the older version, is refused and says so."""
    first = context_page(browser, WIDTHS["phone"])
    base = live_server.url
    sign_in(first, base, "alice@example.com", settings.DEMO_PASSWORD)
    first.goto(f"{base}/albums/")
    first.get_by_test_id("album-create-title").fill("Family")
    first.get_by_test_id("album-create").click()
    expect(first.get_by_test_id("album")).to_have_count(1, timeout=TIMEOUT)
    url = album_open(first, base, "Family")
    second = first.context.new_page()  # another tab of the same browser: the same session
    second.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
    problems: list[str] = []
    second.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    second.goto(url)
    expect(second.locator("[data-album-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)

    first.get_by_test_id("album-title-input").fill("Family, from the first tab")
    first.get_by_test_id("album-rename").click()
    idle(first)
    expect(first.get_by_test_id("album-title")).to_have_text("Family, from the first tab")

    second.get_by_test_id("album-title-input").fill("Family, from the second tab")
    second.get_by_test_id("album-rename").click()
    expect(second.get_by_test_id("album-conflict")).to_be_visible(timeout=TIMEOUT)
    expect(second.get_by_test_id("album-conflict")).to_contain_text(CONFLICT)
    expect(second.get_by_test_id("album-title-input")).to_have_value("Family, from the second tab")  # nothing typed is lost
    expect(second.get_by_test_id("album-rename")).to_be_disabled()
    no_sideways_scroll(second)
    shoot(second, tmp_path, "album-conflict-390")
    [item] = table_items(aws_settings, live_site.albums_table)
    assert (item["title"], item["version"]) == ("Family, from the first tab", 2)

    second.get_by_test_id("album-reload").click()
    expect(second.locator("[data-album-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    expect(second.get_by_test_id("album-title")).to_have_text("Family, from the first tab")
    expect(second.get_by_test_id("album-conflict")).to_be_hidden()
    refusals_only(problems, 1)  # the one refused write, and nothing else
    assert first.problems == []
    first.context.close()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_bobs_inspector_reading_another_identitys_album_is_denied_and_explained(
    live_site, live_server, browser: Browser, settings, tmp_path, width
):
    """try-other-album: DynamoDB's AccessDeniedException, and the sandbox's decision naming the LeadingKeys condition."""
    page = context_page(browser, width)
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/how-it-works/")
    expect(page.locator("main.inspector")).to_have_attribute("data-facts", "ready", timeout=TIMEOUT)
    row = page.locator('[data-try="try-other-album"]')
    row.get_by_test_id("try-other-album").click()
    expect(row).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    result = row.get_by_test_id("try-result")
    expect(result).to_contain_text("AccessDeniedException (400)")
    expect(result).to_contain_text("is not authorized to perform: dynamodb:GetItem")
    why = row.get_by_test_id("try-why")
    expect(why.locator(".decision.denied")).to_be_visible(timeout=TIMEOUT)
    expect(why).to_contain_text("dynamodb:GetItem")
    why.locator("summary").click()
    expect(why).to_contain_text("OwnerReadsAndWritesOwnAlbums")
    expect(why).to_contain_text("dynamodb:LeadingKeys")
    no_sideways_scroll(page)
    shoot(page, tmp_path, f"inspector-album-try-{width}")
    row.screenshot(path=str(Path(os.environ.get("SCREENSHOTS") or tmp_path) / f"inspector-album-try-row-{width}.png"))
    refusals_only(page.problems, 1)
    page.context.close()


def test_bob_opening_alices_album_link_finds_nothing(live_site, live_server, browser: Browser, aws_settings, settings):
    """An album's URL names no owner: bob's browser looks in his own partition and says there is no such album."""
    base = live_server.url
    alice = context_page(browser)
    sign_in(alice, base, "alice@example.com", settings.DEMO_PASSWORD)
    alice.goto(f"{base}/albums/")
    alice.get_by_test_id("album-create-title").fill("Private plans")
    alice.get_by_test_id("album-create").click()
    expect(alice.get_by_test_id("album")).to_have_count(1, timeout=TIMEOUT)
    url = album_open(alice, base, "Private plans")

    bob = context_page(browser)
    sign_in(bob, base, "bob@example.com", settings.DEMO_PASSWORD)
    bob.goto(url)
    expect(bob.locator("[data-album-page]")).to_have_attribute("data-state", "missing", timeout=TIMEOUT)
    expect(bob.get_by_test_id("album-title")).to_have_text("No such album")
    expect(bob.get_by_test_id("album-title-input")).to_be_hidden()
    expect(bob.locator("body")).not_to_contain_text("Private plans")
    assert bob.problems == [] and alice.problems == []
    [item] = table_items(aws_settings, live_site.albums_table)
    assert item["title"] == "Private plans"
    alice.context.close()
    bob.context.close()
