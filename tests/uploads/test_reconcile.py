"""`manage.py reconcile` against the sandbox: each kind of drift between the
catalog and the bucket reported, then repaired with --fix, one user's scope
at a time (the shared bucket holds other tests' objects) or over a bucket of
its own, and the exit status."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from tests.images import jpeg_bytes
from tests.uploads.conftest import PNG, Bucket, Member
from uploads import reconcile
from uploads.management.commands.reconcile import CANNOT_READ
from uploads.models import Photo
from uploads.rules import public_key_for, thumb_key_for
from uploads.services import photo_register

THUMB = jpeg_bytes()


def _run(*args: str) -> tuple[int, list[str]]:
    """The command's exit status and output lines."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("reconcile", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, (out.getvalue() + err.getvalue()).splitlines()


def _reconcile(member: Member, *flags: str) -> tuple[int, list[str]]:
    return _run(*flags, "--user", member.user.email, "--grace", "0")


def _photo(member: Member, bucket: Bucket, *, thumbnail: bool = False) -> Photo:
    """A registered photo of `member`, with a thumbnail if asked."""
    key = member.key()
    member.upload(key, PNG)
    thumb = thumb_key_for(key) if thumbnail else None
    if thumb:
        member.upload(thumb, THUMB, "image/jpeg")
    return photo_register(user=member.user, key=key, thumb_key=thumb)


def _copy(bucket: Bucket, source: str, version_id: str, target: str) -> str:
    """An admin CopyObject of one version, as publishing does; the copy's version."""
    answer = bucket.s3.copy_object(
        Bucket=bucket.name, Key=target, CopySource={"Bucket": bucket.name, "Key": source, "VersionId": version_id}
    )
    return answer["VersionId"]


# --- each kind of drift: how it is made, and what --fix leaves ------------------------------------


@dataclass
class Drift:
    key: str  # the key the finding names
    check: Callable[[], None]  # asserts the repair, after --fix


def _unregistered(owner: Member, bucket: Bucket) -> Drift:
    key = owner.key()
    owner.upload(key, PNG)
    return Drift(key, lambda: Photo.objects.get(key=key, owner=owner.user))


def _unregistered_with_thumbnail(owner: Member, bucket: Bucket) -> Drift:
    key = owner.key()
    owner.upload(key, PNG)
    owner.upload(thumb_key_for(key), THUMB, "image/jpeg")
    return Drift(key, lambda: Photo.objects.get(key=key, thumb_key=thumb_key_for(key)))


def _unregistered_with_a_bad_thumbnail(owner: Member, bucket: Bucket) -> Drift:
    key = owner.key()
    owner.upload(key, PNG)
    thumb = thumb_key_for(key)
    owner.upload(thumb, PNG, "image/png")  # thumbnails are JPEGs

    def check() -> None:
        assert Photo.objects.get(key=key).thumb_key == ""
        _none_left(bucket, thumb)

    return Drift(key, check)


def _unregistered_not_an_image(owner: Member, bucket: Bucket) -> Drift:
    key = owner.key()
    owner.upload(key, b"<html>not a photo</html>", "image/png")

    def check() -> None:
        assert not Photo.objects.filter(key=key).exists() and bucket.versions(key) == []

    return Drift(key, check)


def _odd_key(owner: Member, bucket: Bucket) -> Drift:
    key = owner.key("folder/inside.png")
    bucket.put(key, PNG)
    return Drift(key, lambda: _none_left(bucket, key))


def _none_left(bucket: Bucket, key: str) -> None:
    assert bucket.versions(key) == []


def _original_deleted(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket, thumbnail=True)
    for version in bucket.versions(photo.key):
        bucket.s3.delete_object(Bucket=bucket.name, Key=photo.key, VersionId=version)

    def check() -> None:
        assert not Photo.objects.filter(pk=photo.pk).exists()
        assert bucket.versions(photo.thumb_key) == []  # nothing of it is left behind

    return Drift(photo.key, check)


