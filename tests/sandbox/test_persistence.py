"""`python -m sandbox --data-dir DIR` keeps what a workshop participant made:
after a clean stop (SIGTERM, Ctrl-C) everything is back, after a crash
(SIGKILL) at most the last second is lost and the state is never half-loaded,
a damaged or shared directory is refused with a clear message, and a deleted
photo is gone for good, body file included.

Every sandbox here is a real subprocess on a free loopback port, driven over
HTTP with boto3 only, and killed in teardown whatever happens."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from sandbox.server import accepts, free_port
from tests.sandbox_kit import Deployment, SandboxKit, as_boto3, owner_policy, trust_policy

REPO = Path(__file__).resolve().parents[2]
STARTUP = 30  # seconds to load the state and accept connections
SHUTDOWN = 15  # seconds to save and exit after SIGTERM or SIGINT
REFUSAL = 15  # seconds to give up on a damaged or shared directory
SNAPSHOT_LAG = 1.5  # seconds: a change acknowledged longer ago than this survives SIGKILL
MB = 1024 * 1024


# --- a sandbox subprocess -----------------------------------------------------


class Sandbox:
    """`python -m sandbox --data-dir DIR` as `make run` starts it, with what it printed."""

    def __init__(self, data_dir: Path, port: int | None = None, *, cwd: Path = REPO, umask: int = -1) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(data_dir)],
            cwd=cwd,  # the `sandbox` package that runs is the one in cwd
            umask=umask,  # -1: inherit ours
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._out: list[str] = []
        self._err: list[str] = []
        # Drain both pipes, so logging can never fill one and block the server.
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self._out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe: Any, into: list[str]) -> None:
        for line in pipe:
            into.append(line)

    @property
    def kit(self) -> SandboxKit:
        return SandboxKit(endpoint=f"http://127.0.0.1:{self.port}")

    @property
    def stdout(self) -> str:
        return "".join(self._out)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def why(self) -> str:
        return f"exit code {self.process.poll()}, stderr: {self.stderr[-2000:]!r}"

    def wait_ready(self) -> SandboxKit:
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline and self.process.poll() is None:
            if accepts(self.port):
                return self.kit
            time.sleep(0.05)
        pytest.fail(f"sandbox on {self.data_dir} not accepting within {STARTUP} s ({self.why()})")

    def stop(self, signum: int) -> int:
        """Send `signum` and wait for the exit code."""
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=SHUTDOWN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {SHUTDOWN} s after {signal.Signals(signum).name}")
        self._join()
        return code

    def refusal(self) -> tuple[int, bool]:
        """For a sandbox expected to refuse: (exit code, whether its port ever accepted)."""
        deadline = time.monotonic() + REFUSAL
        served = False
        while time.monotonic() < deadline and self.process.poll() is None:
            served = served or accepts(self.port)
            time.sleep(0.02)
        if self.process.poll() is None:
            pytest.fail(f"still running {REFUSAL} s after start; expected a refusal ({self.why()})")
        self._join()
        return self.process.returncode, served

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=SHUTDOWN)
        self._join()

    def _join(self) -> None:
        for reader in self._readers:
            reader.join(timeout=SHUTDOWN)


@contextlib.contextmanager
def sandbox_on(data_dir: Path, port: int | None = None, **options: Any) -> Iterator[Sandbox]:
    server = Sandbox(data_dir, port, **options)
    try:
        yield server
    finally:
        server.kill()


def error_code_of(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return error_code_of(excinfo.value)


def body_of(size: int, tag: str) -> bytes:
    """`size` bytes no other object in the test has (bodies are stored by content)."""
    return (tag.encode() + os.urandom(16)) * (size // (len(tag) + 16)) + os.urandom(size % (len(tag) + 16))


# --- a deployment used, stopped and started again -----------------------------

# (key, who uploads it, size in bytes); `{alice}` is alice's identity ID.
OBJECTS = [
    ("private/{alice}/small.jpg", "alice", 20_000),
    ("private/{alice}/big.jpg", "alice", 3 * MB),
    ("private/{alice}/seeded.png", "admin", 1 * MB + 7),
    ("public/{alice}/welcome.jpg", "admin", 2_000),
    ("public/{alice}/poster.png", "admin", 2 * MB),
]
APP_ORIGIN = "http://127.0.0.1:8000"
CORS = {
    "CORSRules": [
        {
            "AllowedOrigins": [APP_ORIGIN],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        }
    ]
}


@dataclass
class Before:
    """What the first sandbox was given and answered, to compare after the restart."""

    dep: Deployment
    identity_ids: dict[str, str]  # alice, bob, guest
    caller_arns: dict[str, str]  # principal -> role session ARN
    old_credentials: dict[str, dict[str, str]]
    objects: dict[str, bytes]  # key -> body
    pool_roles: dict[str, Any]  # GetIdentityPoolRoles
    exit_code: int
    stdout: str
    jwks: dict[str, Any] = field(default_factory=dict)  # the user pool's published keys
    alice_id_token: str = ""  # issued before the restart
    _fresh: dict[str, dict[str, str] | None] = field(default_factory=dict)

    def key(self, template: str) -> str:
        return template.format(alice=self.identity_ids["alice"])

    def credentials(self, who: str) -> dict[str, str] | None:
        """New credentials from the restarted sandbox (None: the admin key)."""
        if who not in self._fresh:
            if who == "admin":
                self._fresh[who] = None
            elif who == "guest":
                ci = self.dep.kit.unsigned("cognito-identity")
                got = ci.get_credentials_for_identity(IdentityId=self.identity_ids["guest"])
                self._fresh[who] = as_boto3(got["Credentials"])
            else:
                identity_id, creds = self.dep.user_credentials(who)
                assert identity_id == self.identity_ids[who]
                self._fresh[who] = creds
        return self._fresh[who]

    def s3(self, who: str):
        return self.dep.kit.client("s3", self.credentials(who))


def token_mapping(dep: Deployment) -> dict[str, Any]:
    return {f"{dep.provider}:{dep.client_id}": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}}


def build(kit: SandboxKit) -> Before:
    """Users, a group with its own role, a Token role mapping, identities and objects."""
    dep = kit.deployment(users=("alice", "bob"))
    idp = kit.client("cognito-idp")
    dep.roles["editor"] = dep.create_role("editor", trust_policy(dep.identity_pool_id, "authenticated"), owner_policy(dep.bucket))
    idp.create_group(GroupName="editors", UserPoolId=dep.user_pool_id, RoleArn=dep.roles["editor"], Precedence=1)
    idp.admin_add_user_to_group(UserPoolId=dep.user_pool_id, Username="alice@example.com", GroupName="editors")
    kit.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=dep.identity_pool_id,
        Roles={"authenticated": dep.roles["authenticated"], "unauthenticated": dep.roles["unauthenticated"]},
        RoleMappings=token_mapping(dep),
    )
    ids, creds = {}, {}
    for name in ("alice", "bob"):
        ids[name], creds[name] = dep.user_credentials(name)
    ids["guest"], creds["guest"] = dep.guest_credentials()
    arns = {who: kit.client("sts", c).get_caller_identity()["Arn"] for who, c in creds.items()}
    assert "/editor-" in arns["alice"] and "/auth-" in arns["bob"], arns  # the mapping works before the restart
    objects = {}
    for template, who, size in OBJECTS:
        key = template.format(alice=ids["alice"])
        objects[key] = body_of(size, key)
        kit.client("s3", None if who == "admin" else creds[who]).put_object(Bucket=dep.bucket, Key=key, Body=objects[key])
    kit.client("s3").put_bucket_cors(Bucket=dep.bucket, CORSConfiguration=CORS)
    roles = kit.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=dep.identity_pool_id)
    roles.pop("ResponseMetadata")
    jwks = requests.get(f"{kit.endpoint}/{dep.user_pool_id}/.well-known/jwks.json", timeout=10).json()
    return Before(dep, ids, arns, creds, objects, roles, exit_code=-1, stdout="", jwks=jwks, alice_id_token=dep.id_token("alice"))


@pytest.fixture(scope="module", params=[signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def restarted(request, tmp_path_factory) -> Iterator[Before]:
    """A deployment built in one sandbox, stopped with the signal, served again from the same directory."""
    data_dir = tmp_path_factory.mktemp("data")
    with sandbox_on(data_dir) as first:
        before = build(first.wait_ready())
        before.exit_code = first.stop(request.param)
        before.stdout = first.stdout
    with sandbox_on(data_dir, port=first.port) as second:  # same port: the same endpoint `make run` uses
        second.wait_ready()
        yield before


def test_clean_stop_exits_zero_and_says_it_saved(restarted):
    """SIGTERM or Ctrl-C: exit code 0 and "State saved." on stdout."""
    assert restarted.exit_code == 0
    assert "State saved." in restarted.stdout


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_users_sign_in_with_the_same_password(restarted, name):
    """USER_PASSWORD_AUTH with the password set before the restart gives tokens."""
    assert restarted.dep.sign_in(name)["IdToken"]


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_wrong_password_is_still_refused(restarted, name):
    """Passwords came back as they were, not reset to something that lets anyone in."""
    with pytest.raises(ClientError) as exc:
        restarted.dep.kit.unsigned("cognito-idp").initiate_auth(
            ClientId=restarted.dep.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": f"{name}@example.com", "PASSWORD": "Not-The-Password-1"},
        )
    assert error_code(exc) == "NotAuthorizedException"


def test_user_pool_keeps_its_signing_key(restarted):
    """The pool's JWKS is the same key under the same kid, and new tokens are signed with it."""
    got = requests.get(f"{restarted.dep.kit.endpoint}/{restarted.dep.user_pool_id}/.well-known/jwks.json", timeout=10).json()
    assert got == restarted.jwks
    (key,) = got["keys"]
    assert jwt.get_unverified_header(restarted.dep.id_token("bob"))["kid"] == key["kid"]


