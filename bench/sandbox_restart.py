"""What `--data-dir` costs: start-up time with a workshop's worth of state
(100 users with identity IDs, 2,000 objects) against an empty sandbox, and
PutObject (1 KB, admin key) throughput with and without `--data-dir`, in one run;
then start-up time and resident memory with 2 GB of stored photos (100 x 20 MB,
`--size` for less), which shows that start-up does not read the bodies.

Every sandbox is a `python -m sandbox` subprocess on 127.0.0.1, as `make run`
starts it. Start-up is timed from spawning the process until its port accepts
and an admin GetCallerIdentity succeeds; restarts of each kind are interleaved
and the median reported. For the PUT figures both sandboxes run side by side
holding the same state (the persistent one started on a copy of the populated
directory, the memory-only one filled through the API), and rounds alternate
which goes first, so warm caches and a busy machine weigh on both alike.
The goal is with/without >= 0.8.

For the large state the objects are generated (each 20 MB body distinct, as
bodies are stored by content), PUT with boto3 into a sandbox on a temporary
data directory, and the sandbox restarted: start-up as above, resident memory
as VmRSS in /proc/<pid>/status once GetCallerIdentity answers. Goals: start-up
under 2 s, VmRSS under 300 MB. The directory is removed afterwards, whatever
happens; `--size 0` skips this part.

    .venv/bin/python bench/sandbox_restart.py [--users 100] [--objects 2000] [--restarts 5] [--rounds 5] [--puts 500]
        [--size 2GB] [--large-only]"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.server import accepts, free_port  # noqa: E402  (needs REPO on sys.path)
from tests.sandbox_kit import SandboxKit  # noqa: E402

GOAL = 0.8  # with/without --data-dir PUT rate
STARTUP_GOAL = 2.0  # seconds to start on 2 GB of stored objects
RSS_GOAL = 300  # MB resident after that start-up
LARGE_BODY = 20 * 1000 * 1000  # bytes per generated photo
LARGE_MAX = 20 * 1000 * 1000 * 1000  # bytes: --size beyond this is refused (the disk holds it twice while uploading)
UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3}
BODY_SIZE = 1024  # bytes per PutObject
WARMUP = 50  # puts per side before timing
STARTUP = 60  # seconds a sandbox may take to answer before the bench gives up
SHUTDOWN = 30  # seconds a sandbox may take to save and exit
POPULATE_THREADS = 4


def body(tag: str, i: int) -> bytes:
    """BODY_SIZE bytes of its own: bodies are stored by content, so equal ones would be written once."""
    head = f"{tag} {i:08d} ".encode()
    return head + b"." * (BODY_SIZE - len(head))


class Sandbox:
    """A `python -m sandbox` subprocess on a free loopback port."""

    def __init__(self, data_dir: Path | None) -> None:
        self.port = free_port()
        self.kit = SandboxKit(endpoint=f"http://127.0.0.1:{self.port}")
        self._stderr = tempfile.TemporaryFile()
        sts = self.kit.client("sts")  # made before the clock starts: boto3 set-up is not the sandbox's time
        extra = ["--data-dir", str(data_dir)] if data_dir is not None else []
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(self.port), *extra],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = started + STARTUP
        while not accepts(self.port):
            self._check(deadline)
            time.sleep(0.005)
        while True:
            try:
                sts.get_caller_identity()
                break
            except Exception:
                self._check(deadline)
                time.sleep(0.005)
        self.startup = time.perf_counter() - started

    def _check(self, deadline: float) -> None:
        if self.process.poll() is not None or time.perf_counter() > deadline:
            self._stderr.seek(0)
            raise SystemExit(f"sandbox did not start: exit {self.process.poll()}, {self._stderr.read()[-2000:].decode()}")

    def stop(self) -> float:
        """SIGTERM (a clean stop, which saves); seconds until it has exited."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=SHUTDOWN)
        if code != 0:
            raise SystemExit(f"sandbox exited {code} on SIGTERM")
        return time.perf_counter() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=SHUTDOWN)
        self._stderr.close()


@contextlib.contextmanager
def sandbox(data_dir: Path | None) -> Iterator[Sandbox]:
    server = Sandbox(data_dir)
    try:
        yield server
    finally:
        server.kill()


def populate(kit: SandboxKit, users: int, objects: int) -> None:
    """`users` signed up, signed in and given identity IDs; `objects` 1 KB objects in one bucket."""
    dep = kit.deployment(users=())
    for n in range(users):
        dep.add_user(f"user{n:04d}@example.com")
        dep.identity_id(f"user{n:04d}@example.com")
    s3 = kit.client("s3")

    def put(i: int) -> None:
        s3.put_object(Bucket=dep.bucket, Key=f"public/photo-{i:05d}.jpg", Body=body("seed", i))

    with ThreadPoolExecutor(POPULATE_THREADS) as pool:
        list(pool.map(put, range(objects)))


def describe(data_dir: Path) -> str:
    state = (data_dir / "state.bin").stat().st_size
    document = (data_dir / "state.json").stat().st_size
    files = list((data_dir / "objects").iterdir())
    return (
        f"state.bin {state / 1e6:.1f} MB, state.json {document / 1e6:.1f} MB, "
        f"{len(files)} body files ({sum(f.stat().st_size for f in files) / 1e6:.1f} MB)"
    )


