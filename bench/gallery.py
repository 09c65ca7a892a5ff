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

import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.catalog_pages import Catalog, arguments, measure, owners_make, report, requests_per_route  # noqa: E402
from bench.django_setup import provisioned_site  # noqa: E402  (needs REPO on sys.path)

ROUTES = {"html": "/", "api": "/api/photos/public"}
OWNERS = 50  # users the rows are spread over


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
    args = arguments(__doc__)
    started = time.perf_counter()
    with provisioned_site() as server:
        from django.test import Client

        catalog = Catalog(rows_insert, owners=owners_make(OWNERS), small=args.small, large=args.large)
        measured = measure(Client(), ROUTES, catalog, requests=args.requests)
    print(
        f"GET / and GET {ROUTES['api']} as a guest, sandbox on {server.endpoint}; "
        f"{args.small:,} vs {args.large:,} catalog rows (3 in 4 public), "
        f"{requests_per_route(args.requests)} timed requests per route and size, in alternating blocks"
    )
    return report(measured, ROUTES, rows={"small": args.small, "large": args.large}, started=started)


if __name__ == "__main__":
    sys.exit(main())
