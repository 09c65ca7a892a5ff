"""Whether a team's gallery costs the same whatever the catalog's size: the
HTML page `/teams/wintercorp/` and `GET /api/teams/wintercorp/photos`, for
dana (signed in with the sandbox's Winter Corp SSO, so her credentials carry
the team role), with 100 catalog rows against 10,000, in one run.

As bench/gallery.py does for the public gallery: everything in this
process (the sandbox on 127.0.0.1 with its OIDC provider, a deployment
provisioned with it, a temporary SQLite database, Django's test client);
rows inserted with bulk_create, half of them team photos, the rest private;
AWS calls made while the pages are served counted (the role is read from
STS once per set of credentials, before the timing), SQL queries per page
counted; times printed, never asserted.

    .venv/bin/python bench/team_gallery.py [--requests 100] [--small 100] [--large 10000]"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import configure  # noqa: E402  (needs REPO on sys.path)
from bench.gallery import aws_calls_count, owners_make  # noqa: E402
from sandbox.server import free_port, running  # noqa: E402

TEAM = "wintercorp"
ROUTES = {"html": f"/teams/{TEAM}/", "api": f"/api/teams/{TEAM}/photos"}
OWNERS = 50
BLOCKS = 4  # small, large, small, large
WARMUP = 5
GOAL = 1.5  # large/small median latency
CARD = b'data-testid="photo-card"'
# The sandbox's own OIDC client for the test client's callback (settings' sandbox defaults).
CLIENT = "photoshare-web:photoshare-sandbox-oidc-secret:http://testserver/accounts/oidc/callback/"


@contextlib.contextmanager
def team_site() -> Iterator[object]:
    """bench.django_setup.provisioned_site, with an OIDC provider that knows
    the app's client: its issuer is OIDC_ISSUER's sandbox default."""
    port = free_port()
    issuer = f"http://localhost:{port}/_sandbox/oidc"
    with tempfile.TemporaryDirectory(prefix="photoshare-bench-") as tmp, running(
        port=port, oidc_clients=[CLIENT], oidc_issuer=issuer
    ) as server:
        configure(Path(tmp), port)
        from django.conf import settings
        from django.core.management import call_command

        from infra.provision import deployment_provision

        if settings.OIDC_ISSUER != issuer:
            raise SystemExit(f"OIDC_ISSUER is {settings.OIDC_ISSUER}, the sandbox's issuer {issuer}")
        call_command("migrate", verbosity=0)
        deployment_provision(report=lambda line: None)
        yield server


def rows_insert(owners: list, count: int, *, start: int) -> list:
    """`count` rows: every other one a team photo of wintercorp, the rest private."""
    from uploads.models import Photo

    photos = []
    for n in range(start, start + count):
        owner = owners[n % len(owners)]
        team = n % 2 == 0
        folder = f"teams/{TEAM}/{owner.identity_id}/" if team else f"private/{owner.identity_id}/"
        name = uuid.uuid4()
        photos.append(
            Photo(
                owner=owner,
                key=f"{folder}{name}.jpg",
                version_id=uuid.uuid4().hex,
                visibility=Photo.Visibility.TEAM if team else Photo.Visibility.PRIVATE,
                team=TEAM if team else "",
                title=f"Photo number {n}",
                content_type="image/jpeg",
                size=1_000_000 + n,
                thumb_key=f"{folder}thumbs/{name}.jpg",
                thumb_version_id=uuid.uuid4().hex,
                width=4000,
                height=3000,
            )
        )
    return Photo.objects.bulk_create(photos, batch_size=500)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per route and size (default 100)")
    parser.add_argument("--small", type=int, default=100, help="rows in the small catalog (default 100)")
    parser.add_argument("--large", type=int, default=10_000, help="rows in the large catalog (default 10000)")
    args = parser.parse_args()
    if args.requests < BLOCKS // 2 or not 0 < args.small < args.large <= 1_000_000:
        parser.error(f"--requests must be at least {BLOCKS // 2}, and 0 < --small < --large <= 1000000")

    started = time.perf_counter()
    with team_site() as server:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tests.actors import sso_client_sign_in
        from uploads.models import Photo

        dana = sso_client_sign_in("dana@wintercorp.com")
        owners = owners_make(OWNERS)
        small_ids = [p.pk for p in rows_insert(owners, args.small, start=0)]
        grown = False

        def get(route: str) -> tuple[float, bytes]:
            start = time.perf_counter()
            response = dana.get(ROUTES[route])
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"GET {ROUTES[route]} answered {response.status_code}: {response.content[:300]!r}")
            return elapsed, response.content

        def resize(size: str) -> None:
            nonlocal grown
            if size == "large" and not grown:
                rows_insert(owners, args.large - args.small, start=args.small)
            elif size == "small" and grown:
                Photo.objects.exclude(pk__in=small_ids).delete()
            grown = size == "large"

        get("html")  # her role, from STS once for these credentials
        aws_calls = aws_calls_count()
        times: dict[tuple[str, str], list[float]] = {(s, r): [] for s in ("small", "large") for r in ROUTES}
        queries: dict[tuple[str, str], set[int]] = {key: set() for key in times}
        shown: dict[tuple[str, str], str] = {}
        aws_during_pages: Counter = Counter()
        per_block = -(-args.requests // (BLOCKS // 2))
        for block in range(BLOCKS):
            size = ("small", "large")[block % 2]
            resize(size)
            for _ in range(WARMUP):
                for route in ROUTES:
                    get(route)
            for route in ROUTES:  # one counted request of each, outside the timing
                with CaptureQueriesContext(connection) as captured:
                    _, body = get(route)
                queries[(size, route)].add(len(captured.captured_queries))
                if route == "api":
                    answer = json.loads(body)
                    shown[(size, route)] = f"{len(answer['photos'])} photos, next {'set' if answer['next'] else 'null'}"
                else:
                    shown[(size, route)] = f"{body.count(CARD)} photo cards"
            aws_calls.clear()
            for n in range(per_block):
                for route in ROUTES if n % 2 == 0 else reversed(ROUTES):
                    elapsed, _ = get(route)
                    times[(size, route)].append(elapsed)
            aws_during_pages.update(aws_calls)

    print(
        f"GET {ROUTES['html']} and GET {ROUTES['api']} as dana (team role, SSO), sandbox on {server.endpoint}; "
        f"{args.small:,} vs {args.large:,} catalog rows (half of them the team's), "
        f"{per_block * BLOCKS // 2} timed requests per route and size in {BLOCKS} alternating blocks"
    )
    print(f"{'route':>28}  {'rows':>7}  {'median ms':>10}  {'queries':>7}  shows")
    failures = []
    for route, path in ROUTES.items():
        for size, rows in (("small", args.small), ("large", args.large)):
            median = statistics.median(times[(size, route)]) * 1000
            counts = "/".join(str(c) for c in sorted(queries[(size, route)]))
            print(f"{path:>28}  {rows:>7,}  {median:>10.2f}  {counts:>7}  {shown[(size, route)]}")
        ratio = statistics.median(times[("large", route)]) / statistics.median(times[("small", route)])
        print(f"{'':>28}  large/small median {ratio:.2f} (goal <= {GOAL})")
        if max(queries[("large", route)]) > min(queries[("small", route)]):
            failures.append(f"{path}: SQL queries per page grow with the catalog")
    if aws_during_pages:
        calls = ", ".join(f"{name} x{count}" for name, count in sorted(aws_during_pages.items()))
        failures.append(f"the pages called AWS while listing: {calls}")
    else:
        print("AWS calls while serving the pages: none")
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