def startup_times(populated: Path, work: Path, restarts: int) -> None:
    kinds = ["memory only", "empty --data-dir", "populated --data-dir"]
    starts: dict[str, list[float]] = {k: [] for k in kinds}
    stops: dict[str, list[float]] = {k: [] for k in kinds}
    for n in range(restarts):
        for kind in kinds[n % 3 :] + kinds[: n % 3]:  # rotate the order, so none always goes first
            data_dir = {"memory only": None, "empty --data-dir": work / f"empty-{n}", "populated --data-dir": populated}[kind]
            with sandbox(data_dir) as server:
                starts[kind].append(server.startup)
                stops[kind].append(server.stop())
    print(f"\nstart-up: spawn until the port accepts and GetCallerIdentity answers ({restarts} restarts each)")
    print(f"{'':>22}  {'median s':>8}  {'min s':>6}  {'max s':>6}  {'stop s':>6}")
    for kind in kinds:
        print(
            f"{kind:>22}  {statistics.median(starts[kind]):>8.2f}  {min(starts[kind]):>6.2f}  {max(starts[kind]):>6.2f}"
            f"  {statistics.median(stops[kind]):>6.2f}"
        )
    print(
        f"populated/empty --data-dir start-up: "
        f"{statistics.median(starts['populated --data-dir']) / statistics.median(starts['empty --data-dir']):.2f}x"
    )


def save_cost(populated: Path, work: Path, saves: int) -> None:
    """One save of the populated state, in this process: what the persister's
    thread does after a change. The capture holds every request back; the
    write does not. Timed separately: the pickle (state.bin) and the JSON
    document (state.json) each sandbox save now keeps."""
    from sandbox import moto_seams, state_export
    from sandbox.persistence import Store

    shutil.copytree(populated, work / "save-cost")
    moto_seams.install()
    store = Store(work / "save-cost")
    store.open()
    try:
        store.load()
        captures, documents, writes = [], [], []
        for _ in range(saves):
            began = time.perf_counter()
            snapshot = store.capture()
            captures.append(time.perf_counter() - began)
            began = time.perf_counter()
            state_export.document(body_name=moto_seams.persistence.body_ref)
            documents.append(time.perf_counter() - began)
            began = time.perf_counter()
            store.write(snapshot)
            writes.append(time.perf_counter() - began)
    finally:
        store.close()
    capture, document = statistics.median(captures), statistics.median(documents)
    print(f"\none save of the populated state ({saves} saves, medians): capture {capture * 1000:.0f} ms under the lock "
          f"(of which the JSON document {document * 1000:.0f} ms, the pickle {(capture - document) * 1000:.0f} ms), "
          f"write {statistics.median(writes) * 1000:.0f} ms after it")


def put_rate(s3: Any, bucket: str, prefix: str, puts: int) -> tuple[int, float]:
    """`puts` PutObject calls with bodies of their own; returns (puts, seconds)."""
    bodies = [body(prefix, i) for i in range(puts)]
    start = time.perf_counter()
    for i, data in enumerate(bodies):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{i:06d}", Body=data)
    return puts, time.perf_counter() - start


def put_throughput(populated: Path, work: Path, users: int, objects: int, rounds: int, puts: int) -> float:
    shutil.copytree(populated, work / "put-side")
    with sandbox(work / "put-side") as persistent, sandbox(None) as memory:
        populate(memory.kit, users, objects)
        sides = {}
        for name, server in (("with", persistent), ("without", memory)):
            s3 = server.kit.client("s3")
            bucket = f"bench-{name}"
            s3.create_bucket(Bucket=bucket)
            put_rate(s3, bucket, "warmup", WARMUP)
            sides[name] = (s3, bucket)
        totals = {name: [0, 0.0] for name in sides}
        ratios = []
        print(f"\nPutObject ({BODY_SIZE} B, admin key), both sandboxes holding {users} users and {objects} objects")
        print(f"{rounds} rounds x {puts} puts per side")
        print(f"{'round':>5}  {'with/s':>8}  {'without/s':>9}  {'ratio':>6}")
        for n in range(rounds):
            rates = {}
            for name in ["with", "without"] if n % 2 == 0 else ["without", "with"]:
                s3, bucket = sides[name]
                done, seconds = put_rate(s3, bucket, f"r{n}", puts)
                totals[name][0] += done
                totals[name][1] += seconds
                rates[name] = done / seconds
            ratios.append(rates["with"] / rates["without"])
            print(f"{n + 1:>5}  {rates['with']:>8.1f}  {rates['without']:>9.1f}  {ratios[-1]:>6.2f}")
        persistent.stop()
    with_rate = totals["with"][0] / totals["with"][1]
    without_rate = totals["without"][0] / totals["without"][1]
    ratio = with_rate / without_rate
    print(f"with --data-dir:    {with_rate:.1f} puts/s")
    print(f"without --data-dir: {without_rate:.1f} puts/s")
    print(f"ratio with/without: {ratio:.2f} (median of rounds {statistics.median(ratios):.2f})")
    print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
    print(f"persistent directory after the run: {describe(work / 'put-side')}")
    return ratio