def test_id_token_from_before_the_restart_still_verifies(restarted):
    """An ID token issued before the restart is still accepted by GetId, for the same identity."""
    got = restarted.dep.kit.unsigned("cognito-identity").get_id(
        IdentityPoolId=restarted.dep.identity_pool_id, Logins=restarted.dep.logins(restarted.alice_id_token)
    )
    assert got["IdentityId"] == restarted.identity_ids["alice"]


def test_attributes_and_groups_kept(restarted):
    """alice's email, its verified flag and her group membership are back."""
    idp = restarted.dep.kit.client("cognito-idp")
    user = idp.admin_get_user(UserPoolId=restarted.dep.user_pool_id, Username="alice@example.com")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == "alice@example.com" and attributes["email_verified"] == "true"
    assert user["UserStatus"] == "CONFIRMED"
    groups = idp.admin_list_groups_for_user(UserPoolId=restarted.dep.user_pool_id, Username="alice@example.com")["Groups"]
    assert [(g["GroupName"], g.get("RoleArn")) for g in groups] == [("editors", restarted.dep.roles["editor"])]


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_get_id_returns_the_same_identity_id(restarted, name):
    """GetId with a fresh sign-in finds the identity linked before the restart."""
    assert restarted.dep.identity_id(name) == restarted.identity_ids[name]


