"""Where the trail is kept: JSON lines in `<data-dir>/trail/<day>.jsonl`
(0700 directory, 0600 files), with no secret in them, read back after a
restart; and the store itself (ascending, bounded, `since`, a damaged line)."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
from pathlib import Path

import requests

from sandbox.trail.store import TrailStore
from tests.sandbox.test_persistence import sandbox_on
from tests.sandbox_kit import PASSWORD, as_boto3


def _trail(endpoint: str) -> list[dict]:
    response = requests.get(f"{endpoint}/_sandbox/trail", params={"limit": 1000}, timeout=5)
    assert response.status_code == 200
    return response.json()["Records"]


def test_the_trail_is_written_privately_without_secrets_and_survives_a_restart(tmp_path):
    """`python -m sandbox --data-dir`: day files 0600 in a 0700 trail/, no token, key or password in the raw
    bytes, and after a restart the same records are served again."""
    data_dir = tmp_path / "data"
    with sandbox_on(data_dir) as server:
        kit = server.wait_ready()
        dep = kit.deployment(users=("alice",))
        tokens = dep.sign_in("alice")
        cognito = kit.unsigned("cognito-identity")
        me = cognito.get_id(IdentityPoolId=dep.identity_pool_id, Logins=dep.logins(tokens["IdToken"]))["IdentityId"]
        issued = cognito.get_credentials_for_identity(IdentityId=me, Logins=dep.logins(tokens["IdToken"]))["Credentials"]
        put = dep.s3_as(as_boto3(issued)).put_object(Bucket=dep.bucket, Key=f"private/{me}/a.jpg", Body=b"photo")
        before = _trail(kit.endpoint)
        assert server.stop(signal.SIGTERM) == 0

    trail_dir = data_dir / "trail"
    files = sorted(trail_dir.iterdir())  # one a day: today's, and yesterday's too if this ran across midnight UTC
    assert files and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}\.jsonl", p.name) for p in files), files
    assert trail_dir.stat().st_mode & 0o777 == 0o700 and {p.stat().st_mode & 0o777 for p in files} == {0o600}
    raw = b"".join(p.read_bytes() for p in files)
    secrets = [tokens["IdToken"], tokens["RefreshToken"], tokens["AccessToken"], issued["SecretKey"], issued["SessionToken"], PASSWORD]
    assert [s[:12] for s in secrets if s.encode() in raw] == []
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [r["eventID"] for r in lines] == [r["eventID"] for r in before]
    assert put["ResponseMetadata"]["RequestId"] in {r["requestID"] for r in lines}

    with sandbox_on(data_dir) as again:
        kit = again.wait_ready()
        after = _trail(kit.endpoint)
        kit.client("s3").list_buckets()  # a new record goes after the old ones, in the same file
        assert again.stop(signal.SIGTERM) == 0
    assert after == before
    assert sum(len(p.read_bytes().splitlines()) for p in sorted(trail_dir.iterdir())) == len(before) + 1


def _record(n: int) -> dict:
    return {"eventName": f"Call{n}", "eventID": str(n)}


def test_records_are_ascending_and_bounded():
    """eventTime is stamped on arrival, never earlier than the last; only the newest `in_memory` are served."""
    store = TrailStore(in_memory=3)
    for n in range(5):
        store.append(_record(n))
    records = store.query(since=None, limit=10)
    assert [r["eventID"] for r in records] == ["2", "3", "4"]
    assert [r["eventTime"] for r in records] == sorted(r["eventTime"] for r in records)
    assert [r["eventID"] for r in store.query(since=None, limit=2)] == ["2", "3"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    assert store.query(since=later, limit=10) == []


def test_a_damaged_line_is_skipped_on_load(tmp_path: Path, caplog):
    """A line cut short by a crash is skipped with a warning; the rest is read back, oldest first."""
    trail_dir = tmp_path / "trail"
    store = TrailStore(trail_dir)
    store.append(_record(1))
    store.append(_record(2))
    store.close()
    [day] = trail_dir.iterdir()
    with open(day, "a", encoding="utf-8") as handle:
        handle.write('{"eventName": "Cut')
    again = TrailStore(trail_dir)
    try:
        assert [r["eventID"] for r in again.query(since=None, limit=10)] == ["1", "2"]
        assert "is not a trail record; skipped" in caplog.text
    finally:
        again.close()