def _pinned_version_expired(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket)
    owner.upload(photo.key, PNG)  # an overwrite: the pinned version is noncurrent now...
    bucket.s3.delete_object(Bucket=bucket.name, Key=photo.key, VersionId=photo.version_id)  # ...and expired
    return Drift(photo.key, lambda: _row_gone(photo))


def _row_gone(photo: Photo) -> None:
    assert not Photo.objects.filter(pk=photo.pk).exists()


def _thumbnail_deleted(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket, thumbnail=True)
    for version in bucket.versions(photo.thumb_key):
        bucket.s3.delete_object(Bucket=bucket.name, Key=photo.thumb_key, VersionId=version)
    return Drift(photo.thumb_key, lambda: _field_is(photo, "thumb_key", ""))


def _field_is(photo: Photo, name: str, value: str) -> None:
    assert getattr(Photo.objects.get(pk=photo.pk), name) == value


def _public_copy_deleted(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket)
    copy = public_key_for(photo.key)
    version = _copy(bucket, photo.key, photo.version_id, copy)
    Photo.objects.filter(pk=photo.pk).update(visibility="public", public_key=copy, public_version_id=version)
    bucket.s3.delete_object(Bucket=bucket.name, Key=copy, VersionId=version)

    def check() -> None:
        row = Photo.objects.get(pk=photo.pk)
        assert (row.visibility, row.public_key) == ("private", "")

    return Drift(copy, check)


def _copy_of_a_private_photo(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket)
    copy = public_key_for(photo.key)
    _copy(bucket, photo.key, photo.version_id, copy)

    def check() -> None:
        _none_left(bucket, copy)
        assert Photo.objects.get(pk=photo.pk).visibility == "private"

    return Drift(copy, check)


def _copy_left_by_a_take_down(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket)
    copy = public_key_for(photo.key)
    _copy(bucket, photo.key, photo.version_id, copy)
    Photo.objects.filter(pk=photo.pk).update(taken_down_at=timezone.now(), taken_down_reason="spam")  # its copy not yet deleted

    def check() -> None:
        _none_left(bucket, copy)
        assert Photo.objects.get(pk=photo.pk).taken_down_reason == "spam"

    return Drift(copy, check)


def _copy_of_a_private_thumbnail(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket, thumbnail=True)
    copy = public_key_for(photo.thumb_key)
    _copy(bucket, photo.thumb_key, photo.thumb_version_id, copy)
    return Drift(copy, lambda: _none_left(bucket, copy))


def _copy_named_by_an_unpublished_row(owner: Member, bucket: Bucket) -> Drift:
    photo = _photo(owner, bucket)
    copy = public_key_for(photo.key)
    version = _copy(bucket, photo.key, photo.version_id, copy)
    Photo.objects.filter(pk=photo.pk).update(public_key=copy, public_version_id=version)  # an unpublish stopped half way

    def check() -> None:
        _none_left(bucket, copy)
        _field_is(photo, "public_key", "")

    return Drift(copy, check)


def _thumbnail_of_nothing(owner: Member, bucket: Bucket) -> Drift:
    key = thumb_key_for(owner.key())
    owner.upload(key, THUMB, "image/jpeg")
    return Drift(key, lambda: _none_left(bucket, key))


