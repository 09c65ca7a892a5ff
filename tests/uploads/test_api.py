"""The photo JSON API through the test client against the sandbox: uploads
and copies made with each member's own credentials, as the browser makes
them, and the effects checked in the catalog and in the bucket."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.uploads.conftest import JPEG, PNG, TEAM, Member, team_key
from uploads.models import Photo
from uploads.rules import MAX_THUMB_BYTES, thumb_key_for

API = "/api/photos"
PUBLIC = "/api/photos/public"
FIELDS = {
    "id", "key", "thumbKey", "title", "visibility", "team", "contentType", "size", "width", "height", "created", "owner",
    "publicKey", "publicThumbKey", "versionId", "thumbVersionId", "publicVersionId", "publicThumbVersionId", "takenDown",
}  # fmt: skip


def is_json_error(response, status: int) -> bool:
    return response.status_code == status and response["Content-Type"] == "application/json" and set(response.json()) == {"error"}


def send(client: Client, method: str, path: str, body: bytes | dict | None = None):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return getattr(client, method.lower())(path, data=data or b"", content_type="application/json")


def uploaded(member: Member, *, visibility: str = "private", thumb: bool = True, title: str = "") -> dict:
    """Upload a photo (and its thumbnail) as the browser does, register it, return its JSON."""
    key = member.key(visibility=visibility)
    member.upload(key, PNG)
    body = {"key": key, "title": title}
    if thumb:
        body["thumbKey"] = thumb_key_for(key)
        member.upload(body["thumbKey"], JPEG)
    response = send(member.client, "POST", API, body)
    assert response.status_code == 201, response.content
    return response.json()


def copied(member: Member, source: str, version_id: str, target: str) -> None:
    """CopyObject with the member's own credentials, pinned to the checked version."""
    member.s3.copy_object(
        Bucket=member.bucket, Key=target, CopySource={"Bucket": member.bucket, "Key": source, "VersionId": version_id},
        MetadataDirective="COPY",
    )  # fmt: skip


def public_name(key: str) -> str:
    return "public/" + key.split("/", 1)[1]


# --- POST /api/photos -----------------------------------------------------------------------


def test_registering_answers_the_photo_with_its_dimensions_and_pinned_thumbnail(owner, bucket):
    """201 with every field; the size comes from S3 and the dimensions from the header."""
    photo = uploaded(owner, title="  Sunset  ")
    assert set(photo) == FIELDS
    assert photo["title"] == "Sunset" and photo["visibility"] == "private" and photo["contentType"] == "image/png"
    assert (photo["size"], photo["width"], photo["height"]) == (len(PNG), 2, 2)
    assert photo["thumbKey"] == thumb_key_for(photo["key"]) and photo["thumbVersionId"] == bucket.versions(photo["thumbKey"])[0]
    assert photo["publicKey"] is None and photo["takenDown"] is None and photo["created"].endswith("Z")
    assert photo["owner"] == {"displayName": owner.user.email.split("@")[0]}


def test_registering_the_same_key_twice_answers_200_with_the_same_photo(owner):
    """The second call finds the photo registered and changes nothing."""
    photo = uploaded(owner, thumb=False)
    again = send(owner.client, "POST", API, {"key": photo["key"]})
    assert again.status_code == 200 and again.json()["id"] == photo["id"]
    assert Photo.objects.filter(key=photo["key"]).count() == 1


def test_an_upload_to_the_public_prefix_is_public_from_registration(owner):
    """Its public copy is itself, and guests list it."""
    photo = uploaded(owner, visibility="public")
    assert photo["visibility"] == "public" and photo["publicKey"] == photo["key"] and photo["publicThumbKey"] == photo["thumbKey"]
    listed = Client().get(PUBLIC).json()["photos"]
    assert photo["id"] in [p["id"] for p in listed]