def size(text: str) -> int:
    """`2GB`, `500MB`, `0`: decimal units, as disks are sold."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if found is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 2GB, 500MB)")
    value = int(float(found.group(1)) * UNITS[found.group(2)])
    if value > LARGE_MAX:
        raise argparse.ArgumentTypeError(f"at most {LARGE_MAX // 1000**3} GB")
    return value


def resident_mb(pid: int) -> float:
    """VmRSS of a process, in MB (the kernel reports kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1000
    raise SystemExit(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used: start-up's cost whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def large_body(base: bytes, i: int) -> bytes:
    """LARGE_BODY bytes of their own: a shared random block with the index at its head."""
    head = f"photo {i:06d} ".encode()
    return head + base[len(head) :]


def large_state(work: Path, total: int, restarts: int) -> None:
    count = max(1, total // LARGE_BODY)
    data_dir = work / "large"
    base = os.urandom(LARGE_BODY)
    began = time.perf_counter()
    with sandbox(data_dir) as server:
        s3 = server.kit.client("s3")
        s3.create_bucket(Bucket="large")
        for i in range(count):
            s3.put_object(Bucket="large", Key=f"public/photo-{i:04d}.jpg", Body=large_body(base, i))
        server.stop()
    print(f"\nlarge state: {count} x {LARGE_BODY / 1e6:.0f} MB PUT and saved in {time.perf_counter() - began:.1f} s: {describe(data_dir)}")
    empty_starts, empty_cpu, empty_rss = [], [], []
    starts, cpu, rss = [], [], []
    for _ in range(restarts):
        with sandbox(None) as empty:
            empty_starts.append(empty.startup)
            empty_cpu.append(cpu_seconds(empty.process.pid))
            empty_rss.append(resident_mb(empty.process.pid))
            empty.stop()
        with sandbox(data_dir) as server:
            starts.append(server.startup)
            cpu.append(cpu_seconds(server.process.pid))
            rss.append(resident_mb(server.process.pid))
            if _ == 0:  # the bodies are still there and whole: read one back
                got = server.kit.client("s3").get_object(Bucket="large", Key=f"public/photo-{count - 1:04d}.jpg")["Body"].read()
                if got != large_body(base, count - 1):
                    raise SystemExit("a stored photo came back different")
            server.stop()
    startup, resident = statistics.median(starts), statistics.median(rss)
    print(f"{'':>24}  {'start-up s':>10}  {'CPU s':>6}  {'VmRSS MB':>8}   (medians of {restarts} restarts, interleaved)")
    print(f"{'memory only, empty':>24}  {statistics.median(empty_starts):>10.2f}  {statistics.median(empty_cpu):>6.2f}  {statistics.median(empty_rss):>8.0f}")
    print(f"{f'--data-dir, {count * LARGE_BODY / 1e9:.2f} GB':>24}  {startup:>10.2f}  {statistics.median(cpu):>6.2f}  {resident:>8.0f}")
    print(f"start-up goal < {STARTUP_GOAL} s: {'met' if startup < STARTUP_GOAL else 'NOT met'} "
          f"(min {min(starts):.2f}, max {max(starts):.2f}; wall-clock, so a busy machine adds to it, CPU s does not)")
    print(f"resident memory goal < {RSS_GOAL} MB: {'met' if resident < RSS_GOAL else 'NOT met'} (max {max(rss):.0f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100, help="users in the populated sandbox (default 100)")
    parser.add_argument("--objects", type=int, default=2000, help="1 KB objects in the populated sandbox (default 2000)")
    parser.add_argument("--restarts", type=int, default=5, help="timed start-ups per kind (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="timed PUT rounds per side (default 5)")
    parser.add_argument("--puts", type=int, default=500, help="PutObject calls per side per round (default 500)")
    parser.add_argument("--size", type=size, default=2 * 1000**3, help="stored bytes for the large start-up, in 20 MB photos (default 2GB; 0 skips it)")
    parser.add_argument("--large-only", action="store_true", help="measure the large start-up only")
    args = parser.parse_args()
    if min(args.restarts, args.rounds, args.puts) < 1 or min(args.users, args.objects) < 0:
        parser.error("--restarts, --rounds and --puts must be at least 1; --users and --objects at least 0")

    scratch = tempfile.mkdtemp(prefix="sandbox-restart-")
    try:
        work = Path(scratch)
        if not args.large_only:
            populated = work / "populated"
            began = time.perf_counter()
            with sandbox(populated) as server:
                populate(server.kit, args.users, args.objects)
                server.stop()
            print(f"populated {args.users} users and {args.objects} objects in {time.perf_counter() - began:.1f} s: {describe(populated)}")
            startup_times(populated, work, args.restarts)
            save_cost(populated, work, args.restarts)
            put_throughput(populated, work, args.users, args.objects, args.rounds, args.puts)
        if args.size:
            large_state(work, args.size, args.restarts)
    finally:  # gigabytes of generated photos never outlive the run
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
