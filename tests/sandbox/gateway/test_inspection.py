"""The sandbox's own routes (`/_sandbox/outbox`, `faults`, `decisions`,
`trail`) answer loopback clients only; `/_sandbox/trail` refuses bad
`since` and `limit` with a clear 400; every answer carries the request ID
its decision and trail record are kept under, in the header and in XML
bodies alike; and with inspection off nothing is kept."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from botocore.exceptions import ClientError
from werkzeug.test import Client

from sandbox import moto_seams
from sandbox.gateway import Gateway
from tests.sandbox_kit import SandboxKit, start_kit

PRIVATE_ROUTES = [
    ("GET", "/_sandbox/outbox"),
    ("POST", "/_sandbox/faults"),
    ("GET", "/_sandbox/decisions/0123456789ABCDEF"),
    ("GET", "/_sandbox/trail"),
    ("GET", "/_sandbox/trail?limit=5"),
]


@pytest.fixture(scope="module")
def gateway(sandbox: SandboxKit) -> Gateway:
    """A gateway of its own, driven through WSGI so a test can say which address the client has."""
    moto_seams.install()  # done already by the session's sandbox; idempotent
    return Gateway()


@pytest.mark.parametrize("remote", ["10.0.0.7", "192.168.1.2", "::ffff:10.0.0.7", "203.0.113.9"])
@pytest.mark.parametrize("method, path", PRIVATE_ROUTES)
def test_private_routes_refuse_other_clients(gateway, remote, method, path):
    """A client not on loopback gets 403, and nothing of what the route holds."""
    client = Client(gateway)
    response = client.open(path, method=method, data=b'{"operation": "UploadPart"}', environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 403
    assert b"Records" not in response.data and b"requestId" not in response.data and b"messages" not in response.data


@pytest.mark.parametrize("path", ["/_sandbox/decisions/0123456789ABCDEF", "/_sandbox/trail"])
def test_new_routes_refuse_with_a_json_error(gateway, path):
    response = Client(gateway).get(path, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 403 and response.json == {"error": "The sandbox's own routes answer loopback clients only."}


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_clients_are_answered(gateway, remote):
    response = Client(gateway).get("/_sandbox/trail?limit=1", environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 200 and "Records" in response.json


@pytest.mark.parametrize(
    "query, says",
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=1e3", "limit"),
        ("since=yesterday", "since"),
        ("since=2026-12-01", "since"),
        ("since=2026-13-40T10:00:00Z", "since"),
        ("since=2026-12-01T10:00:00%2B01:00", "since"),
        ("since=2026-12-01T10:00:00Z%00", "since"),
        ("since=2026-12-01T10:00:00Z%0A", "since"),
    ],
)
def test_bad_trail_queries_are_400(sandbox, query, says):
    """A huge, negative or non-numeric limit, a since that is not ISO 8601 UTC: 400 naming the parameter."""
    response = requests.get(f"{sandbox.endpoint}/_sandbox/trail?{query}", timeout=5)
    assert response.status_code == 400
    assert response.json()["error"].startswith(says)


def _since_now() -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_trail_limit_and_since(sandbox):
    """limit bounds the answer; since keeps only records at or after it, oldest first."""
    since = _since_now()
    s3 = sandbox.client("s3")
    ids = [s3.list_buckets()["ResponseMetadata"]["RequestId"] for _ in range(3)]
    [first, second] = requests.get(f"{sandbox.endpoint}/_sandbox/trail", params={"limit": 2}, timeout=5).json()["Records"]
    assert first["eventTime"] <= second["eventTime"]
    records = requests.get(f"{sandbox.endpoint}/_sandbox/trail", params={"since": since, "limit": 1000}, timeout=5).json()["Records"]
    assert all(r["eventTime"] >= since for r in records)
    assert [r["requestID"] for r in records if r["requestID"] in ids] == ids
    assert [r["eventTime"] for r in records] == sorted(r["eventTime"] for r in records)
    future = requests.get(f"{sandbox.endpoint}/_sandbox/trail", params={"since": "2999-01-01T00:00:00Z"}, timeout=5)
    assert future.json() == {"Records": []}


# --- one request ID per answer -------------------------------------------------------------------


def _body_request_id(body: bytes) -> str:
    [found] = re.findall(rb"<RequestId>([^<]*)</RequestId>", body)
    return found.decode()


def test_query_answers_carry_the_id_in_header_and_body(sandbox):
    """moto's IAM answer gets the gateway's ID in <RequestId> too, which is the one botocore reports."""
    answer = sandbox.client("iam").list_roles()
    rid = answer["ResponseMetadata"]["RequestId"]
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == rid
    assert requests.get(f"{sandbox.endpoint}/_sandbox/decisions/{rid}", timeout=5).json()["operation"] == "ListRoles"


def test_s3_errors_carry_the_id_in_header_and_body(sandbox):
    """A NoSuchBucket from moto: the same ID in x-amz-request-id, in <RequestId>, on the decision and in the trail."""
    since = _since_now()
    s3 = sandbox.client("s3")
    captured = {}
    s3.meta.events.register("after-call.s3.GetObject", lambda http_response, **_: captured.update(body=http_response.content))
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket="no-such-bucket-here", Key="k")
    rid = caught.value.response["ResponseMetadata"]["RequestId"]
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == rid
    assert _body_request_id(captured["body"]) == rid
    assert requests.get(f"{sandbox.endpoint}/_sandbox/decisions/{rid}", timeout=5).status_code == 200
    records = requests.get(f"{sandbox.endpoint}/_sandbox/trail", params={"since": since, "limit": 1000}, timeout=5).json()["Records"]
    [record] = [r for r in records if r["requestID"] == rid]
    assert (record["eventName"], record["errorCode"]) == ("GetObject", "NoSuchBucket")


def test_with_inspection_off_nothing_is_kept():
    """inspection=False (the benchmark's other side): requests are served, the routes say nothing is kept."""
    with start_kit(inspection=False) as kit:
        answer = kit.client("s3").list_buckets()
        rid = answer["ResponseMetadata"]["RequestId"]
        for path in (f"/_sandbox/decisions/{rid}", "/_sandbox/trail"):
            response = requests.get(kit.endpoint + path, timeout=5)
            assert response.status_code == 404 and "--no-inspection" in response.json()["error"]
