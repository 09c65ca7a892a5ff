"""static/js/multipart.js on its own, in Chromium against the live sandbox:
the module is imported into the signed-in upload page (same origin, so the
CSP allows it) and driven with the user's real credentials from
POST /api/credentials. The upload page's own behaviour is tested in
test_upload.py and test_uploads_multipart.py."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.browser.conftest import sign_in
from tests.images import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part but the last
SIZE = 2 * PART + MiB  # three parts

# Runs in the page: builds a file of `size` bytes (a PNG header, then
# padding), uploads it with uploadObject and returns what happened.
DRIVE = """async ({ size, key, head, options, cancelAtFirstProgress, resumeFrom }) => {
  const { uploadObject } = await import("/static/js/multipart.js");
  const { credentialsSource } = await import("/static/js/credentials.js");
  const form = document.getElementById("upload-form");
  const bytes = new Uint8Array(size);
  bytes.set(head);
  for (let i = head.length; i < size; i++) bytes[i] = i % 251;
  const file = new File([bytes], "big.png", { type: "image/png" });
  const controller = new AbortController();
  const progress = [];
  const credentials = credentialsSource({ url: form.dataset.credentialsUrl, csrfToken: form.dataset.csrfToken });
  const rules = JSON.parse(document.getElementById("upload-rules").textContent);
  try {
    const done = await uploadObject({
      file, key: rules.prefixes.private + key, contentType: "image/png",
      cacheControl: "private, max-age=31536000, immutable", credentials, signal: controller.signal,
      onProgress: ({ sent, total }) => {
        progress.push([sent, total]);
        if (cancelAtFirstProgress && sent > 0) controller.abort();
      },
      uploadState: resumeFrom ? window.lastUploadState : undefined,
      ...options,
    });
    return { done, progress };
  } catch (error) {
    window.lastUploadState = error.uploadState;
    return { error: error.message, cancelled: error.cancelled, retryable: error.retryable, progress };
  }
}"""


def _open(page, live_server, settings, email: str) -> str:
    sign_in(page, live_server.url, email, settings.DEMO_PASSWORD)
    page.goto(f"{live_server.url}/photos/upload/")
    return User.objects.get(email=email).identity_id


def _drive(page, key: str, **kwargs):
    arguments = {"size": SIZE, "key": key, "head": list(png_bytes()[:64]), "options": {}, "cancelAtFirstProgress": False, "resumeFrom": False}
    arguments.update(kwargs)
    return page.evaluate(DRIVE, arguments)


def _s3_requests(page) -> list[str]:
    """The URL of every request the page sends to S3 from now on (OPTIONS preflights left out)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url}") if "/api/" not in r.url and "/static/" not in r.url and r.method != "OPTIONS" else None)
    return seen


def _parts(seen: list[str]) -> list[int]:
    from urllib.parse import parse_qs, urlsplit

    return sorted(int(parse_qs(urlsplit(line.split(" ", 1)[1]).query)["partNumber"][0]) for line in seen if "partNumber=" in line)


def test_a_small_file_goes_in_one_put_with_its_headers(live_site, live_server, page, sandbox, settings):
    """Below the threshold: one PUT, its ETag returned, Content-Type and Cache-Control stored."""
    identity = _open(page, live_server, settings, "alice@example.com")
    seen = _s3_requests(page)
    result = _drive(page, "small.png", size=MiB)
    assert "done" in result, result
    key = f"private/{identity}/small.png"
    stored = sandbox.client("s3").head_object(Bucket=live_site.bucket, Key=key)
    assert (stored["ContentLength"], stored["ContentType"]) == (MiB, "image/png")
    assert stored["CacheControl"] == "private, max-age=31536000, immutable"
    assert result["done"]["etag"] == stored["ETag"]
    assert [line.split(" ")[0] for line in seen] == ["PUT"] and "partNumber" not in seen[0]
    assert result["progress"][-1] == [MiB, MiB]
    assert page.problems == []


def test_a_large_file_goes_in_three_parts_with_rising_progress(live_site, live_server, page, sandbox, settings):
    """Above the threshold: CreateMultipartUpload, three UploadParts, CompleteMultipartUpload; progress rises to the total."""
    identity = _open(page, live_server, settings, "bob@example.com")
    seen = _s3_requests(page)
    result = _drive(page, "large.png", options={"partBytes": PART, "threshold": PART})
    assert "done" in result, result
    key = f"private/{identity}/large.png"
    s3 = sandbox.client("s3")
    stored = s3.head_object(Bucket=live_site.bucket, Key=key)
    assert stored["ContentLength"] == SIZE and stored["ContentType"] == "image/png"
    assert stored["ETag"].endswith('-3"') and result["done"]["etag"] == stored["ETag"]
    assert _parts(seen) == [1, 2, 3]
    sent = [s for s, _ in result["progress"]]
    assert len(set(sent)) > 3 and sent[-1] == SIZE and max(sent) == SIZE
    assert s3.list_multipart_uploads(Bucket=live_site.bucket).get("Uploads", []) == []
    assert page.problems == []


def test_cancel_mid_multipart_leaves_no_upload_behind(live_site, live_server, page, sandbox, settings):
    """Cancelling at the first bytes of a part aborts the requests and calls AbortMultipartUpload."""
    identity = _open(page, live_server, settings, "carol@example.com")
    seen = _s3_requests(page)
    result = _drive(page, "cancelled.png", options={"partBytes": PART, "threshold": PART}, cancelAtFirstProgress=True)
    assert result.get("cancelled") is True, result
    assert any(line.startswith("DELETE ") and "uploadId=" in line for line in seen)
    s3 = sandbox.client("s3")
    assert s3.list_multipart_uploads(Bucket=live_site.bucket).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=live_site.bucket, Prefix=f"private/{identity}/").get("KeyCount", 0) == 0


