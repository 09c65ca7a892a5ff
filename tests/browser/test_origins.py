"""The app and S3 on different hosts, as `make run` serves them: the page on
127.0.0.1, the sandbox's S3 on localhost, so cookies (which browsers do not
separate by port) never pass between the two."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import IMAGE_LOADED, sign_in
from tests.browser.test_upload import _upload
from tests.images import png_bytes
from tests.site_fixtures import browser_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_photo_comes_from_localhost_without_the_apps_cookies(live_site, live_server, page, sandbox, settings, tmp_path):
    """Alice's uploaded photo is fetched from the sandbox on localhost, as its JPEG thumbnail, and
    neither her session cookie nor any other app cookie is sent with it or stored for that host."""
    assert urlsplit(live_server.url).hostname == "127.0.0.1"
    s3 = browser_endpoint(sandbox)
    sent: list[dict[str, str]] = []
    page.on("request", lambda request: sent.append(request.headers) if request.url.startswith(s3) else None)
    answers = []
    page.on("response", lambda response: answers.append(response) if response.url.startswith(s3) else None)

    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    _upload(page, live_server.url, "square.png", "image/png", png_bytes())
    page.wait_for_url(f"{live_server.url}/photos/")
    expect(page.locator("[data-testid=photo-image]")).to_have_count(1)
    page.wait_for_function(IMAGE_LOADED)
    page.screenshot(path=str(tmp_path / "gallery-from-localhost.png"), full_page=True)

    app_cookies = {c["name"] for c in page.context.cookies(live_server.url)}
    assert "sessionid" in app_cookies  # signed in, so there is a cookie to leak
    image = page.locator("[data-testid=photo-image]").get_attribute("src")
    assert image.startswith(f"{s3}/{live_site.bucket}/")
    [photo] = [a for a in answers if a.request.resource_type == "image"]
    assert photo.status == 200 and photo.headers["content-type"] == "image/jpeg"  # the grid shows the thumbnail
    assert sent, "the upload and the photo must have gone to the localhost endpoint"
    assert all("cookie" not in headers for headers in sent)
    assert page.context.cookies(s3) == []
    assert page.problems == []


@pytest.mark.parametrize("path", ["/", "/photos/?page=2"])
def test_the_app_on_localhost_redirects_to_its_own_origin(live_site, live_server, path):
    """A GET for the app on localhost is sent to the first APP_ORIGINS entry (127.0.0.1), never served there."""
    port = urlsplit(live_server.url).port
    response = requests.get(f"http://localhost:{port}{path}", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"] == f"{live_server.url}{path}"
    assert "Set-Cookie" not in response.headers


def test_a_post_to_the_app_on_localhost_is_refused(live_site, live_server):
    """Other methods on localhost get Django's 400 for a host it does not serve, not a redirect."""
    port = urlsplit(live_server.url).port
    response = requests.post(f"http://localhost:{port}/accounts/sign-in/", data={}, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "Set-Cookie" not in response.headers
