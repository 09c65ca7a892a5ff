"""State that outlives the sandbox's moto: `python -m sandbox export DIR FILE`
and `import FILE DIR` carry a deployment through the versioned JSON document
into a fresh data directory (same identity IDs, passwords that still work,
the same objects, versions and configuration); a data directory whose pickle
another moto wrote starts through that document; and object bodies stay on
disk until they are read.

Every sandbox and every command is a real subprocess (`python -m sandbox ...`)
driven over HTTP with boto3, as in tests/sandbox/test_persistence.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from moto import __version__ as MOTO_VERSION

from tests.sandbox.test_persistence import MB, REPO, Before, body_of, build, error_code, sandbox_on

COMMAND = 120  # seconds an export or import may take here


def sandbox_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=COMMAND
    )


def versions_of(s3: Any, bucket: str) -> list[tuple[Any, ...]]:
    """Every version and delete marker, in the order S3 lists them."""
    listed = s3.list_object_versions(Bucket=bucket)
    found = [("version", v["Key"], v["VersionId"], v["IsLatest"], v["ETag"], v["Size"]) for v in listed.get("Versions", [])]
    found += [("marker", m["Key"], m["VersionId"], m["IsLatest"]) for m in listed.get("DeleteMarkers", [])]
    return sorted(found)


LIFECYCLE = {
    "Rules": [
        {"ID": "abort-uploads", "Status": "Enabled", "Filter": {"Prefix": ""}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
        {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": "public/"}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    ]
}
BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


@dataclass
class Extra:
    """What the export must carry besides `build()`'s deployment."""

    bucket: str  # versioned, configured
    versions: list[tuple[Any, ...]]
    heads: dict[str, dict[str, Any]]  # key -> HeadObject's ContentType, CacheControl, Metadata
    tags: dict[str, list[dict[str, str]]]
    config: dict[str, Any]
    bodies: dict[tuple[str, str], bytes]  # (key, version id) -> body
    secret_client: dict[str, Any]
    access_key: dict[str, str]
    roles: dict[str, Any]


def _configuration(s3: Any, bucket: str) -> dict[str, Any]:
    return {
        "versioning": s3.get_bucket_versioning(Bucket=bucket)["Status"],
        "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        "block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "tags": s3.get_bucket_tagging(Bucket=bucket)["TagSet"],
    }


