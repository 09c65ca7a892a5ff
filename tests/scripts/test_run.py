"""scripts/run.py (`make run`) stops everything it started when it is
stopped by its PID, as a service manager or a script stops it: no orphan of
runserver's autoreloader left serving the port, no sandbox left behind.

Real processes on free loopback ports, a var directory of this module's own
(shared by both tests, so the second start migrates and provisions nothing
new)."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import subprocess
import time

import pytest
import requests

from scripts.run import oidc_arguments
from tests.scripts.make_run import alive, descendants, listening, make_run_kill, make_run_start

STOP_WITHIN = 30  # seconds: run.py gives each child group 10 s before SIGKILL


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("make-run-var")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_run_by_pid_stops_every_child(var_dir, tmp_path, signum):
    """run.py killed by PID with SIGTERM or SIGINT exits 0, both ports close and no process it started remains."""
    log = (tmp_path / "run.log").open("wb")
    run = make_run_start(var_dir=var_dir, output=log)
    started: list[tuple[int, int]] = []
    try:
        started = descendants(run.process.pid)
        # The sandbox, runserver's autoreloader and the reloader's child that serves: the orphan of old.
        assert len(started) >= 3, started
        assert listening(run.port) and listening(run.sandbox_port)

        run.process.send_signal(signum)
        try:
            returncode = run.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run.py did not exit within {STOP_WITHIN} s of {signum.name}")
        deadline = time.monotonic() + 5  # an orphan would be reparented, not gone: waiting does not hide one
        while any(alive(process) for process in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [process for process in started if alive(process)]
    finally:
        make_run_kill(run, also=started)
        log.close()
    assert returncode == 0, (tmp_path / "run.log").read_text()[-2000:]
    assert left == [], f"still running after {signum.name}: {left}"
    assert not listening(run.port), "the app's port still answers"
    assert not listening(run.sandbox_port), "the sandbox's port still answers"


def _authorize(issuer: str, redirect_uri: str) -> requests.Response:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code", "client_id": "photoshare-web", "redirect_uri": redirect_uri, "scope": "openid email",
        "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256",
    }
    return requests.get(f"{issuer}/authorize", params=params, timeout=10, allow_redirects=False)  # seconds


def test_make_run_registers_the_app_with_the_sandboxs_oidc_provider(var_dir, tmp_path):
    """The sandbox's provider is named as the browser reaches it (localhost), knows the app's client with its
    callback as the one redirect URI, and provision registered that very issuer with IAM."""
    log = (tmp_path / "run.log").open("wb")
    run = make_run_start(var_dir=var_dir, output=log)
    try:
        issuer = f"http://localhost:{run.sandbox_port}/_sandbox/oidc"
        discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()  # seconds
        callback = f"http://127.0.0.1:{run.port}/accounts/oidc/callback/"
        ours, elsewhere = _authorize(issuer, callback), _authorize(issuer, f"http://127.0.0.1:{run.port}/elsewhere/")
        run.process.send_signal(signal.SIGTERM)  # stopped as a service manager would, so the sandbox saves its state
        run.process.wait(timeout=STOP_WITHIN)
    finally:
        make_run_kill(run)
        log.close()
    assert discovery["issuer"] == issuer
    assert ours.status_code == 200, ours.text[:500]  # the sign-in page, not an error
    assert elsewhere.status_code == 400
    deployment = json.loads((var_dir / "deployment-local.json").read_text())
    assert deployment["oidc_provider_arn"].endswith(f":oidc-provider/localhost:{run.sandbox_port}/_sandbox/oidc")
    assert deployment["team_role_arn"].endswith(":role/photoshare-team-wintercorp")


def test_oidc_arguments_follow_the_settings(monkeypatch):
    """The client and issuer given to the sandbox are the app's settings, with the same defaults."""
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    assert oidc_arguments(port=8000, sandbox_port=4566) == [
        "--oidc-client", "photoshare-web:photoshare-sandbox-oidc-secret:http://127.0.0.1:8000/accounts/oidc/callback/",
        "--oidc-issuer", "http://localhost:4566/_sandbox/oidc",
    ]
    monkeypatch.setenv("OIDC_CLIENT_ID", "web2")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "another-secret")
    monkeypatch.setenv("OIDC_ISSUER", "http://localhost:9999/_sandbox/oidc")
    assert oidc_arguments(port=8001, sandbox_port=4566) == [
        "--oidc-client", "web2:another-secret:http://127.0.0.1:8001/accounts/oidc/callback/",
        "--oidc-issuer", "http://localhost:9999/_sandbox/oidc",
    ]
