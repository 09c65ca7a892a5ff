"""`manage.py deprovision`: remove everything `provision` made (asks first on AWS)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from infra.management.reporting import run_reported
from infra.provision import deployment_deprovision


class Command(BaseCommand):
    help = "Delete the Photoshare deployment: user pool and users, identity pool, roles, and the bucket with every photo."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation on AWS")

    def handle(self, *args: Any, **options: Any) -> None:
        name = settings.PHOTOSHARE_NAME
        if settings.PHOTOSHARE_AWS == "aws" and not options["yes"]:
            # Real users and photos cannot be brought back: make the reader type the name.
            prompt = (
                f"This deletes the {name} deployment on AWS ({settings.AWS_REGION}): its users, identities, roles, "
                f"and bucket {settings.PHOTOSHARE_BUCKET} with every photo. Type {name} to go on: "
            )
            try:
                answer = input(prompt)
            except EOFError:
                answer = ""
            if answer.strip() != name:
                raise CommandError("Not confirmed; nothing was deleted.")
        run_reported(
            self, name="deprovision", heading=f"Deprovisioning {name}", run=deployment_deprovision, unchanged="Nothing to remove."
        )
        self.stdout.write(self.style.SUCCESS(f"{name} is gone."))
