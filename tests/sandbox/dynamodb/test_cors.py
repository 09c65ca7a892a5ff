"""A page calls DynamoDB straight from the browser: the preflight at the
endpoint's root answers any origin for the headers a signed JSON call sends,
and the call's answer lets the page read the request ID, the error type and
DynamoDB's CRC32, whether allowed or refused."""

from __future__ import annotations

import requests

from tests.sandbox.dynamodb.conftest import ORIGIN, own_rows, pool_under, signed_post
BROWSER_HEADERS = "authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent"


def test_preflight_answers_any_origin(sandbox):
    """OPTIONS / for a DynamoDB POST: allowed, for the headers asked, cacheable."""
    answer = requests.options(
        sandbox.endpoint + "/",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": BROWSER_HEADERS},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert set(answer.headers["Access-Control-Allow-Headers"].split(", ")) == set(BROWSER_HEADERS.split(","))
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_preflight_without_origin_refused(sandbox):
    """A preflight that names no origin is not one: 400."""
    answer = requests.options(sandbox.endpoint + "/", headers={"Access-Control-Request-Method": "POST"}, timeout=10)
    assert answer.status_code == 400


def test_answers_readable_by_the_page(albums):
    """Allowed and refused answers both carry CORS headers exposing the request ID, error type and CRC32."""
    pool = pool_under(albums, [own_rows(albums.table)])
    me, other = pool.alice.identity_id, pool.bob.identity_id
    endpoint = albums.dep.kit.endpoint
    for owner, status in ((me, 200), (other, 400)):
        answer = signed_post(endpoint, pool.alice.credentials, "GetItem", {
            "TableName": albums.table, "Key": {"identityId": {"S": owner}, "albumId": {"S": "a1"}},
        })
        assert answer.status_code == status, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"x-amzn-requestid", "x-amzn-errortype", "x-amz-crc32"} <= exposed
        assert answer.headers["x-amzn-RequestId"]
    refused = answer.json()
    assert refused["__type"] == "com.amazon.coral.service#AccessDeniedException"
    assert "dynamodb:GetItem" in refused["Message"]
