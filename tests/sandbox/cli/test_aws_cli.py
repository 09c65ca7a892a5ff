"""The AWS CLI, unchanged, as a client of the sandbox (issue 14): with a
signed-in user's identity-pool credentials exported as environment variables,
each command behaves as it does on AWS.

The CLI reaches the sandbox over HTTPS (tests/sandbox/cli/https_front.py says
why: only over TLS does it send aws-chunked bodies with trailing checksums),
and, where noted, over the sandbox's own plain HTTP as `make run` serves it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
import zlib
from pathlib import Path

import pytest
import requests

from tests.sandbox.cli.conftest import Aws
from tests.sandbox.cli.https_front import HttpsFront
from tests.sandbox_kit import ACCOUNT_ID, Deployment, as_boto3

MiB = 1024 * 1024
BIG = 40 * MiB  # bytes: above the CLI's 8 MiB multipart threshold, five parts of its 8 MiB chunk size
PART = 8 * MiB  # the CLI's default multipart_chunksize
TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(scope="module")
def alice(cli_deployment: Deployment) -> tuple[str, dict[str, str]]:
    """alice's identity ID and enhanced-flow credentials, got as the app gets them."""
    return cli_deployment.user_credentials("alice")


@pytest.fixture
def prefix(cli_deployment: Deployment, alice) -> str:
    """A fresh folder under alice's own `private/<identity id>/`, as an S3 URL."""
    identity_id, _ = alice
    return f"s3://{cli_deployment.bucket}/private/{identity_id}/{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def as_alice(aws: Aws, alice) -> Aws:
    return aws.with_credentials(alice[1])


def key_of(dep: Deployment, url: str) -> str:
    return url.removeprefix(f"s3://{dep.bucket}/")


def keys_under(dep: Deployment, url: str) -> list[str]:
    """Every key under an s3:// URL, listed with the admin key."""
    prefix = key_of(dep, url)
    pages = dep.kit.client("s3").get_paginator("list_objects_v2").paginate(Bucket=dep.bucket, Prefix=prefix)
    return sorted(o["Key"].removeprefix(prefix) for page in pages for o in page.get("Contents", []))


def head_with_checksum(cli: Aws, dep: Deployment, url: str) -> dict:
    key = key_of(dep, url)
    return cli.json("s3api", "head-object", "--bucket", dep.bucket, "--key", key, "--checksum-mode", "ENABLED")


def test_get_caller_identity_is_the_authenticated_role_session(as_alice: Aws, cli_deployment: Deployment):
    """`aws sts get-caller-identity` names the assumed authenticated role, as Cognito's sessions are named."""
    answer = as_alice.json("sts", "get-caller-identity")
    role_name = cli_deployment.roles["authenticated"].rsplit("/", 1)[1]
    role_id = cli_deployment.kit.client("iam").get_role(RoleName=role_name)["Role"]["RoleId"]
    assert answer == {
        "UserId": f"{role_id}:CognitoIdentityCredentials",
        "Account": ACCOUNT_ID,
        "Arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/CognitoIdentityCredentials",
    }