@pytest.mark.parametrize(
    "thumb, body, deleted",
    [
        ("other-uuid", JPEG, False),  # not this photo's thumbnail name: left alone
        ("same", PNG, True),  # not a JPEG
        ("same", JPEG + b"\x00" * MAX_THUMB_BYTES, True),  # over MAX_THUMB_BYTES
        ("missing", None, False),
    ],
)
def test_a_bad_thumbnail_refuses_the_registration(owner, bucket, thumb, body, deleted):
    """400, no photo, and the thumbnail deleted when it sat where this photo's goes."""
    key = owner.key()
    owner.upload(key, PNG)
    thumb_key = thumb_key_for(key) if thumb != "other-uuid" else thumb_key_for(owner.key())
    if body is not None:
        owner.upload(thumb_key, body, "image/jpeg")
    response = send(owner.client, "POST", API, {"key": key, "thumbKey": thumb_key})
    assert is_json_error(response, 400)
    assert not Photo.objects.filter(key=key).exists()
    if body is not None:
        assert bucket.has(thumb_key) is not deleted


def test_a_thumbnail_in_another_members_prefix_is_refused_and_left_alone(owner, stranger, bucket):
    """The stranger's object keeps existing."""
    key = owner.key()
    owner.upload(key, PNG)
    theirs = thumb_key_for(stranger.key())
    stranger.upload(theirs, JPEG)
    assert is_json_error(send(owner.client, "POST", API, {"key": key, "thumbKey": theirs}), 400)
    assert bucket.has(theirs)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        {"key": 5},
        {"key": "k", "title": ["x"]},
        {"key": "k", "thumbKey": True},
        {"title": "no key"},
        {"key": "k" * 5000},  # over the body limit
    ],
)
def test_a_bad_register_body_is_400(owner, body):
    """Bad JSON, the wrong types, a missing field and an oversized body: a JSON 400."""
    assert is_json_error(send(owner.client, "POST", API, body), 400)


# --- refusals shared by every route ---------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", API, {"key": "private/x:y/z.png"}),
        ("PATCH", "/api/photos/{id}", {"title": "mine now"}),
        ("DELETE", "/api/photos/{id}", None),
        ("POST", "/api/photos/{id}/publish", {"publicKey": "public/x:y/z.png"}),
        ("POST", "/api/photos/{id}/unpublish", None),
        ("POST", "/api/photos/{id}/take-down", {"reason": "spam"}),
        ("GET", API, None),
    ],
)
def test_guests_get_401_for_writes_and_for_own_photos(owner, method, path, body):
    """A guest changes nothing, and has no own photos to list."""
    photo = uploaded(owner, visibility="public", thumb=False)
    assert is_json_error(send(Client(), method, path.format(id=photo["id"]), body), 401)
    assert Photo.objects.get(pk=photo["id"]).title == ""


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/nothing-here", 404),
        ("GET", "/api/photos/not-a-uuid", 404),
        ("GET", f"/api/photos/{uuid.uuid4()}", 404),
        ("POST", f"/api/photos/{uuid.uuid4()}/recheck", 404),
        ("PUT", API, 405),
        ("POST", PUBLIC, 405),
        ("GET", f"/api/photos/{uuid.uuid4()}/publish", 405),
    ],
)
def test_unknown_routes_ids_and_methods_answer_json(owner, method, path, status):
    """404 and 405 as {"error"} JSON, like every other answer under /api/."""
    assert is_json_error(send(owner.client, method, path), status)


