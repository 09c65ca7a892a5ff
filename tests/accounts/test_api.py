"""POST /api/credentials through the test client: its exact answer, the
refusals (CSRF, other methods, guests disabled, after sign-out), and what the
credentials it hands out can and cannot do in S3, tried with boto3 as the
browser would and checked with the admin key."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.test import Client

from accounts.models import User
from tests.sandbox_kit import s3_from_answer
from tests.site_fixtures import browser_endpoint

API = "/api/credentials"
KEYS = {"identityId", "accessKeyId", "secretAccessKey", "sessionToken", "expiration", "region", "bucket", "albumsTable", "endpoint", "authenticated"}
IDENTITY_ID = re.compile(r"^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_json_error(response, status: int) -> bool:
    return (
        response.status_code == status
        and response["Content-Type"] == "application/json"
        and response["Cache-Control"] == "no-store"
        and set(response.json()) == {"error"}
    )


# --- the answer -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["signed-in user", "guest"])
def test_the_answer_has_exactly_the_documented_fields(shared_site, sandbox, settings, make_user, sign_in, who):
    """Exactly the ten keys, JSON, no-store, expiration ISO 8601 UTC about an hour ahead, and this deployment's bucket, albums table and endpoint."""
    client = sign_in(make_user()) if who == "signed-in user" else Client()
    response = client.post(API)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    answer = response.json()
    assert set(answer) == KEYS

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["expiration"])
    expiration = dt.datetime.strptime(answer["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    ahead = expiration - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=55) < ahead <= dt.timedelta(minutes=60)
    assert IDENTITY_ID.match(answer["identityId"])
    assert answer["accessKeyId"].startswith("ASIA") and answer["secretAccessKey"] and answer["sessionToken"]
    assert answer["region"] == "us-east-1"
    assert answer["bucket"] == shared_site.bucket
    assert answer["albumsTable"] == shared_site.albums_table == f"{settings.PHOTOSHARE_NAME}-albums"
    assert answer["endpoint"] == browser_endpoint(sandbox)  # the browser reaches S3 on another host than the app
    assert answer["authenticated"] is (who == "signed-in user")
    if who == "signed-in user":
        assert answer["identityId"] == User.objects.get().identity_id


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_get_405_json(shared_site, method):
    """Anything but POST: 405 with a JSON error, Allow: POST, and no credentials."""
    response = getattr(Client(), method)(API)
    assert is_json_error(response, 405)
    assert response["Allow"] == "POST"


def test_a_post_without_csrf_token_is_refused_with_json(shared_site, make_user, sign_in):
    """A signed-in session's POST with no CSRF token (a cross-site request): 403 JSON, no credentials."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = sign_in(make_user()).cookies
    response = strict.post(API)
    assert is_json_error(response, 403)
    assert "accessKeyId" not in response.content.decode()


def test_a_post_with_a_wrong_csrf_token_is_refused(shared_site, make_user, sign_in):
    """A CSRF header that does not match the cookie: 403 JSON."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = sign_in(make_user()).cookies
    strict.get("/")  # sets the csrftoken cookie
    assert is_json_error(strict.post(API, HTTP_X_CSRFTOKEN="x" * 64), 403)


def test_a_post_with_the_csrf_token_gets_credentials(shared_site, make_user, sign_in):
    """The page's CSRF token in X-CSRFToken, as credentials.js sends it: 200."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = sign_in(make_user()).cookies
    strict.get("/")
    response = strict.post(API, HTTP_X_CSRFTOKEN=strict.cookies["csrftoken"].value)
    assert response.status_code == 200 and response.json()["authenticated"] is True


def test_guests_get_403_json_when_guests_are_disabled(shared_site, make_user, sign_in, settings):
    """ALLOW_GUESTS=False: a guest gets 403 JSON and no identity is made; a signed-in user still gets credentials."""
    settings.ALLOW_GUESTS = False
    guest = Client()
    response = guest.post(API)
    assert is_json_error(response, 403)
    assert "cognito.guest_identity_id" not in guest.session
    assert sign_in(make_user()).post(API).json()["authenticated"] is True


def test_after_sign_out_only_guest_credentials_come(shared_site, sandbox, make_user, sign_in):
    """After sign-out the same browser gets guest credentials for a new identity, which cannot read the user's files."""
    client = sign_in(make_user())
    mine = client.post(API).json()
    key = f"private/{mine['identityId']}/photo.jpg"
    s3_from_answer(mine).put_object(Bucket=mine["bucket"], Key=key, Body=b"mine")
    client.post("/accounts/sign-out/")

    after = client.post(API).json()
    assert after["authenticated"] is False
    assert after["identityId"] != mine["identityId"]
    assert after["accessKeyId"] != mine["accessKeyId"]
    with pytest.raises(ClientError) as denied:
        s3_from_answer(after).get_object(Bucket=after["bucket"], Key=key)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


# --- what the credentials can do in S3 ------------------------------------------------------


@pytest.fixture
def people(shared_site, sandbox, make_user, sign_in) -> dict[str, Any]:
    """Credentials from the endpoint for two signed-in users and a guest, and
    objects the admin key seeded: one in each user's private prefix and one
    published photo."""
    answers = {name: sign_in(make_user()).post(API).json() for name in ("me", "other")}
    answers["guest"] = Client().post(API).json()
    admin = sandbox.client("s3")
    seeded = {
        "other's private": f"private/{answers['other']['identityId']}/{uuid.uuid4().hex}.jpg",
        "my private": f"private/{answers['me']['identityId']}/{uuid.uuid4().hex}.jpg",
        "published": f"public/{answers['other']['identityId']}/{uuid.uuid4().hex}.jpg",
    }
    for key in seeded.values():
        admin.put_object(Bucket=shared_site.bucket, Key=key, Body=b"seeded")
    return {"answers": answers, "seeded": seeded, "admin": admin, "bucket": shared_site.bucket}


def _key(people: dict[str, Any], where: str) -> str:
    """A key by description: a seeded object, or a new key in someone's prefix."""
    if where in people["seeded"]:
        return people["seeded"][where]
    area, owner = where.split(" ", 1)  # e.g. "private new:other"
    who = owner.split(":")[1]
    return f"{area}/{people['answers'][who]['identityId']}/{uuid.uuid4().hex}.jpg"


# (actor, action, where, allowed). "private new:me" is a new key under private/<me's identity ID>/.
ACCESS = [
    ("me", "write", "private new:me", True),
    ("me", "read", "my private", True),
    ("me", "read", "other's private", False),
    ("me", "write", "other's private", False),
    ("me", "write", "private new:other", False),
    ("me", "delete", "other's private", False),
    ("me", "read", "published", True),
    ("guest", "read", "published", True),
    ("guest", "write", "public new:guest", False),
    ("guest", "write", "public new:other", False),
    ("guest", "write", "private new:guest", False),
    ("guest", "write", "private new:other", False),
    ("guest", "write", "published", False),
    ("guest", "delete", "published", False),
    ("guest", "read", "my private", False),
]


@pytest.mark.parametrize("actor, action, where, allowed", ACCESS, ids=[f"{a} {b} {c}" for a, b, c, _ in ACCESS])
def test_endpoint_credentials_reach_exactly_their_prefix(people, actor, action, where, allowed):
    """With the endpoint's credentials, each S3 call succeeds or is AccessDenied as the policy says, and the admin key sees the effect."""
    answer = people["answers"][actor]
    s3, admin, bucket = s3_from_answer(answer), people["admin"], people["bucket"]
    key = _key(people, where)
    body = f"written by {actor}".encode()
    call = {
        "read": lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
        "write": lambda: s3.put_object(Bucket=bucket, Key=key, Body=body),
        "delete": lambda: s3.delete_object(Bucket=bucket, Key=key),
    }[action]
    before = _stored(admin, bucket, key)
    if allowed:
        result = call()
        if action == "read":
            assert result == b"seeded"
    else:
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    effect = {"read": before, "write": body, "delete": None}[action]
    assert _stored(admin, bucket, key) == (effect if allowed else before)


def _stored(admin, bucket: str, key: str) -> bytes | None:
    """The object's content as the admin key sees it, None when absent."""
    try:
        return admin.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchKey":
            raise
        return None


def test_a_user_lists_only_their_own_prefix(people):
    """ListBucket on private/<own id>/ works and shows their file; on another user's prefix it is denied."""
    me, other = people["answers"]["me"], people["answers"]["other"]
    s3 = s3_from_answer(me)
    listed = s3.list_objects_v2(Bucket=people["bucket"], Prefix=f"private/{me['identityId']}/")
    assert [o["Key"] for o in listed["Contents"]] == [people["seeded"]["my private"]]
    with pytest.raises(ClientError) as denied:
        s3.list_objects_v2(Bucket=people["bucket"], Prefix=f"private/{other['identityId']}/")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
