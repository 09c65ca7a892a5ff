"""Nothing lost across a restart, through the app: a photo uploaded in the
browser is still there, for the same identity, after the sandbox is stopped
with Ctrl-C (SIGINT) and started again on its data directory, as `make run`
does. The Django database persists meanwhile, as var/db.sqlite3 does."""

from __future__ import annotations

import signal

import pytest
from playwright.sync_api import expect

from accounts.models import User
from infra.demo_users import demo_users_seed
from infra.provision import deployment_provision
from tests.browser.conftest import IMAGE_LOADED, identity_menu, sign_in
from tests.images import png_bytes
from tests.browser.test_upload import _upload
from tests.sandbox.test_persistence import Sandbox
from tests.site_fixtures import browser_endpoint
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_process(tmp_path):
    process = Sandbox(tmp_path / "sandbox")
    process.wait_ready()
    yield process
    process.kill()


def test_a_photo_and_its_identity_survive_a_sandbox_restart(sandbox_process, live_server, aws_settings, browser, settings):
    """Upload, Ctrl-C the sandbox, start it again: alice signs in, keeps her identity ID and sees her photo."""
    aws_settings.AWS_ENDPOINT_URL = sandbox_process.kit.endpoint
    aws_settings.AWS_BROWSER_ENDPOINT_URL = browser_endpoint(sandbox_process.kit)
    aws_settings.APP_ORIGINS = [live_server.url]
    deployment = deployment_provision(report=lambda line: None)
    demo_users_seed(report=lambda line: None)

    before = browser.new_context()
    page = before.new_page()
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    _upload(page, live_server.url, "square.png", "image/png", png_bytes())
    page.wait_for_url(f"{live_server.url}/photos/")
    before.close()
    identity_before = User.objects.get(email="alice@example.com").identity_id
    [photo] = Photo.objects.all()

    assert sandbox_process.stop(signal.SIGINT) == 0
    restarted = Sandbox(sandbox_process.data_dir, port=sandbox_process.port)
    try:
        restarted.wait_ready()
        # What make run does on every start: provision (repairing anything missing) changes nothing here.
        assert deployment_provision(report=lambda line: None) == deployment
        after = browser.new_context()
        page = after.new_page()
        sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
        panel = identity_menu(page)
        assert panel.locator('[data-field="identity"]').inner_text() == identity_before
        page.goto(f"{live_server.url}/photos/")
        expect(page.locator(f'[data-testid="photo-card"][data-photo-id="{photo.pk}"] [data-testid="photo-image"]')).to_have_count(1)
        page.wait_for_function(IMAGE_LOADED)
        after.close()
    finally:
        restarted.kill()
    assert User.objects.get(email="alice@example.com").identity_id == identity_before
