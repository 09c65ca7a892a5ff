"""Uploads as real photos need them (issue 11), in Chromium against the real
sandbox: several files at once with progress, multipart above the threshold,
cancel, a part retried, a resumed upload, credentials that expire mid-upload,
refusals before any byte is sent, and thumbnails drawn upright.

Test files are made on the fly (tests/images.py) and written to tmp_path, so
Playwright hands Chromium a path, not a 40 MB buffer over its pipe. Every
wait is bounded."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.db.utils import OperationalError
from playwright.sync_api import Page, Route, expect

from accounts.models import AuditEvent, User
from infra.demo_users import demo_users_seed
from infra.provision import deployment_provision
from tests.browser.conftest import sign_in
from tests.images import jpeg_bytes, jpeg_of_size, png_bytes
from tests.sandbox_kit import start_kit
from tests.site_fixtures import browser_endpoint
from uploads.images import image_dimensions
from uploads.models import Photo

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1000 * 1000
MiB = 1024 * 1024
FILE_INPUT = "[data-testid=upload-picker]"
UPLOAD_BUTTON = "[data-testid=upload-start]"
CANCEL = "[data-testid=upload-cancel]"  # the per-file one
RETRY = "[data-testid=upload-retry]"
PROGRESS = "[data-testid=upload-progress]"
UPLOAD_PART = re.compile(r"[?&]partNumber=(\d+)")  # UploadPart: PUT ?partNumber=N&uploadId=...
WAIT = 60  # seconds any one upload may take here
SHORT_TTL = 8  # seconds the short-lived sandbox's credentials last (a loaded machine needs the margin)


# --- helpers ----------------------------------------------------------------------------------


def _files(tmp_path: Path, **contents: bytes) -> list[str]:
    paths = []
    for name, data in contents.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def _choose(page: Page, base_url: str, paths: list[str]) -> None:
    page.goto(f"{base_url}/photos/upload/")
    page.set_input_files(FILE_INPUT, files=paths)


def _start(page: Page) -> None:
    page.locator(UPLOAD_BUTTON).click()


def _until(condition: Callable[[], object], page: Page, *, seconds: float = WAIT, what: str) -> object:
    """Poll `condition` (Playwright keeps dispatching meanwhile) until it is truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def _photos(email: str) -> list[Photo]:
    return list(Photo.objects.filter(owner__email=email).order_by("title"))


def _registered(email: str, count: int = 1) -> bool:
    """Whether `count` photos of `email` are in. The test database is SQLite
    shared with the live server's thread, which locks the table while it
    writes: a locked read just means not yet."""
    try:
        return Photo.objects.filter(owner__email=email).count() >= count
    except OperationalError:
        return False


def _part_number(request) -> int | None:
    match = UPLOAD_PART.search(request.url)
    return int(match.group(1)) if match and request.method == "PUT" else None


def _s3_requests(page: Page, endpoint: str) -> list:
    seen: list = []
    page.on("request", lambda request: seen.append(request) if request.url.startswith(endpoint) else None)
    return seen


def _uploads_in_progress(sandbox, bucket: str) -> list[dict]:
    return sandbox.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])


# Reports every value each <progress data-testid=upload-progress> takes, sampled
# every 10 ms in the page (page.evaluate runs outside the CSP, as DevTools
# does), to the test through an exposed function, since the page may move on
# to My photos when it is done.
_SAMPLE_PROGRESS = """() => {
  const ids = new WeakMap(); let next = 0; const last = {};
  const sample = () => {
    for (const bar of document.querySelectorAll('[data-testid=upload-progress]')) {
      if (!ids.has(bar)) ids.set(bar, next++);
      const id = ids.get(bar);
      if (!last[id] || last[id][0] !== bar.value || last[id][1] !== bar.max) {
        last[id] = [bar.value, bar.max];
        window.progressSeen(id, bar.value, bar.max);
      }
    }
  };
  sample(); setInterval(sample, 10);
}"""


def _progress_recorder(page: Page) -> dict[int, list[tuple[float, float]]]:
    history: dict[int, list[tuple[float, float]]] = {}
    page.expose_function("progressSeen", lambda bar, value, maximum: history.setdefault(bar, []).append((value, maximum)))
    return history


