"""`python -m sandbox --oidc-client ...`: clients registered on the command
line, documented in --help, and bad specs refused before anything listens."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from sandbox.server import free_port
from tests.sandbox.oidc.conftest import APP, APP_REDIRECT, APP_SECRET, TIMEOUT, Flow
from tests.sandbox.test_server import REPO, served


def test_a_client_given_on_the_command_line_completes_the_flow():
    port = free_port()
    spec = f"{APP}:{APP_SECRET}:{APP_REDIRECT}"
    with served("--port", str(port), "--oidc-client", spec, "--oidc-hosted-domain", "example.org") as sandbox:
        endpoint = sandbox.endpoint()
        sandbox.wait_ready(port)
        issuer = f"{endpoint}/_sandbox/oidc"
        assert requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()["issuer"] == issuer
        flow = Flow(issuer=issuer)
        id_token = flow.tokens("frank@example.org")["id_token"]
        import jwt

        assert jwt.decode(id_token, options={"verify_signature": False})["hd"] == "example.org"


def test_the_issuer_can_be_named(tmp_path):
    port = free_port()
    with served("--port", str(port), "--oidc-issuer", f"http://localhost:{port}/_sandbox/oidc") as sandbox:
        sandbox.endpoint()
        sandbox.wait_ready(port)
        doc = requests.get(f"http://127.0.0.1:{port}/_sandbox/oidc/.well-known/openid-configuration", timeout=TIMEOUT).json()
        assert doc["issuer"] == f"http://localhost:{port}/_sandbox/oidc"


@pytest.mark.parametrize(
    "args",
    [
        ["--oidc-client", "web"],
        ["--oidc-client", "web:s3cret-123:ftp://x/cb"],
        ["--oidc-client", "web:s3cret-123:http://a/cb", "--oidc-client", "web:s3cret-456:http://b/cb"],
        ["--oidc-hosted-domain", "not a domain"],
        ["--oidc-issuer", "http://x/_sandbox/oidc?q=1"],
        ["--oidc-issuer", "http://sso.example/realms/x"],
    ],
)
def test_bad_oidc_options_exit_2_with_a_message(args):
    result = subprocess.run([sys.executable, "-m", "sandbox", "--port", str(free_port()), *args], cwd=REPO,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "error" in result.stderr and "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_help_documents_the_oidc_options():
    result = subprocess.run([sys.executable, "-m", "sandbox", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "--oidc-client CLIENT_ID:SECRET:REDIRECT_URI[,URI...]" in result.stdout
    assert "--oidc-hosted-domain" in result.stdout and "--oidc-issuer" in result.stdout