def test_identities_are_all_listed(restarted):
    """ListIdentities has alice's, bob's and the guest's identity IDs, and no others."""
    listed = restarted.dep.kit.client("cognito-identity").list_identities(
        IdentityPoolId=restarted.dep.identity_pool_id, MaxResults=60
    )["Identities"]
    assert sorted(i["IdentityId"] for i in listed) == sorted(restarted.identity_ids.values())


def test_role_mapping_kept(restarted):
    """GetIdentityPoolRoles returns the roles and the Token mapping as they were set."""
    got = restarted.dep.kit.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=restarted.dep.identity_pool_id)
    got.pop("ResponseMetadata")
    assert got == restarted.pool_roles
    assert got["RoleMappings"] == token_mapping(restarted.dep)


@pytest.mark.parametrize("who", ["alice", "bob", "guest"])
def test_new_credentials_get_the_same_role(restarted, who):
    """The Token mapping and alice's group still decide the role: same role session as before."""
    arn = restarted.dep.kit.client("sts", restarted.credentials(who)).get_caller_identity()["Arn"]
    assert arn == restarted.caller_arns[who]


@pytest.mark.parametrize(
    "who, template",
    [
        ("alice", "private/{alice}/small.jpg"),
        ("alice", "private/{alice}/big.jpg"),
        ("alice", "private/{alice}/seeded.png"),
        ("guest", "public/{alice}/welcome.jpg"),
        ("bob", "public/{alice}/poster.png"),
        ("admin", "private/{alice}/big.jpg"),
    ],
)
def test_objects_readable_with_new_credentials(restarted, who, template):
    """Each object comes back byte for byte, read with credentials issued after the restart."""
    key = restarted.key(template)
    got = restarted.s3(who).get_object(Bucket=restarted.dep.bucket, Key=key)
    assert got["Body"].read() == restarted.objects[key]


