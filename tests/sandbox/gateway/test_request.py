"""Request smuggling through the gateway: a request is what the gateway decided
it is, and nothing else. Each attack below once worked against the sandbox:
the gateway authorized one operation, bucket or key, and moto, reading
another signal of the same request, executed a different one. Sent over raw HTTP, since no SDK builds such requests."""

from __future__ import annotations

import http.client
import json
import random
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.sandbox_kit import PASSWORD, REGION, Deployment, SandboxKit

TIMEOUT = 10  # seconds, for every raw HTTP exchange
IDP = "AWSCognitoIdentityProviderService"
NEW_PASSWORD = "Smuggled-Password-1"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send(kit: SandboxKit, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Reply:
    """One raw HTTP/1.1 exchange: the request goes out exactly as given."""
    where = urlsplit(kit.endpoint)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=TIMEOUT)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": where.netloc, **headers}
        if body or method in ("POST", "PUT"):
            headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def signed(
    kit: SandboxKit, creds: dict[str, str], service: str, method: str, target: str, headers: dict[str, str], body: bytes
) -> Reply:
    """Sign with SigV4 exactly what goes over the wire, then send it."""
    request = AWSRequest(method=method, url=kit.endpoint + target, data=body, headers=dict(headers))
    key = Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], creds.get("aws_session_token"))
    SigV4Auth(key, service, REGION).add_auth(request)
    wire = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return send(kit, method, target, wire, body)


@pytest.fixture(scope="module")
def deployment(sandbox: SandboxKit) -> Deployment:
    return sandbox.deployment(users=("carol",))


@pytest.fixture(scope="module")
def secret_client(sandbox: SandboxKit, deployment: Deployment) -> str:
    """A confidential app client, whose secret must never leak."""
    return sandbox.client("cognito-idp").create_user_pool_client(
        UserPoolId=deployment.user_pool_id, ClientName="confidential", GenerateSecret=True
    )["UserPoolClient"]["ClientId"]


# --- an unsigned target in front of the user-pool admin API -------------------------

def _unsigned_admin_call(dep: Deployment, client_id: str, *, operation: str) -> dict[str, str]:
    """The query parameters of an admin operation an attacker wants moto to run."""
    params = {"UserPoolId": dep.user_pool_id}
    if operation == "AdminSetUserPassword":
        params.update(Username="carol@example.com", Password=NEW_PASSWORD, Permanent="true")
    elif operation == "DescribeUserPoolClient":
        params.update(ClientId=client_id)
    elif operation == "ListUserPools":
        params = {"MaxResults": "60"}
    return {"Action": operation, **params}


SMUGGLED_OPERATIONS = ["AdminSetUserPassword", "ListUserPools", "DescribeUserPoolClient", "ListUsers"]
UNSIGNED_TARGETS = [f"{IDP}.InitiateAuth", f"{IDP}.SignUp", IDP, "InitiateAuth", ""]


def _leaked(dep: Deployment, reply: Reply, operation: str) -> bool:
    """Whether moto ran `operation`: its answer, or its effect, is visible."""
    if operation == "AdminSetUserPassword":
        try:
            dep.users["carol@example.com"] = NEW_PASSWORD
            dep.sign_in("carol")
            return True
        except Exception:
            return False
        finally:
            dep.users["carol@example.com"] = PASSWORD
    try:
        answer = json.loads(reply.body)
    except ValueError:
        return False
    return isinstance(answer, dict) and bool({"UserPools", "UserPoolClient", "Users"} & answer.keys())


@pytest.mark.parametrize("target", UNSIGNED_TARGETS)
@pytest.mark.parametrize("operation", SMUGGLED_OPERATIONS)
def test_unsigned_target_does_not_carry_action_in_query(sandbox, deployment, secret_client, operation, target):
    """An unsigned X-Amz-Target with ?Action=<admin operation> in the URL is refused, never run."""
    query = urlencode(_unsigned_admin_call(deployment, secret_client, operation=operation))
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target:
        headers["X-Amz-Target"] = target
    reply = send(sandbox, "POST", f"/?{query}", headers, b"{}")
    assert 400 <= reply.status < 500, reply.text
    assert not _leaked(deployment, reply, operation), reply.text


