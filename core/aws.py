"""Every boto3 client of the app, and what becomes of botocore's errors.

The wrapper modules (`accounts/cognito.py` for Cognito, `uploads/storage.py`
for S3, `infra/aws.py` for the admin plane) get their clients from
`aws_client()` and run their calls inside `aws_errors()`: so every outbound
call has the same explicit timeouts and retries, and every failure reaches
the callers as one of the few exceptions below, with AWS's code kept for the
log. Nothing outside those modules needs botocore.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    HTTPClientError,
    NoCredentialsError,
)
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

# The sandbox's account admin; the sandbox accepts these keys for the
# server's own calls. Never used on AWS, where boto3's usual chain applies.
SANDBOX_ADMIN_KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


# --- clients ----------------------------------------------------------------------------

# The services a browser calls itself, signed with its own credentials.
BROWSER_SERVICES = ("s3", "dynamodb", "sts")


def endpoint_url(service: str, *, browser: bool = False) -> str | None:
    """Where `service` is reached: the sandbox locally, AWS's own endpoint
    otherwise (None lets botocore choose it for the region).

    `browser=True` is the endpoint the browser sends its own requests to (S3,
    DynamoDB for albums, and STS for the inspector): locally that is another
    host than the server's (localhost, the app being on 127.0.0.1), so the
    sandbox's origin and the app share no cookies."""
    if browser:
        if service not in BROWSER_SERVICES:
            raise ValueError(f"the browser reaches only S3, DynamoDB and STS directly, not {service}")
        return settings.AWS_BROWSER_ENDPOINT_URL or settings.AWS_ENDPOINT_URL
    return settings.AWS_ENDPOINT_URL


def dynamodb_browser_endpoint() -> str:
    """Where the browser reads and writes its albums (issue 17): the sandbox's
    one endpoint locally, else the regional DynamoDB endpoint, which answers
    browsers' CORS requests."""
    return endpoint_url("dynamodb", browser=True) or f"https://dynamodb.{settings.AWS_REGION}.amazonaws.com"


def s3_browser_endpoint() -> str:
    """The S3 endpoint the browser signs its requests for (path-style locally)."""
    return endpoint_url("s3", browser=True) or f"https://s3.{settings.AWS_REGION}.amazonaws.com"


def sts_browser_endpoint() -> str:
    """Where the browser asks STS who its credentials are (the inspector): the
    sandbox's one endpoint locally, else the regional STS endpoint, which
    answers browsers' CORS requests."""
    return endpoint_url("sts", browser=True) or f"https://sts.{settings.AWS_REGION}.amazonaws.com"


def aws_client(service: str, *, signed: bool = True, browser: bool = False) -> Any:
    """The boto3 client for `service`, built once per configuration.

    `signed=False` is for the public Cognito APIs (GetId, InitiateAuth,
    GetCredentialsForIdentity...), which AWS serves without credentials: the
    app client secret or the ID token is what proves the caller."""
    return _client_for(service, signed, endpoint_url(service, browser=browser), *_configuration())


def aws_client_as(service: str, *, access_key_id: str, secret_access_key: str, session_token: str) -> Any:
    """A client signing with someone's temporary credentials rather than the
    server's (never cached: the keys expire, and they are not ours to keep)."""
    options = {
        **aws_client_options(service),
        "aws_access_key_id": access_key_id,
        "aws_secret_access_key": secret_access_key,
        "aws_session_token": session_token,
    }
    with _BUILDING:
        return boto3.client(service, **options)


def aws_client_options(service: str, *, browser: bool = False) -> dict[str, Any]:
    """What `aws_client()` builds a signed client from (region, endpoint,
    botocore Config with the timeouts and retries, local keys), for a library
    that builds its own client."""
    return _client_kwargs(True, endpoint_url(service, browser=browser), *_configuration())


def _configuration() -> tuple[str, str, int, int, int]:
    return (
        settings.PHOTOSHARE_AWS,
        settings.AWS_REGION,
        settings.AWS_CONNECT_TIMEOUT,  # seconds
        settings.AWS_READ_TIMEOUT,  # seconds
        settings.AWS_MAX_ATTEMPTS,
    )


# boto3.client() builds on boto3's default session, which is not thread-safe;
# and fifty first requests at once would each build the same client.
_BUILDING = threading.Lock()


def _client_for(service: str, signed: bool, endpoint: str | None, *configuration: Any) -> Any:
    with _BUILDING:
        return _client_cached(service, signed, endpoint, *configuration)


