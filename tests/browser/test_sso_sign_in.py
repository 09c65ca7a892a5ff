""""Sign in with Winter Corp SSO" in Chromium: the sign-in page's button,
the sandbox provider's page (on localhost, the issuer's host), the person
picked there, and back on the app signed in, with the team role the pool's
Rules mapping gives Winter Corp people, as the inspector explains it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.actors import page_sso_sign_in
from tests.browser.conftest import context_page, identity_menu

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 15_000  # ms


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_dana_signs_in_with_the_sso_button(sso_live_site, live_server, browser, settings, tmp_path, width):
    """dana clicks the SSO button, picks herself on the provider's page and lands signed in with the team role."""
    page = context_page(browser, width=width)
    page.goto(f"{live_server.url}/accounts/sign-in/")
    button = page.get_by_test_id("sso-sign-in")
    expect(button).to_have_text("Sign in with Winter Corp SSO")
    shoot(page, tmp_path, f"sso-sign-in-{width}")
    button.click()
    page.wait_for_url("http://localhost:*/_sandbox/oidc/authorize?*")
    shoot(page, tmp_path, f"sso-provider-{width}")
    page.locator("[data-testid=oidc-person][value='dana@wintercorp.com']").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator(".who")).to_have_text("dana@wintercorp.com")
    menu = identity_menu(page)
    expect(menu).to_contain_text("signed-in (authenticated role)", timeout=TIMEOUT)
    expect(menu).to_contain_text(settings.OIDC_ISSUER)  # who vouched for her, not a user-pool sub
    shoot(page, tmp_path, f"sso-signed-in-{width}")
    user = User.objects.get(email="dana@wintercorp.com")
    assert user.oidc_issuer.startswith("http://localhost:") and user.oidc_subject and user.identity_id
    assert page.problems == []


def test_the_inspector_explains_the_rule(sso_live_site, live_server, browser, tmp_path):
    """erin, signed in by tests.actors.page_sso_sign_in: How it works names the provider, hd and the rule."""
    page = context_page(browser, width=1280)
    page_sso_sign_in(page, live_server.url, "erin@wintercorp.com")
    page.goto(f"{live_server.url}/how-it-works/")
    expect(page.get_by_test_id("role-provider")).to_contain_text("/_sandbox/oidc")
    expect(page.get_by_test_id("role-claim")).to_have_text("hd = wintercorp.com")
    expect(page.get_by_test_id("role-rule")).to_contain_text("Claim hd, MatchType Equals, Value wintercorp.com")
    expect(page.get_by_test_id("role-check")).not_to_be_empty(timeout=TIMEOUT)
    expect(page.get_by_test_id("role-arn")).to_contain_text("team-wintercorp", timeout=TIMEOUT)
    shoot(page, tmp_path, "sso-inspector-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    shoot(page, tmp_path, "sso-inspector-390")
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    page.locator(".facts-card").screenshot(path=str(folder / "sso-inspector-facts-390.png"))
    assert page.problems == []


def test_cancelling_at_the_provider_comes_back_to_a_message(sso_live_site, live_server, browser, tmp_path):
    """"Cancel and go back" on the provider's page: the sign-in page again, with the fixed message, nobody signed in."""
    page = context_page(browser, width=390)
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_test_id("sso-sign-in").click()
    page.get_by_test_id("oidc-cancel").click()
    expect(page.get_by_test_id("sso-error")).to_have_text(
        "Signing in with Winter Corp SSO was cancelled or refused there. Try again, or sign in another way."
    )
    assert page.url.startswith(f"{live_server.url}/accounts/oidc/callback/?error=access_denied")
    assert page.locator(".who").count() == 0
    shoot(page, tmp_path, "sso-cancelled-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot(page, tmp_path, "sso-cancelled-1280")
    assert [p for p in page.problems if "400" not in p] == []  # the page itself answers 400, which Chromium logs
