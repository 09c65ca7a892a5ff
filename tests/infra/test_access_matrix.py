"""Who may read, write, delete and list under each prefix, cell by cell, with real credentials from
the provisioned identity pool: alice owns the prefixes, bob is another
signed-in user, carol is in `moderators` (and gets the moderator role through
the Token mapping), and a guest comes in without Logins. Every cell is tried
both ways, and its effect checked in S3 with the admin key."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import override_settings

from infra.demo_users import demo_users_seed
from infra.provision import deployment_deprovision, deployment_provision
from core.deployment import Deployment
from tests.actors import guest_credentials, user_credentials
from tests.sandbox_kit import SandboxKit

# The intended access of the IAM policies in infra/policies/. "moderator as owner": carol on her own prefixes, since
# moderators are signed-in users too.
MATRIX = {
    "private": {
        "owner": {"read", "write", "delete", "list"},
        "other signed-in user": set(),
        "moderator": set(),
        "guest": set(),
        "moderator as owner": {"read", "write", "delete", "list"},
    },
    "public": {
        "owner": {"read", "write", "delete", "list"},
        "other signed-in user": {"read", "list"},
        "moderator": {"read", "list", "delete"},
        "guest": {"read", "list"},
        "moderator as owner": {"read", "write", "delete", "list"},
    },
}

# Actor -> (who acts, whose prefix).
ACTORS = {
    "owner": ("alice", "alice"),
    "other signed-in user": ("bob", "alice"),
    "moderator": ("carol", "alice"),
    "guest": ("guest", "alice"),
    "moderator as owner": ("carol", "carol"),
}


@dataclass
class World:
    kit: SandboxKit
    deployment: Deployment
    name: str  # PHOTOSHARE_NAME
    identities: dict[str, str]  # person -> identity ID
    credentials: dict[str, dict[str, str]]  # person -> boto3 credential kwargs
    clients: dict[str, Any]  # person -> S3 client with those credentials

    @property
    def bucket(self) -> str:
        return self.deployment.bucket

    @property
    def admin(self) -> Any:
        return self.kit.client("s3")

    def key(self, prefix: str, whose: str) -> str:
        """A fresh key under `prefix/<identity of whose>/`."""
        return f"{prefix}/{self.identities[whose]}/{uuid.uuid4().hex}.jpg"

    def exists(self, key: str) -> bool:
        try:
            self.admin.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
            return False
        return True

    def upload_started(self, key: str) -> str:
        """A multipart upload with one part, started by the admin; its UploadId."""
        upload_id = self.admin.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.admin.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part")
        return upload_id

    def upload_open(self, key: str, upload_id: str) -> bool:
        uploads = self.admin.list_multipart_uploads(Bucket=self.bucket, Prefix=key).get("Uploads", [])
        return any(u["UploadId"] == upload_id for u in uploads)


@pytest.fixture(scope="module")
def world(sandbox, tmp_path_factory) -> Iterator[World]:
    """One provisioned deployment with the demo users, shared by this module's
    read-mostly tests (each writes keys of its own)."""
    name = f"m{uuid.uuid4().hex[:10]}"
    which = {
        "PHOTOSHARE_AWS": "local",
        "AWS_ENDPOINT_URL": sandbox.endpoint,
        "PHOTOSHARE_NAME": name,
        "PHOTOSHARE_BUCKET": f"{name}-photos",
        "PHOTOSHARE_DEPLOYMENT_FILE": tmp_path_factory.mktemp("matrix") / "deployment.json",
    }
    with override_settings(**which):
        deployment = deployment_provision(report=lambda line: None)
        demo_users_seed(report=lambda line: None)

        identities, credentials = {}, {}
        for person in ("alice", "bob", "carol"):
            identities[person], credentials[person] = user_credentials(
                sandbox, deployment, email=f"{person}@example.com", password=settings.DEMO_PASSWORD
            )
        identities["guest"], credentials["guest"] = guest_credentials(sandbox, deployment)
        clients = {person: sandbox.client("s3", c) for person, c in credentials.items()}
        yield World(sandbox, deployment, name, identities, credentials, clients)
        deployment_deprovision(report=lambda line: None)


def _denied(call: Callable[[], Any]) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


# --- operations: each tries one thing as `who` under `prefix/<whose id>/` and
# checks its effect in S3, whether `allowed` or not.


def _read(world: World, who: str, key: str, allowed: bool) -> None:
    world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"photo")
    s3 = world.clients[who]
    if allowed:
        assert s3.get_object(Bucket=world.bucket, Key=key)["Body"].read() == b"photo"
        assert s3.head_object(Bucket=world.bucket, Key=key)["ContentLength"] == 5
    else:
        _denied(lambda: s3.get_object(Bucket=world.bucket, Key=key))


def _read_version(world: World, who: str, key: str, allowed: bool) -> None:
    """The version a photo is pinned to, after an overwrite made another one current."""
    pinned = world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"photo")["VersionId"]
    world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"overwritten")
    s3 = world.clients[who]
    if allowed:
        assert s3.get_object(Bucket=world.bucket, Key=key, VersionId=pinned)["Body"].read() == b"photo"
        assert s3.head_object(Bucket=world.bucket, Key=key, VersionId=pinned)["ContentLength"] == 5
    else:
        _denied(lambda: s3.get_object(Bucket=world.bucket, Key=key, VersionId=pinned))


def _write(world: World, who: str, key: str, allowed: bool) -> None:
    s3 = world.clients[who]
    if allowed:
        s3.put_object(Bucket=world.bucket, Key=key, Body=b"mine")
    else:
        _denied(lambda: s3.put_object(Bucket=world.bucket, Key=key, Body=b"mine"))
    assert world.exists(key) is allowed


def _multipart_write(world: World, who: str, key: str, allowed: bool) -> None:
    s3 = world.clients[who]

    def upload() -> None:
        upload_id = s3.create_multipart_upload(Bucket=world.bucket, Key=key)["UploadId"]
        etag = s3.upload_part(Bucket=world.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part")["ETag"]
        s3.complete_multipart_upload(
            Bucket=world.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]},
        )

    if allowed:
        upload()
    else:
        _denied(upload)
    assert world.exists(key) is allowed


def _multipart_abort(world: World, who: str, key: str, allowed: bool) -> None:
    upload_id = world.upload_started(key)
    s3 = world.clients[who]
    if allowed:
        s3.abort_multipart_upload(Bucket=world.bucket, Key=key, UploadId=upload_id)
    else:
        _denied(lambda: s3.abort_multipart_upload(Bucket=world.bucket, Key=key, UploadId=upload_id))
    assert world.upload_open(key, upload_id) is not allowed


def _multipart_list_parts(world: World, who: str, key: str, allowed: bool) -> None:
    upload_id = world.upload_started(key)
    s3 = world.clients[who]
    if allowed:
        assert [p["PartNumber"] for p in s3.list_parts(Bucket=world.bucket, Key=key, UploadId=upload_id)["Parts"]] == [1]
    else:
        _denied(lambda: s3.list_parts(Bucket=world.bucket, Key=key, UploadId=upload_id))
    world.admin.abort_multipart_upload(Bucket=world.bucket, Key=key, UploadId=upload_id)


def _delete(world: World, who: str, key: str, allowed: bool) -> None:
    world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"photo")
    s3 = world.clients[who]
    if allowed:
        s3.delete_object(Bucket=world.bucket, Key=key)
    else:
        _denied(lambda: s3.delete_object(Bucket=world.bucket, Key=key))
    assert world.exists(key) is not allowed


def _list(world: World, who: str, key: str, allowed: bool) -> None:
    world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"photo")
    prefix = key.rsplit("/", 1)[0] + "/"
    s3 = world.clients[who]
    if allowed:
        listed = s3.list_objects_v2(Bucket=world.bucket, Prefix=prefix)
        assert key in [o["Key"] for o in listed.get("Contents", [])]
    else:
        _denied(lambda: s3.list_objects_v2(Bucket=world.bucket, Prefix=prefix))


# Operation -> (the matrix column it belongs to, how to try it).
OPERATIONS: dict[str, tuple[str, Callable[[World, str, str, bool], None]]] = {
    "GetObject and HeadObject": ("read", _read),
    "GetObject and HeadObject of a pinned version": ("read", _read_version),
    "PutObject": ("write", _write),
    "multipart upload": ("write", _multipart_write),
    "AbortMultipartUpload": ("write", _multipart_abort),
    "ListParts": ("write", _multipart_list_parts),
    "DeleteObject": ("delete", _delete),
    "ListObjectsV2 on the prefix": ("list", _list),
}

CELLS = [
    pytest.param(prefix, actor, operation, OPERATIONS[operation][0] in rights, id=f"{prefix}-{actor}-{operation}")
    for prefix, row in MATRIX.items()
    for actor, rights in row.items()
    for operation in OPERATIONS
]


@pytest.mark.parametrize("prefix, actor, operation, allowed", CELLS)
def test_matrix_cell(world, prefix, actor, operation, allowed):
    """One cell of the access matrix, allowed or denied as MATRIX says, with its effect in S3."""
    who, whose = ACTORS[actor]
    _, attempt = OPERATIONS[operation]
    attempt(world, who, world.key(prefix, whose), allowed)


@pytest.mark.parametrize(
    "who, role",
    [
        ("alice", "authenticated"),
        ("bob", "authenticated"),
        ("carol", "moderator"),
        ("guest", "unauthenticated"),
    ],
)
def test_each_actor_gets_its_role(world, who, role):
    """The Token role mapping gives carol (in moderators) the moderator role, other users and guests theirs."""
    arn = world.kit.client("sts", world.credentials[who]).get_caller_identity()["Arn"]
    assert f":assumed-role/{world.name}-{role}/" in arn


# Listings outside the matrix: no prefix, a whole top-level prefix, or a
# prefix that is not a full identity ID would show other users' identity IDs.
@pytest.mark.parametrize("who", ["alice", "bob", "carol", "guest"])
@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param(None, id="no-prefix"),
        pytest.param("", id="empty-prefix"),
        pytest.param("private/", id="private-root"),
        pytest.param("public/", id="public-root"),
        pytest.param("public/us-east-1", id="partial-identity"),
        pytest.param("other/", id="outside-prefixes"),
    ],
)
def test_listing_outside_one_prefix_is_denied(world, who, prefix):
    """ListBucket without a full private/<id>/ or public/<id>/ prefix is denied to everyone."""
    s3 = world.clients[who]
    params = {} if prefix is None else {"Prefix": prefix}
    _denied(lambda: s3.list_objects_v2(Bucket=world.bucket, **params))


@pytest.mark.parametrize(
    "who, key_of, allowed",
    [
        # Keys outside any identity's prefix belong to nobody.
        ("alice", lambda w: "public/photo.jpg", False),
        ("alice", lambda w: "photo.jpg", False),
        ("carol", lambda w: "other/photo.jpg", False),
        # A guest has an identity ID too, but owns nothing.
        ("guest", lambda w: w.key("public", "guest"), False),
        ("guest", lambda w: w.key("private", "guest"), False),
    ],
)
def test_writes_outside_own_prefixes_are_denied(world, who, key_of, allowed):
    """Nobody writes where no owner prefix of theirs is, guests not even under their own identity ID."""
    _write(world, who, key_of(world), allowed)


@pytest.mark.parametrize(
    "source_prefix, allowed",
    [("private", False), ("public", True)],
)
def test_copy_from_another_user(world, source_prefix, allowed):
    """Copying needs read on the source: bob copies alice's published photo but not her private one."""
    source = world.key(source_prefix, "alice")
    world.admin.put_object(Bucket=world.bucket, Key=source, Body=b"photo")
    target = world.key("private", "bob")
    s3 = world.clients["bob"]
    copy = lambda: s3.copy_object(Bucket=world.bucket, Key=target, CopySource={"Bucket": world.bucket, "Key": source})  # noqa: E731
    if allowed:
        copy()
    else:
        _denied(copy)
    assert world.exists(target) is allowed


