"""`manage.py seed_demo_users`: the demo users of `make run` (local mode only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.demo_users import demo_users_seed
from infra.management.errors import command_errors


class Command(BaseCommand):
    help = "Create alice, bob and carol (a moderator) in the sandbox's user pool, with DEMO_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        with command_errors("seed_demo_users"):
            users = demo_users_seed(report=lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(f"Demo users, all with the password {settings.DEMO_PASSWORD}:")
        for user in users:
            self.stdout.write(f"  {user.email}{' (moderator)' if user.moderator else ''}")
