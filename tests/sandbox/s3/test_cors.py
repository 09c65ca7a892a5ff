"""CORS comes only from a bucket's CORS configuration, as in S3: the app's origin
may upload with the SigV4 headers a browser signer sends and read `ETag` (or
multipart completion fails in the browser), and nobody else gets CORS headers:
no blanket `Access-Control-Allow-Origin`.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.sandbox_kit import Deployment, SandboxKit

TIMEOUT = 10  # seconds, for every raw HTTP request
APP_ORIGIN = "http://127.0.0.1:8000"
# What a browser SigV4 signer (aws4fetch, the JS SDK) sends on an upload.
SIGNER_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
]
CORS_CONFIGURATION = {
    "CORSRules": [
        {
            "AllowedOrigins": [APP_ORIGIN],
            "AllowedMethods": ["GET", "PUT", "POST", "DELETE", "HEAD"],
            "AllowedHeaders": SIGNER_HEADERS,
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        }
    ]
}


@dataclass(frozen=True)
class Site:
    """A deployment whose bucket allows the app's origin, and a bucket with no CORS at all."""

    kit: SandboxKit
    deployment: Deployment
    alice_id: str
    alice: dict[str, str]
    plain_bucket: str

    def url(self, bucket: str, path: str = "") -> str:
        return f"{self.kit.endpoint}/{bucket}{path}"


@pytest.fixture(scope="module")
def site(sandbox: SandboxKit) -> Site:
    dep = sandbox.deployment()
    s3 = sandbox.client("s3")
    s3.put_bucket_cors(Bucket=dep.bucket, CORSConfiguration=CORS_CONFIGURATION)
    plain_bucket = f"plain-{dep.suffix}"
    s3.create_bucket(Bucket=plain_bucket)
    alice_id, alice = dep.user_credentials("alice")
    return Site(sandbox, dep, alice_id, alice, plain_bucket)


def _preflight(url: str, origin: str, method: str, headers: list[str]) -> requests.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = ", ".join(headers)
    return requests.options(url, headers=request_headers, timeout=TIMEOUT)


def _tokens(value: str | None) -> set[str]:
    """A comma-separated header value as a set of lower-case tokens."""
    return {token.strip().lower() for token in (value or "").split(",") if token.strip()}


def _with_origin(client: Any, origin: str) -> Any:
    """`client` with an Origin header on every request, added after signing as a browser does."""

    def add_origin(request: Any, **_: Any) -> None:
        request.headers["Origin"] = origin

    client.meta.events.register("before-send", add_origin)
    return client


# --- preflights -------------------------------------------------------------------

ALLOWED_PREFLIGHTS = [
    pytest.param("/private/x/photo.jpg", "PUT", SIGNER_HEADERS, id="PUT-object-signer-headers"),
    pytest.param("/private/x/photo.jpg", "GET", SIGNER_HEADERS, id="GET-object-signer-headers"),
    pytest.param("/private/x/photo.jpg", "POST", SIGNER_HEADERS, id="POST-object-multipart"),
    pytest.param("/private/x/photo.jpg", "DELETE", SIGNER_HEADERS, id="DELETE-object"),
    pytest.param("/private/x/photo.jpg", "HEAD", SIGNER_HEADERS, id="HEAD-object"),
    pytest.param("/private/x/photo.jpg", "PUT", ["Authorization", "X-Amz-Date"], id="PUT-header-names-any-case"),
    pytest.param("", "GET", SIGNER_HEADERS, id="GET-bucket-listing"),
]


@pytest.mark.parametrize("path, method, headers", ALLOWED_PREFLIGHTS)
def test_preflight_from_app_origin_is_allowed(site, path, method, headers):
    """A preflight from the app's origin for a listed method and headers is allowed, exposing ETag."""
    response = _preflight(site.url(site.deployment.bucket, path), APP_ORIGIN, method, headers)
    assert response.status_code == 200, response.text
    assert response.headers.get("Access-Control-Allow-Origin") == APP_ORIGIN
    assert method.lower() in _tokens(response.headers.get("Access-Control-Allow-Methods"))
    assert {h.lower() for h in headers} <= _tokens(response.headers.get("Access-Control-Allow-Headers"))
    assert "etag" in _tokens(response.headers.get("Access-Control-Expose-Headers"))
    assert response.headers.get("Access-Control-Max-Age") == "300"