def test_a_write_without_csrf_token_is_a_json_403(owner):
    """Browsers' writes need the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.cookies = owner.client.cookies
    assert is_json_error(send(client, "POST", API, {"key": owner.key()}), 403)


# --- GET, PATCH, DELETE /api/photos/<id> ----------------------------------------------------


def test_a_private_photo_is_404_to_everyone_but_its_owner(owner, stranger):
    """Never 403: nobody learns it exists."""
    photo = uploaded(owner)
    path = f"{API}/{photo['id']}"
    assert owner.client.get(path).json()["id"] == photo["id"]
    assert is_json_error(stranger.client.get(path), 404)
    assert is_json_error(Client().get(path), 404)


@pytest.mark.parametrize("method, body", [("PATCH", {"title": "theirs"}), ("DELETE", None)])
def test_someone_elses_photo_cannot_be_renamed_or_deleted(owner, stranger, bucket, method, body):
    """404 even for a public photo, which stays as it was, objects included."""
    photo = uploaded(owner, visibility="public")
    assert is_json_error(send(stranger.client, method, f"{API}/{photo['id']}", body), 404)
    assert Photo.objects.get(pk=photo["id"]).title == "" and bucket.has(photo["key"])


def test_the_owner_renames_a_photo(owner):
    """The new title, trimmed, in the answer and the catalog."""
    photo = uploaded(owner, thumb=False)
    response = send(owner.client, "PATCH", f"{API}/{photo['id']}", {"title": " New name "})
    assert response.status_code == 200 and response.json()["title"] == "New name"
    assert is_json_error(send(owner.client, "PATCH", f"{API}/{photo['id']}", {"title": 7}), 400)


def test_deleting_removes_every_object_of_the_photo(owner, bucket):
    """Original, thumbnail and public copies: every version; then the row; 204."""
    photo = uploaded(owner)
    copied(owner, photo["key"], photo["versionId"], public_name(photo["key"]))
    copied(owner, photo["thumbKey"], photo["thumbVersionId"], public_name(photo["thumbKey"]))
    body = {"publicKey": public_name(photo["key"]), "publicThumbKey": public_name(photo["thumbKey"])}
    assert send(owner.client, "POST", f"{API}/{photo['id']}/publish", body).status_code == 200
    assert send(owner.client, "DELETE", f"{API}/{photo['id']}").status_code == 204
    for key in (photo["key"], photo["thumbKey"], *body.values()):
        assert bucket.versions(key) == []
    assert not Photo.objects.filter(pk=photo["id"]).exists()


# --- listing ---------------------------------------------------------------------------------


def test_own_photos_are_paged_newest_first_to_the_last_page(owner, stranger):
    """limit=2 over three photos: two with a next link, then one with none; nobody else's."""
    made = [uploaded(owner, thumb=False)["id"] for _ in range(3)]
    uploaded(stranger, thumb=False)
    first = owner.client.get(f"{API}?limit=2").json()
    assert [p["id"] for p in first["photos"]] == made[::-1][:2] and first["next"]
    second = owner.client.get(first["next"]).json()
    assert [p["id"] for p in second["photos"]] == made[:1] and second["next"] is None


def test_the_public_gallery_lists_only_published_photos(owner, stranger):
    """A guest sees the public photo, not the private one."""
    public, private = uploaded(owner, visibility="public")["id"], uploaded(owner)["id"]
    seen = []
    following = f"{PUBLIC}?limit=100"
    while following:
        page = Client().get(following).json()
        seen += [p["id"] for p in page["photos"]]
        following = page["next"]
    assert public in seen and private not in seen


@pytest.mark.parametrize("query", ["limit=101", "limit=0", "limit=-1", "limit=two", "cursor=bm9wZQ", "cursor=%%%"])
@pytest.mark.parametrize("path", [API, PUBLIC])
def test_a_bad_limit_or_cursor_is_400(owner, path, query):
    """limit must be 1..100 (over 100 is refused, not clamped); cursors are the server's own."""
    assert is_json_error(owner.client.get(f"{path}?{query}"), 400)


# --- publish and unpublish --------------------------------------------------------------------


def test_publishing_pins_the_owners_copies_and_shows_the_photo_to_guests(owner, bucket):
    """The copies made with the owner's credentials become the public versions."""
    photo = uploaded(owner)
    body = {"publicKey": public_name(photo["key"]), "publicThumbKey": public_name(photo["thumbKey"])}
    copied(owner, photo["key"], photo["versionId"], body["publicKey"])
    copied(owner, photo["thumbKey"], photo["thumbVersionId"], body["publicThumbKey"])
    response = send(owner.client, "POST", f"{API}/{photo['id']}/publish", body)
    assert response.status_code == 200, response.content
    published = response.json()
    assert published["visibility"] == "public" and published["publicKey"] == body["publicKey"]
    assert published["publicVersionId"] == bucket.versions(body["publicKey"])[0]
    assert Client().get(f"{API}/{photo['id']}").status_code == 200


