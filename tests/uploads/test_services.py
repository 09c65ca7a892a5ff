"""uploads.services against the sandbox: what photo_register accepts and
refuses (and what it deletes), the keyset-paginated listings, photo_visible,
photo_recheck and photo_delete. Uploads are made with the member's own
identity-pool credentials, as the browser makes them; effects are checked in
the catalog and, with the admin key, in the bucket."""

from __future__ import annotations

import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from accounts.models import User
from accounts.store import SESSION_CREDENTIALS, CredentialStore
from tests.images import png_bytes
from tests.uploads.conftest import GIF87, GIF89, JPEG, PNG, WEBP
from core.aws import AwsCallError
from uploads.models import Photo
from uploads.rules import MAX_PHOTO_BYTES
from uploads.services import (
    TITLE_MAX,
    PhotoRejected,
    photo_delete,
    photo_register,
    BadCursor,
    photo_recheck,
    photo_visible,
    photos_owned,
    photos_public,
    viewer_is_moderator,
)

NOT_YOURS = "That upload is not in your folder."
NO_STORAGE = "Your account has no storage yet. Reload the page and try again."
MISSING = "The upload did not arrive. Please try again."
TOO_BIG = "Photos can be at most 50 MB."  # MAX_PHOTO_BYTES, 50 MiB by default
NOT_AN_IMAGE = "That file is not a JPEG, PNG, GIF or WebP image."
WRONG_TYPE = "That image was uploaded with a type other than its own. Please upload it again."
POLYGLOT = b"GIF89a<html><body><script>document.cookie='stolen=1'</script></body></html>"


def _new_identity_id() -> str:
    return f"us-east-1:{uuid.uuid4()}"


# --- photo_register: keys outside the user's own prefix -----------------------------------

# {me} is the owner's identity ID, {other} another member's. Each object is
# put there with the admin key first: a refused key must never be deleted,
# since it may be someone else's photo. The sandbox cannot store a key with a
# newline (PutObject answers 404), so that one is refused with nothing there.
KEYS_NOT_YOURS = [
    # key template, whether an object is put there first
    pytest.param("private/{other}/photo.png", True, id="another user's private prefix"),
    pytest.param("public/{other}/photo.png", True, id="another user's public prefix"),
    pytest.param("photo.png", True, id="no prefix"),
    pytest.param("private/photo.png", True, id="'private/' only"),
    pytest.param("public/photo.png", True, id="'public/' only"),
    pytest.param("{me}/photo.png", True, id="identity without visibility"),
    pytest.param("shared/{me}/photo.png", True, id="unknown visibility"),
    pytest.param("Private/{me}/photo.png", True, id="visibility in another case"),
    pytest.param("private//{me}/photo.png", True, id="double slash"),
    pytest.param("private/{me}x/photo.png", True, id="own identity ID with a suffix"),
    pytest.param("private/{me}/../photo.png", True, id="dot-dot out of the prefix"),
    pytest.param("private/{me}/../{other}/photo.png", True, id="dot-dot into another prefix"),
    pytest.param("private/{me}/./photo.png", True, id="dot segment"),
    pytest.param("private/{me}/sub/photo.png", True, id="slash in the name"),
    pytest.param("private/{me}/", True, id="no name"),
    pytest.param("private/{me}/.hidden.png", True, id="name starting with a dot"),
    pytest.param("private/{me}/photo.png\n", False, id="trailing newline"),
    pytest.param("private/{me}/my photo.png", True, id="space in the name"),
    pytest.param("private/{me}/" + "a" * 201, True, id="name over 200 characters"),
    pytest.param("private/{me}/thumbs/" + str(uuid.uuid4()) + ".jpg", True, id="a thumbnail is no photo"),
    pytest.param("public/{me}/thumbs/" + str(uuid.uuid4()) + ".jpg", True, id="a public thumbnail is no photo"),
]


@pytest.mark.parametrize("template, seeded", KEYS_NOT_YOURS)
def test_a_key_outside_the_users_own_prefix_is_refused_and_left_alone(owner, member, bucket, template, seeded):
    """The refusal is 'not in your folder', no photo is cataloged, and the object there is not deleted."""
    other = member().identity_id if "{other}" in template else _new_identity_id()
    key = template.format(me=owner.identity_id, other=other)
    if seeded:
        bucket.put(key, PNG)
    with pytest.raises(PhotoRejected) as refused:
        photo_register(user=owner.user, key=key)
    assert str(refused.value) == NOT_YOURS
    assert not Photo.objects.exists()
    assert bucket.has(key) is seeded


