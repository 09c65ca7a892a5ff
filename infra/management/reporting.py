"""What the provisioning commands print: where they work, one indented line
per change the run reports, and a line of its own when nothing changed."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand

from infra.management.errors import command_errors


def target() -> str:
    """Where the commands act, for the first line they print."""
    if settings.PHOTOSHARE_AWS == "local":
        return f"the sandbox at {settings.AWS_ENDPOINT_URL}"
    return f"AWS ({settings.AWS_REGION})"


def run_reported(
    command: BaseCommand, *, name: str, heading: str, run: Callable[..., object], unchanged: str
) -> list[str]:
    """`run(report=...)` with each reported line printed as it comes, inside
    `command_errors(name)`; returns the lines."""
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        command.stdout.write(f"  {line}")

    command.stdout.write(f"{heading} on {target()}")
    with command_errors(name):
        run(report=report)
    if not lines:
        command.stdout.write(f"  {unchanged}")
    return lines