DRIFTS = [
    pytest.param(_unregistered, "unregistered", "unregistered", id="object-without-row"),
    pytest.param(_unregistered_with_thumbnail, "unregistered", "unregistered", id="object-without-row-with-thumbnail"),
    pytest.param(_unregistered_with_a_bad_thumbnail, "unregistered", "unregistered", id="object-without-row-bad-thumbnail"),
    pytest.param(_unregistered_not_an_image, "unregistered", "unusable", id="object-without-row-not-an-image"),
    pytest.param(_odd_key, "unusable", "unusable", id="key-the-app-never-writes"),
    pytest.param(_original_deleted, "gone", "gone", id="row-whose-object-is-deleted"),
    pytest.param(_pinned_version_expired, "gone", "gone", id="row-whose-pinned-version-expired"),
    pytest.param(_thumbnail_deleted, "part-gone", "part-gone", id="row-whose-thumbnail-is-gone"),
    pytest.param(_public_copy_deleted, "part-gone", "part-gone", id="public-row-whose-copy-is-gone"),
    pytest.param(_copy_of_a_private_photo, "stray-public-copy", "stray-public-copy", id="public-copy-of-private-photo"),
    pytest.param(_copy_left_by_a_take_down, "stray-public-copy", "stray-public-copy", id="public-copy-of-taken-down-photo"),
    pytest.param(_copy_of_a_private_thumbnail, "stray-public-copy", "stray-public-copy", id="public-copy-of-private-thumbnail"),
    pytest.param(_copy_named_by_an_unpublished_row, "stray-public-copy", "stray-public-copy", id="copy-named-by-private-row"),
    pytest.param(_thumbnail_of_nothing, "orphan-thumbnail", "orphan-thumbnail", id="thumbnail-without-photo"),
]


@pytest.mark.parametrize("make, reported, fixed", DRIFTS)
def test_drift_is_reported_and_nothing_changes(owner, bucket, make, reported, fixed):
    """Report mode names the key and its kind, exits 1, and leaves the catalog and the bucket as they were."""
    drift = make(owner, bucket)
    rows = sorted(Photo.objects.filter(owner=owner.user).values_list("pk", "thumb_key", "public_key", "visibility"))
    versions = bucket.versions(drift.key)
    code, lines = _reconcile(owner)
    assert code == 1, lines
    assert f"found {reported} {drift.key}" in "\n".join(lines)
    assert "1 inconsistencies left" in lines[-1]
    assert sorted(Photo.objects.filter(owner=owner.user).values_list("pk", "thumb_key", "public_key", "visibility")) == rows
    assert bucket.versions(drift.key) == versions


@pytest.mark.parametrize("make, reported, fixed", DRIFTS)
def test_drift_is_fixed(owner, bucket, make, reported, fixed):
    """--fix repairs the drift, exits 0, and a second run finds the catalog and the bucket agreeing."""
    drift = make(owner, bucket)
    code, lines = _reconcile(owner, "--fix")
    assert code == 0, lines
    assert f"fixed {fixed} {drift.key}" in "\n".join(lines)
    drift.check()
    code, again = _reconcile(owner)
    assert code == 0 and len(again) == 1 and "agree" in again[0], again


def test_a_consistent_user_exits_0(owner, bucket):
    """A photo with its thumbnail, registered, is no finding: one summary line, status 0."""
    _photo(owner, bucket, thumbnail=True)
    code, lines = _reconcile(owner)
    assert code == 0
    assert lines == ["reconcile: 1 photos, 2 objects: the catalog and the bucket agree."]


def test_user_limits_both_the_report_and_the_fix(owner, stranger, bucket):
    """--user reports and repairs that user's prefixes only: another user's loose upload is not touched."""
    mine, theirs = owner.key(), stranger.key()
    owner.upload(mine, PNG)
    stranger.upload(theirs, PNG)
    code, lines = _reconcile(owner, "--fix")
    assert code == 0
    assert theirs not in "\n".join(lines)
    assert Photo.objects.filter(key=mine).exists() and not Photo.objects.filter(key=theirs).exists()
    assert bucket.has(theirs)


def test_young_objects_are_left_alone(owner, bucket):
    """An upload within the grace period may still be registered by its browser: not a finding, counted in the summary."""
    key = owner.key()
    owner.upload(key, PNG)
    code, lines = _run("--fix", "--user", owner.user.email)
    assert code == 0
    assert lines == ["reconcile: 0 photos, 1 objects: the catalog and the bucket agree; 1 objects younger than 10 minutes left alone."]
    assert not Photo.objects.filter(key=key).exists() and bucket.has(key)