def test_a_name_of_200_characters_is_accepted(owner):
    """The longest name the key rule allows (one past it is in the refusal table)."""
    key = owner.key("a" * 196 + ".png")
    owner.upload(key, PNG)
    assert photo_register(user=owner.user, key=key).key == key


def test_a_user_without_an_identity_id_is_refused(shared_site, bucket):
    """Before GetId has given the user an identity, no key is theirs: 'no storage yet', nothing cataloged or deleted."""
    user = User.objects.create_user(username=str(uuid.uuid4()), email=f"{uuid.uuid4().hex}@example.com")
    assert user.identity_id == ""
    for key in ["private/photo.png", "private//photo.png", f"private/{_new_identity_id()}/photo.png"]:
        bucket.put(key, PNG)
        with pytest.raises(PhotoRejected) as refused:
            photo_register(user=user, key=key)
        assert str(refused.value) == NO_STORAGE
        assert bucket.has(key)
    assert not Photo.objects.exists()


# --- photo_register: the object itself --------------------------------------------------------

OBJECTS_REFUSED = [
    # body (None: never uploaded), message, deleted afterwards
    pytest.param(None, MISSING, False, id="object missing"),
    pytest.param(PNG + b"\x00" * (MAX_PHOTO_BYTES + 1 - len(PNG)), TOO_BIG, True, id="one byte over MAX_PHOTO_BYTES"),
    pytest.param(b"just some text, not a picture", NOT_AN_IMAGE, True, id="text"),
    pytest.param(b"", NOT_AN_IMAGE, True, id="empty object"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', NOT_AN_IMAGE, True, id="SVG"),
    pytest.param(b"<!DOCTYPE html><html><body>hi</body></html>", NOT_AN_IMAGE, True, id="HTML"),
    pytest.param(b"%PDF-1.7\n" + b"\x00" * 32, NOT_AN_IMAGE, True, id="PDF"),
    pytest.param(b"\x89PNG\r\n", NOT_AN_IMAGE, True, id="PNG signature cut short"),
    pytest.param(b"\xff\xd8", NOT_AN_IMAGE, True, id="JPEG signature cut short"),
    pytest.param(b"GIF88a" + b"\x00" * 16, NOT_AN_IMAGE, True, id="GIF88a"),
    pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16, NOT_AN_IMAGE, True, id="RIFF but WAVE"),
    pytest.param(b"\x00" * 16 + PNG, NOT_AN_IMAGE, True, id="PNG not at the start"),
]


@pytest.mark.parametrize("body, message, deleted", OBJECTS_REFUSED)
def test_an_upload_that_cannot_be_a_photo_is_refused(owner, bucket, body, message, deleted):
    """Under the owner's own prefix but not a photo: the fixed message, nothing cataloged, the object deleted when it was there."""
    key = owner.key()
    if body is not None:
        owner.upload(key, body)
    with pytest.raises(PhotoRejected) as refused:
        photo_register(user=owner.user, key=key)
    assert str(refused.value) == message
    assert not Photo.objects.exists()
    assert bucket.has(key) is (body is not None and not deleted)


# The stored Content-Type must be the type the bytes start like: S3 serves
# the stored one to anyone who fetches the object without our URL's
# response-content-type, so an HTML type on image bytes is an attack.
TYPES_REFUSED = [
    # body, Content-Type the uploader stored
    pytest.param(POLYGLOT, "text/html", id="GIF89a<html> polyglot as text/html"),
    pytest.param(GIF89, "text/html; charset=utf-8", id="GIF as text/html with a charset"),
    pytest.param(PNG, "image/svg+xml", id="PNG as SVG"),
    pytest.param(PNG, "image/jpeg", id="PNG as JPEG"),
    pytest.param(JPEG, "application/octet-stream", id="JPEG as octet-stream"),
    pytest.param(WEBP, "application/xhtml+xml", id="WebP as XHTML"),
    pytest.param(JPEG, "binary/octet-stream", id="JPEG with S3's default type"),
]


@pytest.mark.parametrize("body, stored_type", TYPES_REFUSED)
def test_an_image_stored_with_another_type_is_refused_and_deleted(owner, bucket, body, stored_type):
    """Image bytes but another stored Content-Type: the fixed message, nothing cataloged, every version deleted."""
    key = owner.key()
    owner.upload(key, body, stored_type)
    with pytest.raises(PhotoRejected) as refused:
        photo_register(user=owner.user, key=key)
    assert str(refused.value) == WRONG_TYPE
    assert not Photo.objects.exists()
    assert bucket.versions(key) == []


