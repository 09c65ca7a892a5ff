"""Unsigned S3 requests (no signature, no presign) are the anonymous caller:
allowed only where a public bucket policy grants them and Block Public
Access's RestrictPublicBuckets does not set that grant aside; otherwise 403
AccessDenied "Access Denied" in S3's XML with the request ID. Unsigned calls
to the other services, the preflights and the sandbox's own routes are as
they were. Plain HTTP through `requests` against the test sandbox."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from tests.sandbox_kit import SandboxKit

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
TIMEOUT = 10  # seconds


@dataclass
class Public:
    kit: SandboxKit
    bucket: str

    def url(self, path: str = "") -> str:
        return f"{self.kit.endpoint}/{self.bucket}{path}"

    def policy(self, *statements: dict) -> None:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        self.kit.client("s3").put_bucket_policy(Bucket=self.bucket, Policy=document)

    def block(self, **flags: bool) -> None:
        self.kit.client("s3").put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={**ALL_ON, **flags})


def _grant(action: Any, resource: str, **extra: Any) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource, **extra}


@pytest.fixture
def public(sandbox: SandboxKit) -> Public:
    """A fresh bucket without Block Public Access, holding public/a.jpg and private/b.jpg."""
    bucket = f"anonymous-{uuid.uuid4().hex[:8]}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="public/a.jpg", Body=b"public photo")
    s3.put_object(Bucket=bucket, Key="private/b.jpg", Body=b"private photo")
    return Public(sandbox, bucket)


def _assert_access_denied(response: requests.Response) -> None:
    """S3's anonymous refusal: 403, AccessDenied, "Access Denied", and the request ID in body and header."""
    assert response.status_code == 403
    root = ElementTree.fromstring(response.content)
    assert (root.findtext("Code"), root.findtext("Message")) == ("AccessDenied", "Access Denied")
    assert root.findtext("RequestId") == response.headers["x-amz-request-id"]


def test_anonymous_get_allowed_by_public_policy_with_block_public_access_off(public):
    """A public policy granting s3:GetObject on public/* serves that object to anyone; BPA off."""
    public.policy(_grant("s3:GetObject", f"arn:aws:s3:::{public.bucket}/public/*"))
    response = requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT)
    assert response.status_code == 200 and response.content == b"public photo"
    _assert_access_denied(requests.get(public.url("/private/b.jpg"), timeout=TIMEOUT))


def test_anonymous_get_refused_with_restrict_public_buckets(public):
    """The same public policy, then Block Public Access on: RestrictPublicBuckets sets its grant aside."""
    public.policy(_grant("s3:GetObject", f"arn:aws:s3:::{public.bucket}/public/*"))
    public.block()
    _assert_access_denied(requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT))
    public.block(RestrictPublicBuckets=False)  # BlockPublicPolicy alone leaves a stored policy working
    assert requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT).status_code == 200


def test_anonymous_get_refused_without_bucket_policy(public):
    """No bucket policy, nothing grants the anonymous caller anything."""
    _assert_access_denied(requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT))


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PUT", "/public/new.jpg", b"graffiti"),
        ("DELETE", "/public/a.jpg", b""),
        ("GET", "", b""),  # ListObjects
        ("GET", "?acl", b""),
        ("GET", "?object-lock", b""),  # a sub-resource the mapper does not know
    ],
)
def test_anonymous_gets_only_what_is_granted(public, method, path, body):
    """A grant of s3:GetObject gives the anonymous caller nothing else."""
    public.policy(_grant("s3:GetObject", f"arn:aws:s3:::{public.bucket}/*"))
    _assert_access_denied(requests.request(method, public.url(path), data=body, timeout=TIMEOUT))
    assert public.kit.client("s3").get_object(Bucket=public.bucket, Key="public/a.jpg")["Body"].read() == b"public photo"


def test_anonymous_list_all_buckets_is_refused(sandbox):
    """GET / unsigned: no bucket policy can grant s3:ListAllMyBuckets."""
    _assert_access_denied(requests.get(f"{sandbox.endpoint}/", timeout=TIMEOUT))


def test_anonymous_put_allowed_by_public_policy(public):
    """A public s3:PutObject grant on an inbox lets an unsigned PUT write there, and only there."""
    public.policy(_grant("s3:PutObject", f"arn:aws:s3:::{public.bucket}/inbox/*"))
    assert requests.put(public.url("/inbox/drop.txt"), data=b"dropped", timeout=TIMEOUT).status_code == 200
    assert public.kit.client("s3").get_object(Bucket=public.bucket, Key="inbox/drop.txt")["Body"].read() == b"dropped"
    _assert_access_denied(requests.put(public.url("/public/a.jpg"), data=b"over", timeout=TIMEOUT))


