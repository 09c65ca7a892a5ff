"""Two gunicorn processes with production settings and one PostgreSQL: the
web tier keeps nothing of its own, so a browser may be sent to either process
on every request, as a load balancer without sticky sessions would.

Everything goes over HTTP as a browser sends it (the sign-in form with its
CSRF token, the session cookie, X-CSRFToken on API writes, the upload
straight to S3 with the credentials the app handed out)."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from scripts.production_stack import Stack
from tests.images import png_bytes
from tests.sandbox_kit import s3_from_answer
from uploads.rules import key_prefix

TIMEOUT = 10  # seconds per request


class Browser:
    """A cookie jar shared by every process, as a browser's is for one host
    (cookies do not care about ports), sending each request to one process
    with that process as its Origin, as it would be behind one balancer."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def get(self, base: str, path: str) -> requests.Response:
        return self.session.get(base + path, timeout=TIMEOUT, allow_redirects=False)

    def post(self, base: str, path: str, **kwargs) -> requests.Response:
        headers = {"Origin": base, **kwargs.pop("headers", {})}
        return self.session.post(base + path, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    def api(self, base: str, path: str, body: dict | None = None) -> requests.Response:
        """An API write as static/js sends it: JSON, with the CSRF cookie's token in X-CSRFToken."""
        return self.post(base, path, json=body, headers={"X-CSRFToken": self.session.cookies["csrftoken"]})

    def sign_in(self, base: str, email: str, password: str) -> requests.Response:
        """Fill in the sign-in form: GET it for its CSRF token, then POST it."""
        form = self.get(base, "/accounts/sign-in/")
        assert form.status_code == 200, form.text[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        return self.post(base, "/accounts/sign-in/", data={"csrfmiddlewaretoken": token, "email": email, "password": password})


@pytest.fixture
def processes(stack: Stack) -> tuple[str, str]:
    a, b = stack.web_urls
    return a, b


@pytest.fixture
def alice(stack: Stack) -> tuple[str, str]:
    """A demo user production_stack seeded: email and password (DEMO_PASSWORD, if the environment sets one)."""
    return "alice@example.com", stack.env.get("DEMO_PASSWORD", "Photoshare-Demo-1")


def test_a_session_started_in_one_process_uploads_and_registers_through_the_other(processes, alice):
    """Sign in through A; B hands out credentials and registers the photo uploaded straight to S3; A shows it."""
    a, b = processes
    browser = Browser()
    signed_in = browser.sign_in(a, *alice)
    assert signed_in.status_code == 302, signed_in.text[:2000]

    answer = browser.api(b, "/api/credentials")
    assert answer.status_code == 200, answer.text
    credentials = answer.json()
    assert credentials["identityId"].startswith("us-east-1:")

    key = key_prefix(visibility="private", identity_id=credentials["identityId"]) + f"{uuid.uuid4()}.png"
    s3 = s3_from_answer(credentials)
    s3.put_object(Bucket=credentials["bucket"], Key=key, Body=png_bytes(), ContentType="image/png")
    registered = browser.api(b, "/api/photos", {"key": key, "title": "Two processes"})
    assert registered.status_code == 201, registered.text
    photo = registered.json()

    mine = browser.get(a, "/api/photos")
    assert mine.status_code == 200
    assert [p["id"] for p in mine.json()["photos"]] == [photo["id"]]
    seen = browser.get(a, f"/api/photos/{photo['id']}").json()
    assert (seen["key"], seen["versionId"], seen["title"]) == (key, photo["versionId"], "Two processes")
    page = browser.get(a, f"/photos/{photo['id']}/")
    assert page.status_code == 200 and "Two processes" in page.text


def test_signing_out_through_one_process_ends_the_session_in_the_other(processes, alice):
    """The session is a database row: B forgets it once A deletes it."""
    a, b = processes
    browser = Browser()
    assert browser.sign_in(b, *alice).status_code == 302
    assert browser.get(a, "/api/photos").status_code == 200
    form = browser.get(a, "/photos/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    assert browser.post(a, "/accounts/sign-out/", data={"csrfmiddlewaretoken": token}).status_code == 302
    assert browser.get(b, "/api/photos").status_code == 401


def test_sign_in_attempts_are_counted_across_processes(processes):
    """Five wrong passwords alternating A and B use up the account+client budget (5 in 5 minutes) on both."""
    a, b = processes
    email = f"n{uuid.uuid4().hex[:10]}@example.com"
    browser = Browser()
    statuses = [browser.sign_in((a, b)[i % 2], email, "Wrong-Password-1").status_code for i in range(5)]
    assert statuses == [400] * 5  # refused, with the form again
    assert browser.sign_in(a, email, "Wrong-Password-1").status_code == 429
    assert browser.sign_in(b, email, "Wrong-Password-1").status_code == 429


def test_static_files_are_served_by_whitenoise_under_hashed_names(processes):
    """The page links css/site.<hash>.css; it is served compressed and cached for a year, immutable."""
    a, _ = processes
    home = Browser().get(a, "/")
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home.text)
    assert stylesheet, home.text[:1000]
    served = requests.get(a + stylesheet.group(1), headers={"Accept-Encoding": "gzip"}, timeout=TIMEOUT)
    assert served.status_code == 200 and served.headers["Content-Encoding"] == "gzip"
    assert "immutable" in served.headers["Cache-Control"] and "max-age=315360000" in served.headers["Cache-Control"]


def test_production_answers_plain_http_on_loopback_without_redirecting(processes, alice):
    """PHOTOSHARE_LOOPBACK_HTTP: no HTTPS redirect, and the session cookie without Secure (it could not be sent back)."""
    a, _ = processes
    browser = Browser()
    assert browser.get(a, "/").status_code == 200  # not 301 to https://
    response = browser.sign_in(a, *alice)
    assert response.status_code == 302 and not response.headers["Location"].startswith("https:")
    session_cookie = next(c for c in browser.session.cookies if c.name == "sessionid")
    assert not session_cookie.secure and session_cookie.has_nonstandard_attr("HttpOnly")