def test_bucket_lists_every_object(restarted):
    """ListObjectsV2 shows exactly the objects uploaded before the restart, with their sizes."""
    listed = restarted.s3("admin").list_objects_v2(Bucket=restarted.dep.bucket)["Contents"]
    assert {o["Key"]: o["Size"] for o in listed} == {k: len(v) for k, v in restarted.objects.items()}


def test_bucket_cors_kept(restarted):
    """The bucket's CORS rules come back and still answer the app's preflight."""
    assert restarted.s3("admin").get_bucket_cors(Bucket=restarted.dep.bucket)["CORSRules"] == CORS["CORSRules"]
    preflight = requests.options(
        f"{restarted.dep.kit.endpoint}/{restarted.dep.bucket}/public/welcome.jpg",
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert preflight.status_code == 200 and preflight.headers.get("Access-Control-Allow-Origin") == APP_ORIGIN


@pytest.mark.parametrize(
    "who, action, template, expected",
    [
        ("bob", "get", "private/{alice}/small.jpg", "AccessDenied"),
        ("bob", "put", "private/{alice}/intruder.jpg", "AccessDenied"),
        ("guest", "put", "public/{alice}/graffiti.jpg", "AccessDenied"),
        ("guest", "get", "private/{alice}/small.jpg", "AccessDenied"),
        ("alice", "put", "private/{alice}/after-restart.jpg", None),
        ("guest", "get", "public/{alice}/welcome.jpg", None),
    ],
)
def test_policies_still_enforce(restarted, who, action, template, expected):
    """The roles' policies came back: owners only in their prefix, guests read-only on published photos."""
    s3, key = restarted.s3(who), restarted.key(template)
    call: Callable[[], Any] = (
        (lambda: s3.get_object(Bucket=restarted.dep.bucket, Key=key))
        if action == "get"
        else (lambda: s3.put_object(Bucket=restarted.dep.bucket, Key=key, Body=b"x"))
    )
    if expected is None:
        call()
        return
    with pytest.raises(ClientError) as exc:
        call()
    assert error_code(exc) == expected


@pytest.mark.parametrize("who", ["alice", "bob", "guest"])
def test_old_credentials_are_refused(restarted, who):
    """Credentials issued before the restart are unknown now (InvalidAccessKeyId), as for credentials AWS has revoked."""
    s3 = restarted.dep.kit.client("s3", restarted.old_credentials[who])
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=restarted.dep.bucket, Key="public/welcome.jpg")
    assert error_code(exc) == "InvalidAccessKeyId"


