"""What the sandbox's IAM layer costs an upload: S3 PutObject (1 KB) per second
with alice's sandbox-issued credentials (signature, session token and policy
checked on every request) against the same with the admin key, in one run.

Rounds alternate the two sides and swap which goes first, so warm caches, GC
and a busy machine weigh on both alike. The goal is issued/admin >= 0.8.

    .venv/bin/python bench/sandbox_overhead.py [--rounds 5] [--puts 200]"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.server import running  # noqa: E402  (needs REPO on sys.path)
from tests.sandbox_kit import SandboxKit  # noqa: E402

GOAL = 0.8  # issued/admin rate
BODY = b"x" * 1024  # 1 KB
WARMUP = 50  # puts per side before timing


def put_rate(s3: Any, bucket: str, prefix: str, puts: int) -> tuple[int, float]:
    """`puts` PutObject calls; returns (puts, seconds)."""
    start = time.perf_counter()
    for i in range(puts):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{i}", Body=BODY)
    return puts, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side (default 5)")
    parser.add_argument("--puts", type=int, default=200, help="PutObject calls per side per round (default 200)")
    args = parser.parse_args()
    if args.rounds < 1 or args.puts < 1:
        parser.error("--rounds and --puts must be at least 1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines in the timing

    with running() as server:
        if not server.endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"expected a loopback endpoint, got {server.endpoint}")
        kit = SandboxKit(endpoint=server.endpoint)
        dep = kit.deployment(users=("alice",))
        identity_id, credentials = dep.user_credentials("alice")
        sides = {
            "issued": (kit.client("s3", credentials), f"private/{identity_id}/bench-issued"),
            "admin": (kit.client("s3"), f"private/{identity_id}/bench-admin-"),  # same key length
        }
        for s3, prefix in sides.values():
            put_rate(s3, dep.bucket, prefix, WARMUP)

        totals = {name: [0, 0.0] for name in sides}
        ratios = []
        print(f"{server.endpoint}: {args.rounds} rounds x {args.puts} PutObject (1 KB) per side")
        print(f"{'round':>5}  {'issued/s':>9}  {'admin/s':>9}  {'ratio':>6}")
        for round_no in range(args.rounds):
            order = ["issued", "admin"] if round_no % 2 == 0 else ["admin", "issued"]
            rates = {}
            for name in order:
                s3, prefix = sides[name]
                puts, seconds = put_rate(s3, dep.bucket, prefix, args.puts)
                totals[name][0] += puts
                totals[name][1] += seconds
                rates[name] = puts / seconds
            ratios.append(rates["issued"] / rates["admin"])
            print(f"{round_no + 1:>5}  {rates['issued']:>9.1f}  {rates['admin']:>9.1f}  {ratios[-1]:>6.2f}")

    issued = totals["issued"][0] / totals["issued"][1]
    admin = totals["admin"][0] / totals["admin"][1]
    ratio = issued / admin
    print(f"issued credentials: {issued:.1f} puts/s")
    print(f"admin key:          {admin:.1f} puts/s")
    print(f"ratio issued/admin: {ratio:.2f} (median of rounds {statistics.median(ratios):.2f})")
    print(f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
