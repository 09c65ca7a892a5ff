"""core.aws: one client per configuration with the settings' timeouts and
retries, and botocore's failures turned into our few named exceptions with
AWS's code kept. Calls go to the real sandbox, to a closed port and to a
socket that never answers; the ClientError table builds botocore's own
exception directly, since AWS's rarer codes cannot all be provoked here."""

from __future__ import annotations

import socket
import threading

import pytest
from botocore.exceptions import ClientError

from core import aws
from core.aws import (
    AccessDenied,
    AlreadyExists,
    AwsCallError,
    NotFound,
    Unreachable,
    aws_client,
    aws_error,
    aws_errors,
    user_pool_provider_name,
)


def test_one_client_per_configuration(aws_settings):
    """The same settings give the same client; a changed timeout gives a new one carrying it."""
    first = aws_client("s3")
    assert aws_client("s3") is first
    aws_settings.AWS_READ_TIMEOUT = 7
    second = aws_client("s3")
    assert second is not first
    assert second.meta.config.read_timeout == 7


def test_clients_carry_the_settings_timeouts_and_retries(aws_settings):
    """connect_timeout, read_timeout and max_attempts come from the AWS_* settings."""
    aws_settings.AWS_CONNECT_TIMEOUT, aws_settings.AWS_READ_TIMEOUT, aws_settings.AWS_MAX_ATTEMPTS = 2, 4, 5
    config = aws_client("cognito-idp").meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 4)
    assert config.retries == {"total_max_attempts": 5, "mode": "standard"}  # five tries in all, not 1 + 5


@pytest.mark.parametrize(
    "browser, expected",
    [
        pytest.param(False, "AWS_ENDPOINT_URL", id="server"),
        pytest.param(True, "AWS_BROWSER_ENDPOINT_URL", id="browser"),
    ],
)
def test_s3_endpoint_for_server_and_browser(aws_settings, browser, expected):
    """The server reaches the sandbox on 127.0.0.1; what it presigns for the browser names localhost."""
    assert aws_client("s3", browser=browser).meta.endpoint_url == getattr(aws_settings, expected)


def test_only_s3_has_a_browser_endpoint(aws_settings):
    """Asking for a browser endpoint of another service is a programming error."""
    with pytest.raises(ValueError):
        aws_client("iam", browser=True)


def test_unsigned_clients_send_no_credentials(aws_settings):
    """signed=False is for the public Cognito APIs: no Authorization header is built."""
    from botocore import UNSIGNED

    assert aws_client("cognito-identity", signed=False).meta.config.signature_version is UNSIGNED


def test_a_missing_bucket_from_the_sandbox_is_not_found(aws_settings):
    """A real 404 from the sandbox is NotFound with AWS's code and the operation named."""
    with pytest.raises(NotFound) as missing, aws_errors("HeadBucket"):
        aws_client("s3").head_bucket(Bucket="no-such-bucket-here")
    assert missing.value.code in ("404", "NoSuchBucket")
    assert missing.value.operation == "HeadBucket"


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"the {code} text"}}, "SomeOperation")


@pytest.mark.parametrize(
    "code, kind",
    [
        ("NoSuchEntity", NotFound),
        ("NoSuchBucketPolicy", NotFound),
        ("UserNotFoundException", NotFound),
        ("EntityAlreadyExists", AlreadyExists),
        ("BucketAlreadyOwnedByYou", AlreadyExists),
        ("AccessDenied", AccessDenied),
        ("InvalidClientTokenId", AccessDenied),
        ("NotAuthorizedException", AwsCallError),
        ("", AwsCallError),
    ],
)
def test_client_errors_become_named_exceptions(code, kind):
    """Each AWS code becomes the exception a caller branches on; the code and message are kept for the log."""
    error = aws_error(_client_error(code))
    assert type(error) is kind
    assert error.code == (code or "Unknown")
    assert error.operation == "SomeOperation"
    assert error.detail == f"the {code} text"


@pytest.fixture
def impatient(aws_settings):
    """One try with a one-second timeout, so an unanswered call fails fast."""
    aws_settings.AWS_CONNECT_TIMEOUT = aws_settings.AWS_READ_TIMEOUT = 1
    aws_settings.AWS_MAX_ATTEMPTS = 1
    return aws_settings


def test_a_closed_port_is_unreachable(impatient):
    """Nothing listening: Unreachable, not botocore's EndpointConnectionError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    impatient.AWS_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(Unreachable), aws_errors("ListBuckets"):
        aws_client("s3").list_buckets()


def test_an_endpoint_that_never_answers_is_unreachable_after_the_read_timeout(impatient):
    """A server that accepts and stays silent: the read timeout fires and becomes Unreachable."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    impatient.AWS_ENDPOINT_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with pytest.raises(Unreachable) as timed_out, aws_errors("ListBuckets"):
            aws_client("s3").list_buckets()
        assert timed_out.value.code == "ReadTimeoutError"
    finally:
        for connection in accepted:
            connection.close()
        silent.close()


def test_translated_functions_name_themselves():
    """aws_translated names the failed call after the function when botocore does not."""
    from botocore.exceptions import NoCredentialsError

    @aws.aws_translated
    def roles_list() -> None:
        raise NoCredentialsError()

    with pytest.raises(aws.NoCredentials) as failed:
        roles_list()
    assert failed.value.operation == "roles_list"


@pytest.mark.parametrize(
    "region, expected",
    [
        (None, "cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc"),
        ("eu-west-3", "cognito-idp.eu-west-3.amazonaws.com/us-east-1_Abc"),
    ],
)
def test_user_pool_provider_name(settings, region, expected):
    """The identity pool's login key for a user pool, in the settings' region unless told."""
    settings.AWS_REGION = "us-east-1"
    assert user_pool_provider_name(user_pool_id="us-east-1_Abc", region=region) == expected