@pytest.mark.parametrize("stored_type", ["image/png", "IMAGE/PNG", "image/png; charset=binary"])
def test_the_stored_type_is_compared_without_case_or_parameters(owner, stored_type):
    """A PNG stored as image/png in any spelling the header allows registers."""
    key = owner.key()
    owner.upload(key, PNG, stored_type)
    assert photo_register(user=owner.user, key=key).content_type == "image/png"


def test_a_refused_upload_loses_every_version(owner, bucket):
    """An unregistered key written three times, the last as a polyglot: refusing it leaves no version behind."""
    key = owner.key()
    owner.upload(key, b"first, not an image", "image/png")
    owner.upload(key, PNG)
    owner.upload(key, POLYGLOT, "text/html")
    with pytest.raises(PhotoRejected):
        photo_register(user=owner.user, key=key)
    assert bucket.versions(key) == []


# --- photo_register: accepted -----------------------------------------------------------------

ACCEPTED = [
    pytest.param(JPEG, "image/jpeg", id="JPEG"),
    pytest.param(PNG, "image/png", id="PNG"),
    pytest.param(GIF87, "image/gif", id="GIF87a"),
    pytest.param(GIF89, "image/gif", id="GIF89a"),
    pytest.param(WEBP, "image/webp", id="WebP"),
    pytest.param(PNG + b"\x00" * (MAX_PHOTO_BYTES - len(PNG)), "image/png", id="PNG of exactly MAX_PHOTO_BYTES"),
]


@pytest.mark.parametrize("visibility", ["private", "public"])
@pytest.mark.parametrize("body, content_type", ACCEPTED)
def test_an_image_under_the_users_prefix_is_cataloged(owner, bucket, body, content_type, visibility):
    """Recognised by its first bytes: one row with the owner, key, visibility of the prefix, content type and size; the object stays."""
    key = owner.key(visibility=visibility)
    owner.upload(key, body)
    photo = photo_register(user=owner.user, key=key, title="Holiday")
    stored = Photo.objects.get()
    assert stored == photo
    assert (stored.owner, stored.key, stored.visibility) == (owner.user, key, visibility)
    assert (stored.content_type, stored.size, stored.title) == (content_type, len(body), "Holiday")
    assert bucket.has(key)


def test_a_photo_is_pinned_to_the_version_that_was_checked(owner, bucket):
    """The row holds the VersionId of the version registration read."""
    key = owner.key()
    version = owner.upload(key, PNG)
    assert photo_register(user=owner.user, key=key).version_id == version
    assert Photo.objects.get().version_id == version



@pytest.mark.django_db(transaction=True)
def test_registration_calls_s3_outside_any_transaction_and_inserts_alone(owner):
    """Every S3 call of registration (photo and thumbnail) runs outside an atomic block, and the row is one INSERT with no BEGIN: on SQLite a transaction holds the write lock (core.db)."""
    from django.db import connection

    from uploads import storage

    name = uuid.uuid4()
    key, thumb_key = owner.key(f"{name}.png"), owner.key(f"thumbs/{name}.jpg")
    owner.upload(key, PNG)
    owner.upload(thumb_key, JPEG, "image/jpeg")
    s3_calls: list[tuple[str, bool]] = []
    statements: list[tuple[str, bool]] = []

    def s3_call(model, **_):  # botocore's before-call event, on the server's own S3 client
        s3_calls.append((model.name, connection.in_atomic_block))

    def sql(execute, statement, params, many, context):
        statements.append((statement.split(" ", 1)[0].upper(), connection.in_atomic_block))
        return execute(statement, params, many, context)

    events = storage._client().meta.events
    events.register("before-call.s3", s3_call)
    try:
        with connection.execute_wrapper(sql):
            photo = photo_register(user=owner.user, key=key, thumb_key=thumb_key)
    finally:
        events.unregister("before-call.s3", s3_call)
    assert photo.thumb_key == thumb_key
    assert [name for name, _ in s3_calls] == ["GetObject", "GetObject"]  # one ranged read each, photo then thumbnail
    assert [call for call in s3_calls if call[1]] == [], "an S3 call inside a transaction"
    assert [s for s in statements if s[0] in ("BEGIN", "SAVEPOINT") or s[1]] == []
    assert ("INSERT", False) in statements


# --- an owner's overwrite after registration ----------------------------------------------------

ELEVEN_MB_OF_HTML = b"<html><script>alert(document.domain)</script>" + b" " * (11 * 1024 * 1024)
OVERWRITES = [
    # body, Content-Type
    pytest.param(ELEVEN_MB_OF_HTML, "text/html", id="11 MB of HTML"),
    pytest.param(POLYGLOT, "text/html", id="a polyglot as text/html"),
    pytest.param(JPEG, "image/jpeg", id="another, valid image"),
]


