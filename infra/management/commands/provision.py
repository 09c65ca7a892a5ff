"""`manage.py provision`: create or repair the deployment and save its IDs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.management.reporting import run_reported
from infra.provision import deployment_provision


class Command(BaseCommand):
    help = "Create the Photoshare deployment (Cognito, IAM, S3), or repair it; running it again changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        run_reported(
            self,
            name="provision",
            heading=f"Provisioning {settings.PHOTOSHARE_NAME}",
            run=deployment_provision,
            unchanged="Everything was already as it should be; nothing changed.",
        )
        self.stdout.write(self.style.SUCCESS(f"Deployment IDs are in {settings.PHOTOSHARE_DEPLOYMENT_FILE}"))