@pytest.mark.parametrize(
    "who, source_prefix, whose, allowed",
    [
        ("alice", "private", "alice", True),  # publishing: her checked private version into her public prefix
        ("bob", "public", "alice", True),
        ("bob", "private", "alice", False),
        ("carol", "private", "alice", False),
    ],
)
def test_copy_of_a_pinned_version(world, who, source_prefix, whose, allowed):
    """A version-pinned copy source needs GetObjectVersion on it: allowed exactly where reading is, and it copies that version."""
    source = world.key(source_prefix, whose)
    pinned = world.admin.put_object(Bucket=world.bucket, Key=source, Body=b"photo")["VersionId"]
    world.admin.put_object(Bucket=world.bucket, Key=source, Body=b"overwritten")
    target = world.key("public", who)
    s3 = world.clients[who]
    copy_source = {"Bucket": world.bucket, "Key": source, "VersionId": pinned}
    copy = lambda: s3.copy_object(Bucket=world.bucket, Key=target, CopySource=copy_source, MetadataDirective="COPY")  # noqa: E731
    if allowed:
        copy()
        assert world.admin.get_object(Bucket=world.bucket, Key=target)["Body"].read() == b"photo"
    else:
        _denied(copy)
        assert not world.exists(target)


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "guest"])
@pytest.mark.parametrize("prefix", ["private", "public"])
def test_versions_stay_the_servers(world, who, prefix):
    """Nobody but the server lists versions or deletes one: what the server pinned stays stored."""
    key = world.key(prefix, "alice")
    pinned = world.admin.put_object(Bucket=world.bucket, Key=key, Body=b"photo")["VersionId"]
    s3 = world.clients[who]
    _denied(lambda: s3.list_object_versions(Bucket=world.bucket, Prefix=key.rsplit("/", 1)[0] + "/"))
    _denied(lambda: s3.delete_object(Bucket=world.bucket, Key=key, VersionId=pinned))
    assert world.admin.head_object(Bucket=world.bucket, Key=key, VersionId=pinned)["ContentLength"] == 5