def test_a_copy_that_differs_is_deleted_and_refused(owner, bucket):
    """Other bytes at the public key: 400, and every version of it gone."""
    photo = uploaded(owner, thumb=False)
    public_key = public_name(photo["key"])
    owner.upload(public_key, JPEG)
    assert is_json_error(send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": public_key}), 400)
    assert bucket.versions(public_key) == []
    assert Photo.objects.get(pk=photo["id"]).visibility == "private"


def test_a_copy_in_someone_elses_prefix_is_refused_and_left_alone(owner, stranger, bucket):
    """The stranger's public object is not the owner's to use, nor to delete."""
    photo = uploaded(owner, thumb=False)
    theirs = uploaded(stranger, visibility="public", thumb=False)["key"]
    assert is_json_error(send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": theirs}), 400)
    assert bucket.has(theirs)


def test_a_copy_that_never_arrived_is_400(owner):
    """Nothing at the public key yet."""
    photo = uploaded(owner, thumb=False)
    response = send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": public_name(photo["key"])})
    assert is_json_error(response, 400)


def test_unpublishing_deletes_the_copies(owner, bucket):
    """The photo is private again and the guest's 404 is back."""
    photo = uploaded(owner, thumb=False)
    public_key = public_name(photo["key"])
    copied(owner, photo["key"], photo["versionId"], public_key)
    assert send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": public_key}).status_code == 200
    response = send(owner.client, "POST", f"{API}/{photo['id']}/unpublish")
    assert response.status_code == 200 and response.json()["publicKey"] is None
    assert bucket.versions(public_key) == [] and bucket.has(photo["key"])
    assert is_json_error(Client().get(f"{API}/{photo['id']}"), 404)


# --- take-down -------------------------------------------------------------------------------


def test_a_member_who_is_no_moderator_gets_403(owner, stranger, bucket):
    """Their credentials are the authenticated role's, so STS says so; nothing changes."""
    photo = uploaded(owner, visibility="public", thumb=False)
    response = send(stranger.client, "POST", f"{API}/{photo['id']}/take-down", {"reason": "I do not like it"})
    assert is_json_error(response, 403)
    assert bucket.has(photo["key"]) and Photo.objects.get(pk=photo["id"]).taken_down_at is None


def test_a_moderator_takes_a_public_photo_down(owner, moderator, bucket):
    """The moderator's browser deletes the copy, the server the rest; the owner sees why, guests see nothing."""
    photo = uploaded(owner)
    body = {"publicKey": public_name(photo["key"]), "publicThumbKey": public_name(photo["thumbKey"])}
    copied(owner, photo["key"], photo["versionId"], body["publicKey"])
    copied(owner, photo["thumbKey"], photo["thumbVersionId"], body["publicThumbKey"])
    assert send(owner.client, "POST", f"{API}/{photo['id']}/publish", body).status_code == 200
    moderator.s3.delete_object(Bucket=moderator.bucket, Key=body["publicKey"])  # with the moderator role's own rights

    response = send(moderator.client, "POST", f"{API}/{photo['id']}/take-down", {"reason": "Not yours to share"})

    assert response.status_code == 200, response.content
    assert response.json()["takenDown"] is None  # only the owner is told
    for key in body.values():
        assert bucket.versions(key) == []
    assert is_json_error(Client().get(f"{API}/{photo['id']}"), 404)
    seen = owner.client.get(f"{API}/{photo['id']}").json()
    assert seen["visibility"] == "private" and seen["takenDown"]["reason"] == "Not yours to share"
    event = AuditEvent.objects.get(outcome=AuditEvent.Outcome.TAKEN_DOWN, user=moderator.user)
    assert photo["id"] in event.detail
    again = send(owner.client, "POST", f"{API}/{photo['id']}/publish", body)
    assert is_json_error(again, 409)


def test_a_moderator_cannot_take_down_a_private_photo(owner, moderator):
    """404: it is not public, so not theirs to see."""
    photo = uploaded(owner, thumb=False)
    assert is_json_error(send(moderator.client, "POST", f"{API}/{photo['id']}/take-down", {"reason": "x"}), 404)


@pytest.mark.parametrize("body", [{"reason": ""}, {"reason": 3}, {}])
def test_a_take_down_needs_a_reason(owner, moderator, body):
    """400 for an empty, missing or non-string reason."""
    photo = uploaded(owner, visibility="public", thumb=False)
    assert is_json_error(send(moderator.client, "POST", f"{API}/{photo['id']}/take-down", body), 400)


# --- recheck ---------------------------------------------------------------------------------


def test_recheck_forgets_a_photo_whose_object_is_gone(owner, bucket):
    """200 while the pinned version is stored; 404 and no row once it is not."""
    photo = uploaded(owner)
    path = f"{API}/{photo['id']}/recheck"
    assert send(owner.client, "POST", path).json()["id"] == photo["id"]
    for version in bucket.versions(photo["key"]):
        bucket.s3.delete_object(Bucket=bucket.name, Key=photo["key"], VersionId=version)
    assert is_json_error(send(owner.client, "POST", path), 404)
    assert not Photo.objects.filter(pk=photo["id"]).exists()
    assert bucket.versions(photo["thumbKey"]) == []


def test_recheck_makes_a_photo_whose_public_copy_is_gone_private(owner, bucket):
    """A guest's failed image: the guest gets 404, the owner the private photo."""
    photo = uploaded(owner, thumb=False)
    public_key = public_name(photo["key"])
    copied(owner, photo["key"], photo["versionId"], public_key)
    assert send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": public_key}).status_code == 200
    for version in bucket.versions(public_key):
        bucket.s3.delete_object(Bucket=bucket.name, Key=public_key, VersionId=version)
    assert is_json_error(send(Client(), "POST", f"{API}/{photo['id']}/recheck"), 404)
    seen = owner.client.get(f"{API}/{photo['id']}").json()
    assert seen["visibility"] == "private" and seen["publicKey"] is None


def test_recheck_keeps_a_taken_down_photo_for_its_owner(owner, moderator, bucket):
    """Uploaded public and taken down: its objects are gone, but the owner still learns why."""
    photo = uploaded(owner, visibility="public", thumb=False)
    assert send(moderator.client, "POST", f"{API}/{photo['id']}/take-down", {"reason": "Spam"}).status_code == 200
    assert bucket.versions(photo["key"]) == []
    response = send(owner.client, "POST", f"{API}/{photo['id']}/recheck")
    assert response.status_code == 200 and response.json()["takenDown"]["reason"] == "Spam"


def _multipart(member: Member, key: str, body: bytes, part: int) -> None:
    """Upload in parts with the member's own credentials, as upload.js does above 5 MiB."""
    started = member.s3.create_multipart_upload(Bucket=member.bucket, Key=key, ContentType="image/png")
    parts = []
    for number, start in enumerate(range(0, len(body), part), 1):
        answer = member.s3.upload_part(
            Bucket=member.bucket, Key=key, UploadId=started["UploadId"], PartNumber=number, Body=body[start : start + part]
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    member.s3.complete_multipart_upload(Bucket=member.bucket, Key=key, UploadId=started["UploadId"], MultipartUpload={"Parts": parts})


@pytest.mark.parametrize("same, status", [(True, 200), (False, 400)])
def test_a_copy_of_a_multipart_upload_is_compared_by_its_bytes(owner, bucket, same, status):
    """A multipart ETag is no MD5, so a byte-identical single-part copy has another ETag: the bytes decide."""
    big = PNG + b"\x00" * (5 * 1024 * 1024 + 100 - len(PNG))
    key = owner.key()
    _multipart(owner, key, big, 5 * 1024 * 1024)
    photo = send(owner.client, "POST", API, {"key": key}).json()
    public_key = public_name(key)
    owner.upload(public_key, big if same else big[:-1] + b"\x01")
    assert bucket.s3.head_object(Bucket=bucket.name, Key=public_key)["ETag"] != bucket.s3.head_object(Bucket=bucket.name, Key=key)["ETag"]
    response = send(owner.client, "POST", f"{API}/{photo['id']}/publish", {"publicKey": public_key})
    assert response.status_code == status, response.content
    assert bucket.has(public_key) is same


# --- team photos ----------------------------------------------------------------------------

TEAM_API = f"/api/teams/{TEAM}/photos"


def team_uploaded(member: Member, *, title: str = "") -> dict:
    """Upload a photo and its thumbnail to the member's folder of the team's prefix and register it."""
    key = team_key(member)
    member.upload(key, PNG)
    member.upload(thumb_key_for(key), JPEG)
    response = send(member.client, "POST", API, {"key": key, "thumbKey": thumb_key_for(key), "title": title})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_team_member_registers_a_team_upload(dana):
    """dana's upload under teams/wintercorp/<her identity>/ becomes a team photo, pinned like any other."""
    photo = team_uploaded(dana, title="Offsite")
    assert (photo["visibility"], photo["team"], photo["title"]) == ("team", TEAM, "Offsite")
    assert photo["versionId"] and photo["thumbVersionId"] and photo["publicKey"] is None
    row = Photo.objects.get(pk=photo["id"])
    assert (row.owner, row.team, row.key) == (dana.user, TEAM, photo["key"])


@pytest.mark.parametrize("who", ["frank", "pool_user"])
def test_the_authenticated_role_cannot_register_a_team_key(request, dana, bucket_admin, who):
    """A team key posted by frank (SSO, not wintercorp) or a user-pool user: 400, nothing written, the object left alone.
    The object is dana's upload, put in the outsider's folder with the admin key, since their own credentials cannot."""
    outsider = request.getfixturevalue(who)
    key = team_key(outsider)
    bucket_admin.put(key, PNG)
    response = send(outsider.client, "POST", API, {"key": key})
    assert is_json_error(response, 400) and response.json()["error"] == "That upload is not in a team folder of yours."
    assert not Photo.objects.filter(key=key).exists() and bucket_admin.has(key)


def test_a_guest_cannot_register_a_team_key(dana, team_site):
    """401 before anything is looked at."""
    key = team_key(dana)
    dana.upload(key, PNG)
    assert is_json_error(send(Client(), "POST", API, {"key": key}), 401)
    assert not Photo.objects.filter(key=key).exists()


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda me, other: team_key(me, team="othercorp"), id="another-team"),
        pytest.param(lambda me, other: team_key(other), id="another-members-folder"),
        pytest.param(lambda me, other: f"teams/{TEAM}/{uuid.uuid4()}.png", id="no-identity-folder"),
        pytest.param(lambda me, other: f"teams/{TEAM}/{me.identity_id}/thumbs/{uuid.uuid4()}.jpg", id="a-thumbnail"),
        pytest.param(lambda me, other: f"teams/{TEAM}/{me.identity_id}/../x.png", id="dot-segments"),
    ],
)
def test_a_team_key_not_in_the_members_own_team_folder_is_refused(dana, erin, bucket_admin, make_key):
    """Another team's prefix, erin's folder, no folder, a thumbnail, a dotted path: 400 with the fixed message, nothing written."""
    key = make_key(dana, erin)
    bucket_admin.put(key, PNG)
    response = send(dana.client, "POST", API, {"key": key})
    assert is_json_error(response, 400) and response.json()["error"] == "That upload is not in a team folder of yours."
    assert not Photo.objects.filter(key=key).exists() and bucket_admin.has(key)