def test_anonymous_copy_needs_the_source_granted_too(public):
    """Copying a private object into a publicly writable inbox needs s3:GetObject on the source: refused, nothing written."""
    public.policy(_grant("s3:PutObject", f"arn:aws:s3:::{public.bucket}/inbox/*"))
    response = requests.put(
        public.url("/inbox/stolen.jpg"), headers={"x-amz-copy-source": f"/{public.bucket}/private/b.jpg"}, timeout=TIMEOUT
    )
    _assert_access_denied(response)
    listed = public.kit.client("s3").list_objects_v2(Bucket=public.bucket, Prefix="inbox/")
    assert listed["KeyCount"] == 0


def test_anonymous_caller_cannot_touch_the_bucket_policy_even_if_granted(public):
    """A policy granting * s3:* still does not let the anonymous caller read or delete it: S3 answers 405."""
    public.policy(_grant("s3:*", f"arn:aws:s3:::{public.bucket}"))
    for method in ("GET", "DELETE"):
        response = requests.request(method, public.url("?policy"), timeout=TIMEOUT)
        assert response.status_code == 405
        assert ElementTree.fromstring(response.content).findtext("Code") == "MethodNotAllowed"
    assert public.kit.client("s3").get_bucket_policy(Bucket=public.bucket)["Policy"]


def test_anonymous_condition_on_source_address(public):
    """A grant pinned to 127.0.0.0/8 (the test's own address) serves; one pinned elsewhere does not."""
    resource = f"arn:aws:s3:::{public.bucket}/public/*"
    public.policy(_grant("s3:GetObject", resource, Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}))
    assert requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT).status_code == 200
    public.policy(_grant("s3:GetObject", resource, Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    _assert_access_denied(requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT))


def test_explicit_deny_beats_public_grant(public):
    """An explicit Deny to * on private/* beats the public grant of the whole bucket."""
    public.policy(
        _grant("s3:GetObject", f"arn:aws:s3:::{public.bucket}/*"),
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{public.bucket}/private/*"},
    )
    assert requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT).status_code == 200
    _assert_access_denied(requests.get(public.url("/private/b.jpg"), timeout=TIMEOUT))


def test_anonymous_decision_is_kept(public):
    """The inspector keeps the anonymous decision: an Anonymous principal, and the bucket policy's reason."""
    public.policy(_grant("s3:GetObject", f"arn:aws:s3:::{public.bucket}/public/*"))
    public.block()
    response = requests.get(public.url("/public/a.jpg"), timeout=TIMEOUT)
    kept = requests.get(f"{public.kit.endpoint}/_sandbox/decisions/{response.headers['x-amz-request-id']}", timeout=TIMEOUT).json()
    assert kept["principal"]["type"] == "Anonymous" and kept["allowed"] is False
    assert kept["reason"].startswith("The bucket's policy is public and its RestrictPublicBuckets block public access setting is on")


def test_unsigned_calls_to_other_services_are_unchanged(sandbox):
    """Unsigned IAM is still MissingAuthenticationToken, whatever S3 now lets through."""
    response = requests.post(
        f"{sandbox.endpoint}/", data={"Action": "ListRoles", "Version": "2010-05-08"}, timeout=TIMEOUT
    )
    assert response.status_code == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in response.content


def test_preflight_is_answered_from_cors_rules_alone(public):
    """A CORS preflight is answered from the bucket's CORS rules alone, whatever the bucket policy grants."""
    public.policy(_grant("s3:*", f"arn:aws:s3:::{public.bucket}/*"))
    rules = {"CORSRules": [{"AllowedOrigins": ["http://127.0.0.1:8000"], "AllowedMethods": ["GET"]}]}
    public.kit.client("s3").put_bucket_cors(Bucket=public.bucket, CORSConfiguration=rules)

    def preflight(origin: str, method: str) -> requests.Response:
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        return requests.options(public.url("/public/a.jpg"), headers=headers, timeout=TIMEOUT)

    allowed = preflight("http://127.0.0.1:8000", "GET")
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    for origin, method in (("http://evil.example", "GET"), ("http://127.0.0.1:8000", "PUT")):
        refused = preflight(origin, method)
        assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers


def test_signed_chunks_without_a_signature_are_refused(public):
    """A body claiming signed chunks but sent unsigned has no seed signature to chain on: refused even where a PUT is granted."""
    public.policy(_grant("s3:PutObject", f"arn:aws:s3:::{public.bucket}/inbox/*"))
    response = requests.put(
        public.url("/inbox/chunked.txt"),
        data=b"0;chunk-signature=" + b"0" * 64 + b"\r\n\r\n",
        headers={
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-decoded-content-length": "0",
            "Content-Encoding": "aws-chunked",
        },
        timeout=TIMEOUT,
    )
    _assert_access_denied(response)