REFUSED_PREFLIGHTS = [
    pytest.param(True, "http://evil.example", "PUT", SIGNER_HEADERS, id="other-origin"),
    pytest.param(True, "http://127.0.0.1:8001", "PUT", SIGNER_HEADERS, id="other-port"),
    pytest.param(True, "https://127.0.0.1:8000", "PUT", SIGNER_HEADERS, id="other-scheme"),
    pytest.param(True, APP_ORIGIN, "PATCH", SIGNER_HEADERS, id="method-not-listed"),
    pytest.param(True, APP_ORIGIN, "PUT", [*SIGNER_HEADERS, "x-evil"], id="header-not-listed"),
    pytest.param(False, APP_ORIGIN, "PUT", SIGNER_HEADERS, id="bucket-without-cors"),
]


@pytest.mark.parametrize("configured, origin, method, headers", REFUSED_PREFLIGHTS)
def test_preflight_outside_the_configuration_is_refused(site, configured, origin, method, headers):
    """A preflight the bucket's CORS rules do not cover is S3's 403 AccessForbidden with no CORS headers."""
    bucket = site.deployment.bucket if configured else site.plain_bucket
    response = _preflight(site.url(bucket, "/private/x/photo.jpg"), origin, method, headers)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert ET.fromstring(response.content).findtext("Code") == "AccessForbidden"


# --- actual requests --------------------------------------------------------------


def _alice_get(site: Site, origin: str) -> dict[str, str]:
    key = f"private/{site.alice_id}/{uuid.uuid4().hex[:8]}.jpg"
    site.deployment.put_admin(key)
    s3 = _with_origin(site.kit.client("s3", site.alice), origin)
    return s3.get_object(Bucket=site.deployment.bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]


def _alice_put(site: Site, origin: str) -> dict[str, str]:
    key = f"private/{site.alice_id}/{uuid.uuid4().hex[:8]}.jpg"
    s3 = _with_origin(site.kit.client("s3", site.alice), origin)
    return s3.put_object(Bucket=site.deployment.bucket, Key=key, Body=b"photo")["ResponseMetadata"]["HTTPHeaders"]


def _admin_get_plain(site: Site, origin: str) -> dict[str, str]:
    key = f"{uuid.uuid4().hex[:8]}.jpg"
    s3 = _with_origin(site.kit.client("s3"), origin)
    s3.put_object(Bucket=site.plain_bucket, Key=key, Body=b"photo")
    return s3.get_object(Bucket=site.plain_bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]


def _admin_list_plain(site: Site, origin: str) -> dict[str, str]:
    s3 = _with_origin(site.kit.client("s3"), origin)
    return s3.list_objects_v2(Bucket=site.plain_bucket)["ResponseMetadata"]["HTTPHeaders"]


def _admin_sts(site: Site, origin: str) -> dict[str, str]:
    sts = _with_origin(site.kit.client("sts"), origin)
    return sts.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]


def _admin_iam(site: Site, origin: str) -> dict[str, str]:
    iam = _with_origin(site.kit.client("iam"), origin)
    return iam.list_roles()["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize("call", [pytest.param(_alice_get, id="GetObject"), pytest.param(_alice_put, id="PutObject")])
def test_signed_request_from_app_origin_gets_cors_headers(site, call):
    """alice's signed request from the app's origin may be read by the page, ETag included."""
    headers = call(site, APP_ORIGIN)
    assert headers.get("access-control-allow-origin") == APP_ORIGIN
    assert "etag" in _tokens(headers.get("access-control-expose-headers"))


NO_CORS_REQUESTS = [
    pytest.param(_alice_get, "http://evil.example", id="cors-bucket-other-origin"),
    pytest.param(_admin_get_plain, APP_ORIGIN, id="bucket-without-cors-GetObject"),
    pytest.param(_admin_list_plain, APP_ORIGIN, id="bucket-without-cors-ListObjects"),
]


@pytest.mark.parametrize("call, origin", NO_CORS_REQUESTS)
def test_request_outside_any_cors_rule_gets_no_cors_headers(site, call, origin):
    """An S3 request no bucket rule covers is served without CORS headers: there is no blanket allow."""
    headers = call(site, origin)
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("call", [pytest.param(_admin_sts, id="sts-GetCallerIdentity"), pytest.param(_admin_iam, id="iam-ListRoles")])
def test_api_calls_answer_any_origin_without_credentials(site, call):
    """The APIs other than S3 answer pages of any origin, as AWS's do: a
    signature, never a cookie, authenticates them (sandbox/gateway/api_cors.py)."""
    headers = call(site, "http://other.example")
    assert headers.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in headers


def test_cognito_identity_call_gets_api_cors_headers(site):
    """A browser-style GetId from the app's origin is answered, readable by the page as AWS's is (Amplify calls it)."""
    response = requests.post(
        site.kit.endpoint + "/",
        headers={
            "Origin": APP_ORIGIN,
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.GetId",
        },
        data=json.dumps({"IdentityPoolId": site.deployment.identity_pool_id}),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["IdentityId"].startswith("us-east-1:")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
