"""The "How it works" page in Chromium, as a guest, as alice and as carol (a
moderator): each live fact checked against what boto3 says for the very
credentials the page holds, each try-button's S3 code, each denial's
explanation, and the layout at 390 and 1280 px."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import context_page, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}  # CSS pixels
TIMEOUT = 15_000  # ms

# What each button gives each visitor: the S3 code the result starts with.
EXPECTED = {
    "guest": {
        "try-own-private": "AccessDenied",  # guests read public/ only
        "try-other-private": "AccessDenied",
        "try-guest-write": "AccessDenied",
        "try-list-root": "AccessDenied",
        "try-list-public": "AccessDenied",  # public/*/* admits one publisher's prefix, not public/ itself
        "try-read-public": "OK",
    },
    "alice": {
        "try-own-private": "OK",
        "try-other-private": "AccessDenied",
        "try-guest-write": "AccessDenied",
        "try-list-root": "AccessDenied",
        "try-list-public": "AccessDenied",
        "try-read-public": "OK",
    },
}
EXPECTED["carol"] = EXPECTED["alice"]

# What each denial's explanation must name: the deciding statement, or the s3:prefix condition.
EXPLAINS = {
    "try-other-private": "OwnerReadsWritesAndDeletesOwnPrefixes",
    "try-list-root": "s3:prefix",
    "try-list-public": "s3:prefix",
}
GUEST_EXPLAINS = {
    "try-own-private": "s3:prefix",
    "try-other-private": "GuestsReadPublishedPhotos",
    "try-guest-write": "GuestsReadPublishedPhotos",
    "try-list-root": "s3:prefix",
    "try-list-public": "s3:prefix",
}


DENIED_LOAD = "Failed to load resource: the server responded with a status of 403 (Forbidden)"


def _no_problems_but_the_denials(page: Page, expected: dict[str, str]) -> None:
    """No script error and no CSP violation; Chromium logs each S3 refusal as
    a failed load, so there must be exactly one per try that S3 refuses."""
    others = [problem for problem in page.problems if problem != DENIED_LOAD]
    assert not others, others
    refused = sum(code == "AccessDenied" for code in expected.values())
    assert page.problems.count(DENIED_LOAD) == refused, page.problems


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, into $SCREENSHOTS when set (to keep and look at), else the test's tmp_path."""
    folder = Path(os.environ.get("SCREENSHOTS") or folder)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def published(live_site, aws_settings):
    """One published photo in the catalog, its public copy stored by the admin key (as publishing would leave it)."""
    from accounts.models import User
    from tests.images import png_bytes
    from uploads.models import Photo

    publisher = User.objects.create(username="publisher-sub", email="publisher@example.com")
    identity = "us-east-1:11111111-2222-4333-8444-555555555555"
    key = f"public/{identity}/0f6b1c9e.png"
    s3 = boto3.client(
        "s3",
        endpoint_url=aws_settings.AWS_ENDPOINT_URL,
        region_name=aws_settings.AWS_REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    version = s3.put_object(Bucket=live_site.bucket, Key=key, Body=png_bytes(), ContentType="image/png")["VersionId"]
    return Photo.objects.create(
        owner=publisher,
        key=f"private/{identity}/0f6b1c9e.png",
        version_id=version,
        visibility="public",
        title="Harbour",
        content_type="image/png",
        size=len(png_bytes()),
        public_key=key,
        public_version_id=version,
    )


def _page_credentials(page: Page) -> dict[str, str]:
    """The credentials the page holds: the same session asks the same API (reused from the session cache)."""
    return page.evaluate(
        """async () => {
            const config = JSON.parse(document.getElementById("inspector-config").textContent);
            const answer = await fetch(config.credentialsUrl, {method: "POST", credentials: "same-origin",
                                                               headers: {"X-CSRFToken": config.csrfToken}});
            return answer.json();
        }"""
    )


def _facts_checked(page: Page, aws_settings, *, role: str) -> dict[str, str]:
    """identity-id, role-arn and expiration as shown, each equal to boto3's answer for the page's credentials."""
    expect(page.locator("main.inspector")).to_have_attribute("data-facts", "ready", timeout=TIMEOUT)
    expect(page.get_by_test_id("role-arn")).to_contain_text("assumed-role/", timeout=TIMEOUT)
    credentials = _page_credentials(page)
    sts = boto3.client(
        "sts",
        endpoint_url=aws_settings.AWS_ENDPOINT_URL,
        region_name=aws_settings.AWS_REGION,
        aws_access_key_id=credentials["accessKeyId"],
        aws_secret_access_key=credentials["secretAccessKey"],
        aws_session_token=credentials["sessionToken"],
    )
    arn = sts.get_caller_identity()["Arn"]
    assert page.get_by_test_id("role-arn").inner_text() == arn
    assert arn.split("/")[1] == f"{aws_settings.PHOTOSHARE_NAME}-{role}"
    assert page.get_by_test_id("identity-id").inner_text() == credentials["identityId"]
    shown = page.get_by_test_id("expiration").get_attribute("data-expiration")
    assert shown == credentials["expiration"]
    left = dt.datetime.fromisoformat(shown.replace("Z", "+00:00")) - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=50) < left <= dt.timedelta(hours=1)
    expect(page.get_by_test_id("countdown")).to_contain_text("min")
    expect(page.get_by_test_id("role-check")).to_have_attribute("data-match", "true")
    if role != "unauthenticated":  # the guest policy has no variable; the others show its value, this identity ID
        expect(page.locator("pre.policy .resolved").first).to_have_text(f" = {credentials['identityId']}")
    return credentials


