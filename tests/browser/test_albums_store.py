"""static/js/dynamodb.js and albums-store.js on their own, in Chromium against
the live sandbox: the modules are imported into the signed-in album list
(same origin, so the CSP allows it) and driven with the user's real
credentials. The pages themselves are tested in test_albums.py."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import context_page, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 15_000  # ms

# Runs in the page: the albums store, and the raw client, with this page's configuration.
SETUP = """async () => {
  const store = await import("/static/js/albums-store.js");
  const dynamodb = await import("/static/js/dynamodb.js");
  const { credentialsGet } = await import("/static/js/credentials.js");
  const config = JSON.parse(document.getElementById("albums-config").textContent);
  const credentials = await credentialsGet({ url: config.credentialsUrl, csrfToken: config.csrfToken });
  const call = (operation, body) => dynamodb.dynamoCall(credentials, { endpoint: config.dynamodbEndpoint, operation, body });
  window.albumsTest = { store, dynamodb, config, credentials, call, albums: store.albumStore(config) };
  return { identityId: credentials.identityId, table: credentials.albumsTable };
}"""


def _open(page: Page, base_url: str, email: str, password: str) -> dict[str, str]:
    sign_in(page, base_url, email, password)
    page.goto(f"{base_url}/albums/")
    expect(page.locator("[data-albums-page]")).to_have_attribute("data-state", "ready", timeout=TIMEOUT)
    return page.evaluate(SETUP)


@pytest.fixture
def alice(live_site, live_server, browser, settings):
    page = context_page(browser)
    facts = _open(page, live_server.url, "alice@example.com", settings.DEMO_PASSWORD)
    yield page, facts
    page.context.close()


def test_hostile_values_in_ones_own_item_come_through_clean(alice, live_server):
    """The owner may write their own item any way they like: the store keeps well-formed values, the page shows text only."""
    page, facts = alice
    photo = str(uuid.uuid4())
    answer = page.evaluate(
        """async ({ photo }) => {
          const { call, credentials, store, albums } = window.albumsTest;
          await call("PutItem", { TableName: credentials.albumsTable, Item: {
            identityId: { S: credentials.identityId }, albumId: { S: "hand-written" },
            title: { S: '<img src=x onerror="window.pwned = true">' + "x".repeat(500) },
            photoIds: { L: [{ S: "../../api/credentials" }, { S: photo }, { S: photo }, { N: "7" }] },
          } });
          const [album] = await albums.list();
          return { album, max: store.TITLE_MAX };
        }""",
        {"photo": photo},
    )
    album = answer["album"]
    assert album["albumId"] == "hand-written"
    assert len(album["title"]) == answer["max"] and album["title"].startswith("<img")
    assert album["photoIds"] == [photo]
    assert album["version"] == 0
    page.reload()
    item = page.get_by_test_id("album")
    expect(item).to_have_count(1, timeout=TIMEOUT)
    expect(item.locator("img")).to_have_count(0)
    expect(item.locator(".album-name")).to_contain_text('<img src=x onerror="window.pwned = true">')
    assert page.evaluate("window.pwned === undefined")
    assert page.problems == []


def test_a_stale_version_is_an_album_conflict_and_a_refusal_a_dynamo_error(alice):
    """Rename from an old copy: AlbumConflict with the page's message; another identity's key: AccessDeniedException with a request id."""
    page, _ = alice
    answer = page.evaluate(
        """async () => {
          const { albums, store, dynamodb, call, credentials } = window.albumsTest;
          const created = await albums.create("  Holiday   snaps ");
          const renamed = await albums.rename(created, "Holiday");
          let conflict, denied;
          try { await albums.rename(created, "From an old copy"); } catch (error) {
            conflict = { name: error.constructor.name, message: error.message, isConflict: error instanceof store.AlbumConflict };
          }
          try {
            await call("GetItem", { TableName: credentials.albumsTable,
              Key: { identityId: { S: "us-east-1:00000000-0000-4000-8000-000000000000" }, albumId: { S: "x" } } });
          } catch (error) {
            denied = { isDynamo: error instanceof dynamodb.DynamoError, type: error.type, status: error.status,
                       requestId: error.requestId, message: error.awsMessage };
          }
          const stored = await albums.get(created.albumId);
          return { created, renamed, conflict, denied, stored, expected: store.CONFLICT_MESSAGE };
        }"""
    )
    assert answer["created"]["title"] == "Holiday snaps" and answer["created"]["version"] == 1
    assert answer["renamed"]["version"] == 2
    assert answer["conflict"] == {"name": "AlbumConflict", "message": answer["expected"], "isConflict": True}
    assert answer["expected"] == "This album was changed elsewhere. Reload to see the latest."
    assert (answer["stored"]["title"], answer["stored"]["version"]) == ("Holiday", 2)  # the old copy changed nothing
    denied = answer["denied"]
    assert (denied["isDynamo"], denied["type"], denied["status"]) == (True, "AccessDeniedException", 400)
    assert denied["requestId"] and "dynamodb:GetItem" in denied["message"]


@pytest.mark.parametrize(
    "title, message",
    [("   ", "Give the album a name."), ("x" * 101, "An album's name has at most 100 characters.")],
)
def test_a_bad_name_is_refused_before_any_request(alice, title, message):
    """Nothing is sent for an empty or too long name: the person reads why."""
    page, _ = alice
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.headers.get("x-amz-target") else None)
    got = page.evaluate(
        "async (title) => { try { await window.albumsTest.albums.create(title); return null; } catch (e) { return e.message; } }",
        title,
    )
    assert got == message
    assert sent == []


ERROR_TYPES = [
    ({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}, "", "ConditionalCheckFailedException"),
    ({"__type": "com.amazon.coral.service#AccessDeniedException"}, "", "AccessDeniedException"),
    ({}, "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/", "ValidationException"),
    ({}, "", "HTTP503"),
]


def test_error_types_are_read_from_either_spelling(alice):
    """`__type` with its namespace before '#', or x-amzn-ErrorType with a ':' suffix: the bare exception name; else the status."""
    page, _ = alice
    got = page.evaluate(
        """(cases) => cases.map(([body, header]) =>
             window.albumsTest.dynamodb.errorType(body, { status: 503, headers: { get: () => header || null } }))""",
        [[body, header] for body, header, _ in ERROR_TYPES],
    )
    assert got == [expected for _, _, expected in ERROR_TYPES]
