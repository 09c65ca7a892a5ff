"""How the infra commands fail: a fixed message for people, the detail in the
log, and a non-zero exit (CommandError). Never AWS's own text on the console:
it can be long, and it can name things that are not the reader's business."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from infra import aws
from infra.demo_users import LocalOnly
from infra.provision import ProvisionError

log = logging.getLogger("infra")


def _unreachable() -> str:
    if settings.PHOTOSHARE_AWS == "local":
        return (
            f"Cannot reach the sandbox at {settings.AWS_ENDPOINT_URL}. "
            "Start it with `make sandbox` (or use `make run`), then try again."
        )
    return f"Cannot reach AWS in {settings.AWS_REGION}. Check the network and AWS_REGION, then try again."


@contextlib.contextmanager
def command_errors(command: str) -> Iterator[None]:
    try:
        yield
    except (ProvisionError, LocalOnly, ImproperlyConfigured) as exc:
        # Our own messages, written for people.
        log.warning("%s: %s", command, exc)
        raise CommandError(str(exc)) from exc
    except aws.AwsCallError as exc:
        log.error("%s: %s call %s failed: %s (%s)", command, settings.PHOTOSHARE_AWS, exc.operation, exc, exc.code)
        if isinstance(exc, aws.Unreachable):
            message = _unreachable()
        elif isinstance(exc, aws.NoCredentials):
            message = (
                "No AWS credentials found. Configure them as for the AWS CLI "
                "(AWS_PROFILE, environment variables or an instance role), then try again."
            )
        elif isinstance(exc, aws.AccessDenied):
            message = (
                f"AWS refused a call for lack of permission (the log names it). Run `{command}` with "
                "credentials that may manage Cognito, IAM and S3."
            )
        else:
            message = f"`{command}` stopped on a failed AWS call; the log has the detail. Nothing after it was done."
        raise CommandError(message) from exc
