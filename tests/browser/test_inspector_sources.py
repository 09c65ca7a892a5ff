"""How it works in Chromium for a person who signed in with Winter Corp SSO
(tests.actors.page_sso_sign_in, through the sandbox's provider): the
diagram and steps are the SSO flow's, the page lights its steps as the
browser goes through them, the switch shows the other flows without a
script, and the flow card is shot at 390 and 1280 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.actors import page_sso_sign_in
from tests.browser.conftest import context_page

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}  # CSS pixels
TIMEOUT = 15_000  # ms
DENIED_LOAD = "Failed to load resource: the server responded with a status of 400 (Bad Request)"  # DynamoDB's refusal


def shoot(page: Page, folder: Path, name: str, *, selector: str | None = None) -> None:
    """A screenshot (of `selector`, else the full page) into $SCREENSHOTS when set, else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    if selector:
        page.locator(selector).screenshot(path=str(folder / f"{name}.png"))
    else:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _lanes(page: Page) -> list[str]:
    return page.locator("svg.sequence .lane text").all_text_contents()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_an_sso_user_sees_the_provider_in_the_flow(sso_live_site, live_server, browser, tmp_path, width):
    """dana: the SSO diagram (an OIDC provider lane, no user pool), the steps it lists, the STS
    step lit once the browser has asked STS, then the DynamoDB try and its explanation."""
    page = context_page(browser, width=width)
    page_sso_sign_in(page, live_server.url, "dana@wintercorp.com")
    page.goto(f"{live_server.url}/how-it-works/")
    expect(page.get_by_test_id("sequence")).to_have_attribute("data-flow", "sso")
    assert _lanes(page) == ["Browser", "OIDC provider", "Django", "Identity pool", "STS", "S3", "DynamoDB"]
    expect(page.get_by_test_id("flow-sso")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("flow-shown")).to_contain_text("Winter Corp SSO")
    steps = page.get_by_test_id("steps").locator("li strong").all_inner_texts()
    assert "InitiateAuth" not in steps and "GetId" in steps and any("PKCE" in step for step in steps)

    expect(page.get_by_test_id("role-arn")).to_contain_text("team-wintercorp", timeout=TIMEOUT)
    expect(page.locator('svg.sequence [data-phase="sts"]')).to_have_class("step current")
    expect(page.locator('.steps li[data-phase="sts"]')).to_have_class("current")

    row = page.locator('[data-try="try-other-album"]')
    row.get_by_test_id("try-other-album").click()
    expect(row).to_have_attribute("data-state", "done", timeout=TIMEOUT)
    expect(row.get_by_test_id("try-result")).to_contain_text("AccessDenied")
    expect(page.locator('svg.sequence [data-phase="decision"]')).to_have_class("step current")

    shoot(page, tmp_path, f"inspector-sso-{width}")
    shoot(page, tmp_path, f"inspector-sso-flow-{width}", selector="section.flow")
    shoot(page, tmp_path, f"inspector-sso-diagram-{width}", selector=".sequence-scroll")
    if width == WIDTHS["phone"]:  # the diagram scrolls in its own box; the page itself does not
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    others = [problem for problem in page.problems if problem != DENIED_LOAD]
    assert not others, others


def test_the_switch_shows_the_other_flows(sso_live_site, live_server, browser, tmp_path):
    """The switch is plain links: the emailed link's flow, the user pool's, then back to dana's own."""
    page = context_page(browser, width=WIDTHS["desktop"])
    page_sso_sign_in(page, live_server.url, "dana@wintercorp.com")
    page.goto(f"{live_server.url}/how-it-works/")
    page.get_by_test_id("flow-link").click()
    expect(page.get_by_test_id("sequence")).to_have_attribute("data-flow", "link")
    assert page.url.endswith("/how-it-works/?flow=link#flow-heading")  # lands on the diagram, not the page top
    assert _lanes(page) == ["Browser", "Django", "Identity pool", "STS", "S3", "DynamoDB"]
    expect(page.locator("svg.sequence")).to_contain_text("GetOpenIdTokenForDeveloperIdentity")
    expect(page.get_by_test_id("flow-shown")).to_contain_text("Yours came by signing in with Winter Corp SSO")
    shoot(page, tmp_path, "inspector-flow-link-1280", selector="section.flow")
    page.get_by_test_id("flow-user-pool").click()
    expect(page.get_by_test_id("sequence")).to_have_attribute("data-flow", "user-pool")
    expect(page.locator("svg.sequence")).to_contain_text("InitiateAuth")
    page.get_by_test_id("flow-sso").click()
    expect(page.get_by_test_id("sequence")).to_have_attribute("data-flow", "sso")
    page.goto(f"{live_server.url}/how-it-works/?flow=bogus")
    expect(page.get_by_test_id("sequence")).to_have_attribute("data-flow", "sso")
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
    page.goto(f"{live_server.url}/how-it-works/?flow=link")
    shoot(page, tmp_path, "inspector-flow-link-390", selector="section.flow")
    assert page.problems == []
