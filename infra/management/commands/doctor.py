"""`python manage.py doctor [--json]`: audit the live deployment.

Exit status: 0 clean, 1 at least one finding, 2 the deployment could not be
read (nothing provisioned, no credentials, AWS or the sandbox unreachable), so
a script or CI step can tell "insecure" from "unknown".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from infra.doctor import deployment_audit, deployment_inspect, report_json, report_text
from infra.management.errors import command_errors
from core.deployment import deployment_get

CANNOT_READ = "doctor: cannot read the deployment, so nothing was audited."
EXIT_FINDINGS, EXIT_UNREADABLE = 1, 2


class Command(BaseCommand):
    help = "Audit the live deployment (sandbox or AWS) for identity-pool and bucket misconfigurations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the findings as JSON.")

    def handle(self, *args: Any, as_json: bool = False, **options: Any) -> None:
        try:
            # command_errors logs the detail and turns it into a fixed message
            # per cause; doctor only changes the exit status, since 1 means "findings".
            with command_errors("doctor"):
                snapshot = deployment_inspect(deployment=deployment_get())
        except CommandError as exc:
            message = f"{CANNOT_READ} {exc}"
            if as_json:
                self.stdout.write(json.dumps({"ok": False, "error": "cannot-read-deployment", "message": message}))
            self.stderr.write(message)
            raise SystemExit(EXIT_UNREADABLE) from None
        findings = deployment_audit(snapshot=snapshot)
        report = report_json if as_json else report_text
        self.stdout.write(report(snapshot=snapshot, findings=findings))
        if findings:
            raise SystemExit(EXIT_FINDINGS)