def test_enhanced_flow_through_the_cli_needs_no_credentials(
    aws: Aws, https_front: HttpsFront, cli_deployment: Deployment, alice
):
    """`initiate-auth`, `get-id`, `get-credentials-for-identity`: unsigned calls the CLI makes with no keys at all."""
    dep = cli_deployment
    mark = len(https_front.heads)
    tokens = aws.json(
        "cognito-idp", "initiate-auth", "--client-id", dep.client_id, "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", f"USERNAME=alice@example.com,PASSWORD={dep.users['alice@example.com']}",
    )
    logins = f"{dep.provider}={tokens['AuthenticationResult']['IdToken']}"
    got = aws.json("cognito-identity", "get-id", "--identity-pool-id", dep.identity_pool_id, "--logins", logins)
    identity_id = got["IdentityId"]
    assert identity_id == alice[0]  # the same identity as the app's own GetId for alice
    answer = aws.json(
        "cognito-identity", "get-credentials-for-identity", "--identity-id", identity_id, "--logins", logins
    )
    assert answer["IdentityId"] == identity_id
    assert set(answer["Credentials"]) == {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"}
    heads = https_front.requests_since(mark)
    assert [h.headers.get("x-amz-target") for h in heads] == [
        "AWSCognitoIdentityProviderService.InitiateAuth",
        "AWSCognitoIdentityService.GetId",
        "AWSCognitoIdentityService.GetCredentialsForIdentity",
    ]
    assert not [h for h in heads if "authorization" in h.headers]  # sent unsigned, as the CLI knows them to be

    # The credentials the CLI got work in the CLI, and with them set it still sends GetId unsigned.
    session = aws.with_credentials(as_boto3(answer["Credentials"]))
    assert session.json("sts", "get-caller-identity")["Arn"].endswith("/CognitoIdentityCredentials")
    mark = len(https_front.heads)
    session.ok("cognito-identity", "get-id", "--identity-pool-id", dep.identity_pool_id, "--logins", logins)
    (get_id,) = https_front.requests_since(mark)
    assert "authorization" not in get_id.headers


def test_get_id_with_a_forged_login_is_refused(aws: Aws, cli_deployment: Deployment):
    """A login token the user pool did not sign: NotAuthorizedException, exit code 255 (v1's code for any
    service error; 254 is v2's)."""
    done = aws.run(
        "cognito-identity", "get-id", "--identity-pool-id", cli_deployment.identity_pool_id,
        "--logins", f"{cli_deployment.provider}=eyJhbGciOiJub25lIn0.e30.",
    )
    assert done.returncode == 255, done.stderr
    assert "NotAuthorizedException" in done.stderr


def test_cp_of_40_mib_is_a_chunked_checksummed_multipart_upload(
    as_alice: Aws, https_front: HttpsFront, cli_deployment: Deployment, prefix: str, tmp_path: Path
):
    """`aws s3 cp` of 40 MiB: five aws-chunked parts with CRC32 trailers; the composite checksum is returned."""
    data = os.urandom(BIG)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    url = f"{prefix}big.bin"
    mark = len(https_front.heads)
    as_alice.ok("s3", "cp", str(source), url, "--only-show-errors")

    parts = [h for h in https_front.requests_since(mark) if h.method == "PUT"]
    assert len(parts) == BIG // PART
    for head in parts:
        assert "partNumber=" in head.target and "uploadId=" in head.target
        assert head.headers["x-amz-content-sha256"] == TRAILER
        assert "aws-chunked" in head.headers["content-encoding"]
        assert head.headers["x-amz-trailer"] == "x-amz-checksum-crc32"
        assert head.headers["x-amz-decoded-content-length"] == str(PART)

    # Downloading it back gives the same bytes (the CLI checks a full-object
    # checksum it is sent; a composite one, "...-5", it cannot, and skips).
    back = tmp_path / "back.bin"
    as_alice.ok("s3", "cp", url, str(back), "--only-show-errors")
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(data).digest()

    # Multipart CRC32 is COMPOSITE: the CRC32 of the parts' CRC32s, then "-<number of parts>"
    # (botocore/httpchecksum.py: "S3 returns checksums that include a -# suffix").
    part_crcs = b"".join(crc32(data[i : i + PART]) for i in range(0, BIG, PART))
    composite = f"{b64(crc32(part_crcs))}-{BIG // PART}"
    got = as_alice.json(
        "s3api", "get-object", "--bucket", cli_deployment.bucket, "--key", key_of(cli_deployment, url),
        "--checksum-mode", "ENABLED", str(tmp_path / "again.bin"),
    )
    assert (got.get("ChecksumCRC32"), got.get("ChecksumType")) == (composite, "COMPOSITE")
    head = head_with_checksum(as_alice, cli_deployment, url)
    assert head["ContentLength"] == BIG
    assert (head.get("ChecksumCRC32"), head.get("ChecksumType")) == (composite, "COMPOSITE"), (
        "HeadObject does not return the multipart upload's checksum as AWS does: moto's head_object "
        "(moto/s3/responses.py) drops the -<parts> suffix and x-amz-checksum-type that its get_object sends "
        "(checksums stored and returned: helper B's part)"
    )


@pytest.mark.parametrize("transport", ["https", "http"])
def test_cp_of_a_small_file_carries_its_crc32(
    transport: str, aws: Aws, aws_http: Aws, alice, https_front: HttpsFront, cli_deployment: Deployment,
    prefix: str, tmp_path: Path,
):
    """One PutObject: a CRC32 trailer over HTTPS, a header over plain HTTP; stored and returned either way."""
    cli = (aws if transport == "https" else aws_http).with_credentials(alice[1])
    source = tmp_path / "note.txt"
    source.write_bytes(b"a small photo caption\n" * 10)
    url = f"{prefix}note.txt"
    mark = len(https_front.heads)
    cli.ok("s3", "cp", str(source), url, "--only-show-errors")
    if transport == "https":
        (put,) = [h for h in https_front.requests_since(mark) if h.method == "PUT"]
        assert put.headers["x-amz-content-sha256"] == TRAILER
    head = head_with_checksum(cli, cli_deployment, url)
    assert head["ContentLength"] == len(source.read_bytes())
    assert head.get("ChecksumCRC32") == b64(crc32(source.read_bytes())), "stored checksum not returned (helper B)"


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(1000, id="put-object"),
        pytest.param(PART + MiB, id="multipart"),  # two parts; the first is altered
    ],
)
def test_an_upload_altered_on_the_way_is_refused_by_its_crc32_trailer(
    size: int, as_alice: Aws, https_front: HttpsFront, cli_deployment: Deployment, prefix: str, tmp_path: Path
):
    """One bit of a CLI upload flipped in transit: its trailing CRC32 no longer matches, BadDigest, nothing stored."""
    source = tmp_path / "photo.jpg"
    source.write_bytes(os.urandom(size))
    https_front.alter_next_put()
    done = as_alice.run("s3", "cp", str(source), f"{prefix}photo.jpg", "--only-show-errors")
    assert done.returncode != 0
    assert "BadDigest" in done.stderr, done.stderr
    assert keys_under(cli_deployment, prefix) == []
    # A failed multipart upload is aborted by the CLI, and nothing of it is left behind.
    s3 = cli_deployment.kit.client("s3")
    uploads = s3.list_multipart_uploads(Bucket=cli_deployment.bucket, Prefix=key_of(cli_deployment, prefix))
    assert uploads.get("Uploads", []) == []


