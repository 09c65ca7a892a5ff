"""`python manage.py reconcile [--fix] [--user EMAIL] [--grace SECONDS]`:
compare the photo catalog with the bucket, and with --fix repair it
(uploads.reconcile says what each finding means).

Exit status: 0 consistent (or everything fixed), 1 inconsistencies remain
(report mode, or a fix that could not be made), 2 nothing was checked (S3 or
the deployment could not be read, or no such user), so a cron job or CI step
can tell "drifted" from "unknown".
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from core.aws import AwsCallError
from uploads.reconcile import GRACE, catalog_reconcile

log = logging.getLogger(__name__)

EXIT_INCONSISTENT, EXIT_UNREADABLE = 1, 2
CANNOT_READ = "reconcile: cannot read the bucket, so nothing was checked (the log has the detail)."


class Command(BaseCommand):
    help = "Report (and with --fix repair) differences between the photo catalog and the bucket."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fix", action="store_true", help="Repair what is found instead of only reporting it.")
        parser.add_argument("--user", metavar="EMAIL", help="Only this user's photos and prefixes.")
        parser.add_argument(
            "--grace",
            type=int,
            default=int(GRACE.total_seconds()),
            metavar="SECONDS",
            help="Leave objects younger than this alone: a browser may still register or publish them (default %(default)s).",
        )

    def handle(self, *args: Any, fix: bool = False, user: str | None = None, grace: int = 0, **options: Any) -> None:
        who = None
        if user is not None:
            who = User.objects.filter(email__iexact=user).first()
            if who is None:
                raise CommandError(f"reconcile: no user has the email {user}; nothing was checked.", returncode=EXIT_UNREADABLE)
        try:
            result = catalog_reconcile(fix=fix, user=who, grace=dt.timedelta(seconds=grace))
        except (AwsCallError, ImproperlyConfigured) as exc:
            log.error("reconcile: %s", exc)
            self.stderr.write(CANNOT_READ)
            raise SystemExit(EXIT_UNREADABLE) from None
        for finding in result.findings:
            self.stdout.write(finding.line())
        self.stdout.write(result.summary())
        if result.unfixed:
            raise SystemExit(EXIT_INCONSISTENT)