# --- a crash in the middle of a burst of writes ---------------------------------

BURST_PUTS = 3000  # at most this many PUTs ...
BURST_SECONDS = 10  # ... within this many seconds
KILL_AFTER = 3.0  # seconds of acknowledged PUTs before SIGKILL


def burst_body(i: int) -> bytes:
    return f"burst object {i:05d};".encode() * (1 + i % 50)


@dataclass
class Burst:
    """PUTs of numbered keys until told to stop; remembers when each was acknowledged."""

    kit: SandboxKit
    bucket: str
    acked: dict[str, float] = field(default_factory=dict)  # key -> time.monotonic() of the 200
    attempted: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        s3 = self.kit.client("s3")
        deadline = time.monotonic() + BURST_SECONDS
        for i in range(BURST_PUTS):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            key = f"burst/{i:05d}"
            self.attempted = i + 1
            try:
                reply = s3.put_object(Bucket=self.bucket, Key=key, Body=burst_body(i))
            except Exception:  # the sandbox was killed under us
                return
            if reply["ResponseMetadata"]["HTTPStatusCode"] == 200:
                self.acked[key] = time.monotonic()

    def longest_pause(self) -> float:
        """The longest wait between two acknowledgements (a snapshot holds requests while it runs)."""
        times = sorted(self.acked.values())
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def test_sigkill_mid_burst_loses_at_most_the_last_second(tmp_path):
    """SIGKILL during a burst of PUTs: the state loads whole, and every PUT acknowledged 1.5 s before the kill is there."""
    with sandbox_on(tmp_path) as first:
        dep = first.wait_ready().deployment(users=("alice",))
        burst = Burst(first.kit, dep.bucket)
        writer = threading.Thread(target=burst.run, name="burst", daemon=True)
        writer.start()
        try:
            deadline = time.monotonic() + STARTUP
            while not burst.acked and writer.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert burst.acked, "no PUT acknowledged before the burst ended"
            time.sleep(KILL_AFTER)
            killed_at = time.monotonic()
            first.process.kill()
            first.process.wait(timeout=SHUTDOWN)
        finally:
            burst.stop.set()
            writer.join(timeout=SHUTDOWN)
    must_survive = {key for key, at in burst.acked.items() if at < killed_at - SNAPSHOT_LAG}
    assert len(must_survive) >= 20, f"too few PUTs before the kill to judge: {len(burst.acked)} acknowledged"

    with sandbox_on(tmp_path, port=first.port) as second:
        s3 = second.wait_ready().client("s3")
        try:
            s3.head_bucket(Bucket=dep.bucket)
        except ClientError as exc:
            pytest.fail(f"the bucket made before the burst is gone ({error_code_of(exc)}): nothing before the kill was kept")
        listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=dep.bucket) for o in page.get("Contents", [])]
        attempted = {f"burst/{i:05d}" for i in range(burst.attempted)}
        assert set(listed) <= attempted, "objects nobody wrote"
        for key in listed:
            assert s3.get_object(Bucket=dep.bucket, Key=key)["Body"].read() == burst_body(int(key.split("/")[1])), key
        lost = sorted(must_survive - set(listed))
        assert not lost, (
            f"{len(lost)} of {len(must_survive)} PUTs acknowledged > {SNAPSHOT_LAG} s before SIGKILL lost: "
            f"{lost[0]}..{lost[-1]}, the oldest acknowledged {killed_at - burst.acked[lost[0]]:.2f} s before the kill; "
            f"longest pause between acknowledgements {burst.longest_pause():.2f} s"
        )
        assert dep.sign_in("alice")["IdToken"]  # what came before the burst is whole too


# --- a damaged or shared data directory is refused ------------------------------