@pytest.mark.parametrize("operation", SMUGGLED_OPERATIONS)
def test_unsigned_target_does_not_carry_action_in_json_body(sandbox, deployment, secret_client, operation):
    """Body form: `&Action=...&` inside a JSON string of an InitiateAuth body is not run."""
    smuggled = "&" + urlencode(_unsigned_admin_call(deployment, secret_client, operation=operation)) + "&x="
    body = json.dumps({"ClientId": smuggled, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {}}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{IDP}.InitiateAuth"}
    reply = send(sandbox, "POST", "/", headers, body)
    assert 400 <= reply.status < 500, reply.text
    assert not _leaked(deployment, reply, operation), reply.text


def test_unsigned_initiate_auth_still_signs_in(sandbox, deployment):
    """The control: a well-formed unsigned InitiateAuth is served."""
    body = json.dumps(
        {
            "ClientId": deployment.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "carol@example.com", "PASSWORD": PASSWORD},
        }
    ).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{IDP}.InitiateAuth"}
    reply = send(sandbox, "POST", "/", headers, body)
    assert reply.status == 200, reply.text
    assert "IdToken" in reply.text


# --- a guest becomes any role through a body the gateway did not read ----------------

def _multipart(fields: dict[str, str]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields.items()
    ]
    return f"multipart/form-data; boundary={boundary}", ("".join(parts) + f"--{boundary}--\r\n").encode()


def _bodies(role_arn: str) -> list[tuple[str, str, bytes]]:
    """(id, content type, body) each saying AssumeRole where the URL says GetCallerIdentity."""
    fields = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role_arn, "RoleSessionName": "x"}
    multipart_type, multipart_body = _multipart(fields)
    form = urlencode(fields).encode()
    return [
        ("multipart", multipart_type, multipart_body),
        ("form-urlencoded", "application/x-www-form-urlencoded", form),
        ("form-urlencoded-charset", "application/x-www-form-urlencoded; charset=utf-8", form),
        ("no-content-type", "", form),
        ("text-plain", "text/plain", form),
        ("json", "application/x-amz-json-1.0", json.dumps(fields).encode()),
    ]


BODY_IDS = ["multipart", "form-urlencoded", "form-urlencoded-charset", "no-content-type", "text-plain", "json"]


@pytest.mark.parametrize("body_id", BODY_IDS)
def test_guest_cannot_assume_role_through_get_caller_identity(sandbox, deployment, body_id):
    """A guest-signed ?Action=GetCallerIdentity whose body says AssumeRole gets no role's keys."""
    _, guest = deployment.guest_credentials()
    role = deployment.roles["authenticated"]
    content_type, body = next((t, b) for i, t, b in _bodies(role) if i == body_id)
    headers = {"Content-Type": content_type} if content_type else {}
    reply = signed(sandbox, guest, "sts", "POST", "/?Action=GetCallerIdentity&Version=2011-06-15", headers, body)
    assert 400 <= reply.status < 500, reply.text
    assert "AssumeRoleResult" not in reply.text and "SecretAccessKey" not in reply.text


def test_guest_get_caller_identity_still_answers(sandbox, deployment):
    """The control: a guest's plain GetCallerIdentity names its assumed role."""
    _, guest = deployment.guest_credentials()
    reply = signed(sandbox, guest, "sts", "POST", "/?Action=GetCallerIdentity&Version=2011-06-15", {}, b"")
    assert reply.status == 200, reply.text
    assert "CognitoIdentityCredentials" in reply.text


# --- property: no mix of signals reaches a moto operation other than the one authorized

