"""uploads.viewer against the sandbox: which teams a request's user carries,
read from the role of the credentials the identity pool issued them (the
Rules mapping on the OIDC token's `hd`), and what S3 itself lets each of
those credentials do under `teams/wintercorp/`, which is what the answer
stands for."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from accounts.store import SESSION_CREDENTIALS, CredentialStore
from tests.uploads.conftest import PNG, TEAM, Member
from uploads.viewer import request_team, request_teams


def _request(member: Member | None):
    """A request as the member's browser would send it: their user and their session."""
    request = RequestFactory().get("/")
    if member is None:
        request.user, request.session = AnonymousUser(), {}
    else:
        request.user, request.session = member.user, member.client.session
    return request


def test_a_wintercorp_sso_user_carries_the_team(dana):
    """dana's credentials are a session of the team role, so she is a member of wintercorp."""
    request = _request(dana)
    assert [team.slug for team in request_teams(request)] == [TEAM]
    assert request_team(request, TEAM).domain == "wintercorp.com"
    assert request_team(request, "othercorp") is None


@pytest.mark.parametrize("who", ["frank", "pool_user"])
def test_the_authenticated_role_carries_no_team(request, who):
    """frank (SSO, example.org) and a user-pool user get the authenticated role: no team."""
    member = request.getfixturevalue(who)
    assert request_teams(_request(member)) == []
    assert request_team(_request(member), TEAM) is None


def test_a_guest_carries_no_team(team_site):
    assert request_teams(_request(None)) == []


def test_the_role_is_read_from_the_credentials_not_the_user(dana, frank):
    """dana's user with frank's credentials in her session is no member: only the issued role counts."""
    session = dana.client.session
    frank_credentials = frank.client.session[SESSION_CREDENTIALS]
    session[SESSION_CREDENTIALS] = {**frank_credentials, "user": dana.user.pk}
    session.save()
    assert request_teams(_request(dana)) == []


def test_without_cached_credentials_the_nav_asks_nothing_and_shows_no_team(dana):
    """issue=False reads only what the session holds; emptied, it says no team (and issues nothing)."""
    session = dana.client.session
    CredentialStore(session).credentials_forget()
    session.save()
    assert request_teams(_request(dana), issue=False) == []
    assert SESSION_CREDENTIALS not in dana.client.session


# --- what S3 lets those credentials do under teams/wintercorp/ ------------------------------


def _denied(call) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "AccessDenied"
    return False


def test_team_members_read_write_and_list_the_team_prefix(dana, erin):
    """dana writes in her folder of teams/wintercorp/, erin reads it and lists her folder and the whole prefix:
    the role, not the user, allows it."""
    key = f"teams/{TEAM}/{dana.identity_id}/{uuid.uuid4()}.png"
    dana.upload(key, PNG)
    assert erin.s3.get_object(Bucket=erin.bucket, Key=key)["Body"].read() == PNG
    for prefix in (f"teams/{TEAM}/{dana.identity_id}/", f"teams/{TEAM}/"):
        listed = erin.s3.list_objects_v2(Bucket=erin.bucket, Prefix=prefix)
        assert key in [item["Key"] for item in listed.get("Contents", [])], prefix
    assert _denied(lambda: erin.s3.delete_object(Bucket=erin.bucket, Key=key))  # no delete, even for the team


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda erin, dana: f"teams/{TEAM}/{dana.identity_id}/{uuid.uuid4()}.png", id="another-members-folder"),
        pytest.param(lambda erin, dana: f"teams/{TEAM}/{dana.identity_id}/thumbs/{uuid.uuid4()}.jpg", id="another-members-thumbs"),
        pytest.param(lambda erin, dana: f"teams/{TEAM}/{uuid.uuid4()}.png", id="the-prefix-root"),
        pytest.param(lambda erin, dana: f"teams/{TEAM}/{erin.identity_id}x/{uuid.uuid4()}.png", id="a-folder-named-like-her-own"),
    ],
)
def test_a_team_member_writes_only_in_her_own_folder(dana, erin, where):
    """erin's team credentials write under teams/wintercorp/<her identity ID>/ and nowhere else in the prefix:
    S3 refuses a single PutObject and starting a multipart upload elsewhere (both s3:PutObject)."""
    own = f"teams/{TEAM}/{erin.identity_id}/{uuid.uuid4()}.png"
    erin.upload(own, PNG)
    key = where(erin, dana)
    assert _denied(lambda: erin.upload(key, PNG))
    assert _denied(lambda: erin.s3.create_multipart_upload(Bucket=erin.bucket, Key=key, ContentType="image/png"))


def test_a_team_member_cannot_overwrite_or_touch_the_uploads_of_another(dana, erin, bucket_admin):
    """dana's photo stays hers: erin's overwrite is refused and the object keeps its one version; dana's open
    multipart upload can be neither listed nor aborted by erin."""
    key = f"teams/{TEAM}/{dana.identity_id}/{uuid.uuid4()}.png"
    version = dana.upload(key, PNG)
    assert _denied(lambda: erin.upload(key, b"not dana's photo"))
    assert bucket_admin.versions(key) == [version]
    assert bucket_admin.get(key) == PNG
    upload_id = dana.s3.create_multipart_upload(Bucket=dana.bucket, Key=key, ContentType="image/png")["UploadId"]
    assert _denied(lambda: erin.s3.list_parts(Bucket=erin.bucket, Key=key, UploadId=upload_id))
    assert _denied(lambda: erin.s3.abort_multipart_upload(Bucket=erin.bucket, Key=key, UploadId=upload_id))
    dana.s3.abort_multipart_upload(Bucket=dana.bucket, Key=key, UploadId=upload_id)  # hers to abort


@pytest.mark.parametrize("who", ["frank", "pool_user"])
def test_the_authenticated_role_is_denied_put_get_and_list_on_the_team_prefix(request, dana, who):
    """frank's (and any user-pool user's) credentials: S3 refuses PutObject, GetObject and ListBucket on teams/wintercorp/."""
    outsider = request.getfixturevalue(who)
    key = f"teams/{TEAM}/{dana.identity_id}/{uuid.uuid4()}.png"
    dana.upload(key, PNG)
    s3, bucket = outsider.s3, outsider.bucket
    assert _denied(lambda: s3.put_object(Bucket=bucket, Key=f"teams/{TEAM}/{outsider.identity_id}/{uuid.uuid4()}.png", Body=PNG))
    assert _denied(lambda: s3.put_object(Bucket=bucket, Key=key, Body=PNG))
    assert _denied(lambda: s3.get_object(Bucket=bucket, Key=key))
    assert _denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=f"teams/{TEAM}/"))
    assert _denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="teams/"))