@pytest.mark.parametrize("body, content_type", OVERWRITES)
def test_an_overwrite_after_registration_changes_nothing_viewers_get(owner, bucket, body, content_type):
    """The owner writes the key again with their own credentials: a read signed as the browser signs it
    (the pinned version, the sniffed type) still returns the checked bytes as the checked image type;
    registering again returns the same pinned photo."""
    key = owner.key()
    checked = owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    owner.upload(key, body, content_type)

    url = owner.s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": owner.bucket, "Key": key, "VersionId": photo.version_id, "ResponseContentType": photo.content_type},
    )
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["Content-Type"] == "image/png"
    again = photo_register(user=owner.user, key=key)
    assert (again.pk, again.version_id, again.size) == (photo.pk, checked, len(PNG))
    assert len(bucket.versions(key)) == 2


def test_an_overwritten_photo_stays_in_the_catalog_while_its_checked_version_lasts(owner, bucket):
    """Recheck keeps the overwritten photo; once the checked version is gone (the lifecycle rule
    expires it a day after the overwrite), recheck forgets the photo."""
    key = owner.key()
    checked = owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    owner.upload(key, b"<html>not a picture</html>", "text/html")
    assert photo_recheck(user=owner.user, photo_id=photo.pk) == photo

    bucket.s3.delete_object(Bucket=bucket.name, Key=key, VersionId=checked)  # what the lifecycle rule does

    assert photo_recheck(user=owner.user, photo_id=photo.pk) is None
    assert not Photo.objects.exists()


def test_the_owner_reads_the_checked_version_and_a_stranger_does_not(owner, stranger):
    """Browsers sign pinned reads, so readers have s3:GetObjectVersion exactly where they have s3:GetObject."""
    key = owner.key()
    checked = owner.upload(key, PNG)
    photo_register(user=owner.user, key=key)
    assert owner.s3.get_object(Bucket=owner.bucket, Key=key, VersionId=checked)["Body"].read() == PNG
    with pytest.raises(ClientError) as refused:
        stranger.s3.get_object(Bucket=stranger.bucket, Key=key, VersionId=checked)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


@pytest.fixture
def versioning_suspended(bucket):
    """The shared bucket with versioning suspended for one test (as an operator could), then on again."""
    bucket.s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Suspended"})
    yield bucket
    bucket.s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})


def test_without_versioning_nothing_is_registered(owner, versioning_suspended):
    """Versioning suspended: an upload gets the null version, which the next PUT replaces, so
    registration refuses as 'storage unavailable' (logged for the operator) and deletes nothing."""
    key = owner.key()
    owner.upload(key, PNG)
    with pytest.raises(AwsCallError) as refused:
        photo_register(user=owner.user, key=key)
    assert refused.value.code == "BucketVersioningOff"
    assert not Photo.objects.exists()
    assert versioning_suspended.has(key)


def test_a_long_title_is_cut_to_title_max(owner):
    """A 250-character title is stored as its first TITLE_MAX (200) characters."""
    key = owner.key()
    owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key, title="t" * 250)
    assert Photo.objects.get(pk=photo.pk).title == "t" * TITLE_MAX


def test_registering_the_same_upload_again_returns_the_same_photo(owner, bucket):
    """Idempotent for the owner (a retried request): the same row back, still one row, the first title kept."""
    key = owner.key()
    owner.upload(key, PNG)
    first = photo_register(user=owner.user, key=key, title="first")
    again = photo_register(user=owner.user, key=key, title="second")
    assert again.pk == first.pk
    assert list(Photo.objects.values_list("key", "title")) == [(key, "first")]
    assert bucket.has(key)


# --- photo_delete -----------------------------------------------------------------------------


def test_the_owner_deletes_a_photo(owner, bucket):
    """True; the object is gone from the bucket and the row from the catalog."""
    key = owner.key()
    owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    assert photo_delete(user=owner.user, photo_id=str(photo.pk)) is True
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not bucket.has(key)


def test_deleting_a_photo_deletes_every_version_of_it(owner, bucket):
    """Overwritten twice after registration: deleting the photo leaves no version and no delete marker."""
    key = owner.key()
    owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    owner.upload(key, POLYGLOT, "text/html")
    owner.upload(key, JPEG)
    assert photo_delete(user=owner.user, photo_id=str(photo.pk)) is True
    assert bucket.versions(key) == []
    assert not Photo.objects.exists()