def test_a_team_upload_that_never_arrived_is_400(dana):
    """The key is dana's to use, but nothing is there: the fixed message, nothing written."""
    key = team_key(dana)
    response = send(dana.client, "POST", API, {"key": key})
    assert is_json_error(response, 400) and response.json()["error"] == "The upload did not arrive. Please try again."
    assert not Photo.objects.filter(key=key).exists()


def test_a_team_upload_that_is_no_image_is_deleted_and_refused(dana, bucket_admin):
    """Checked like a private upload: not an image, so every version is deleted."""
    key = team_key(dana)
    dana.upload(key, b"<html>not a photo</html>", "image/png")
    response = send(dana.client, "POST", API, {"key": key})
    assert is_json_error(response, 400)
    assert not Photo.objects.filter(key=key).exists() and bucket_admin.versions(key) == []


def test_team_members_list_each_others_team_photos(dana, erin):
    """erin lists dana's team photo, newest first; the listing pages like the other galleries."""
    first, second = team_uploaded(dana, title="one"), team_uploaded(erin, title="two")
    page = erin.client.get(TEAM_API, {"limit": 1}).json()
    assert [p["id"] for p in page["photos"]] == [second["id"]]
    following = erin.client.get(page["next"]).json()
    assert [p["id"] for p in following["photos"]] == [first["id"]] and following["next"] is None
    assert page["next"].startswith(f"{TEAM_API}?")
    assert erin.client.get(f"{API}/{first['id']}").json()["id"] == first["id"]  # one photo, too