def test_a_failed_upload_resumes_without_resending_finished_parts(live_site, live_server, page, sandbox, settings):
    """Part 3's connection drops (no retries): parts 1 and 2 finish; the retry lists parts and sends only part 3."""
    identity = _open(page, live_server, settings, "alice@example.com")
    dropped = lambda route: route.abort("connectionreset")  # noqa: E731
    page.route("**/*partNumber=3*", dropped)
    seen = _s3_requests(page)
    first = _drive(page, "resumed.png", options={"partBytes": PART, "threshold": PART, "retries": 0})
    assert first.get("retryable") is True and not first.get("cancelled"), first
    assert _parts(seen) == [1, 2, 3]
    page.unroute("**/*partNumber=3*", dropped)
    seen.clear()
    second = _drive(page, "resumed.png", options={"partBytes": PART, "threshold": PART}, resumeFrom=True)
    assert "done" in second, second
    assert _parts(seen) == [3]
    assert any(line.startswith("GET ") and "uploadId=" in line for line in seen)  # ListParts
    assert second["progress"][0][0] == 2 * PART  # the held parts count as sent from the start
    stored = sandbox.client("s3").head_object(Bucket=live_site.bucket, Key=f"private/{identity}/resumed.png")
    assert stored["ContentLength"] == SIZE


def _refuse_once(page, live_server, pattern: str, status: int, code: str, asked: list[str]) -> list[int]:
    """Answers the first request matching `pattern` as S3 would refuse it, then lets the rest through;
    returns, once refused, how many credential requests the page had made by then."""
    refused: list[int] = []

    def handle(route):
        if refused:
            route.continue_()
            return
        refused.append(len(asked))
        route.fulfill(
            status=status,
            content_type="application/xml",
            headers={"Access-Control-Allow-Origin": live_server.url, "Access-Control-Expose-Headers": "ETag"},
            body=f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>refused by the test</Message></Error>",
        )

    page.route(pattern, handle)
    return refused


@pytest.mark.parametrize(
    ("status", "code", "asks_again"),
    [
        (400, "ExpiredToken", True),  # fresh credentials, then the same part once more
        (403, "InvalidToken", True),
        (500, "InternalError", False),  # S3's "try again": the part is retried after a backoff
        (503, "SlowDown", False),
    ],
)
def test_a_refused_part_is_sent_again_and_the_upload_completes(live_site, live_server, page, sandbox, settings, status, code, asks_again):
    """Part 2 refused once: a token error fetches credentials again first; either way part 2 goes twice and the photo completes."""
    identity = _open(page, live_server, settings, "bob@example.com")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/credentials") else None)
    refused = _refuse_once(page, live_server, "**/*partNumber=2*", status, code, asked)
    seen = _s3_requests(page)
    result = _drive(page, f"refused-{code}.png", options={"partBytes": PART, "threshold": PART})
    assert "done" in result, result
    assert len(refused) == 1 and _parts(seen) == [1, 2, 2, 3]
    assert len(asked) - refused[0] == (1 if asks_again else 0)  # credentials.js asked again only for a token error
    stored = sandbox.client("s3").head_object(Bucket=live_site.bucket, Key=f"private/{identity}/refused-{code}.png")
    assert stored["ContentLength"] == SIZE


def test_credentials_about_to_expire_are_renewed_before_each_request(live_site, live_server, page, sandbox, settings):
    """Credentials that expire within credentials.js's five-minute margin are fetched again before every S3 request."""
    import datetime as dt

    def nearly_expired(route):
        answer = route.fetch()
        body = answer.json()
        soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5) - dt.timedelta(seconds=1)
        body["expiration"] = soon.isoformat().replace("+00:00", "Z")
        route.fulfill(response=answer, json=body)

    page.route("**/api/credentials", nearly_expired)
    identity = _open(page, live_server, settings, "carol@example.com")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/credentials") else None)
    seen = _s3_requests(page)
    result = _drive(page, "renewed.png", options={"partBytes": PART, "threshold": PART})
    assert "done" in result, result
    assert len(seen) == 5  # create, three parts, complete
    # Asked before each: the create, the three parts (started together, so they share one answer), the complete.
    assert len(asked) == 3
    stored = sandbox.client("s3").head_object(Bucket=live_site.bucket, Key=f"private/{identity}/renewed.png")
    assert stored["ContentLength"] == SIZE


def test_resuming_an_upload_that_s3_no_longer_has_starts_it_again(live_site, live_server, page, sandbox, settings):
    """The failed upload was aborted meanwhile (as the lifecycle rule would): ListParts says NoSuchUpload, so all parts go again."""
    identity = _open(page, live_server, settings, "bob@example.com")
    dropped = lambda route: route.abort("connectionreset")  # noqa: E731
    page.route("**/*partNumber=3*", dropped)
    first = _drive(page, "restarted.png", options={"partBytes": PART, "threshold": PART, "retries": 0})
    assert first.get("retryable") is True, first
    page.unroute("**/*partNumber=3*", dropped)
    s3 = sandbox.client("s3")
    key = f"private/{identity}/restarted.png"
    for upload in s3.list_multipart_uploads(Bucket=live_site.bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=live_site.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    seen = _s3_requests(page)
    second = _drive(page, "restarted.png", options={"partBytes": PART, "threshold": PART}, resumeFrom=True)
    assert "done" in second, second
    assert _parts(seen) == [1, 2, 3]
    assert s3.head_object(Bucket=live_site.bucket, Key=key)["ContentLength"] == SIZE