@pytest.fixture
def short_credentials_site(live_server, deployment_cleanup, transactional_db) -> Iterator[tuple]:
    """A sandbox of this test's own whose credentials last SHORT_TTL seconds
    (moto's backends are process-wide, so it serves the usual pools), with a
    deployment provisioned through it for the live server."""
    with start_kit(credentials_ttl=SHORT_TTL) as kit:
        deployment_cleanup.AWS_ENDPOINT_URL = kit.endpoint
        deployment_cleanup.AWS_BROWSER_ENDPOINT_URL = browser_endpoint(kit)
        deployment_cleanup.APP_ORIGINS = [live_server.url]
        deployment = deployment_provision(report=lambda line: None)
        demo_users_seed(report=lambda line: None)
        yield kit, deployment


# --- tests ------------------------------------------------------------------------------------


def test_three_files_upload_at_once_with_rising_progress_and_thumbnails(live_site, live_server, page, sandbox, settings, tmp_path):
    """A 20 MB JPEG (multipart), a 5 MB JPEG and a PNG at once: every bar rises to full, all three are in My photos with thumbnails."""
    paths = _files(tmp_path, **{"harbour.jpg": jpeg_of_size(20 * MB), "dunes.jpg": jpeg_of_size(5 * MB), "square.png": png_bytes(40, 30)})
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    parts = []
    page.on("request", lambda request: parts.append(n) if (n := _part_number(request)) else None)
    endpoint = browser_endpoint(sandbox)
    failed = []  # what DevTools would show as net::ERR_ABORTED and the like
    page.on("requestfailed", lambda r: failed.append((r.method, r.url, r.failure)) if r.url.startswith(endpoint) else None)
    history = _progress_recorder(page)
    _choose(page, live_server.url, paths)
    page.evaluate(_SAMPLE_PROGRESS)
    _start(page)
    _until(lambda: _registered("alice@example.com", 3), page, what="three photos registered")
    page.wait_for_timeout(300)  # the bars' last values

    assert len(set(parts)) == 3, f"20 MB in 8 MiB parts is three parts, saw {sorted(parts)}"
    bars = [values for values in history.values() if values]
    assert len(bars) >= 3, history
    for values in bars:
        filled = [value / maximum for value, maximum in values if maximum]
        assert filled == sorted(filled), f"a bar went backwards: {values}"
        assert filled[-1] == pytest.approx(1) and filled[0] < 1, f"a bar did not rise to full: {values}"
    assert any(0 < share < 1 for values in bars for share in [v / m for v, m in values if m]), "no bar was seen part way"

    photos = _photos("alice@example.com")
    assert [p.title for p in photos] == ["dunes", "harbour", "square"]
    s3 = sandbox.client("s3")
    for photo in photos:
        assert photo.thumb_key, f"{photo.title} has no thumbnail"
        thumb = s3.get_object(Bucket=live_site.bucket, Key=photo.thumb_key)
        assert thumb["ContentType"] == "image/jpeg" and thumb["CacheControl"] == "private, max-age=31536000, immutable"
        assert s3.head_object(Bucket=live_site.bucket, Key=photo.key)["CacheControl"] == "private, max-age=31536000, immutable"
    assert s3.head_object(Bucket=live_site.bucket, Key=photos[1].key)["ContentLength"] == 20 * MB
    page.goto(f"{live_server.url}/photos/")
    expect(page.locator("[data-testid=photo-image]")).to_have_count(3)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=photo-image]')].every((img) => img.complete && img.naturalWidth > 0)",
        timeout=15_000,
    )
    assert failed == [], "a request to S3 was cancelled or failed on the way"