def _roles(iam: Any, names: list[str]) -> dict[str, Any]:
    found = {}
    for name in names:
        role = iam.get_role(RoleName=name)["Role"]
        inline = {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"] for p in iam.list_role_policies(RoleName=name)["PolicyNames"]}
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        found[name] = (role["RoleId"], role["Arn"], role["AssumeRolePolicyDocument"], inline, attached)
    return found


def build_extra(before: Before) -> Extra:
    """A versioned, configured bucket with versions, a delete marker, metadata and tags;
    an app client with a secret; an IAM user with an access key; a managed policy on a role."""
    kit, dep = before.dep.kit, before.dep
    s3, iam, idp = kit.client("s3"), kit.client("iam"), kit.client("cognito-idp")
    bucket = f"versions-{dep.suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=LIFECYCLE)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "photos"}]})
    bodies = {}
    for n in range(3):
        body = body_of(100_000 + n, f"version {n}")
        put = s3.put_object(
            Bucket=bucket, Key="public/edited.jpg", Body=body, ContentType="image/jpeg", CacheControl="max-age=60",
            Metadata={"edit": str(n)}, Tagging=f"round={n}",
        )
        bodies[("public/edited.jpg", put["VersionId"])] = body
    body = body_of(2 * MB, "gone")
    bodies[("public/gone.jpg", s3.put_object(Bucket=bucket, Key="public/gone.jpg", Body=body)["VersionId"])] = body
    s3.delete_object(Bucket=bucket, Key="public/gone.jpg")  # a delete marker over one version
    client = idp.create_user_pool_client(UserPoolId=dep.user_pool_id, ClientName="server", GenerateSecret=True)["UserPoolClient"]
    iam.create_user(UserName=f"ops-{dep.suffix}")
    key = iam.create_access_key(UserName=f"ops-{dep.suffix}")["AccessKey"]
    iam.put_user_policy(
        UserName=f"ops-{dep.suffix}", PolicyName="whoami",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}),
    )
    policy = iam.create_policy(
        PolicyName=f"read-{dep.suffix}",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    )["Policy"]
    role_names = [arn.rsplit("/", 1)[1] for arn in dep.roles.values()]
    iam.attach_role_policy(RoleName=role_names[0], PolicyArn=policy["Arn"])
    heads = {}
    for version_key, version_id in bodies:
        if version_key == "public/edited.jpg":
            head = s3.head_object(Bucket=bucket, Key=version_key, VersionId=version_id)
            heads[version_id] = {k: head.get(k) for k in ("ContentType", "CacheControl", "Metadata", "ETag")}
    tags = {vid: s3.get_object_tagging(Bucket=bucket, Key=k, VersionId=vid)["TagSet"] for k, vid in bodies if k == "public/edited.jpg"}
    return Extra(
        bucket=bucket,
        versions=versions_of(s3, bucket),
        heads=heads,
        tags=tags,
        config=_configuration(s3, bucket),
        bodies=bodies,
        secret_client=client,
        access_key={"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
        roles=_roles(iam, role_names),
    )


@dataclass
class Imported:
    before: Before
    extra: Extra
    export: subprocess.CompletedProcess[str]
    imported: subprocess.CompletedProcess[str]
    file: Path
    data_dir: Path


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Any:
    """A deployment built in one sandbox, stopped, exported, imported into a fresh directory, and served from it."""
    work = tmp_path_factory.mktemp("export")
    original, file, fresh = work / "original", work / "state.json", work / "fresh"
    with sandbox_on(original) as first:
        before = build(first.wait_ready())
        extra = build_extra(before)
        assert first.stop(signal.SIGTERM) == 0
    exported = sandbox_command("export", original, file)
    assert exported.returncode == 0, exported.stderr
    done = sandbox_command("import", file, fresh)
    assert done.returncode == 0, done.stderr
    with sandbox_on(fresh) as second:
        second.wait_ready()
        before.dep.kit = second.kit  # the same deployment, now answered by the sandbox on the imported directory
        yield Imported(before, extra, exported, done, file, fresh)


def test_commands_print_one_line_of_figures(imported):
    """export and import exit 0 and say, on one line, what they carried."""
    for done, verb in ((imported.export, "exported"), (imported.imported, "imported")):
        (line,) = done.stdout.splitlines()
        assert re.match(rf"{verb} 1 user pools, 2 users, 3 identities, \d+ roles, 2 buckets, \d+ keys, \d+ object versions", line), line
        assert "Traceback" not in done.stderr


def test_document_is_versioned_and_holds_no_body(imported):
    """The file says its format and version; each body is a file FILE.bodies/<sha256> with exactly those bytes, and none is inline."""
    doc = json.loads(imported.file.read_text())
    assert (doc["format"], doc["version"]) == ("photoshare-sandbox-state", 1)
    bodies = imported.file.with_name("state.json.bodies")
    for path in bodies.iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    wanted = {hashlib.sha256(b).hexdigest() for b in [*imported.before.objects.values(), *imported.extra.bodies.values()]}
    assert wanted <= {p.name for p in bodies.iterdir()}
    assert imported.file.stat().st_size < 1 * MB  # 9 MB of bodies, none of it in the document
    assert imported.file.stat().st_mode & 0o777 == 0o600 and bodies.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_same_identity_id_and_password(imported, name):
    """InitiateAuth with the password set before the export works, and GetId finds the same identity ID."""
    assert imported.before.dep.sign_in(name)["IdToken"]
    assert imported.before.dep.identity_id(name) == imported.before.identity_ids[name]


def test_wrong_password_still_refused(imported):
    """The password verifier came across as it was, not as something that lets anyone in."""
    with pytest.raises(ClientError) as exc:
        imported.before.dep.kit.unsigned("cognito-idp").initiate_auth(
            ClientId=imported.before.dep.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice@example.com", "PASSWORD": "Not-The-Password-1"},
        )
    assert error_code(exc) == "NotAuthorizedException"


def test_token_from_before_the_export_still_verifies(imported):
    """An ID token issued before the export is accepted by GetId: the pool's signing key and its sign-ins came across."""
    dep = imported.before.dep
    got = dep.kit.unsigned("cognito-identity").get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(imported.before.alice_id_token))
    assert got["IdentityId"] == imported.before.identity_ids["alice"]


