"""`python manage.py lab list|apply N|revert N|attack N|check N`: the workshop labs.

Exit status: `attack` 0 when the attack succeeded, 1 when AWS refused it;
`check` 0 when everything held, 1 when something did not; 2 for a bad lab
number, bad usage, a refusal (another lab applied, AWS without --aws and
the typed confirmation) or an attack that could not run at all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from infra.management.errors import command_errors
from workshop import services

EXIT_FAILED, EXIT_USAGE = 1, 2
NUMBERED = ("apply", "revert", "attack", "check")
USAGE = "python manage.py lab list | apply N | revert N | attack N | check N [--app-url URL] [--aws]"


class Command(BaseCommand):
    help = "Workshop labs: break the deployment one way, attack it, let doctor name it, revert it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", help="list, apply, revert, attack or check")
        parser.add_argument("number", nargs="?", help="the lab's number (python manage.py lab list)")
        parser.add_argument("--app-url", default="http://127.0.0.1:8000", help="where the attack reaches the app")
        parser.add_argument("--aws", action="store_true", help="allow changing a deployment on real AWS (asks to confirm)")

    def handle(self, *args: Any, action: str | None, number: str | None, app_url: str, aws: bool, **options: Any) -> None:
        if action not in ("list", *NUMBERED):
            self._usage(f"Unknown action {action!r}." if action else "Say what to do.")
        if action in NUMBERED and (number is None or not number.isdigit()):
            self._usage(f"`lab {action}` needs a lab number, e.g. `python manage.py lab {action} 1`.")
        if action == "list" and number is not None:
            self._usage("`lab list` takes no number.")
        self._guard_aws(allowed=aws)
        report = self.stdout.write
        try:
            with command_errors("lab"):
                if action == "list":
                    return self._list()
                n = int(number)
                if action == "apply":
                    services.lab_apply(number=n, report=report)
                elif action == "revert":
                    services.lab_revert(number=n, report=report)
                elif action == "attack":
                    result = services.lab_attack(number=n, app_url=app_url, report=report)
                    if not result.succeeded:
                        raise SystemExit(EXIT_FAILED)
                else:
                    self._check(n, app_url)
        except (services.LabRefused, services.AttackCouldNotRun, CommandError) as exc:
            self.stderr.write(f"lab: {exc}")
            raise SystemExit(EXIT_USAGE) from None

    def _list(self) -> None:
        rows = services.labs_status()
        self.stdout.write(f"{'#':>2}  {'applied':<7}  {'doctor rule':<28}  title")
        for row in rows:
            self.stdout.write(f"{row.lab.number:>2}  {'yes' if row.applied else 'no':<7}  {row.lab.rule:<28}  {row.lab.title}")

    def _check(self, number: int, app_url: str) -> None:
        failed = services.lab_check(number=number, app_url=app_url, report=self.stdout.write)
        if failed:
            for line in failed:
                self.stdout.write(f"NOT HELD: {line}")
            raise SystemExit(EXIT_FAILED)
        self.stdout.write(f"lab {number} verified")

    def _guard_aws(self, *, allowed: bool) -> None:
        """Labs break security on purpose: on real AWS only when asked twice."""
        if settings.PHOTOSHARE_AWS == "local":
            return
        name = settings.PHOTOSHARE_NAME
        if not allowed:
            self.stderr.write(
                f"lab: these settings point at real AWS (PHOTOSHARE_AWS={settings.PHOTOSHARE_AWS}); labs make the "
                f"deployment insecure on purpose. Nothing was changed. To go on anyway, add --aws."
            )
            raise SystemExit(EXIT_USAGE)
        typed = input(f"This changes deployment {name!r} on real AWS. Type its name to go on: ")
        if typed.strip() != name:
            self.stderr.write("lab: the name did not match; nothing was changed.")
            raise SystemExit(EXIT_USAGE)

    def _usage(self, problem: str) -> None:
        self.stderr.write(f"lab: {problem}\nUsage: {USAGE}")
        raise SystemExit(EXIT_USAGE)
