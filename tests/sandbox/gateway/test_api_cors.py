"""CORS on the APIs other than S3 (sandbox/gateway/api_cors.py): a page may
ask STS who its credentials are, as the inspector does, over raw HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox.gateway.test_request import send, signed
from tests.sandbox_kit import Deployment, SandboxKit

ORIGIN = "http://127.0.0.1:8000"
SIGNED_HEADERS = "authorization,content-type,x-amz-date,x-amz-security-token"


@pytest.fixture(scope="module")
def deployment(sandbox: SandboxKit) -> Deployment:
    return sandbox.deployment()


def test_preflight_at_the_api_root_admits_a_signed_post(sandbox):
    reply = send(sandbox, "OPTIONS", "/", {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": SIGNED_HEADERS})
    assert reply.status == 200, reply.text
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert set(reply.headers["access-control-allow-headers"].split(", ")) == set(SIGNED_HEADERS.split(","))
    assert "access-control-allow-credentials" not in reply.headers  # a signature authenticates, never a cookie


@pytest.mark.parametrize(
    "headers",
    [
        {"Access-Control-Request-Method": "POST"},  # no Origin
        {"Origin": ORIGIN},  # no method asked for
        {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
        {"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-a\tb"},
    ],
)
def test_preflight_refuses_what_it_cannot_answer(sandbox, headers):
    reply = send(sandbox, "OPTIONS", "/", headers)
    assert reply.status == 400, reply.text
    assert "access-control-allow-origin" not in reply.headers


def test_sts_answer_to_a_page_exposes_its_request_id(sandbox, deployment):
    _, guest = deployment.guest_credentials()
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    reply = signed(sandbox, guest, "sts", "POST", "/", {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}, body)
    assert reply.status == 200, reply.text
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "x-amzn-RequestId" in reply.headers["access-control-expose-headers"].split(", ")
    assert reply.headers["x-amzn-requestid"]


def test_sts_refusal_to_a_page_is_readable_too(sandbox, deployment):
    """A denied call must reach the page as AWS's error, not as an opaque CORS failure."""
    _, guest = deployment.guest_credentials()
    body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&RoleSessionName=s"
    reply = signed(sandbox, guest, "sts", "POST", "/", {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}, body)
    assert reply.status == 403, reply.text
    assert reply.headers["access-control-allow-origin"] == "*"


def test_no_cors_headers_without_an_origin(sandbox, deployment):
    _, guest = deployment.guest_credentials()
    reply = signed(sandbox, guest, "sts", "POST", "/?Action=GetCallerIdentity&Version=2011-06-15", {}, b"")
    assert reply.status == 200, reply.text
    assert "access-control-allow-origin" not in reply.headers