def test_groups_roles_and_role_mapping_kept(imported):
    """alice's group still gives her its role through the Token mapping; the pool's roles are as set."""
    before = imported.before
    arn = before.dep.kit.client("sts", before.credentials("alice")).get_caller_identity()["Arn"]
    assert arn == before.caller_arns["alice"]
    got = before.dep.kit.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=before.dep.identity_pool_id)
    got.pop("ResponseMetadata")
    assert got == before.pool_roles


def test_app_client_secret_kept(imported):
    """The confidential app client has the same ID and secret."""
    client = imported.extra.secret_client
    got = imported.before.dep.kit.client("cognito-idp").describe_user_pool_client(
        UserPoolId=client["UserPoolId"], ClientId=client["ClientId"]
    )["UserPoolClient"]
    assert got["ClientSecret"] == client["ClientSecret"]


def test_iam_roles_policies_and_access_keys_kept(imported):
    """Roles keep their IDs, trust and policies (inline and managed); an IAM user's access key still signs."""
    kit = imported.before.dep.kit
    assert _roles(kit.client("iam"), list(imported.extra.roles)) == imported.extra.roles
    caller = kit.client("sts", imported.extra.access_key).get_caller_identity()
    assert caller["Arn"].endswith(f":user/ops-{imported.before.dep.suffix}")


def test_objects_come_back_byte_for_byte(imported):
    """Each object, read with credentials issued after the import, is the same bytes."""
    for key, body in imported.before.objects.items():
        who = "alice" if key.startswith("private/") else "guest"
        assert imported.before.s3(who).get_object(Bucket=imported.before.dep.bucket, Key=key)["Body"].read() == body


def test_versions_and_delete_markers_kept(imported):
    """ListObjectVersions is the same (version IDs, which is latest, ETags, the delete marker), and each old version reads back."""
    s3 = imported.before.dep.kit.client("s3")
    assert versions_of(s3, imported.extra.bucket) == imported.extra.versions
    for (key, version_id), body in imported.extra.bodies.items():
        assert s3.get_object(Bucket=imported.extra.bucket, Key=key, VersionId=version_id)["Body"].read() == body
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=imported.extra.bucket, Key="public/gone.jpg")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_object_metadata_and_tags_kept(imported):
    """Content type, cache-control, user metadata, ETag and tags of every version are as they were."""
    s3 = imported.before.dep.kit.client("s3")
    for version_id, wanted in imported.extra.heads.items():
        head = s3.head_object(Bucket=imported.extra.bucket, Key="public/edited.jpg", VersionId=version_id)
        assert {k: head.get(k) for k in wanted} == wanted
        tags = s3.get_object_tagging(Bucket=imported.extra.bucket, Key="public/edited.jpg", VersionId=version_id)["TagSet"]
        assert tags == imported.extra.tags[version_id]


def test_bucket_configuration_kept(imported):
    """Versioning, lifecycle, Block Public Access and tags of the bucket; CORS of the photo bucket."""
    s3 = imported.before.dep.kit.client("s3")
    assert _configuration(s3, imported.extra.bucket) == imported.extra.config
    assert s3.get_bucket_cors(Bucket=imported.before.dep.bucket)["CORSRules"]


# --- start-up on a pickle another moto wrote ----------------------------------------


def _rewrite_state(data_dir: Path, *, moto: str | None = None, payload_edit: tuple[bytes, bytes] | None = None) -> None:
    """Change state.bin's header and payload, keeping its length and checksum right (so it is not "damaged")."""
    raw = (data_dir / "state.bin").read_bytes()
    magic, header_line, payload = raw.split(b"\n", 2)
    header = json.loads(header_line)
    if payload_edit is not None:
        assert payload_edit[0] in payload
        payload = payload.replace(*payload_edit)
    if moto is not None:
        header["moto"] = moto
    header["length"], header["sha256"] = len(payload), hashlib.sha256(payload).hexdigest()
    (data_dir / "state.bin").write_bytes(magic + b"\n" + json.dumps(header).encode() + b"\n" + payload)


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory) -> Any:
    """A data directory with users, identities and objects, stopped cleanly."""
    data_dir = tmp_path_factory.mktemp("saved")
    with sandbox_on(data_dir) as server:
        before = build(server.wait_ready())
        assert server.stop(signal.SIGTERM) == 0
    return data_dir, before


