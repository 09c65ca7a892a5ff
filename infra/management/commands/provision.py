"""`manage.py provision`: create or repair the deployment and save its IDs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.management.errors import command_errors
from infra.provision import deployment_provision


def target() -> str:
    if settings.PHOTOSHARE_AWS == "local":
        return f"the sandbox at {settings.AWS_ENDPOINT_URL}"
    return f"AWS ({settings.AWS_REGION})"


class Command(BaseCommand):
    help = "Create the Photoshare deployment (Cognito, IAM, S3), or repair it; running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        changes: list[str] = []

        def report(line: str) -> None:
            changes.append(line)
            self.stdout.write(f"  {line}")

        self.stdout.write(f"Provisioning {settings.PHOTOSHARE_NAME} on {target()}")
        with command_errors("provision"):
            deployment_provision(report=report)
        if not changes:
            self.stdout.write("  Everything was already as it should be; nothing changed.")
        self.stdout.write(self.style.SUCCESS(f"Deployment IDs are in {settings.PHOTOSHARE_DEPLOYMENT_FILE}"))
