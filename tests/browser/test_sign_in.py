"""Sign-in and the browser's own credentials, in Chromium, under the real CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.conftest import identity_menu

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY_ID = re.compile(r"^us-east-1:[0-9a-f-]{36}$")


def _credentials_panel(page: Page) -> dict[str, str]:
    panel = identity_menu(page)
    return {field: panel.locator(f'[data-field="{field}"]').inner_text() for field in ("identity", "role", "bucket")}


def test_a_guest_gets_guest_credentials_in_the_browser(site, live_server, page):
    """A guest's page fetches credentials with its CSRF token and shows the guest identity; no CSP violation."""
    page.goto(live_server.url)
    panel = _credentials_panel(page)
    assert IDENTITY_ID.match(panel["identity"])
    assert panel["role"].startswith("guest")
    assert panel["bucket"] == site.bucket
    assert page.problems == []


def test_signing_in_in_the_browser_gives_the_users_own_identity(site, live_server, page, settings, tmp_path):
    """Alice signs in through the form; the browser then holds credentials for her stored identity ID."""
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_have_text("alice@example.com")
    panel = _credentials_panel(page)
    alice = User.objects.get(email="alice@example.com")
    assert panel["identity"] == alice.identity_id
    assert panel["role"].startswith("signed-in")
    page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
    assert page.problems == []


def test_a_wrong_password_shows_the_fixed_message(site, live_server, page):
    """A wrong password in the browser shows the fixed human message and nothing else."""
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")
    expect(page.locator(".errors")).to_have_text("Wrong email or password.")
    assert page.locator(".who").count() == 0


def test_an_inline_script_would_be_blocked(site, live_server, page):
    """The CSP forbids inline script: one injected into the page does not run."""
    page.goto(live_server.url)
    page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'document.title = "ran"';
                   document.body.appendChild(s); }"""
    )
    assert page.title() != "ran"
    assert any("Content Security Policy" in problem for problem in page.problems)