@pytest.mark.parametrize(
    "upgrade",
    [
        pytest.param({"moto": "4.0.0"}, id="header-names-another-moto"),
        # A class the pickle names no longer exists where it was (what a moto
        # refactor does): the payload's reference to moto's S3 module now names one
        # that does not exist, so unpickling fails as it would under the new moto.
        pytest.param({"moto": "9.9.9", "payload_edit": (b"moto.s3.models", b"moto.s3.gone_x")}, id="pickle-unreadable-under-new-moto"),
        pytest.param({"payload_edit": (b"moto.s3.models", b"moto.s3.gone_x")}, id="same-moto-but-pickle-unreadable"),
    ],
)
def test_state_from_another_moto_is_rebuilt_from_json(saved_state, tmp_path, upgrade):
    """Start-up on a state.bin another moto wrote (header rewritten, pickle made unreadable) rebuilds from state.json with one warning: same users, identities, objects; the next save is this moto's."""
    original, before = saved_state
    data_dir = tmp_path / "data"
    shutil.copytree(original, data_dir)
    _rewrite_state(data_dir, **upgrade)
    with sandbox_on(data_dir) as server:
        before.dep.kit = server.wait_ready()
        before._fresh.clear()
        assert before.dep.sign_in("bob")["IdToken"]
        assert before.dep.identity_id("alice") == before.identity_ids["alice"]
        for key, body in before.objects.items():
            assert before.s3("admin").get_object(Bucket=before.dep.bucket, Key=key)["Body"].read() == body
        assert server.stop(signal.SIGTERM) == 0
    warnings = [line for line in server.stderr.splitlines() if "rebuilding the state from" in line]
    assert len(warnings) == 1, server.stderr
    header = json.loads((data_dir / "state.bin").read_bytes().split(b"\n", 2)[1])
    assert header["moto"] == MOTO_VERSION


def test_unreadable_pickle_without_json_is_refused(saved_state, tmp_path):
    """With no state.json to rebuild from, a pickle another moto wrote is refused (exit 2), never half-loaded."""
    data_dir = tmp_path / "data"
    shutil.copytree(saved_state[0], data_dir)
    (data_dir / "state.json").unlink()
    _rewrite_state(data_dir, moto="4.0.0")
    with sandbox_on(data_dir) as server:
        code, served = server.refusal()
    assert code == 2 and not served
    assert "there is no state.json to rebuild it from" in server.stderr, server.stderr


# --- bodies stay on disk until read -------------------------------------------------


def _open_body_files(pid: int, data_dir: Path) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_target = os.readlink(fd) if fd.is_symlink() else ""
        if with_target.startswith(str(data_dir / "objects")):
            found.append(with_target)
    return found


def test_bodies_are_read_when_requested_not_at_start_up(tmp_path):
    """After a restart the body files are not open, and a body rewritten on disk after start-up is what GetObject returns: nothing was read before."""
    data_dir, body = tmp_path / "data", body_of(3 * MB, "lazy")
    with sandbox_on(data_dir) as first:
        dep = first.wait_ready().deployment(users=())
        dep.put_admin("public/lazy.jpg", body)
        assert first.stop(signal.SIGTERM) == 0
    (body_file,) = (data_dir / "objects").iterdir()
    with sandbox_on(data_dir) as second:
        s3 = second.wait_ready().client("s3")
        assert _open_body_files(second.process.pid, data_dir) == []
        replaced = bytes(reversed(body))  # same size, so the stored ETag and length still fit
        body_file.write_bytes(replaced)
        # A presigned GET, not boto3's get_object: boto3 would refuse bytes that do not match the stored CRC.
        url = s3.generate_presigned_url("get_object", Params={"Bucket": dep.bucket, "Key": "public/lazy.jpg"})
        got = requests.get(url, timeout=30)
        assert got.status_code == 200 and got.content == replaced
        assert _open_body_files(second.process.pid, data_dir) == []  # opened for the read, closed after it


