"""How every boto3 client of the app is built: one endpoint, one region,
explicit timeouts and retries.

The wrapper modules (`accounts/cognito.py`, `uploads/storage.py`,
`infra/aws.py`) each create their own clients with these keyword arguments;
this module only decides what the arguments are, so it needs botocore's
`Config` and not boto3 itself.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from django.conf import settings

# The sandbox's account admin (see sandbox/README section); never used on AWS.
SANDBOX_ADMIN_KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def settings_key() -> tuple[Any, ...]:
    """Everything an AWS client depends on. Modules cache their clients by this
    value: building one costs tens of milliseconds, and tests point the
    settings at a new sandbox deployment."""
    return (
        settings.PHOTOSHARE_AWS,
        settings.AWS_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
        settings.AWS_MAX_ATTEMPTS,
    )


def client_kwargs(*, signed: bool = True) -> dict[str, Any]:
    """boto3.client(service, **client_kwargs()) for the configured AWS.

    `signed=False` is for the public Cognito APIs (GetId, InitiateAuth...),
    which AWS serves without credentials."""
    config = Config(
        region_name=settings.AWS_REGION,
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        retries={"max_attempts": settings.AWS_MAX_ATTEMPTS, "mode": "standard"},
        s3={"addressing_style": "path" if settings.PHOTOSHARE_AWS == "local" else "virtual"},
        signature_version="s3v4" if signed else None,
    )
    kwargs: dict[str, Any] = {"region_name": settings.AWS_REGION, "config": config}
    if settings.AWS_ENDPOINT_URL:
        kwargs["endpoint_url"] = settings.AWS_ENDPOINT_URL
    if settings.PHOTOSHARE_AWS == "local":
        kwargs.update(SANDBOX_ADMIN_KEYS)
    if not signed:
        from botocore import UNSIGNED

        kwargs["config"] = config.merge(Config(signature_version=UNSIGNED))
    return kwargs


def s3_browser_endpoint() -> str:
    """The S3 endpoint the browser signs its requests for (path-style locally).

    Not AWS_ENDPOINT_URL: locally the browser must reach the sandbox on another
    host than the app's (localhost, the app being on 127.0.0.1), so the S3
    origin and the app share no cookies."""
    if settings.AWS_BROWSER_ENDPOINT_URL:
        return settings.AWS_BROWSER_ENDPOINT_URL
    return f"https://s3.{settings.AWS_REGION}.amazonaws.com"
