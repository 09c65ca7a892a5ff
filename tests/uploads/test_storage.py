"""uploads.storage, the server's own S3 access, against the sandbox's bucket:
objects seeded and checked with the admin key."""

from __future__ import annotations

import hashlib


import pytest

from uploads import storage
from core.aws import Unreachable
from sandbox.server import free_port
from uploads.storage import StoredObject

TWO_MB = 2 * 1024 * 1024


# --- object_stat ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [pytest.param(b"x", id="one byte"), pytest.param(b"", id="empty"), pytest.param(b"z" * 70_000, id="70 kB")],
)
def test_object_stat_gives_the_size_of_an_object_that_is_there(bucket, scratch, body):
    """A present object: its key, its size in bytes (an empty one included), its stored type and its version."""
    key = scratch + "photo.png"
    version = bucket.put(key, body, "image/png")
    etag = bucket.s3.head_object(Bucket=bucket.name, Key=key)["ETag"]
    assert storage.object_stat(key=key) == StoredObject(key=key, size=len(body), content_type="image/png", version_id=version, etag=etag)


@pytest.mark.parametrize(
    "stored, seen",
    [("text/html", "text/html"), ("IMAGE/PNG", "image/png"), ("image/png; charset=utf-8", "image/png")],
)
def test_object_stat_gives_the_stored_type_in_lower_case_without_parameters(bucket, scratch, stored, seen):
    """The Content-Type the uploader stored, normalised so it compares with a sniffed type."""
    key = scratch + "photo.png"
    bucket.put(key, b"data", stored)
    assert storage.object_stat(key=key).content_type == seen


def test_object_stat_sees_the_current_version(bucket, scratch):
    """After an overwrite the stat is of the new version (what registration pins)."""
    key = scratch + "photo.png"
    bucket.put(key, b"first")
    second = bucket.put(key, b"second, longer")
    stat = storage.object_stat(key=key)
    assert (stat.version_id, stat.size) == (second, len(b"second, longer"))


def test_object_stat_of_a_deleted_key_is_none(bucket, scratch):
    """A plain delete leaves a delete marker on top of the versions: the key is gone for the stat."""
    key = scratch + "photo.png"
    bucket.put(key, b"data")
    bucket.delete(key)
    assert storage.object_stat(key=key) is None


@pytest.mark.parametrize(
    "seeded, asked",
    [
        pytest.param(None, "photo.png", id="nothing there"),
        pytest.param("photo.png", "photo.jpg", id="another name"),
        pytest.param("photo.png", "photo", id="a prefix of a key"),
    ],
)
def test_object_stat_is_none_for_a_missing_key(bucket, scratch, seeded, asked):
    """A key with no object (even beside or inside a real one's name): None, not an error."""
    if seeded:
        bucket.put(scratch + seeded, b"data")
    assert storage.object_stat(key=scratch + asked) is None


# --- object_first_bytes ---------------------------------------------------------------------