def test_an_old_incomplete_upload_is_a_note(owner, bucket):
    """A multipart upload open too long is reported as a note, not an inconsistency: the lifecycle rule aborts it."""
    key = owner.key()
    upload_id = bucket.s3.create_multipart_upload(Bucket=bucket.name, Key=key, ContentType="image/png")["UploadId"]
    try:
        result = reconcile.catalog_reconcile(fix=True, user=owner.user, grace=dt.timedelta(0), stale_after=dt.timedelta(0))
        [finding] = [f for f in result.findings if f.kind == "stale-upload"]
        assert finding.key == key and upload_id in finding.line() and finding.line().startswith("note ")
        assert result.unfixed == []
    finally:
        bucket.s3.abort_multipart_upload(Bucket=bucket.name, Key=key, UploadId=upload_id)


def test_an_unreadable_bucket_exits_2(owner, settings):
    """S3 out of reach: status 2 and one fixed message, nothing checked."""
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.AWS_MAX_ATTEMPTS = 1  # also a new client: clients are cached by these settings, not the endpoint
    code, lines = _reconcile(owner, "--fix")
    assert code == 2
    assert lines == [CANNOT_READ]


def test_an_unknown_user_exits_2(shared_site):
    """--user with an email nobody has checks nothing and says so."""
    code, lines = _run("--user", "nobody@example.com")
    assert code == 2
    assert lines == ["reconcile: no user has the email nobody@example.com; nothing was checked."]


def test_the_whole_bucket_is_fixed(provisioned, db, sandbox):
    """Without --user, a bucket of its own: an upload of a known identity is registered, one of an identity nobody
    has and a key the app never writes are deleted, then a second run agrees."""
    bucket = Bucket(provisioned.bucket, sandbox.client("s3"))
    identity = f"us-east-1:{uuid.uuid4()}"
    user = User.objects.create(username=str(uuid.uuid4()), email="dana@example.com", identity_id=identity)
    known = f"public/{identity}/{uuid.uuid4()}.png"
    unknown = f"private/us-east-1:{uuid.uuid4()}/{uuid.uuid4()}.png"
    odd = "public/loose.png"
    for key in (known, unknown, odd):
        bucket.put(key, PNG)
    code, lines = _run("--fix", "--grace", "0")
    assert code == 0, lines
    assert sorted(line.split(" ", 3)[:3] for line in lines[:-1]) == sorted(
        [["fixed", "unregistered", known + ":"], ["fixed", "unusable", unknown + ":"], ["fixed", "unusable", odd + ":"]]
    )
    photo = Photo.objects.get(key=known)
    assert (photo.owner, photo.visibility, photo.public_key) == (user, "public", known)
    assert bucket.versions(unknown) == [] and bucket.versions(odd) == []
    assert _run("--grace", "0") == (0, ["reconcile: 1 photos, 1 objects: the catalog and the bucket agree."])


# --- team photos ----------------------------------------------------------------------------


def test_team_photos_are_kept_and_an_unregistered_one_is_only_reported(dana, bucket_admin):
    """dana's registered team photo is no finding, and --fix keeps it; her unregistered team upload is a note
    (no command can ask whose credentials carry the team role), left alone with its thumbnail."""
    from tests.uploads.conftest import TEAM, team_key

    key = team_key(dana)
    dana.upload(key, PNG)
    dana.upload(thumb_key_for(key), THUMB, "image/jpeg")
    photo = photo_register(user=dana.user, key=key, thumb_key=thumb_key_for(key), teams=[TEAM])
    loose = team_key(dana)
    dana.upload(loose, PNG)
    dana.upload(thumb_key_for(loose), THUMB, "image/jpeg")
    code, lines = _reconcile(dana, "--fix")
    assert code == 0, lines
    [note] = [line for line in lines if loose in line]
    assert note.startswith(f"note unregistered-team {loose}:")
    assert key not in "\n".join(lines) and thumb_key_for(loose) not in "\n".join(lines)
    assert Photo.objects.filter(pk=photo.pk, team=TEAM).exists() and not Photo.objects.filter(key=loose).exists()
    assert all(bucket_admin.has(k) for k in (key, thumb_key_for(key), loose, thumb_key_for(loose)))