def test_restored_objects_serve_every_read(tmp_path):
    """After a restart: ranged reads, CopyObject, UploadPartCopy, a new version over a restored one, and DeleteObject all work."""
    data_dir, body = tmp_path / "data", body_of(6 * MB, "restored")
    with sandbox_on(data_dir) as first:
        dep = first.wait_ready().deployment(users=())
        s3 = dep.kit.client("s3")
        s3.put_bucket_versioning(Bucket=dep.bucket, VersioningConfiguration={"Status": "Enabled"})
        first_version = s3.put_object(Bucket=dep.bucket, Key="public/a.jpg", Body=body)["VersionId"]
        assert first.stop(signal.SIGTERM) == 0
    with sandbox_on(data_dir) as second:
        s3 = second.wait_ready().client("s3")
        bucket = dep.bucket
        assert s3.get_object(Bucket=bucket, Key="public/a.jpg", Range="bytes=100-199")["Body"].read() == body[100:200]
        assert s3.get_object(Bucket=bucket, Key="public/a.jpg", Range="bytes=-10")["Body"].read() == body[-10:]
        s3.copy_object(Bucket=bucket, Key="public/copy.jpg", CopySource={"Bucket": bucket, "Key": "public/a.jpg"})
        assert s3.get_object(Bucket=bucket, Key="public/copy.jpg")["Body"].read() == body
        upload = s3.create_multipart_upload(Bucket=bucket, Key="public/parts.jpg")["UploadId"]
        parts = []
        for number, (start, end) in enumerate([(0, 5 * MB - 1), (5 * MB, len(body) - 1)], start=1):
            part = s3.upload_part_copy(
                Bucket=bucket, Key="public/parts.jpg", UploadId=upload, PartNumber=number,
                CopySource={"Bucket": bucket, "Key": "public/a.jpg"}, CopySourceRange=f"bytes={start}-{end}",
            )
            parts.append({"PartNumber": number, "ETag": part["CopyPartResult"]["ETag"]})
        s3.complete_multipart_upload(Bucket=bucket, Key="public/parts.jpg", UploadId=upload, MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket=bucket, Key="public/parts.jpg")["Body"].read() == body
        s3.put_object(Bucket=bucket, Key="public/a.jpg", Body=b"second")
        assert s3.get_object(Bucket=bucket, Key="public/a.jpg")["Body"].read() == b"second"
        assert s3.get_object(Bucket=bucket, Key="public/a.jpg", VersionId=first_version)["Body"].read() == body
        versions = s3.list_object_versions(Bucket=bucket, Prefix="public/a.jpg")["Versions"]
        assert [v["VersionId"] == first_version for v in versions].count(True) == 1
        s3.delete_object(Bucket=bucket, Key="public/a.jpg", VersionId=first_version)
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="public/a.jpg", VersionId=first_version)
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
        assert s3.get_object(Bucket=bucket, Key="public/copy.jpg")["Body"].read() == body  # the copy has its own body


# --- bad input ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A small export (one user, one object) to damage."""
    work = tmp_path_factory.mktemp("small")
    with sandbox_on(work / "data") as server:
        dep = server.wait_ready().deployment(users=("alice",))
        dep.put_admin("public/one.jpg", body_of(10_000, "one"))
        assert server.stop(signal.SIGTERM) == 0
    done = sandbox_command("export", work / "data", work / "small.json")
    assert done.returncode == 0, done.stderr
    return work / "small.json"


def _copy_export(exported: Path, to: Path, edit: Any = None) -> Path:
    to.mkdir(exist_ok=True)
    shutil.copy(exported, to / exported.name)
    shutil.copytree(exported.with_name(exported.name + ".bodies"), to / (exported.name + ".bodies"))
    if edit is not None:
        edit(to / exported.name)
    return to / exported.name


def _edit_json(change: Any) -> Any:
    def edit(file: Path) -> None:
        doc = json.loads(file.read_text())
        change(doc)
        file.write_text(json.dumps(doc))

    return edit


def _first_version(doc: dict[str, Any]) -> dict[str, Any]:
    return next(v for b in doc["s3"]["buckets"] for o in b["objects"] for v in o["versions"] if not v["delete_marker"])


def _damage_body(file: Path) -> None:
    (body,) = file.with_name(file.name + ".bodies").iterdir()
    raw = bytearray(body.read_bytes())
    raw[0] ^= 0xFF
    body.write_bytes(bytes(raw))


def _remove_body(file: Path) -> None:
    (body,) = file.with_name(file.name + ".bodies").iterdir()
    body.unlink()