@dataclass(frozen=True)
class Saved:
    """A data directory left by a clean stop, with one object in it."""

    path: Path
    bucket: str
    body: bytes

    def copy(self, to: Path) -> Path:
        shutil.copytree(self.path, to)
        return to


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Saved:
    """A user with an identity and one object (so one body file), stopped with SIGTERM."""
    data_dir = tmp_path_factory.mktemp("saved")
    body = body_of(50_000, "one")
    with sandbox_on(data_dir) as server:
        dep = server.wait_ready().deployment(users=("alice",))
        dep.user_credentials("alice")
        dep.put_admin("public/one.jpg", body)
        assert server.stop(signal.SIGTERM) == 0
    assert (data_dir / "state.bin").exists() and len(list((data_dir / "objects").iterdir())) == 1
    return Saved(data_dir, dep.bucket, body)


def _rewrite(edit: Callable[[bytearray], None]) -> Callable[[Path], None]:
    def damage(data_dir: Path) -> None:
        raw = bytearray((data_dir / "state.bin").read_bytes())
        edit(raw)
        (data_dir / "state.bin").write_bytes(bytes(raw))

    return damage


def _truncate(raw: bytearray) -> None:
    del raw[len(raw) // 2 :]


def _flip_payload(raw: bytearray) -> None:
    for offset in range(len(raw) * 2 // 3, len(raw) * 2 // 3 + 8):  # well past the header line
        raw[offset] ^= 0xFF


def _garbage_header(raw: bytearray) -> None:
    raw[:64] = b"\x00garbage\xff" * 8


def _garbled_header_line(raw: bytearray) -> None:
    newline = raw.index(b"\n")  # the end of the magic line; the JSON header follows
    raw[newline + 1 : newline + 9] = b"{{{{!!!!"


def _empty(raw: bytearray) -> None:
    del raw[:]


def _remove_body(data_dir: Path) -> None:
    (body,) = (data_dir / "objects").iterdir()
    body.unlink()


@pytest.mark.parametrize(
    "damage, message",
    [
        pytest.param(_rewrite(_truncate), r"state\.bin is truncated", id="truncated"),
        pytest.param(_rewrite(_flip_payload), r"state\.bin is corrupted", id="flipped-payload-bytes"),
        pytest.param(_rewrite(_garbage_header), r"state\.bin is not a sandbox state file", id="garbage-header"),
        pytest.param(_rewrite(_garbled_header_line), r"state\.bin has a damaged header", id="garbled-header-line"),
        pytest.param(_rewrite(_empty), r"state\.bin is not a sandbox state file", id="empty"),
        pytest.param(_remove_body, r"object body \S+ is missing", id="missing-object-body"),
    ],
)
def test_damaged_directory_is_refused(saved, tmp_path, damage, message):
    """Exit code 2, a message naming the problem, nothing served, and the damaged files left as they were."""
    data_dir = saved.copy(tmp_path / "data")
    damage(data_dir)
    state_before = (data_dir / "state.bin").read_bytes()
    bodies_before = sorted(p.name for p in (data_dir / "objects").iterdir())
    with sandbox_on(data_dir) as server:
        code, served = server.refusal()
    assert code == 2, server.why()
    assert re.search(r"^error: .*" + message, server.stderr, re.MULTILINE), server.stderr
    assert not served, "the port accepted connections from a sandbox refusing its data"
    assert (data_dir / "state.bin").read_bytes() == state_before
    assert sorted(p.name for p in (data_dir / "objects").iterdir()) == bodies_before


def test_leftovers_of_an_interrupted_save_are_ignored(saved, tmp_path):
    """Half-written temporary files from a save cut short by a crash do not stop the last whole state from loading."""
    data_dir = saved.copy(tmp_path / "data")
    (data_dir / ".state.bin.tmp").write_bytes((data_dir / "state.bin").read_bytes()[:1000])
    (data_dir / "objects" / ".0123456789abcdef0123456789abcdef-50000.tmp").write_bytes(b"half a photo")
    with sandbox_on(data_dir) as server:
        s3 = server.wait_ready().client("s3")
        assert s3.get_object(Bucket=saved.bucket, Key="public/one.jpg")["Body"].read() == saved.body


def test_second_sandbox_on_the_same_directory_is_refused(saved, tmp_path):
    """While one sandbox uses the directory another exits 2 saying so; the first keeps serving, and the directory is free after it stops."""
    data_dir = saved.copy(tmp_path / "data")
    with sandbox_on(data_dir) as first:
        kit = first.wait_ready()
        with sandbox_on(data_dir) as second:
            code, served = second.refusal()
        assert code == 2, second.why()
        assert "in use by another sandbox" in second.stderr, second.stderr
        assert not served
        assert kit.client("sts").get_caller_identity()["Account"] == "123456789012"
        assert first.stop(signal.SIGTERM) == 0
    with sandbox_on(data_dir) as third:
        assert third.wait_ready().client("sts").get_caller_identity()["Account"] == "123456789012"


# --- deleting ---------------------------------------------------------------------


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def bodies(data_dir: Path) -> list[str]:
    """The SHA-256 of every body file, whatever the files are named."""
    return sorted(digest(p.read_bytes()) for p in (data_dir / "objects").iterdir())


@pytest.mark.parametrize("shared", [False, True], ids=["own-body", "body-shared-with-a-kept-object"])
def test_deleted_object_stays_deleted_and_its_body_file_goes(tmp_path, shared):
    """DeleteObject, restart: the key is gone, and its body file too unless a kept object has the same bytes."""
    doomed, kept = body_of(300_000, "doomed"), body_of(1_000, "kept")
    with sandbox_on(tmp_path) as first:
        dep = first.wait_ready().deployment(users=())
        dep.put_admin("public/doomed.jpg", doomed)
        dep.put_admin("public/kept.jpg", doomed if shared else kept)
        deadline = time.monotonic() + 10 * SNAPSHOT_LAG
        while digest(doomed) not in bodies(tmp_path) and time.monotonic() < deadline:  # wait for a snapshot to hold it
            time.sleep(0.1)
        assert digest(doomed) in bodies(tmp_path), "no body file written within a few seconds of the PUT"
        dep.kit.client("s3").delete_object(Bucket=dep.bucket, Key="public/doomed.jpg")
        assert first.stop(signal.SIGTERM) == 0
    assert (digest(doomed) in bodies(tmp_path)) == shared
    with sandbox_on(tmp_path, port=first.port) as second:
        s3 = second.wait_ready().client("s3")
        with pytest.raises(ClientError) as exc:
            s3.head_object(Bucket=dep.bucket, Key="public/doomed.jpg")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=dep.bucket)["Contents"]] == ["public/kept.jpg"]
        assert s3.get_object(Bucket=dep.bucket, Key="public/kept.jpg")["Body"].read() == (doomed if shared else kept)
    assert bodies(tmp_path) == [digest(doomed if shared else kept)]


