"""A real browser (Debian's Chromium, driven by Playwright) against the app
on a live server at 127.0.0.1, with the sandbox behind it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags this machine needs: no sandbox as root, no GPU, and no background
# networking (its connections to Google's hosts are refused here).
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]

# Playwright's sync API runs an event loop in this thread; Django's ORM would
# otherwise refuse to run beside it in the test's own code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (never a downloaded browser).")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose console errors and CSP
    violations are collected in `page.problems`."""
    context = browser.new_context()
    yield problems_collected(context.new_page())
    context.close()


def problems_collected(page: Page) -> Page:
    """`page`, collecting its console errors and uncaught exceptions in `page.problems`."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems  # type: ignore[attr-defined]
    return page


def context_page(browser: Browser, width: int = 1280) -> Page:
    """A page in a fresh context (no cookies: a new visitor), `width` CSS pixels wide, collecting problems."""
    return problems_collected(browser.new_context(viewport={"width": width, "height": 900}).new_page())


@pytest.fixture
def live_site(live_server, aws_settings, deployment_cleanup, transactional_db):
    """A deployment provisioned for the live server: the bucket's CORS rule
    names the live server's origin, as provision does for the app's own."""
    from infra.demo_users import demo_users_seed
    from infra.provision import deployment_provision

    aws_settings.APP_ORIGINS = [live_server.url]
    deployment = deployment_provision(report=lambda line: None)
    demo_users_seed(report=lambda line: None)
    return deployment


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/sign-in/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".who")


def identity_menu(page: Page):
    """The header's "Your identity" menu, opened, once its credentials are shown."""
    from playwright.sync_api import expect

    menu = page.locator("[data-identity-menu]")
    menu.locator("summary").click()
    expect(menu).to_have_attribute("data-state", "ready", timeout=15_000)
    return menu


IMAGE_LOADED = "() => [...document.querySelectorAll('[data-testid=photo-image]')].some((img) => img.naturalWidth > 0)"
