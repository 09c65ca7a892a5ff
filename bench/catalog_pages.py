"""What bench/gallery.py and bench/team_gallery.py share: whether a page's
cost grows with the catalog's size, measured the same way for any page.

A run times each route against a small and a large catalog, alternating
between them in BLOCKS blocks (the extra rows are inserted, then deleted,
outside the timing), so a machine that slows down during the run weighs on
both sides alike. Outside the timing it also counts, once per block, the SQL
queries each page makes (CaptureQueriesContext) and what it shows, and it
counts every AWS call made while the pages are served. The report prints the
figures; growing query counts and any AWS call are failures (exit 1). Times
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

BLOCKS = 4  # small, large, small, large
WARMUP = 5  # requests of each route before each block's timing
GOAL = 1.5  # large/small median latency
CARD = b'data-testid="photo-card"'  # one per photo in the HTML grid
SIZES = ("small", "large")


def arguments(doc: str) -> argparse.Namespace:
    """--requests, --small and --large, checked."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per route and size (default 100)")
    parser.add_argument("--small", type=int, default=100, help="rows in the small catalog (default 100)")
    parser.add_argument("--large", type=int, default=10_000, help="rows in the large catalog (default 10000)")
    args = parser.parse_args()
    if args.requests < BLOCKS // 2 or not 0 < args.small < args.large <= 1_000_000:
        parser.error(f"--requests must be at least {BLOCKS // 2}, and 0 < --small < --large <= 1000000")
    return args


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


class Catalog:
    """The catalog at one of its two sizes: `rows_insert(owners, count,
    start=)` makes rows; `resize` grows it to `large` or shrinks it back to
    the first `small` rows, and checks the count."""

    def __init__(self, rows_insert: Callable[..., list], *, owners: list, small: int, large: int) -> None:
        from uploads.models import Photo

        self._insert, self._owners, self._small, self._large = rows_insert, owners, small, large
        self._small_ids = [p.pk for p in rows_insert(owners, small, start=0)]
        self._grown = False
        self._photos = Photo.objects

    def resize(self, size: str) -> None:
        if size == "large" and not self._grown:
            self._insert(self._owners, self._large - self._small, start=self._small)
        elif size == "small" and self._grown:
            self._photos.exclude(pk__in=self._small_ids).delete()
        self._grown = size == "large"
        expected = self._large if size == "large" else self._small
        if self._photos.count() != expected:
            raise SystemExit(f"the {size} catalog has {self._photos.count()} rows, not {expected}")


@dataclass
class Measured:
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    queries: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    shown: dict[tuple[str, str], str] = field(default_factory=dict)
    aws_during_pages: Counter = field(default_factory=Counter)


def measure(client: object, routes: dict[str, str], catalog: Catalog, *, requests: int) -> Measured:
    """Time GET of each of `routes` ("html" and "api") with Django's test
    `client`, against both sizes of `catalog`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get(route: str) -> tuple[float, bytes]:
        start = time.perf_counter()
        response = client.get(routes[route])  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"GET {routes[route]} answered {response.status_code}: {response.content[:300]!r}")
        return elapsed, response.content

    get("html")  # whatever the first page of a session costs once (a role read from STS, say), outside the count
    aws_calls = aws_calls_count()
    result = Measured()
    result.times = {(s, r): [] for s in SIZES for r in routes}
    result.queries = {key: set() for key in result.times}
    per_block = -(-requests // (BLOCKS // 2))
    for block in range(BLOCKS):
        size = SIZES[block % 2]
        catalog.resize(size)
        for _ in range(WARMUP):
            for route in routes:
                get(route)
        for route in routes:  # one counted request of each, outside the timing
            with CaptureQueriesContext(connection) as captured:
                _, body = get(route)
            result.queries[(size, route)].add(len(captured.captured_queries))
            if route == "api":
                answer = json.loads(body)
                result.shown[(size, route)] = f"{len(answer['photos'])} photos, next {'set' if answer['next'] else 'null'}"
            else:
                result.shown[(size, route)] = f"{body.count(CARD)} photo cards"
        aws_calls.clear()
        for n in range(per_block):
            for route in routes if n % 2 == 0 else reversed(routes):  # alternate which goes first
                elapsed, _ = get(route)
                result.times[(size, route)].append(elapsed)
        result.aws_during_pages.update(aws_calls)
    return result


def report(measured: Measured, routes: dict[str, str], *, rows: dict[str, int], started: float) -> int:
    """Print the table; 1 when queries grow with the catalog or a page called AWS."""
    width = max(len(path) for path in routes.values()) + 4
    print(f"{'route':>{width}}  {'rows':>7}  {'median ms':>10}  {'queries':>7}  shows")
    failures = []
    for route, path in routes.items():
        for size in SIZES:
            median = statistics.median(measured.times[(size, route)]) * 1000
            counts = "/".join(str(c) for c in sorted(measured.queries[(size, route)]))
            print(f"{path:>{width}}  {rows[size]:>7,}  {median:>10.2f}  {counts:>7}  {measured.shown[(size, route)]}")
        ratio = statistics.median(measured.times[("large", route)]) / statistics.median(measured.times[("small", route)])
        print(f"{'':>{width}}  large/small median {ratio:.2f} (goal <= {GOAL})")
        if max(measured.queries[("large", route)]) > min(measured.queries[("small", route)]):
            failures.append(f"{path}: SQL queries per page grow with the catalog")
    if measured.aws_during_pages:
        calls = ", ".join(f"{name} x{count}" for name, count in sorted(measured.aws_during_pages.items()))
        failures.append(f"the pages called AWS while listing: {calls}")
    else:
        print("AWS calls while serving the pages: none")
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def requests_per_route(requests: int) -> int:
    """How many timed requests each route and size really get."""
    return -(-requests // (BLOCKS // 2)) * BLOCKS // 2
