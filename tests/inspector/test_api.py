"""The inspector's JSON routes through the test client: only the caller's own
decisions, bad request ids as 400 and unknown ones as 404 (never a 500), the
audit record's reason for guests and users."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.test import Client

from tests.actors import page_sign_in

pytestmark = pytest.mark.django_db


def _credentials(client: Client) -> dict[str, str]:
    response = client.post("/api/credentials")
    assert response.status_code == 200
    return response.json()


def _refused_request_id(sandbox, answer: dict[str, str], bucket: str) -> str:
    s3 = sandbox.client(
        "s3",
        {"aws_access_key_id": answer["accessKeyId"], "aws_secret_access_key": answer["secretAccessKey"], "aws_session_token": answer["sessionToken"]},
    )
    with pytest.raises(ClientError) as refused:
        s3.list_objects_v2(Bucket=bucket)
    return refused.value.response["ResponseMetadata"]["RequestId"]


def test_a_guest_gets_the_explanation_of_their_own_request(shared_site, sandbox):
    """A guest's refused ListBucket: 200 with the decision, its missing s3:prefix named."""
    client = Client()
    request_id = _refused_request_id(sandbox, _credentials(client), shared_site.bucket)
    response = client.get(f"/api/inspector/decisions/{request_id}")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    decision = response.json()
    assert decision["allowed"] is False and "s3:prefix" in decision["reason"]


def test_another_visitors_decision_is_a_404(shared_site, sandbox, settings):
    """bob asking for alice's request id gets the same 404 as for an unknown id."""
    alice = page_sign_in("alice@example.com", settings.DEMO_PASSWORD)
    request_id = _refused_request_id(sandbox, _credentials(alice), shared_site.bucket)
    bob = page_sign_in("bob@example.com", settings.DEMO_PASSWORD)
    _credentials(bob)
    for client in (bob, Client()):
        response = client.get(f"/api/inspector/decisions/{request_id}")
        assert response.status_code == 404
        assert response.json() == {"error": "No decision of yours is kept for that request id."}
    assert alice.get(f"/api/inspector/decisions/{request_id}").status_code == 200


@pytest.mark.parametrize("request_id", ["..", "a%20b", "a" * 129, "x%00y", "%C3%A9", "a.b"])
def test_a_malformed_request_id_is_a_400(shared_site, request_id):
    response = Client().get(f"/api/inspector/decisions/{request_id}")
    assert response.status_code == 400
    assert response.json() == {"error": "That is not a request id."}


def test_an_unknown_request_id_is_a_404(shared_site):
    response = Client().get("/api/inspector/decisions/" + "0" * 32)
    assert response.status_code == 404 and "error" in response.json()


def test_a_path_below_a_request_id_is_the_apis_404(shared_site):
    """A / in the id is another route, which the API answers with its JSON 404."""
    response = Client().get("/api/inspector/decisions/a/../../outbox")
    assert response.status_code == 404 and "error" in response.json()


def test_on_aws_the_explanation_needs_the_sandbox(shared_site, settings):
    settings.PHOTOSHARE_AWS = "aws"
    response = Client().get("/api/inspector/decisions/abc")
    assert response.status_code == 404
    assert "local sandbox" in response.json()["error"]


def test_the_sandbox_down_is_a_503(shared_site, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    response = Client().get("/api/inspector/decisions/abc")
    assert response.status_code == 503 and "error" in response.json()


@pytest.mark.parametrize("path", ["/api/inspector/decisions/abc", "/api/inspector/issue"])
def test_only_get(shared_site, path):
    response = Client().post(path)
    assert response.status_code in (403, 405)  # CSRF first for a POST without a token, else 405
    assert "error" in response.json()


@pytest.mark.parametrize(
    "who, recorded_as", [(None, "as a guest"), ("alice@example.com", "from the user pool"), ("carol@example.com", "from the user pool")]
)
def test_the_issue_from_the_audit_trail(shared_site, settings, who, recorded_as):
    """After the credentials, the audit record says when and how they were issued, beside the role's reason."""
    client = page_sign_in(who, settings.DEMO_PASSWORD) if who else Client()
    assert client.get("/api/inspector/issue").json()["recorded"] is False or who  # a user may have a record already
    identity = _credentials(client)["identityId"]
    answer = client.get("/api/inspector/issue").json()
    assert answer["recorded"] is True and recorded_as in answer["summary"] and identity in answer["summary"]