def _tries_checked(page: Page, expected: dict[str, str], explains: dict[str, str]) -> None:
    for name, code in expected.items():
        row = page.locator(f'[data-try="{name}"]')
        row.get_by_test_id(name).click()
        expect(row).to_have_attribute("data-state", "done", timeout=TIMEOUT)
        result = row.get_by_test_id("try-result").inner_text()
        assert result.startswith(code), (name, result)
        why = row.get_by_test_id("try-why")
        expect(why.locator(".decision")).to_be_visible(timeout=TIMEOUT)
        if name in explains:
            expect(why).to_contain_text(explains[name])
        if code == "AccessDenied":
            expect(why.locator(".decision.denied")).to_be_visible()
            expect(row.get_by_test_id("try-result")).to_contain_text("is not authorized to perform")


def _visit(browser: Browser, base_url: str, *, width: int, email: str | None, password: str) -> Page:
    page = context_page(browser, width)
    if email:
        sign_in(page, base_url, email, password)
    page.goto(f"{base_url}/how-it-works/")
    return page


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_guest_sees_the_guest_role_and_every_answer_explained(live_site, live_server, browser, aws_settings, published, tmp_path, width):
    """A guest: the unauthenticated role, its policy with the guest's identity ID, five denials explained, the public read OK."""
    page = _visit(browser, live_server.url, width=width, email=None, password="")
    _facts_checked(page, aws_settings, role="unauthenticated")
    expect(page.get_by_test_id("role-reason")).to_contain_text("guest")
    expect(page.get_by_test_id("role-audit")).to_contain_text("as a guest", timeout=TIMEOUT)
    _tries_checked(page, EXPECTED["guest"], GUEST_EXPLAINS)
    shoot(page, tmp_path, f"inspector-guest-{width}")
    _no_problems_but_the_denials(page, EXPECTED["guest"])


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_alice_sees_her_role_and_her_own_prefix(live_site, live_server, browser, aws_settings, settings, published, tmp_path, width):
    """alice: the authenticated role (no preferred role), her own prefix listed, another's private photo and the root refused."""
    page = _visit(browser, live_server.url, width=width, email="alice@example.com", password=settings.DEMO_PASSWORD)
    _facts_checked(page, aws_settings, role="authenticated")
    expect(page.get_by_test_id("role-reason")).to_contain_text("no cognito:preferred_role")
    expect(page.get_by_test_id("role-audit")).to_contain_text("from the user pool", timeout=TIMEOUT)
    _tries_checked(page, EXPECTED["alice"], EXPLAINS)
    shoot(page, tmp_path, f"inspector-alice-{width}")
    _no_problems_but_the_denials(page, EXPECTED["alice"])


def test_carol_the_moderator_holds_the_moderator_role(live_site, live_server, browser, aws_settings, settings, published, tmp_path):
    """carol: the moderator role, chosen from her token's cognito:preferred_role; the same answers as a user."""
    page = _visit(browser, live_server.url, width=WIDTHS["desktop"], email="carol@example.com", password=settings.DEMO_PASSWORD)
    _facts_checked(page, aws_settings, role="moderator")
    expect(page.get_by_test_id("role-reason")).to_contain_text("cognito:preferred_role")
    expect(page.locator("pre.policy")).to_have_count(3)  # the user's policy, the moderation one and albums-access
    _tries_checked(page, EXPECTED["carol"], EXPLAINS)
    shoot(page, tmp_path, "inspector-carol-1280")
    _no_problems_but_the_denials(page, EXPECTED["carol"])