@functools.cache
def _client_cached(service: str, signed: bool, endpoint: str | None, *configuration: Any) -> Any:
    # Keyed by every value a client depends on: boto3 clients are thread-safe
    # and cost tens of milliseconds to build, and tests point the settings at
    # another sandbox.
    return boto3.client(service, **_client_kwargs(signed, endpoint, *configuration))


def _client_kwargs(
    signed: bool,
    endpoint: str | None,
    mode: str,
    region: str,
    connect_timeout: int,
    read_timeout: int,
    max_attempts: int,
) -> dict[str, Any]:
    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,  # seconds
        read_timeout=read_timeout,  # seconds
        # total_max_attempts counts the first try; botocore's max_attempts would not.
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        # The sandbox serves one host, so its buckets are in the path.
        s3={"addressing_style": "path" if mode == "local" else "virtual"},
        # SigV4 for everything signed (S3 refuses SigV2 presigned URLs).
        signature_version="s3v4" if signed else UNSIGNED,
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if mode == "local":
        kwargs.update(SANDBOX_ADMIN_KEYS)
    return kwargs


# --- errors -----------------------------------------------------------------------------


class AwsCallError(Exception):
    """An AWS call failed. `code` is AWS's error code (or botocore's exception
    name), `operation` the API operation, `detail` AWS's message: all for the
    log and for branching, never for showing to a person."""

    def __init__(self, code: str, detail: str = "", *, operation: str = "") -> None:
        super().__init__(f"{operation or 'AWS'}: {code}: {detail}")
        self.code = code
        self.detail = detail
        self.operation = operation


class NotFound(AwsCallError):
    """The resource (or the configuration asked for) does not exist."""


class AlreadyExists(AwsCallError):
    """A resource of that name exists already (possibly in another account, for buckets)."""


class AccessDenied(AwsCallError):
    """The caller's credentials lack a permission."""


class Unreachable(AwsCallError):
    """No answer in time from the endpoint: not running, no network, or a
    connect or read timeout after every retry."""


class NoCredentials(AwsCallError):
    """boto3 found no credentials in its usual chain (AWS mode only)."""


_NOT_FOUND = {
    "404",
    "NotFound",
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NoSuchKey",
    "NoSuchEntity",
    "NoSuchCORSConfiguration",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "ResourceNotFoundException",
    "UserNotFoundException",
}
_ALREADY_EXISTS = {
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "EntityAlreadyExists",
    "GroupExistsException",
    "UsernameExistsException",
}
_ACCESS_DENIED = {"403", "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId"}


def aws_error(exc: Exception, *, operation: str = "") -> AwsCallError:
    """Ours for one of botocore's exceptions (anything else is returned as a
    plain AwsCallError named after its class)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "") or "Unknown")
        kind: type[AwsCallError] = (
            NotFound
            if code in _NOT_FOUND
            else AlreadyExists
            if code in _ALREADY_EXISTS
            else AccessDenied
            if code in _ACCESS_DENIED
            else AwsCallError
        )
        return kind(code, str(error.get("Message", "")), operation=exc.operation_name or operation)
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):  # refused, DNS, connect and read timeouts
        return Unreachable(type(exc).__name__, str(exc), operation=operation)
    if isinstance(exc, NoCredentialsError):
        return NoCredentials("NoCredentials", str(exc), operation=operation)
    return AwsCallError(type(exc).__name__, str(exc), operation=operation)


@contextlib.contextmanager
def aws_errors(operation: str = "") -> Iterator[None]:
    """Run AWS calls with botocore's exceptions turned into ours. Logging is
    the caller's: it knows whether a NotFound is news or the expected answer."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise aws_error(exc, operation=operation) from exc


def aws_translated(function: Callable[P, R]) -> Callable[P, R]:
    """`aws_errors()` around a whole function, named after it."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with aws_errors(function.__name__):
            return function(*args, **kwargs)

    return wrapper


# --- names AWS derives from the deployment ----------------------------------------------


def user_pool_provider_name(*, user_pool_id: str, region: str | None = None) -> str:
    """The identity pool's login key (and provider name) for a user pool:
    `cognito-idp.<region>.amazonaws.com/<poolId>`. The issuer of the pool's
    tokens is the same with `https://` in front.
    https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-integrating-user-pools-with-identity-pools.html"""
    return f"cognito-idp.{region or settings.AWS_REGION}.amazonaws.com/{user_pool_id}"