def test_object_first_bytes_reads_only_the_first_bytes_and_knows_the_whole_size(bucket, scratch):
    """A 2 MB object, 16 bytes asked: one ranged GET (206) brings 16 bytes, and the stat gives the whole 2 MB."""
    key = scratch + "big.png"
    body = bytes(range(256)) * (TWO_MB // 256)
    version = bucket.put(key, body, content_type="image/png")
    answers = []
    client = storage._client()  # the server's S3 client, whose answers we listen to

    def seen(http_response, parsed, model, **kwargs):
        answers.append((model.name, http_response.status_code, parsed.get("ContentLength"), parsed.get("ContentRange")))

    client.meta.events.register("after-call.s3", seen)
    try:
        stat, head = storage.object_first_bytes(key=key, count=16)
    finally:
        client.meta.events.unregister("after-call.s3", seen)
    assert head == body[:16]
    assert (stat.size, stat.content_type, stat.version_id) == (TWO_MB, "image/png", version)
    assert answers == [("GetObject", 206, 16, f"bytes 0-15/{TWO_MB}")]  # no HEAD besides


def test_object_first_bytes_describe_the_version_they_come_from(bucket, scratch):
    """Overwritten: the bytes and the version ID come from one answer, so they always belong together."""
    key = scratch + "photo.png"
    bucket.put(key, b"\x89PNG\r\n\x1a\n the first one")
    latest = bucket.put(key, b"<html><script>overwritten</script>")
    stat, head = storage.object_first_bytes(key=key, count=6)
    assert (head, stat.version_id, stat.size) == (b"<html>", latest, 34)


def test_object_first_bytes_of_an_object_shorter_than_asked_is_all_of_it(bucket, scratch):
    """Asking 16 bytes of a 5-byte object gives the 5 bytes."""
    bucket.put(scratch + "tiny", b"\x89PNG\r")
    stat, head = storage.object_first_bytes(key=scratch + "tiny", count=16)
    assert (head, stat.size) == (b"\x89PNG\r", 5)


def test_object_first_bytes_of_an_empty_object_is_no_bytes(bucket, scratch):
    """An empty object has no byte 0 (S3 answers InvalidRange): its stat, and no bytes."""
    bucket.put(scratch + "empty.png", b"")
    stat, head = storage.object_first_bytes(key=scratch + "empty.png", count=16)
    assert (head, stat.size) == (b"", 0)


def test_object_first_bytes_of_a_missing_key_is_none(shared_site, scratch):
    assert storage.object_first_bytes(key=scratch + "never-there.png", count=16) is None


# --- object_delete --------------------------------------------------------------------------


def test_object_delete_removes_the_object_and_only_it(bucket, scratch):
    """The object is gone from the bucket; its neighbour stays, and so does a longer key it is a prefix of."""
    for name in ("gone.png", "stays.png", "gone.png.bak"):
        bucket.put(scratch + name, b"data")
    storage.object_delete(key=scratch + "gone.png")
    assert not bucket.has(scratch + "gone.png")
    assert bucket.has(scratch + "stays.png") and bucket.has(scratch + "gone.png.bak")


def test_object_delete_removes_every_version_and_delete_marker(bucket, scratch):
    """Three versions and a delete marker: all four go, so nothing of the key is left to restore or serve."""
    key = scratch + "photo.png"
    for body in (b"one", b"two", b"three"):
        bucket.put(key, body)
    bucket.delete(key)
    assert len(bucket.versions(key)) == 4
    assert storage.object_delete(key=key) == 4
    assert bucket.versions(key) == []


def test_object_delete_of_a_missing_key_is_not_an_error(shared_site, scratch):
    """S3 deletes are idempotent: deleting what is already gone succeeds."""
    storage.object_delete(key=scratch + "never-there.png")


# --- when S3 cannot be reached --------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: storage.object_stat(key="private/x/photo.png"), id="object_stat"),
        pytest.param(lambda: storage.object_first_bytes(key="private/x/photo.png", count=16), id="object_first_bytes"),
        pytest.param(lambda: storage.object_delete(key="private/x/photo.png"), id="object_delete"),
    ],
)
def test_an_unreachable_s3_is_unreachable(shared_site, settings, call):
    """Nothing listening at the endpoint: each call raises core.aws's Unreachable, not a botocore error."""
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    settings.AWS_MAX_ATTEMPTS = 1
    with pytest.raises(Unreachable):
        call()


def test_object_stat_of_a_version_is_that_versions_and_none_once_it_is_gone(bucket, scratch):
    """A named version's own size and ETag, whatever is current; None for a version not stored."""
    key = scratch + "photo.png"
    first = bucket.put(key, b"first", "image/png")
    bucket.put(key, b"the second one", "image/png")
    stat = storage.object_stat(key=key, version_id=first)
    assert (stat.size, stat.version_id) == (5, first) and stat.etag.strip('"') == hashlib.md5(b"first").hexdigest()
    bucket.s3.delete_object(Bucket=bucket.name, Key=key, VersionId=first)
    assert storage.object_stat(key=key, version_id=first) is None


def test_object_digest_is_the_sha256_of_that_version(bucket, scratch):
    """Streamed from S3, for the version named."""
    key = scratch + "photo.png"
    first = bucket.put(key, b"first", "image/png")
    bucket.put(key, b"second", "image/png")
    assert storage.object_digest(key=key, version_id=first) == hashlib.sha256(b"first").hexdigest()


def test_every_thread_shares_the_one_s3_client(bucket):
    """Request threads use one client: a client per thread (django-storages' S3Storage) cost every new connection's first call a boto3 session."""
    import threading

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(storage._client())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 3 and all(client is storage._client() for client in seen)