def test_another_user_cannot_delete_a_photo(owner, stranger, bucket):
    """False for the stranger; the owner's row and object both stay."""
    key = owner.key()
    owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    assert photo_delete(user=stranger.user, photo_id=str(photo.pk)) is False
    assert Photo.objects.filter(pk=photo.pk, owner=owner.user).exists()
    assert bucket.has(key)


def test_deleting_a_photo_that_does_not_exist_is_false(owner):
    """An ID no photo has: False, nothing raised."""
    assert photo_delete(user=owner.user, photo_id=str(uuid.uuid4())) is False


# --- dimensions, listing, visibility ----------------------------------------------------------


@pytest.mark.parametrize("width, height", [(1, 1), (3, 2), (640, 480)])
def test_registration_reads_the_dimensions_from_the_header(owner, width, height):
    """A ranged read of the first bytes gives width and height."""
    key = owner.key()
    owner.upload(key, png_bytes(width, height))
    photo = photo_register(user=owner.user, key=key)
    assert (photo.width, photo.height) == (width, height)


def test_a_page_costs_the_same_queries_whatever_comes_before_it(owner, django_assert_num_queries):
    """Keyset pagination: one query a page (owners joined), on the first page as on the last."""
    for _ in range(5):
        key = owner.key()
        owner.upload(key, PNG)
        photo_register(user=owner.user, key=key)
    cursor, seen = None, []
    while True:
        with django_assert_num_queries(1):
            page = photos_owned(user=owner.user, cursor=cursor, limit=2)
            seen += [(p.pk, p.owner.email) for p in page.photos]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("cursor", ["", "x", "bm9wZQ", "MjAyNi0wMS0wMXxub3QtYS11dWlk"])
def test_a_cursor_the_server_did_not_make_is_refused(shared_site, cursor):
    """BadCursor, never a server error (an empty cursor is the first page)."""
    if not cursor:
        assert photos_public(cursor=cursor or None, limit=1).photos is not None
        return
    with pytest.raises(BadCursor):
        photos_public(cursor=cursor, limit=1)


@pytest.mark.parametrize(
    "visibility, viewer, shown",
    [
        ("private", "owner", True),
        ("private", "stranger", False),
        ("private", "guest", False),
        ("public", "stranger", True),
        ("public", "guest", True),
    ],
)
def test_photo_visible_is_the_owner_or_public(owner, stranger, visibility, viewer, shown):
    """Private photos only to their owner; public ones to everyone."""
    from django.contrib.auth.models import AnonymousUser

    key = owner.key(visibility=visibility)
    owner.upload(key, PNG)
    photo = photo_register(user=owner.user, key=key)
    who = {"owner": owner.user, "stranger": stranger.user, "guest": AnonymousUser()}[viewer]
    assert (photo_visible(user=who, photo_id=photo.pk) == photo) is shown


@pytest.mark.parametrize("photo_id", ["", "not-a-uuid", str(uuid.uuid4()), None])
def test_photo_visible_is_none_for_an_unknown_or_malformed_id(owner, photo_id):
    """Nothing raised for an ID that cannot be one."""
    assert photo_visible(user=owner.user, photo_id=photo_id) is None


# --- viewer_is_moderator ------------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", [("owner", False), ("moderator", True)])
def test_a_moderator_is_whoever_sts_says_holds_the_moderator_role(request, shared_site, who, expected):
    """STS GetCallerIdentity with the session's own credentials, asked once and kept beside them."""
    member = request.getfixturevalue(who)
    session = member.client.session
    store = CredentialStore(session)
    assert viewer_is_moderator(user=member.user, store=store) is expected
    role = shared_site.moderator_role_arn if expected else shared_site.authenticated_role_arn
    kept = session[SESSION_CREDENTIALS]["caller_arn"]
    assert kept.split(":")[5].split("/")[:2] == ["assumed-role", role.rsplit("/", 1)[-1]]
    session[SESSION_CREDENTIALS] = {**session[SESSION_CREDENTIALS], "caller_arn": kept.replace("assumed-role/", "x/")}
    assert viewer_is_moderator(user=member.user, store=store) is False  # the kept answer, not STS again


def test_no_credentials_means_no_moderator(moderator):
    """A session holding no credentials is nobody's moderator, and a guest never is."""
    from django.contrib.auth.models import AnonymousUser

    assert viewer_is_moderator(user=moderator.user, store=CredentialStore({})) is False
    assert viewer_is_moderator(user=AnonymousUser(), store=CredentialStore({})) is False