# --- who may read the data directory (it holds every secret) -----------------------


def modes(data_dir: Path) -> dict[str, int]:
    """Permission bits of the directory and everything in it, by relative path."""
    found = {".": data_dir.stat().st_mode & 0o777}
    for path in data_dir.rglob("*"):
        found[str(path.relative_to(data_dir))] = path.stat().st_mode & 0o777
    return found


def private(found: dict[str, int], data_dir: Path) -> dict[str, int]:
    """What `found` should be: directories 0700, files 0600."""
    return {name: 0o700 if (data_dir / name).is_dir() else 0o600 for name in found}


def test_data_directory_is_private_whatever_the_umask(tmp_path):
    """Started with umask 000 on a new directory: the directory, objects/ and trail/ are 0700, state.bin, state.json, lock, oidc-key.pem, bodies and the trail's day file 0600."""
    data_dir = tmp_path / "data"
    with sandbox_on(data_dir, umask=0) as server:
        dep = server.wait_ready().deployment(users=("alice",))
        dep.put_admin("public/one.jpg", body_of(10_000, "private"))
        assert server.stop(signal.SIGTERM) == 0
    found = modes(data_dir)
    # ., state.bin, state.json, lock, oidc-key.pem (the OIDC provider's key), objects/, one body, trail/, one day's trail file
    assert {"state.bin", "state.json", "lock", "oidc-key.pem", "objects", "trail"} <= set(found) and len(found) == 9, found
    assert found == private(found, data_dir)