def test_a_40_mb_upload_outlives_its_credentials(short_credentials_site, live_server, page, settings, tmp_path, caplog):
    """Credentials last 8 s and each part's first attempt is held 9 s on its way: the upload completes on refreshed credentials, several issued."""
    kit, _ = short_credentials_site
    endpoint = browser_endpoint(kit)
    [path] = _files(tmp_path, **{"panorama.jpg": jpeg_of_size(40 * MB)})
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    bob = User.objects.get(email="bob@example.com")
    issued_before = AuditEvent.objects.filter(user=bob, outcome=AuditEvent.Outcome.ISSUED).count()
    caplog.set_level(logging.INFO, logger="photoshare.audit")
    caplog.clear()

    held: list[tuple[float, Route]] = []
    delayed: set[int] = set()

    def hold_first_attempt(route: Route) -> None:
        number = _part_number(route.request)
        if number is None or number in delayed:
            route.continue_()
            return
        delayed.add(number)  # signed now, arriving after the credentials expired
        held.append((time.monotonic(), route))

    page.route(f"{endpoint}/**", hold_first_attempt)
    answers: list[tuple[int, int]] = []  # (part number, status)
    page.on("response", lambda r: answers.append((n, r.status)) if (n := _part_number(r.request)) else None)
    _choose(page, live_server.url, [path])
    started = time.monotonic()
    _start(page)
    deadline = started + WAIT
    while not _registered("bob@example.com"):
        assert time.monotonic() < deadline, (
            f"the 40 MB upload did not complete: {page.locator('#upload-form').inner_text()!r} {answers}"
        )
        for entry in [e for e in held if time.monotonic() - e[0] > SHORT_TTL + 1]:
            held.remove(entry)
            entry[1].continue_()
        page.wait_for_timeout(100)
    took = time.monotonic() - started

    [photo] = Photo.objects.filter(owner=bob)
    assert photo.size == 40 * MB and took > SHORT_TTL
    assert delayed == {1, 2, 3, 4, 5}
    # Each held first attempt arrived expired and was refused; its retry, on fresh credentials, went in.
    assert {n for n, status in answers if status == 400} == {1, 2, 3, 4, 5}, answers
    assert sorted(n for n, status in answers if status == 200) == [1, 2, 3, 4, 5], answers
    issued = AuditEvent.objects.filter(user=bob, outcome=AuditEvent.Outcome.ISSUED).count() - issued_before
    assert issued > 1, "the credentials were never refreshed during the upload"
    logged = [r for r in caplog.records if r.getMessage().startswith(f"credentials issued: user={bob.pk} ")]
    assert len(logged) == issued, "the server log shows every refresh"


def test_cancel_mid_multipart_leaves_no_upload_behind(live_site, live_server, page, sandbox, settings, tmp_path):
    """Cancel while the parts of a 40 MB file are in flight: the requests stop and ListMultipartUploads is empty."""
    [path] = _files(tmp_path, **{"long.jpg": jpeg_of_size(40 * MB)})
    sign_in(page, live_server.url, "carol@example.com", settings.DEMO_PASSWORD)
    held: list[Route] = []
    page.route(
        f"{browser_endpoint(sandbox)}/**",
        lambda route: held.append(route) if _part_number(route.request) else route.continue_(),
    )
    _choose(page, live_server.url, [path])
    _start(page)
    _until(lambda: held, page, seconds=20, what="a part on its way")
    assert len(_uploads_in_progress(sandbox, live_site.bucket)) == 1  # CreateMultipartUpload went through
    page.locator(CANCEL).first.click()
    _until(lambda: not _uploads_in_progress(sandbox, live_site.bucket), page, seconds=15, what="AbortMultipartUpload")
    for route in held:
        try:
            route.abort()
        except Exception:  # the page already gave the request up
            pass
    page.wait_for_timeout(500)
    assert not Photo.objects.filter(owner__email="carol@example.com").exists()
    assert _uploads_in_progress(sandbox, live_site.bucket) == []


def test_a_part_that_fails_once_is_retried(live_site, live_server, page, sandbox, settings, tmp_path):
    """The sandbox answers one UploadPart with 500 InternalError: the part is sent again and the photo completes."""
    [path] = _files(tmp_path, **{"storm.jpg": jpeg_of_size(20 * MB)})
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    statuses: list[tuple[int, int]] = []
    page.on("response", lambda r: statuses.append((n, r.status)) if (n := _part_number(r.request)) else None)
    _choose(page, live_server.url, [path])
    answer = requests.post(
        f"{sandbox.endpoint}/_sandbox/faults",
        json={"operation": "UploadPart", "count": 1, "status": 500, "code": "InternalError"},
        timeout=5,
    )
    assert answer.ok, answer.text
    _start(page)
    _until(lambda: _registered("alice@example.com"), page, what="the photo registered")
    failed = [number for number, status in statuses if status == 500]
    assert len(failed) == 1 and (failed[0], 200) in statuses, statuses
    assert _uploads_in_progress(sandbox, live_site.bucket) == []