# --- the albums table (issue 17) ------------------------------------------------------------------
# Who reaches whose albums, with the same real credentials: each signed-in person only their own
# partition (dynamodb:LeadingKeys = their identity ID), moderators included; guests nothing, not
# even a partition of their own; nobody a Scan.

ALBUM_ACTORS = {  # actor -> (who acts, whose albums, allowed)
    "owner": ("alice", "alice", True),
    "other signed-in user": ("bob", "alice", False),
    "moderator": ("carol", "alice", False),
    "moderator as owner": ("carol", "carol", True),
    "guest": ("guest", "alice", False),
    "guest as owner": ("guest", "guest", False),
}


def _albums(world: World, who: str) -> Any:
    return world.kit.client("dynamodb", world.credentials[who])


def _album_key(world: World, whose: str) -> dict[str, Any]:
    return {"identityId": {"S": world.identities[whose]}, "albumId": {"S": str(uuid.uuid4())}}


def _album_put_by_admin(world: World, key: dict[str, Any]) -> None:
    world.kit.client("dynamodb").put_item(
        TableName=world.deployment.albums_table, Item={**key, "title": {"S": "Seed"}, "version": {"N": "1"}}
    )


def _album_stored(world: World, key: dict[str, Any]) -> dict[str, Any] | None:
    return world.kit.client("dynamodb").get_item(TableName=world.deployment.albums_table, Key=key, ConsistentRead=True).get("Item")