@pytest.mark.parametrize("who", ["frank", "pool_user", "guest"])
def test_the_team_listing_and_photos_are_404_to_everyone_else(request, dana, team_site, who):
    """frank, a user-pool user and a guest: the listing and the photo answer 404, as for a team that does not exist."""
    photo = team_uploaded(dana)
    client = Client() if who == "guest" else request.getfixturevalue(who).client
    for path in (TEAM_API, f"{API}/{photo['id']}"):
        response = client.get(path)
        assert is_json_error(response, 404), path
    assert client.get(TEAM_API).json() == dana.client.get("/api/teams/nosuchteam/photos").json()
    assert photo["id"] not in json.dumps(client.get(API).json() if who != "guest" else {})


def test_team_photos_are_not_in_the_owners_own_or_the_public_listing(dana):
    """A team photo is the team's: not among dana's own photos, not public."""
    photo = team_uploaded(dana)
    assert photo["id"] not in [p["id"] for p in dana.client.get(API).json()["photos"]]
    assert photo["id"] not in [p["id"] for p in Client().get(PUBLIC).json()["photos"]]


def test_a_team_photo_cannot_be_published_or_unpublished(dana, bucket_admin):
    """409 with the fixed message, nothing copied or changed."""
    photo = team_uploaded(dana)
    public_key = f"public/{dana.identity_id}/{photo['key'].rsplit('/', 1)[-1]}"
    bucket_admin.put(public_key, PNG)
    for path, body in ((f"{API}/{photo['id']}/publish", {"publicKey": public_key}), (f"{API}/{photo['id']}/unpublish", None)):
        response = send(dana.client, "POST", path, body)
        assert is_json_error(response, 409) and "cannot be published" in response.json()["error"], path
    row = Photo.objects.get(pk=photo["id"])
    assert (row.visibility, row.team, row.public_key) == ("team", TEAM, "")


def test_only_the_uploader_renames_or_deletes_a_team_photo(dana, erin, bucket_admin):
    """erin sees dana's team photo but may not change it (404); dana deletes it, every version of both objects."""
    photo = team_uploaded(dana)
    assert is_json_error(send(erin.client, "PATCH", f"{API}/{photo['id']}", {"title": "mine now"}), 404)
    assert is_json_error(send(erin.client, "DELETE", f"{API}/{photo['id']}"), 404)
    assert send(dana.client, "DELETE", f"{API}/{photo['id']}").status_code == 204
    assert bucket_admin.versions(photo["key"]) == [] and bucket_admin.versions(photo["thumbKey"]) == []


def test_a_team_member_rechecks_a_team_photo_whose_object_is_gone(dana, erin, bucket_admin):
    """erin's browser could not load it: the server finds it gone and forgets it."""
    photo = team_uploaded(dana)
    for version in bucket_admin.versions(photo["key"]):
        bucket_admin.s3.delete_object(Bucket=bucket_admin.name, Key=photo["key"], VersionId=version)
    assert is_json_error(send(erin.client, "POST", f"{API}/{photo['id']}/recheck"), 404)
    assert not Photo.objects.filter(pk=photo["id"]).exists()
