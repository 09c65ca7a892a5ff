"""What the session cache saves: POST /api/credentials latency for a
signed-in user when the credentials come from the session (cached) against
when they must be fetched from the identity pool (uncached:
GetCredentialsForIdentity, an audit row, the session saved), in one run.

Everything is in this process: the sandbox on 127.0.0.1, a deployment
provisioned into a temporary directory, a temporary SQLite database, and
Django's test client signed in as alice. Calls alternate (a few cached, one
uncached) so a busy machine weighs on both sides alike. For an uncached call
the cached credentials are removed from the session first, outside the
timing. Log output below WARNING is silenced so it does not fill the screen.

    .venv/bin/python bench/credentials.py [--cached 200] [--uncached 50]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import provisioned_site  # noqa: E402  (needs REPO on sys.path)

WARMUP = 10  # calls of each kind before timing
API = "/api/credentials"


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cached", type=int, default=200, help="timed cached calls (default 200)")
    parser.add_argument("--uncached", type=int, default=50, help="timed uncached calls (default 50)")
    args = parser.parse_args()
    if args.cached < 1 or args.uncached < 1:
        parser.error("--cached and --uncached must be at least 1")

    started = time.perf_counter()
    with provisioned_site() as server:
        from django.conf import settings
        from django.test import Client

        from accounts.store import CredentialStore
        from infra.demo_users import demo_users_seed

        demo_users_seed(report=lambda line: None)

        client = Client()
        response = client.post("/accounts/sign-in/", {"email": "alice@example.com", "password": settings.DEMO_PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"alice could not sign in: {response.status_code}")

        def forget() -> None:
            session = client.session
            CredentialStore(session).credentials_forget()
            session.save()

        def call() -> tuple[float, dict]:
            start = time.perf_counter()
            response = client.post(API)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"{API} answered {response.status_code}: {response.content[:200]!r}")
            return elapsed, response.json()

        for _ in range(WARMUP):
            forget()
            call()
            call()

        # Interleave: spread the uncached calls evenly among the cached ones.
        every = max(1, round(args.cached / args.uncached))
        order: list[str] = []
        cached_left, uncached_left = args.cached, args.uncached
        while cached_left or uncached_left:
            if uncached_left:
                order.append("uncached")
                uncached_left -= 1
            take = min(every, cached_left)
            order += ["cached"] * take
            cached_left -= take

        times: dict[str, list[float]] = {"cached": [], "uncached": []}
        identities, last_keys = set(), None
        for kind in order:
            if kind == "uncached":
                forget()
            elapsed, answer = call()
            times[kind].append(elapsed)
            identities.add(answer["identityId"])
            if kind == "cached" and last_keys is not None and answer["accessKeyId"] != last_keys:
                raise SystemExit("a cached call returned new keys: the cache was not used")
            if kind == "uncached" and answer["accessKeyId"] == last_keys:
                raise SystemExit("an uncached call returned the previous keys: the cache was not cleared")
            last_keys = answer["accessKeyId"]
        if len(identities) != 1:
            raise SystemExit(f"alice had {len(identities)} identities; expected one")

    print(f"POST {API} as alice, sandbox on {server.endpoint}; {len(times['cached'])} cached and {len(times['uncached'])} uncached calls, interleaved")
    print(f"{'':>9}  {'median ms':>10}  {'p95 ms':>8}")
    summary = {}
    for kind in ("cached", "uncached"):
        median, p95 = statistics.median(times[kind]) * 1000, percentile(times[kind], 0.95) * 1000
        summary[kind] = (median, p95)
        print(f"{kind:>9}  {median:>10.2f}  {p95:>8.2f}")
    print(
        f"uncached/cached: median {summary['uncached'][0] / summary['cached'][0]:.2f}x, "
        f"p95 {summary['uncached'][1] / summary['cached'][1]:.2f}x"
    )
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
