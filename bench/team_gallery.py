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

import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import configure  # noqa: E402  (needs REPO on sys.path)
from bench.catalog_pages import Catalog, arguments, measure, owners_make, report, requests_per_route  # noqa: E402
from sandbox.server import free_port, running  # noqa: E402

TEAM = "wintercorp"
ROUTES = {"html": f"/teams/{TEAM}/", "api": f"/api/teams/{TEAM}/photos"}
OWNERS = 50
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
    args = arguments(__doc__)
    started = time.perf_counter()
    with team_site() as server:
        from tests.actors import sso_client_sign_in

        dana = sso_client_sign_in("dana@wintercorp.com")
        catalog = Catalog(rows_insert, owners=owners_make(OWNERS), small=args.small, large=args.large)
        measured = measure(dana, ROUTES, catalog, requests=args.requests)  # her role is read from STS on the first page
    print(
        f"GET {ROUTES['html']} and GET {ROUTES['api']} as dana (team role, SSO), sandbox on {server.endpoint}; "
        f"{args.small:,} vs {args.large:,} catalog rows (half of them the team's), "
        f"{requests_per_route(args.requests)} timed requests per route and size, in alternating blocks"
    )
    return report(measured, ROUTES, rows={"small": args.small, "large": args.large}, started=started)


if __name__ == "__main__":
    sys.exit(main())