def _dynamodb_denied(call: Callable[[], Any], allowed: bool) -> Any:
    if allowed:
        return call()
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    return None


def _album_get(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    _album_put_by_admin(world, key)
    got = _dynamodb_denied(lambda: _albums(world, who).get_item(TableName=world.deployment.albums_table, Key=key), allowed)
    assert (got or {}).get("Item", {}).get("title") == ({"S": "Seed"} if allowed else None)


def _album_put(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    item = {**key, "title": {"S": "Mine"}, "version": {"N": "1"}}
    _dynamodb_denied(lambda: _albums(world, who).put_item(TableName=world.deployment.albums_table, Item=item), allowed)
    assert (_album_stored(world, key) is not None) is allowed


def _album_update(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    _album_put_by_admin(world, key)
    _dynamodb_denied(
        lambda: _albums(world, who).update_item(
            TableName=world.deployment.albums_table, Key=key, UpdateExpression="SET title = :t",
            ExpressionAttributeValues={":t": {"S": "Changed"}},
        ),
        allowed,
    )
    assert _album_stored(world, key)["title"] == {"S": "Changed" if allowed else "Seed"}


def _album_delete(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    _album_put_by_admin(world, key)
    _dynamodb_denied(lambda: _albums(world, who).delete_item(TableName=world.deployment.albums_table, Key=key), allowed)
    assert (_album_stored(world, key) is None) is allowed


def _album_query(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    _album_put_by_admin(world, key)
    answer = _dynamodb_denied(
        lambda: _albums(world, who).query(
            TableName=world.deployment.albums_table, KeyConditionExpression="identityId = :id",
            ExpressionAttributeValues={":id": key["identityId"]},
        ),
        allowed,
    )
    if allowed:
        assert key["albumId"] in [item["albumId"] for item in answer["Items"]]


def _album_batch_get(world: World, who: str, whose: str, allowed: bool) -> None:
    key = _album_key(world, whose)
    _album_put_by_admin(world, key)
    request = {world.deployment.albums_table: {"Keys": [key]}}
    answer = _dynamodb_denied(lambda: _albums(world, who).batch_get_item(RequestItems=request), allowed)
    if allowed:
        assert len(answer["Responses"][world.deployment.albums_table]) == 1


ALBUM_OPERATIONS = {
    "GetItem": _album_get,
    "PutItem": _album_put,
    "UpdateItem": _album_update,
    "DeleteItem": _album_delete,
    "Query": _album_query,
    "BatchGetItem": _album_batch_get,
}


@pytest.mark.parametrize("operation", ALBUM_OPERATIONS)
@pytest.mark.parametrize("actor", ALBUM_ACTORS)
def test_albums_cell(world, actor, operation):
    """Each album operation as each actor, allowed exactly on one's own partition, its effect checked as admin."""
    who, whose, allowed = ALBUM_ACTORS[actor]
    ALBUM_OPERATIONS[operation](world, who, whose, allowed)


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "guest"])
def test_nobody_scans_the_albums_table(world, who):
    """A Scan names no partition key, so LeadingKeys cannot limit it: no role is granted it."""
    _dynamodb_denied(lambda: _albums(world, who).scan(TableName=world.deployment.albums_table), False)


def test_a_batch_with_another_identity_beside_ones_own_is_denied(world):
    """ForAllValues: every partition key in a BatchGetItem must be the caller's; one of bob's is enough to refuse it."""
    mine, theirs = _album_key(world, "alice"), _album_key(world, "bob")
    request = {world.deployment.albums_table: {"Keys": [mine, theirs]}}
    _dynamodb_denied(lambda: _albums(world, "alice").batch_get_item(RequestItems=request), False)


def test_a_write_on_an_old_version_fails_its_condition(world):
    """The albums' optimistic concurrency under the policy: the second writer of version 1 gets ConditionalCheckFailedException."""
    key = _album_key(world, "alice")
    table = world.deployment.albums_table
    _albums(world, "alice").put_item(TableName=table, Item={**key, "title": {"S": "A"}, "version": {"N": "1"}})

    def rename(title: str) -> None:
        _albums(world, "alice").update_item(
            TableName=table, Key=key, UpdateExpression="SET title = :t, #v = :next", ConditionExpression="#v = :expected",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":t": {"S": title}, ":next": {"N": "2"}, ":expected": {"N": "1"}},
        )

    rename("first tab")
    with pytest.raises(ClientError) as caught:
        rename("second tab")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert _album_stored(world, key)["title"] == {"S": "first tab"}
