"""core/sandbox.py against the real sandbox: decisions by request id, the
trail, and the refusals before any request (bad ids, bad limits, AWS mode,
no sandbox listening)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from botocore.exceptions import ClientError

from core import sandbox as core_sandbox  # `sandbox` is the tests' fixture: the running kit
from core.aws import NotFound, Unreachable
from tests.actors import guest_credentials

pytestmark = pytest.mark.django_db


def _denied_request_id(kit, deployment) -> tuple[str, str]:
    """(identity ID, request id) of a guest's GetObject that IAM refuses."""
    identity_id, credentials = guest_credentials(kit, deployment)
    s3 = kit.client("s3", credentials)
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=deployment.bucket, Key=f"private/{identity_id}/x.jpg")
    return identity_id, refused.value.response["ResponseMetadata"]["RequestId"]


def test_a_decision_by_its_request_id(shared_site, sandbox):
    """The guest's refused GetObject is kept under S3's request id, with the guest's identity as principal."""
    identity_id, request_id = _denied_request_id(sandbox, shared_site)
    found = core_sandbox.decision(request_id=request_id)
    assert found["requestId"] == request_id
    assert found["allowed"] is False and found["operation"] == "GetObject"
    assert found["principal"]["identityId"] == identity_id
    assert found["needs"][0]["action"] == "s3:GetObject"


def test_an_unknown_request_id_is_not_found(shared_site):
    """An id the sandbox never gave is NotFound, not an error."""
    with pytest.raises(NotFound):
        core_sandbox.decision(request_id="0" * 32)


@pytest.mark.parametrize("request_id", ["", "..", "../../_sandbox/outbox", "a/b", "a?b=c", "a" * 129, "id with space", "é"])
def test_a_malformed_request_id_is_refused_before_any_request(settings, request_id):
    """Nothing the browser sends becomes another path on the sandbox; no request is even made."""
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there: a request would be Unreachable
    with pytest.raises(ValueError):
        core_sandbox.decision(request_id=request_id)


def test_the_trail_has_the_guests_calls(shared_site, sandbox):
    """GetId and GetCredentialsForIdentity of a new guest are in the trail, oldest first, from `since` on."""
    since = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=1)
    identity_id, _ = guest_credentials(sandbox, shared_site)
    records = core_sandbox.trail(since=since, limit=1000)
    mine = [r for r in records if identity_id in str(r.get("responseElements")) + str(r.get("requestParameters"))]
    assert [r["eventName"] for r in mine][:2] == ["GetId", "GetCredentialsForIdentity"]
    assert all(r["eventTime"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ") for r in records)


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_a_limit_out_of_range_is_refused(shared_site, limit):
    with pytest.raises(ValueError):
        core_sandbox.trail(limit=limit)


def test_on_aws_there_is_no_sandbox_to_ask(shared_site, settings):
    """PHOTOSHARE_AWS=aws: SandboxOnly at once, never a request to some host."""
    settings.PHOTOSHARE_AWS = "aws"
    assert not core_sandbox.sandbox_available()
    with pytest.raises(core_sandbox.SandboxOnly):
        core_sandbox.decision(request_id="abc")
    with pytest.raises(core_sandbox.SandboxOnly):
        core_sandbox.trail()


def test_no_sandbox_listening_is_unreachable(settings):
    """A closed port is Unreachable within the timeouts, not a hang or a crash."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PHOTOSHARE_AWS = "local"
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(Unreachable):
        core_sandbox.decision(request_id="abc")