def test_ls_lists_ones_own_prefix(as_alice: Aws, prefix: str, tmp_path: Path):
    """`aws s3 ls` of one's own prefix lists what is there, folders as PRE."""
    (tmp_path / "one.jpg").write_bytes(b"1" * 10)
    as_alice.ok("s3", "cp", str(tmp_path / "one.jpg"), f"{prefix}one.jpg", "--only-show-errors")
    as_alice.ok("s3", "cp", str(tmp_path / "one.jpg"), f"{prefix}album/two.jpg", "--only-show-errors")
    lines = as_alice.ok("s3", "ls", prefix).splitlines()
    assert [line.split()[-1] for line in lines] == ["album/", "one.jpg"]
    assert lines[0].split() == ["PRE", "album/"]
    assert lines[1].split()[2] == "10"  # the size


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("bob", id="another-users-prefix"),
        pytest.param("root", id="the-whole-bucket"),
    ],
)
def test_ls_of_anything_else_is_denied(where: str, as_alice: Aws, cli_deployment: Deployment):
    """`aws s3 ls` of bob's prefix, or of the bucket: AccessDenied (ListBucket is limited by s3:prefix)."""
    bob_id = cli_deployment.identity_id("bob")
    url = f"s3://{cli_deployment.bucket}/" + (f"private/{bob_id}/" if where == "bob" else "")
    done = as_alice.run("s3", "ls", url)
    assert done.returncode != 0
    assert "AccessDenied" in done.stderr, done.stderr
    assert done.stdout == ""