def test_loose_data_directory_is_tightened_with_a_warning(saved, tmp_path):
    """A directory left world-readable (an older sandbox, a copy) is made 0700 and its files 0600 on start, and the log says so."""
    data_dir = saved.copy(tmp_path / "data")
    for path in (data_dir, data_dir / "objects"):
        path.chmod(0o755)
    for path in [data_dir / "state.bin", data_dir / "state.json", *(data_dir / "objects").iterdir()]:
        path.chmod(0o644)
    with sandbox_on(data_dir) as server:
        s3 = server.wait_ready().client("s3")
        assert s3.get_object(Bucket=saved.bucket, Key="public/one.jpg")["Body"].read() == saved.body
        found = modes(data_dir)
        assert found == private(found, data_dir)
        assert server.stop(signal.SIGTERM) == 0
    assert "its mode is now 0700" in server.stderr and "their mode is now 0600" in server.stderr, server.stderr


# --- a data directory from before pools had their own keys ---------------------------

# The last commit whose sandbox signed every pool's tokens with moto's shared key.
BEFORE_POOL_KEYS = "918fe4ee8eb7360c9f6fbd97244bfc91578a2374"


def _sandbox_before_pool_keys(into: Path) -> Path:
    """That commit's `sandbox/` package, extracted from git into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", BEFORE_POOL_KEYS, "sandbox"], capture_output=True, timeout=60
    )
    if archive.returncode != 0:
        pytest.skip(f"needs the git history to run the old sandbox: {archive.stderr.decode(errors='replace').strip()}")
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=60)
    return into


def test_state_saved_with_motos_shared_key_moves_to_a_key_of_its_own(tmp_path):
    """State written by the old sandbox loads; the pool gets a new kid, old tokens are refused, new ones keep the identity."""
    old_code, data_dir = _sandbox_before_pool_keys(tmp_path / "old"), tmp_path / "data"
    with sandbox_on(data_dir, cwd=old_code) as first:
        dep = first.wait_ready().deployment(users=("alice",))
        old_token = dep.id_token("alice")
        identity_id = dep.identity_id("alice")
        assert jwt.get_unverified_header(old_token)["kid"] == "dummy"  # this really is the old sandbox
        assert first.stop(signal.SIGTERM) == 0
    with sandbox_on(data_dir, port=first.port) as second:
        kit = second.wait_ready()
        (key,) = requests.get(f"{kit.endpoint}/{dep.user_pool_id}/.well-known/jwks.json", timeout=10).json()["keys"]
        assert key["kid"] != "dummy"
        ci = kit.unsigned("cognito-identity")
        with pytest.raises(ClientError) as exc:
            ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(old_token))
        assert exc.value.response["Error"] == {"Code": "NotAuthorizedException", "Message": "Invalid login token. Couldn't verify signed token."}
        new_token = dep.id_token("alice")
        assert jwt.get_unverified_header(new_token)["kid"] == key["kid"]
        assert ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(new_token))["IdentityId"] == identity_id
        assert second.stop(signal.SIGTERM) == 0
    assert f"user pools {dep.user_pool_id} were saved signing with moto's shared key" in second.stderr, second.stderr
    with sandbox_on(data_dir, port=first.port) as third:  # the new key was saved: same kid on the next start
        kit = third.wait_ready()
        assert requests.get(f"{kit.endpoint}/{dep.user_pool_id}/.well-known/jwks.json", timeout=10).json()["keys"] == [key]
