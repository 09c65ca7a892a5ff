"""Photos against the shared deployment of the account tests: a fresh member
per test, signed in through the sign-in page and holding the identity-pool
credentials POST /api/credentials gives the browser, and the bucket as an
administrator sees it (to seed objects and to check what is left).

Every member is a new user with a new identity, so the prefixes a test
writes under are its own and no test sees another's objects."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.test import Client

from accounts.models import User
from tests.images import png_bytes
from tests.sandbox_kit import SandboxKit, s3_from_answer
from uploads.rules import key_prefix

# --- image bytes ------------------------------------------------------------------------
# The server recognises a photo by its leading bytes only, so the smallest
# file that starts like each format is enough; PNG is a real, decodable one.

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
GIF87 = b"GIF87a\x01\x00\x01\x00\x00\x00\x00," + b"\x00" * 32 + b";"
GIF89 = b"GIF89a\x01\x00\x01\x00\x00\x00\x00," + b"\x00" * 32 + b";"
WEBP = b"RIFF" + struct.pack("<I", 4 + 8 + 10) + b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f" + b"\x00" * 9
PNG = png_bytes()


def browser_type(body: bytes) -> str:
    """The Content-Type upload.js sends with these bytes: the image type they
    start like, else image/png (a browser types a file by its name, and the
    tests' uploads are named .png)."""
    for start, content_type in ((b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"), (b"RIFF", "image/webp")):
        if body.startswith(start):
            return content_type
    return "image/png"


# --- the bucket as an administrator sees it ---------------------------------------------


@dataclass
class Bucket:
    """The deployment's bucket through the sandbox's admin key (as the AWS
    console would show it), for seeding objects and checking effects."""

    name: str
    s3: Any

    def put(self, key: str, body: bytes, content_type: str | None = None) -> str | None:
        """PutObject with the admin key; returns the new version's ID."""
        answer = self.s3.put_object(Bucket=self.name, Key=key, Body=body, ContentType=content_type or browser_type(body))
        return answer.get("VersionId")  # none while versioning is suspended

    def versions(self, key: str) -> list[str]:
        """Every version and delete marker of exactly `key`, as ListObjectVersions shows them."""
        listed = self.s3.list_object_versions(Bucket=self.name, Prefix=key)
        return [v["VersionId"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])] if v["Key"] == key]

    def has(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.name, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.name, Key=key)


@pytest.fixture
def bucket(shared_site, sandbox: SandboxKit) -> Bucket:
    return Bucket(shared_site.bucket, sandbox.client("s3"))


@pytest.fixture
def scratch() -> str:
    """A prefix no other test writes under (ends with '/')."""
    return f"scratch/{uuid.uuid4().hex}/"


# --- members: signed-in users with their browser's credentials ---------------------------


@dataclass
class Member:
    """A signed-in user: the test client holding their session, their row,
    and an S3 client built from POST /api/credentials as upload.js builds it."""

    client: Client
    user: User
    s3: Any
    bucket: str

    @property
    def identity_id(self) -> str:
        return self.user.identity_id

    def key(self, name: str | None = None, visibility: str = "private") -> str:
        """A key under this member's own prefix; by default named as upload.js names uploads."""
        return key_prefix(visibility=visibility, identity_id=self.identity_id) + (name or f"{uuid.uuid4()}.png")

    def upload(self, key: str, body: bytes, content_type: str | None = None) -> str | None:
        """PutObject with the member's own credentials and a Content-Type, as
        the browser does; returns the new version's ID."""
        answer = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type or browser_type(body))
        return answer.get("VersionId")  # none while versioning is suspended


@pytest.fixture
def member(shared_site, make_user, sign_in) -> Callable[[], Member]:
    """Make a new member: a fresh user signed in, with credentials fetched."""

    def make() -> Member:
        email = make_user()
        client = sign_in(email)
        response = client.post("/api/credentials")
        assert response.status_code == 200, response.content
        answer = response.json()
        user = User.objects.get(email=email)
        assert user.identity_id == answer["identityId"]
        return Member(client=client, user=user, s3=s3_from_answer(answer), bucket=answer["bucket"])

    return make


@pytest.fixture
def owner(member) -> Member:
    """The member whose photos a test is about."""
    return member()


@pytest.fixture
def moderator(shared_site, make_user, sign_in, sandbox: SandboxKit) -> Member:
    """A fresh member of the moderators group, so the identity pool gives
    their credentials the moderator role (Token role mapping)."""
    from infra.provision import MODERATORS

    email = make_user()
    idp = sandbox.client("cognito-idp")
    idp.admin_add_user_to_group(UserPoolId=shared_site.user_pool_id, Username=email, GroupName=MODERATORS)
    client = sign_in(email)
    answer = client.post("/api/credentials").json()
    return Member(client=client, user=User.objects.get(email=email), s3=s3_from_answer(answer), bucket=answer["bucket"])


@pytest.fixture
def stranger(member) -> Member:
    """Another member, whose objects the owner must never get."""
    return member()