def test_sync_copies_a_folder_and_then_nothing(as_alice: Aws, cli_deployment: Deployment, prefix: str, tmp_path: Path):
    """`aws s3 sync` of a nested folder uploads each file once, then nothing; syncing back gives the same files."""
    folder = tmp_path / "album"
    files = {"cover.jpg": b"c" * 300, "2024/beach.jpg": b"b" * 200, "2024/june/sunset.jpg": b"s" * 100}
    for name, body in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
        # Photos taken an hour ago. sync re-uploads a file whose mtime is later than the object's
        # LastModified, which S3 (and so the sandbox) gives to the second: a file written in the
        # same second as its upload would be sent again, on AWS too.
        os.utime(folder / name, (time.time() - 3600, time.time() - 3600))

    first = as_alice.ok("s3", "sync", str(folder), prefix, "--no-progress")
    assert sorted(line.split()[0] for line in first.splitlines()) == ["upload:"] * 3
    assert keys_under(cli_deployment, prefix) == sorted(files)

    assert as_alice.ok("s3", "sync", str(folder), prefix, "--no-progress") == ""

    copy = tmp_path / "copy"
    as_alice.ok("s3", "sync", prefix, str(copy), "--no-progress")
    assert {str(p.relative_to(copy)): p.read_bytes() for p in copy.rglob("*") if p.is_file()} == files


