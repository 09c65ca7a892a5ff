"""A person with no account and no password: "Email me a sign-in link" in
Chromium, the link from the email (Django's test outbox: pytest-django swaps
EMAIL_BACKEND for locmem, where OutboxBackend would keep it), then an upload
straight to S3 under their developer identity's private prefix. And the same
link a second time: refused."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from core.aws import aws_client
from tests.browser.conftest import IMAGE_LOADED, context_page
from tests.images import png_bytes
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def developer_live_site(live_site, settings):
    """live_site's identity pool with the developer provider name (what
    provisioning sets; set here too so this test does not depend on it)."""
    identity = aws_client("cognito-identity")
    pool = identity.describe_identity_pool(IdentityPoolId=live_site.identity_pool_id)
    pool.pop("ResponseMetadata", None)
    if pool.get("DeveloperProviderName") != settings.PHOTOSHARE_DEVELOPER_PROVIDER:
        identity.update_identity_pool(**{**pool, "DeveloperProviderName": settings.PHOTOSHARE_DEVELOPER_PROVIDER})
    return live_site


def test_a_link_user_signs_in_and_uploads_and_the_link_works_once(developer_live_site, live_server, browser, sandbox, tmp_path):
    email = f"link-{uuid.uuid4().hex[:10]}@example.org"
    page = context_page(browser, width=390)
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_test_id("sign-in-link").click()
    page.fill("input[name=email]", email)
    page.screenshot(path=str(tmp_path / "link-request-390.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("a sign-in link is on its way")

    (sent,) = [m for m in mail.outbox if m.to == [email]]
    link = re.search(r"http://\S+/accounts/sign-in/link/\?token=\S+", sent.body).group(0)
    page.goto(link)
    expect(page.get_by_test_id("sign-in-link-use-form")).to_contain_text(email)
    page.screenshot(path=str(tmp_path / "link-use-390.png"), full_page=True)
    page.get_by_test_id("sign-in-link-use").click()
    expect(page.locator(".who")).to_have_text(email)

    page.goto(f"{live_server.url}/photos/upload/")
    page.set_input_files("#photo-file", files=[{"name": "square.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.click("[data-testid=upload-start]")
    page.wait_for_url(f"{live_server.url}/photos/")
    page.wait_for_function(IMAGE_LOADED)
    user = User.objects.get(email=email)
    photo = Photo.objects.get(owner=user)
    assert user.identity_id and photo.key.startswith(f"private/{user.identity_id}/")
    stored = sandbox.client("s3").get_object(Bucket=developer_live_site.bucket, Key=photo.key)
    assert stored["Body"].read() == png_bytes()
    assert page.problems == []

    other = context_page(browser, width=1280)
    other.goto(link)
    expect(other.get_by_test_id("sign-in-link-error")).to_have_text(
        "This sign-in link has expired or has been used already. Ask for a new one."
    )
    other.screenshot(path=str(tmp_path / "link-refused-1280.png"), full_page=True)
    other.goto(f"{live_server.url}/accounts/sign-in/email-link/")
    other.screenshot(path=str(tmp_path / "link-request-1280.png"), full_page=True)
    assert other.locator(".who").count() == 0