def test_retry_after_a_network_drop_resumes_from_the_parts_s3_holds(live_site, live_server, page, sandbox, settings, tmp_path):
    """The network drops after two parts of a 40 MB file: the file fails, Retry sends only the parts S3 lacks."""
    [path] = _files(tmp_path, **{"valley.jpg": jpeg_of_size(40 * MB)})
    sign_in(page, live_server.url, "bob@example.com", settings.DEMO_PASSWORD)
    state = {"let_through": 2, "down": False}
    finished: list[int] = []  # part numbers S3 answered 200, in order

    def network(route: Route) -> None:
        number = _part_number(route.request)
        if number is not None and (state["down"] or state["let_through"] <= 0):
            state["down"] = True
            route.abort("internetdisconnected")
            return
        if number is not None:
            state["let_through"] -= 1
        route.continue_()

    page.on("response", lambda r: finished.append(n) if (n := _part_number(r.request)) and r.status == 200 else None)
    page.route(f"{browser_endpoint(sandbox)}/**", network)
    _choose(page, live_server.url, [path])
    _start(page)
    retry = page.locator(RETRY).first
    expect(retry).to_be_visible(timeout=WAIT * 1000)
    before = list(finished)
    assert len(before) == 2 and len(_uploads_in_progress(sandbox, live_site.bucket)) == 1, before

    state["down"] = False
    state["let_through"] = 100
    retry.click()
    _until(lambda: _registered("bob@example.com"), page, what="the resumed photo")
    resent = finished[len(before):]
    assert sorted(before + resent) == [1, 2, 3, 4, 5], (before, resent)
    assert not set(before) & set(resent), f"finished parts were sent again: {before} then {resent}"
    [photo] = Photo.objects.filter(owner__email="bob@example.com")
    assert photo.size == 40 * MB


def test_a_non_image_and_an_oversized_file_are_refused_before_upload(live_site, live_server, page, sandbox, settings, tmp_path):
    """notes.txt and a 51 MiB JPEG are refused on the page, each named with the limit; not one request reaches S3."""
    paths = _files(tmp_path, **{"notes.txt": b"just some text, not a picture", "huge.jpg": jpeg_of_size(51 * MiB)})
    sign_in(page, live_server.url, "carol@example.com", settings.DEMO_PASSWORD)
    to_s3 = _s3_requests(page, browser_endpoint(sandbox))
    _choose(page, live_server.url, paths)
    form = page.locator("#upload-form")
    expect(form).to_contain_text("notes.txt", timeout=10_000)
    expect(form).to_contain_text("huge.jpg")
    expect(form).to_contain_text(re.compile(r"50 Mi?B"))
    button = page.locator(UPLOAD_BUTTON)
    if button.is_enabled():
        button.click()
    page.wait_for_timeout(1000)
    assert to_s3 == []
    assert not Photo.objects.filter(owner__email="carol@example.com").exists()


def test_an_exif_rotated_jpeg_gets_an_upright_thumbnail(live_site, live_server, page, sandbox, settings, tmp_path):
    """A 20x30 JPEG with EXIF orientation 6 is shown 30x20: its thumbnail in S3 is landscape too."""
    [path] = _files(tmp_path, **{"turned.jpg": jpeg_bytes(20, 30, orientation=6)})
    sign_in(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    _choose(page, live_server.url, [path])
    _start(page)
    _until(lambda: _registered("alice@example.com"), page, what="the photo registered")
    [photo] = Photo.objects.filter(owner__email="alice@example.com")
    assert (photo.width, photo.height) == (30, 20)
    thumb = sandbox.client("s3").get_object(Bucket=live_site.bucket, Key=photo.thumb_key)["Body"].read()
    width, height = image_dimensions(thumb, "image/jpeg")
    assert width > height, f"the thumbnail is {width}x{height}: drawn as stored, not as shown"
