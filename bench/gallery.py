"""Whether the public gallery's first page costs the same whatever the
catalog's size: the HTML home page `/` and `GET /api/photos/public`, for a
guest, with 100 catalog rows against 10,000, in one run.

Everything is in this process: the sandbox on 127.0.0.1 (the pages read the
provisioned deployment), a deployment provisioned into a temporary
directory, a temporary SQLite database, and Django's test client. Rows are
inserted with bulk_create, straight into the database; S3 holds none of
them, because listing must not touch S3: every S3 call made while a page is
served is counted, and any is reported as a failure. So are SQL queries per
page that grow with the catalog (counted with CaptureQueriesContext). The
times are printed, never asserted.

The catalog alternates between the two sizes (the extra rows are inserted,
then deleted, outside the timing), so a machine that slows down during the
run weighs on both sides alike. One row in four is private, as in a catalog
where not everything is published; owners are spread over 50 users.

    .venv/bin/python bench/gallery.py [--requests 100] [--small 100] [--large 10000]"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import provisioned_site  # noqa: E402  (needs REPO on sys.path)

ROUTES = {"html": "/", "api": "/api/photos/public"}
OWNERS = 50  # users the rows are spread over
BLOCKS = 4  # small, large, small, large
WARMUP = 5  # requests of each route before each block's timing
GOAL = 1.5  # large/small median latency
CARD = b'data-testid="photo-card"'  # one per photo in the HTML grid


def aws_calls_count() -> Counter:
    """Count every AWS call any boto3 client in this process makes, by
    service and operation, into the Counter returned."""
    from botocore.client import BaseClient

    calls: Counter = Counter()
    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        calls[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    return calls


def owners_make(count: int) -> list:
    """`count` users with identity IDs of their own, as sign-in would leave them."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = [
        User(
            username=str(uuid.uuid4()),
            email=f"owner{n}@example.com",
            first_name=f"Owner {n}",
            identity_id=f"us-east-1:{uuid.uuid4()}",
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(username__in=[u.username for u in users]))


def rows_insert(owners: list, count: int, *, start: int) -> list:
    """`count` catalog rows, one in four private, the rest published with
    thumbnails and public copies, all pinned to made-up versions."""
    from uploads.models import Photo

    photos = []
    for n in range(start, start + count):
        owner = owners[n % len(owners)]
        name = f"{uuid.uuid4()}.jpg"
        thumb = f"thumbs/{uuid.uuid4()}.jpg"
        public = n % 4 != 0
        photos.append(
            Photo(
                owner=owner,
                key=f"private/{owner.identity_id}/{name}",
                version_id=uuid.uuid4().hex,
                visibility=Photo.Visibility.PUBLIC if public else Photo.Visibility.PRIVATE,
                title=f"Photo number {n}",
                content_type="image/jpeg",
                size=1_000_000 + n,
                thumb_key=f"private/{owner.identity_id}/{thumb}",
                thumb_version_id=uuid.uuid4().hex,
                width=4000,
                height=3000,
                public_key=f"public/{owner.identity_id}/{name}" if public else "",
                public_version_id=uuid.uuid4().hex if public else "",
                public_thumb_key=f"public/{owner.identity_id}/{thumb}" if public else "",
                public_thumb_version_id=uuid.uuid4().hex if public else "",
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
    with provisioned_site() as server:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from uploads.models import Photo


        owners = owners_make(OWNERS)
        small_ids = [p.pk for p in rows_insert(owners, args.small, start=0)]
        grown = False
        aws_calls = aws_calls_count()
        guest = Client()

        def get(route: str) -> tuple[float, bytes]:
            start = time.perf_counter()
            response = guest.get(ROUTES[route])
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
            if Photo.objects.count() != (args.large if size == "large" else args.small):
                raise SystemExit(f"the {size} catalog has {Photo.objects.count()} rows")

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
                for route in ROUTES if n % 2 == 0 else reversed(ROUTES):  # alternate which goes first
                    elapsed, _ = get(route)
                    times[(size, route)].append(elapsed)
            aws_during_pages.update(aws_calls)

    print(
        f"GET / and GET {ROUTES['api']} as a guest, sandbox on {server.endpoint}; "
        f"{args.small:,} vs {args.large:,} catalog rows (3 in 4 public), "
        f"{per_block * BLOCKS // 2} timed requests per route and size in {BLOCKS} alternating blocks"
    )
    print(f"{'route':>22}  {'rows':>7}  {'median ms':>10}  {'queries':>7}  shows")
    failures = []
    for route, path in ROUTES.items():
        for size, rows in (("small", args.small), ("large", args.large)):
            median = statistics.median(times[(size, route)]) * 1000
            counts = "/".join(str(c) for c in sorted(queries[(size, route)]))
            print(f"{path:>22}  {rows:>7,}  {median:>10.2f}  {counts:>7}  {shown[(size, route)]}")
        ratio = statistics.median(times[("large", route)]) / statistics.median(times[("small", route)])
        print(f"{'':>22}  large/small median {ratio:.2f} (goal <= {GOAL})")
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