PROPERTY_COUNT = 250  # requests; fixed seed, so a failure reproduces
PROPERTY_SEED = 1208
_P_TARGETS = [None, f"{IDP}.InitiateAuth", f"{IDP}.SignUp", f"{IDP}.ListUsers", f"{IDP}.AdminSetUserPassword", IDP,
              "AWSCognitoIdentityService.GetId", "DynamoDB_20120810.GetItem", f"{IDP}.", "InitiateAuth"]
_P_ACTIONS = [None, None, None, None, "AssumeRole", "GetCallerIdentity", "ListUserPools", "AdminSetUserPassword", "ListRoles", "InitiateAuth"]
_P_TYPES = [None, "application/x-amz-json-1.1", "application/x-amz-json-1.1", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
_P_SIGNERS = [None, "guest-sts", "guest-cognito-idp", "admin-sts", "admin-iam"]


def _mixed_request(rng: random.Random, dep: Deployment) -> tuple[str | None, str, dict[str, str], bytes]:
    """(signer, target path, headers, body) drawn from the pools above."""
    target = rng.choice(_P_TARGETS)
    query_action, body_action = rng.choice(_P_ACTIONS), rng.choice(_P_ACTIONS)
    content_type = rng.choice(_P_TYPES)
    fields = {"RoleArn": dep.roles["authenticated"], "RoleSessionName": "p", "UserPoolId": dep.user_pool_id, "MaxResults": "5"}
    if body_action:
        fields = {"Action": body_action, "Version": rng.choice(["2011-06-15", "2010-05-08"]), **fields}
    shape = rng.choice(["json", "json-smuggled", "form", "multipart", "empty"])
    if shape == "json":
        body = json.dumps({"ClientId": dep.client_id, "AuthFlow": "USER_PASSWORD_AUTH", **fields}).encode()
    elif shape == "json-smuggled":
        body = json.dumps({"ClientId": "&" + urlencode(fields) + "&", "AuthFlow": "USER_PASSWORD_AUTH"}).encode()
    elif shape == "form":
        body = urlencode(fields).encode()
    elif shape == "multipart":
        multipart_type, body = _multipart(fields)
        content_type = multipart_type if content_type == "multipart/form-data" else content_type
    else:
        body = b""
    query = {"Action": query_action, "Version": "2011-06-15", "MaxResults": "5"} if query_action else {}
    headers = {}
    if target:
        headers["X-Amz-Target"] = target
    if content_type:
        headers["Content-Type"] = content_type
    return rng.choice(_P_SIGNERS), "/" + (f"?{urlencode(query)}" if query else ""), headers, body


@pytest.fixture
def moto_calls(monkeypatch) -> list[tuple[str, tuple[str, str | None] | None]]:
    """What moto executed, per call: (operation, the gateway's decision for that request).

    White-box on purpose: the property is about what moto *ran*, which no HTTP
    answer shows reliably (a refused admin call and an executed one with bad
    parameters can look alike). The sandbox runs in a thread of this process,
    so wrapping moto's dispatch here sees every call; the gateway leaves its
    decision in the environ it hands moto (`sandbox.decision`)."""
    from moto.core.responses import BaseResponse

    calls: list[tuple[str, tuple[str, str | None] | None]] = []
    original = BaseResponse.call_action

    def spy(self):
        calls.append((self._get_action(), self.normalized_request.environ.get("sandbox.decision")))
        return original(self)

    monkeypatch.setattr(BaseResponse, "call_action", spy)
    return calls


def test_no_signal_mix_reaches_another_moto_operation(sandbox, deployment, moto_calls):
    """Random mixes of X-Amz-Target, Action (query, body), Content-Type and body: moto runs only what was decided."""
    rng = random.Random(PROPERTY_SEED)
    _, guest = deployment.guest_credentials()
    admin = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    for _ in range(PROPERTY_COUNT):
        signer, target, headers, body = _mixed_request(rng, deployment)
        before = len(moto_calls)
        if signer is None:
            reply = send(sandbox, "POST", target, headers, body)
        else:
            who, service = signer.split("-", 1)
            reply = signed(sandbox, guest if who == "guest" else admin, service, "POST", target, headers, body)
        assert reply.status < 500, (signer, target, headers, body, reply.text)
        for executed, decision in moto_calls[before:]:
            assert decision is not None and executed == decision[1], (signer, target, headers, body, executed, decision)
        if signer is None or signer.startswith("guest"):
            assert "AssumeRoleResult" not in reply.text and "ClientSecret" not in reply.text
    assert moto_calls, "no request reached moto: the property was never exercised"
    assert len({op for op, _ in moto_calls}) >= 3, moto_calls  # both protocols, several operations


# --- the bucket comes from the path, never from Host ---------------------------------

def s3_signed_for_host(
    kit: SandboxKit, creds: dict[str, str], method: str, host: str, path: str, body: bytes = b""
) -> Reply:
    """An S3 request signed for `Host: host` (so the signature is valid) and sent to the sandbox."""
    from botocore.auth import S3SigV4Auth

    path = quote(path, safe="/~")
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body)
    key = Credentials(creds["aws_access_key_id"], creds["aws_secret_access_key"], creds.get("aws_session_token"))
    S3SigV4Auth(key, "s3", REGION).add_auth(request)
    wire = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return send(kit, method, path, {"Host": host, **wire}, body)


