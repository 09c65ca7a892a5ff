"""The workshop lab banner in Chromium: on every page while a lab is applied,
gone once it is reverted, laid out at 390 and 1280 px; and the inspector
naming the lab's culprit statement where it decides a request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import context_page, sign_in
from tests.workshop.conftest import run_command

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}  # CSS pixels
TIMEOUT = 15_000  # ms
PAGES = ("/", "/how-it-works/", "/accounts/sign-in/", "/photos/")


def shoot(page: Page, folder: Path, name: str, *parts) -> None:
    """A full-page screenshot, and one of each of `parts` (locators, readable on a tall phone page),
    into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    for number, part in enumerate(parts, 1):
        part.screenshot(path=str(folder / f"{name}-part{number}.png"))


@pytest.fixture
def lab_file(live_site, aws_settings, tmp_path):
    aws_settings.PHOTOSHARE_LABS_FILE = tmp_path / "labs.json"
    return aws_settings.PHOTOSHARE_LABS_FILE


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_banner_on_every_page_while_a_lab_is_applied(browser: Browser, live_server, lab_file, tmp_path, width):
    """Lab 2 applied: every page, guest or signed in, shows the banner naming it and its revert command; reverted, none."""
    assert run_command("lab", "apply", "2")[0] == 0
    page = context_page(browser, width)
    for path in PAGES[:3]:
        page.goto(f"{live_server.url}{path}")
        banner = page.get_by_test_id("lab-banner")
        expect(banner).to_contain_text("Lab 2 is applied: Guest role that can write")
        expect(banner).to_contain_text("Revert with: python manage.py lab revert 2")
        _no_horizontal_scroll(page)
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/photos/")
    expect(page.get_by_test_id("lab-banner")).to_be_visible()
    page.get_by_test_id("lab-banner").locator("summary").click()
    expect(page.get_by_test_id("lab-banner")).to_contain_text("GuestsUploadToPublic")
    shoot(page, tmp_path, f"lab-banner-{width}")

    assert run_command("lab", "revert", "2")[0] == 0
    page.goto(f"{live_server.url}/photos/")
    expect(page.get_by_test_id("lab-banner")).to_have_count(0)
    assert not page.problems, page.problems
    page.context.close()


OWNER = "OwnerReadsWritesAndDeletesOwnPrefixes"
# lab, who presses the button (None: a guest), the button, what S3 answers with the lab applied, the
# culprit's Sid, and what the explanation of the denial names once the lab is reverted.
CULPRITS = {
    "lab1": (1, "bob@example.com", "try-other-private", "NoSuchKey", OWNER, OWNER),
    "lab2": (2, None, "try-guest-write", "OK", "GuestsUploadToPublic", "No statement allows s3:PutObject"),
    "lab3": (3, "bob@example.com", "try-list-root", "OK", "SignedInUsersListOnePublisherAtATime", "s3:prefix"),
}


@pytest.mark.parametrize("case", CULPRITS.values(), ids=CULPRITS.keys())
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_inspector_names_the_culprit_where_it_decides(browser: Browser, live_server, lab_file, tmp_path, width, case):
    """With the lab applied, IAM lets the button's request through and its explanation marks the
    lab's culprit statement; reverted, the same request is denied and nothing is marked."""
    number, email, button, answer, sid, denial = case
    assert run_command("lab", "apply", str(number))[0] == 0
    page = context_page(browser, width)
    if email:
        sign_in(page, live_server.url, email, settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/how-it-works/")
    expect(page.get_by_test_id("lab-culprit")).to_contain_text(sid)
    row = page.locator(f'[data-try="{button}"]')
    row.get_by_role("button").click()
    expect(row.get_by_test_id("try-result")).to_contain_text(answer, timeout=TIMEOUT)  # IAM let it through
    note = row.get_by_test_id("lab-culprit-note")
    expect(note).to_contain_text(f"Lab {number}:", timeout=TIMEOUT)
    expect(note).to_contain_text(sid)
    row.locator("summary").click()
    expect(row.locator("li.culprit")).to_contain_text("the lab's culprit")
    _no_horizontal_scroll(page)
    shoot(page, tmp_path, f"lab{number}-inspector-culprit-{width}", page.get_by_test_id("lab-culprit"), row)

    assert run_command("lab", "revert", str(number))[0] == 0
    page.goto(f"{live_server.url}/how-it-works/")
    expect(page.get_by_test_id("lab-culprit")).to_have_count(0)
    row = page.locator(f'[data-try="{button}"]')
    row.get_by_role("button").click()
    expect(row.get_by_test_id("try-result")).to_contain_text("AccessDenied", timeout=TIMEOUT)
    expect(row.get_by_test_id("try-why")).to_contain_text(denial, timeout=TIMEOUT)
    expect(row.get_by_test_id("lab-culprit-note")).to_have_count(0)
    shoot(page, tmp_path, f"lab{number}-explained-denial-{width}", row)
    page.context.close()