def test_rm_recursive_empties_ones_own_prefix(
    as_alice: Aws, https_front: HttpsFront, cli_deployment: Deployment, prefix: str, tmp_path: Path
):
    """`aws s3 rm --recursive` deletes every key under one's own prefix (v1 sends one DeleteObject per key)."""
    folder = tmp_path / "trash"
    for name in ("a.jpg", "b.jpg", "sub/c.jpg"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(name.encode())
    as_alice.ok("s3", "sync", str(folder), prefix, "--no-progress")
    assert len(keys_under(cli_deployment, prefix)) == 3

    mark = len(https_front.heads)
    out = as_alice.ok("s3", "rm", "--recursive", prefix)
    assert sorted(line.split()[0] for line in out.splitlines()) == ["delete:"] * 3
    assert keys_under(cli_deployment, prefix) == []
    deletes = [h for h in https_front.requests_since(mark) if h.method == "DELETE"]
    assert len(deletes) == 3


def test_rm_recursive_of_another_users_prefix_deletes_nothing(as_alice: Aws, cli_deployment: Deployment):
    """`aws s3 rm --recursive` of bob's prefix fails at the listing: AccessDenied, bob's photo stays."""
    bob_id = cli_deployment.identity_id("bob")
    cli_deployment.put_admin(f"private/{bob_id}/kept.jpg")
    done = as_alice.run("s3", "rm", "--recursive", f"s3://{cli_deployment.bucket}/private/{bob_id}/")
    assert done.returncode != 0
    assert "AccessDenied" in done.stderr, done.stderr
    assert keys_under(cli_deployment, f"s3://{cli_deployment.bucket}/private/{bob_id}/") == ["kept.jpg"]


def test_delete_objects_with_a_foreign_key_deletes_the_rest(as_alice: Aws, cli_deployment: Deployment, prefix: str):
    """`aws s3api delete-objects` with one of bob's keys: 200, alice's deleted, bob's under Errors as AccessDenied."""
    dep = cli_deployment
    own = key_of(dep, prefix)
    bob_key = f"private/{dep.identity_id('bob')}/{uuid.uuid4().hex[:8]}.jpg"
    for key in (f"{own}x.jpg", f"{own}y.jpg", bob_key):
        dep.put_admin(key)
    objects = ",".join(f"{{Key={k}}}" for k in (f"{own}x.jpg", f"{own}y.jpg", bob_key))
    done = as_alice.run("s3api", "delete-objects", "--bucket", dep.bucket, "--delete", f"Objects=[{objects}]")
    assert done.returncode == 0, (
        "a multi-object delete with a key the caller may not delete must answer 200 with that key under Errors, "
        f"not refuse the whole request (per-key authorization of POST ?delete: helper A's part):\n{done.stderr}"
    )
    answer = json.loads(done.stdout)
    assert sorted(d["Key"] for d in answer.get("Deleted", [])) == [f"{own}x.jpg", f"{own}y.jpg"]
    assert [(e["Key"], e["Code"]) for e in answer.get("Errors", [])] == [(bob_key, "AccessDenied")]
    assert keys_under(dep, prefix) == []
    assert dep.kit.client("s3").head_object(Bucket=dep.bucket, Key=bob_key)["ContentLength"] == len(b"photo")


ODD_NAMES = [
    "my photo+1 (été).jpg", "a%20b.jpg", "semi;colon=eq&amp.jpg", "tilde~star*.jpg", "quote'dq\".jpg", "日本.jpg",
]


def test_keys_that_need_escaping_round_trip(
    aws_http: Aws, alice, cli_deployment: Deployment, prefix: str, tmp_path: Path
):
    """Spaces, `+`, `%`, `;=&`, `~*`, quotes, non-ASCII: each key signed, stored, listed, copied, deleted as itself."""
    # Over plain HTTP: the canonical URI is escaped the same way over TLS, and HTTP is what `make run` serves.
    cli = aws_http.with_credentials(alice[1])
    folder = tmp_path / "odd"
    folder.mkdir()
    for name in ODD_NAMES:
        (folder / name).write_bytes(name.encode())
    cli.ok("s3", "sync", str(folder), f"{prefix}odd/", "--no-progress")
    assert keys_under(cli_deployment, f"{prefix}odd/") == sorted(ODD_NAMES)
    listed = [line.split(maxsplit=3)[3] for line in cli.ok("s3", "ls", f"{prefix}odd/").splitlines()]
    assert sorted(listed) == sorted(ODD_NAMES)
    first = ODD_NAMES[0]
    cli.ok("s3", "cp", f"{prefix}odd/{first}", f"{prefix}copy/{first}", "--only-show-errors")  # CopyObject
    cli.ok("s3", "cp", f"{prefix}copy/{first}", str(tmp_path / "back.jpg"), "--only-show-errors")
    assert (tmp_path / "back.jpg").read_bytes() == first.encode()
    cli.ok("s3", "rm", "--recursive", prefix, "--only-show-errors")
    assert keys_under(cli_deployment, prefix) == []


@pytest.mark.parametrize(
    "config, status",
    [
        pytest.param("", 400, id="v1-default-sigv2-refused"),
        pytest.param("[default]\ns3 =\n    signature_version = s3v4\n", 200, id="s3v4-from-the-config-file"),
    ],
)
def test_presign(config: str, status: int, aws_http: Aws, alice, prefix: str, tmp_path: Path):
    """`aws s3 presign`: v1's default SigV2 URL is refused as AWS refuses it for new buckets; s3v4, set in the
    config file, reads the object."""
    cli = aws_http.with_credentials(alice[1])
    (cli.home / ".aws").mkdir()
    (cli.home / ".aws" / "config").write_text(config)
    (tmp_path / "p.jpg").write_bytes(b"a presigned photo")
    cli.ok("s3", "cp", str(tmp_path / "p.jpg"), f"{prefix}p.jpg", "--only-show-errors")
    url = cli.ok("s3", "presign", f"{prefix}p.jpg", "--expires-in", "300").strip()
    response = requests.get(url, timeout=10)
    assert response.status_code == status, response.text
    if status == 200:
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        assert response.content == b"a presigned photo"
    else:
        assert "AWSAccessKeyId=" in url  # SigV2 query authentication
        assert "<Code>InvalidRequest</Code>" in response.text
        assert "Please use AWS4-HMAC-SHA256" in response.text
