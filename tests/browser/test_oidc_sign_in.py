"""The sign-in page in Debian's Chromium: a person clicks their name and the
browser lands on the client's redirect URI with a code the client can
redeem, under the page's own CSP (whose `form-action` Chromium also applies
to the redirect that follows the form), at a phone's width and a laptop's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import jwt
import pytest
from playwright.sync_api import Browser

from tests.sandbox.oidc.conftest import Flow, query_of
from tests.sandbox_kit import start_kit

SECRET = "browser-secret-0123"


class _Callback(BaseHTTPRequestHandler):
    """The relying party's redirect URI: records what arrives, answers a small page."""

    arrived: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 -- http.server's name
        self.arrived.append(self.path)
        body = b"<!doctype html><title>back at the app</title><p>back</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_callback() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    arrived: list[str] = []
    server.RequestHandlerClass = type("Callback", (_Callback,), {"arrived": arrived})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/callback", arrived
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _arrived_query(arrived: list[str]) -> dict[str, str]:
    """The query of the redirect that reached the callback (not the favicon the browser asks for after it)."""
    return query_of(next(path for path in arrived if path.startswith("/callback?")))


@pytest.mark.parametrize(
    ("width", "choose", "email", "hd"),
    [
        (390, "erin", "erin@wintercorp.com", "wintercorp.com"),
        (1280, "frank", "frank@example.org", None),
        (390, "typed", "someone@wintercorp.com", "wintercorp.com"),
    ],
)
def test_a_person_signs_in_and_the_app_redeems_the_code(browser: Browser, app_callback, width, choose, email, hd):
    redirect_uri, arrived = app_callback
    with start_kit(oidc_clients=[f"browser-app:{SECRET}:{redirect_uri}"]) as kit:
        issuer = f"{kit.endpoint}/_sandbox/oidc"
        flow = Flow(issuer=issuer, client_id="browser-app", secret=SECRET, redirect_uri=redirect_uri)
        flow.authorize()  # only to make the parameters and the verifier; the browser sends them itself
        # The suite's one Chromium (tests/browser/conftest.py): a second Playwright in this thread would fail.
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.goto(f"{issuer}/authorize?{urlencode(flow.sent)}")
            people = page.get_by_test_id("oidc-person")
            assert people.count() == 3
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the viewport
            if choose == "typed":
                page.get_by_test_id("oidc-email").fill("Someone@WinterCorp.com")
                page.get_by_test_id("oidc-continue").click()
            else:
                people.filter(has_text=email).click()
            page.wait_for_url(f"{redirect_uri}?*")
            assert problems == []  # no CSP violation on the way back
        finally:
            context.close()
        back = _arrived_query(arrived)
        assert back["state"] == flow.sent["state"]
        answer = flow.exchange(back["code"])
        assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert (claims["email"], claims.get("hd"), claims["nonce"]) == (email, hd, flow.sent["nonce"])