@pytest.fixture(scope="module")
def victim_bucket(sandbox: SandboxKit) -> str:
    """Another bucket, which alice's credentials must never write."""
    name = f"victim-{uuid.uuid4().hex[:8]}"
    sandbox.client("s3").create_bucket(Bucket=name)
    return name


VIRTUAL_HOSTS = ["{bucket}.{netloc}", "{bucket}.localhost:{port}", "{bucket}.s3.amazonaws.com", "s3.amazonaws.com",
                 "{bucket}.s3.us-east-1.amazonaws.com", "evil.example:{port}"]


@pytest.mark.parametrize("host", VIRTUAL_HOSTS)
def test_virtual_hosted_bucket_is_refused(sandbox, deployment, victim_bucket, host):
    """A PUT authorized for path-style bucket A, sent with Host: B.<domain>, is refused; B is untouched."""
    identity, alice = deployment.user_credentials("carol")
    where = urlsplit(sandbox.endpoint)
    host = host.format(bucket=victim_bucket, netloc=where.netloc, port=where.port)
    path = f"/{deployment.bucket}/private/{identity}/p.jpg"
    reply = s3_signed_for_host(sandbox, alice, "PUT", host, path, b"smuggled")
    assert reply.status == 400 and b"InvalidRequest" in reply.body, reply.text
    assert sandbox.client("s3").list_objects_v2(Bucket=victim_bucket).get("KeyCount", 0) == 0


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_path_style_hosts_are_served(sandbox, deployment, host):
    """The control: localhost and IP literals with a port are path-style, and the signature uses the Host sent."""
    identity, carol = deployment.user_credentials("carol")
    path = f"/{deployment.bucket}/private/{identity}/{uuid.uuid4().hex[:6]}.jpg"
    reply = s3_signed_for_host(sandbox, carol, "PUT", host.format(port=urlsplit(sandbox.endpoint).port), path, b"ok")
    assert reply.status == 200, reply.text


def test_browser_on_localhost_and_server_on_loopback_ip_both_work(sandbox, deployment):
    """boto3 pointed at http://localhost:<port> (the browser's origin) and at 127.0.0.1 both read the same object."""
    identity, carol = deployment.user_credentials("carol")
    key = f"private/{identity}/{uuid.uuid4().hex[:6]}.jpg"
    sandbox.client("s3", carol).put_object(Bucket=deployment.bucket, Key=key, Body=b"same")
    localhost = SandboxKit(endpoint=sandbox.endpoint.replace("127.0.0.1", "localhost"))
    assert localhost.client("s3", carol).get_object(Bucket=deployment.bucket, Key=key)["Body"].read() == b"same"
