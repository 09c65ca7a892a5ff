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


def member_signed_in(client, *, email: str) -> Member:
    """The Member behind a test client signed in as `email`, however it signed
    in: its credentials from POST /api/credentials, for its own identity."""
    response = client.post("/api/credentials")
    assert response.status_code == 200, response.content
    answer = response.json()
    user = User.objects.get(email=email)
    assert user.identity_id == answer["identityId"]
    return Member(client=client, user=user, s3=s3_from_answer(answer), bucket=answer["bucket"])


@pytest.fixture
def member(shared_site, make_user, sign_in) -> Callable[[], Member]:
    """Make a new member: a fresh user signed in, with credentials fetched."""

    def make() -> Member:
        email = make_user()
        return member_signed_in(sign_in(email), email=email)

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


# --- a team: people signed in with "Sign in with Winter Corp SSO" ---------------------------
# Each member signs in through the app's own SSO routes against the sandbox's
# OIDC provider (tests.actors.sso_client_sign_in), so their session holds the
# credentials the identity pool issued for the provider's ID token, with the
# role its Rules mapping chose on `hd`, as in production.

TEAM = "wintercorp"  # infra.provision.team_slug() of OIDC_TEAM_DOMAIN's default, wintercorp.com


@pytest.fixture(scope="session")
def _team_deployment(sandbox: SandboxKit, sso_sandbox: Any, tmp_path_factory) -> Any:
    """One deployment for every team test, provisioned with the SSO
    provider as OIDC_ISSUER: its IAM OIDC provider, team role and Rules mapping."""
    from django.test import override_settings

    from infra.provision import deployment_deprovision, deployment_provision
    from tests.site_fixtures import browser_endpoint

    name = f"m{uuid.uuid4().hex[:10]}"
    values = {
        "PHOTOSHARE_AWS": "local",
        "PHOTOSHARE_NAME": name,
        "PHOTOSHARE_BUCKET": f"{name}-photos",
        "PHOTOSHARE_DEPLOYMENT_FILE": tmp_path_factory.mktemp("team-site") / "deployment.json",
        "AWS_ENDPOINT_URL": sandbox.endpoint,
        "AWS_BROWSER_ENDPOINT_URL": browser_endpoint(sandbox),
        "OIDC_ISSUER": sso_sandbox.issuer,
        "OIDC_CLIENT_ID": sso_sandbox.client_id,
        "OIDC_CLIENT_SECRET": sso_sandbox.client_secret,
    }
    with override_settings(**values):
        deployment = deployment_provision(report=lambda line: None)
    assert deployment.team_role_arn, "provision made no team role"
    yield values, deployment
    with override_settings(**values):
        deployment_deprovision(report=lambda line: None)


@pytest.fixture
def team_site(_team_deployment, sso_sandbox, settings, db) -> Any:
    """The team deployment, with this test's settings pointed at it and its SSO provider."""
    values, deployment = _team_deployment
    for name, value in values.items():
        setattr(settings, name, value)
    sso_sandbox.settings_apply(settings)
    return deployment


def sso_member(email: str) -> Member:
    """`email` signed in with the SSO (a demo person, or any address), and the
    S3 client their browser builds from POST /api/credentials."""
    from tests.actors import sso_client_sign_in

    return member_signed_in(sso_client_sign_in(email), email=email)


def team_key(member: Member, *, team: str = TEAM, name: str | None = None) -> str:
    """A key in `member`'s folder of `team`'s prefix, named as upload.js names uploads."""
    return key_prefix(visibility="team", identity_id=member.identity_id, team=team) + (name or f"{uuid.uuid4()}.png")


@pytest.fixture
def sso(team_site) -> Callable[[str], Member]:
    """Sign someone in with the SSO: `sso("dana@wintercorp.com")`. A
    wintercorp.com address gets the team role, any other the authenticated one."""
    return sso_member


@pytest.fixture
def dana(sso) -> Member:
    return sso("dana@wintercorp.com")


@pytest.fixture
def erin(sso) -> Member:
    return sso("erin@wintercorp.com")


@pytest.fixture
def frank(sso) -> Member:
    """Signed in through the same SSO, but not from wintercorp.com: the authenticated role."""
    return sso("frank@example.org")


@pytest.fixture
def pool_user(team_site, sandbox: SandboxKit) -> Member:
    """A user-pool user of the team deployment, signed in through the sign-in page: the authenticated role."""
    from tests.actors import page_sign_in, user_create

    email = user_create(sandbox, user_pool_id=team_site.user_pool_id)
    client = page_sign_in(email)
    answer = client.post("/api/credentials").json()
    return Member(client=client, user=User.objects.get(email=email), s3=s3_from_answer(answer), bucket=answer["bucket"])


@pytest.fixture
def bucket_admin(team_site, sandbox: SandboxKit) -> Bucket:
    """The team deployment's bucket as an administrator sees it."""
    return Bucket(team_site.bucket, sandbox.client("s3"))