@pytest.mark.parametrize(
    "edit, message",
    [
        pytest.param(lambda f: f.write_text("{not json"), r"is not JSON", id="not-json"),
        pytest.param(lambda f: f.write_text("[]"), r"is not a sandbox state document", id="not-a-document"),
        pytest.param(_edit_json(lambda d: d.update(version=2)), r"has version 2; this sandbox reads version 1", id="wrong-version"),
        pytest.param(_edit_json(lambda d: d.update(extra=1)), r"fields this sandbox does not know: extra", id="unknown-top-level-field"),
        pytest.param(_edit_json(lambda d: d.pop("iam")), r"lacks the fields iam", id="missing-field"),
        pytest.param(_edit_json(lambda d: d["user_pools"][0].pop("users")), r"is damaged \(KeyError", id="damaged-deep-inside"),
        pytest.param(_edit_json(lambda d: _first_version(d).update(body="../../../etc/passwd")), r"not a SHA-256", id="body-path-escapes"),
        pytest.param(_remove_body, r"body [0-9a-f]{64} is missing", id="missing-body"),
        pytest.param(_damage_body, r"body [0-9a-f]{64} .* is damaged", id="damaged-body"),
        pytest.param(lambda f: f.unlink(), r"does not exist", id="missing-file"),
    ],
)
def test_import_refuses_bad_input(exported, tmp_path, edit, message):
    """Exit 2, one message naming the problem, no traceback, and no data directory written."""
    file = _copy_export(exported, tmp_path / "in", edit)
    done = sandbox_command("import", file, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert re.search(r"^error: .*" + message, done.stderr, re.MULTILINE), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_import_refuses_a_non_empty_directory(exported, tmp_path):
    """import writes a fresh data directory only: a directory with anything in it is left alone."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    done = sandbox_command("import", exported, tmp_path / "out")
    assert done.returncode == 2 and "is not empty" in done.stderr, done.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_export_refuses_bad_input(exported, tmp_path):
    """A missing directory, one with no state, an existing FILE: exit 2 with a message each."""
    (tmp_path / "empty").mkdir()
    cases = [
        (("export", tmp_path / "missing", tmp_path / "a.json"), "is not a directory"),
        (("export", tmp_path / "empty", tmp_path / "a.json"), "holds no sandbox state"),
        (("export", exported.parent / "data", exported), "already exists"),
    ]
    for args, message in cases:
        done = sandbox_command(*args)
        assert done.returncode == 2 and "error: " in done.stderr and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "a.json").exists()


def test_export_refuses_a_directory_in_use(exported, tmp_path):
    """While a sandbox serves DIR, export exits 2 saying so and writes nothing."""
    data_dir = exported.parent / "data"
    with sandbox_on(data_dir) as server:
        server.wait_ready()
        done = sandbox_command("export", data_dir, tmp_path / "busy.json")
    assert done.returncode == 2 and "in use by another sandbox" in done.stderr, done.stderr
    assert not (tmp_path / "busy.json").exists() and not (tmp_path / "busy.json.bodies").exists()


def test_crash_then_upgrade_rebuilds_from_the_last_document(tmp_path):
    """SIGKILL after a delete saved only in state.bin, then another moto: the state comes back as state.json last had it, its body kept for it, and the warning says what was lost."""
    data_dir, body = tmp_path / "data", body_of(50_000, "kept for the document")
    # A clean stop writes state.json, so the document certainly names the object; waiting for a
    # running sandbox's first document instead races with the saves of the deployment's set-up.
    with sandbox_on(data_dir) as server:
        dep = server.wait_ready().deployment(users=())
        dep.put_admin("public/doomed.jpg", body)
        assert server.stop(signal.SIGTERM) == 0
    documented = (data_dir / "state.json").read_bytes()
    assert b"public/doomed.jpg" in documented
    with sandbox_on(data_dir) as server:
        s3 = server.wait_ready().client("s3")
        time.sleep(1.5)  # so the pickle saved next is measurably newer than the document
        saved = (data_dir / "state.bin").stat().st_mtime_ns
        s3.delete_object(Bucket=dep.bucket, Key="public/doomed.jpg")
        deadline = time.monotonic() + 15
        while (data_dir / "state.bin").stat().st_mtime_ns == saved and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (data_dir / "state.bin").stat().st_mtime_ns != saved, "the delete was not saved"
        server.process.kill()
        server.process.wait(timeout=15)
    assert (data_dir / "state.json").read_bytes() == documented  # the delete's save did not rewrite the document
    assert len(list((data_dir / "objects").iterdir())) == 1  # ... and so kept the body it names
    _rewrite_state(data_dir, moto="9.9.9")
    with sandbox_on(data_dir) as server:
        s3 = server.wait_ready().client("s3")
        assert s3.get_object(Bucket=dep.bucket, Key="public/doomed.jpg")["Body"].read() == body
        assert server.stop(signal.SIGTERM) == 0
    assert re.search(r"rebuilding the state from \S+state\.json \(saved \d+ s before state\.bin: changes since are lost\)", server.stderr), server.stderr
