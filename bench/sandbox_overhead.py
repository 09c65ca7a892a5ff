"""What the sandbox's checks and records cost an upload: S3 PutObject (1 KB)
per second, in one run, on three sides:

- on: alice's sandbox-issued credentials (signature, session token and
  policy checked on every request), with the decisions and the trail kept
  (the default; the trail written to a directory, as with `--data-dir`);
- off: the same credentials on a second sandbox started with
  `inspection=False` (`--no-inspection`): no decisions, no trail;
- admin: the admin key on the first sandbox, which IAM does not check.

Both sandboxes run in this process and share moto's state, so the same
credentials work on each. Rounds rotate the order of the sides, so warm
caches, GC and a busy machine weigh on all alike. The goals: on/off >= 0.9
(what decisions and the trail cost) and on/admin >= 0.8 (what IAM costs).

    .venv/bin/python bench/sandbox_overhead.py [--rounds 6] [--puts 200]"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.server import running  # noqa: E402  (needs REPO on sys.path)
from tests.sandbox_kit import SandboxKit  # noqa: E402

INSPECTION_GOAL = 0.9  # on/off rate
IAM_GOAL = 0.8  # on/admin rate
BODY = b"x" * 1024  # 1 KB
WARMUP = 50  # puts per side before timing
SIDES = ("on", "off", "admin")


def put_rate(s3: Any, bucket: str, prefix: str, puts: int) -> tuple[int, float]:
    """`puts` PutObject calls; returns (puts, seconds)."""
    start = time.perf_counter()
    for i in range(puts):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{i}", Body=BODY)
    return puts, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds per side (default 6)")
    parser.add_argument("--puts", type=int, default=200, help="PutObject calls per side per round (default 200)")
    args = parser.parse_args()
    if args.rounds < 1 or args.puts < 1:
        parser.error("--rounds and --puts must be at least 1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines in the timing

    with contextlib.ExitStack() as stack:
        trail_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "trail"
        on = stack.enter_context(running(trail_dir=trail_dir))
        off = stack.enter_context(running(inspection=False))
        for server in (on, off):
            if not server.endpoint.startswith("http://127.0.0.1:"):
                raise SystemExit(f"expected a loopback endpoint, got {server.endpoint}")
        kit_on, kit_off = SandboxKit(endpoint=on.endpoint), SandboxKit(endpoint=off.endpoint)
        dep = kit_on.deployment(users=("alice",))
        identity_id, credentials = dep.user_credentials("alice")
        sides = {
            "on": (kit_on.client("s3", credentials), f"private/{identity_id}/bench-on-"),
            "off": (kit_off.client("s3", credentials), f"private/{identity_id}/bench-off"),  # same key length
            "admin": (kit_on.client("s3"), f"private/{identity_id}/bench-adm"),
        }
        for s3, prefix in sides.values():
            put_rate(s3, dep.bucket, prefix, WARMUP)

        totals = {name: [0, 0.0] for name in sides}
        ratios: dict[str, list[float]] = {"on/off": [], "on/admin": []}
        print(f"on {on.endpoint}, off {off.endpoint}: {args.rounds} rounds x {args.puts} PutObject (1 KB) per side")
        print(f"{'round':>5}  {'on/s':>7}  {'off/s':>7}  {'admin/s':>7}  {'on/off':>6}  {'on/admin':>8}")
        for round_no in range(args.rounds):
            order = SIDES[round_no % 3 :] + SIDES[: round_no % 3]
            rates = {}
            for name in order:
                s3, prefix = sides[name]
                puts, seconds = put_rate(s3, dep.bucket, prefix, args.puts)
                totals[name][0] += puts
                totals[name][1] += seconds
                rates[name] = puts / seconds
            ratios["on/off"].append(rates["on"] / rates["off"])
            ratios["on/admin"].append(rates["on"] / rates["admin"])
            print(
                f"{round_no + 1:>5}  {rates['on']:>7.1f}  {rates['off']:>7.1f}  {rates['admin']:>7.1f}"
                f"  {ratios['on/off'][-1]:>6.2f}  {ratios['on/admin'][-1]:>8.2f}"
            )
        trail_files = sorted(p.name for p in trail_dir.glob("*.jsonl"))

    rate = {name: totals[name][0] / totals[name][1] for name in sides}
    inspection, iam = rate["on"] / rate["off"], rate["on"] / rate["admin"]
    print(f"issued credentials, decisions and trail on: {rate['on']:.1f} puts/s")
    print(f"issued credentials, decisions and trail off: {rate['off']:.1f} puts/s")
    print(f"admin key (no IAM check):                    {rate['admin']:.1f} puts/s")
    print(f"ratio on/off:   {inspection:.2f} (median of rounds {statistics.median(ratios['on/off']):.2f}); "
          f"goal >= {INSPECTION_GOAL}: {'met' if inspection >= INSPECTION_GOAL else 'NOT met'}")
    print(f"ratio on/admin: {iam:.2f} (median of rounds {statistics.median(ratios['on/admin']):.2f}); "
          f"goal >= {IAM_GOAL}: {'met' if iam >= IAM_GOAL else 'NOT met'}")
    print(f"trail files written: {', '.join(trail_files) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
