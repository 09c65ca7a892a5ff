"""The AWS CLI (`awscli`, requirements.in) run as a person runs it: the `aws`
command of this virtualenv in a subprocess, configured by environment
variables only, with a throwaway home so no real profile, credentials file or
instance metadata is ever read."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.sandbox.cli.https_front import HttpsFront
from tests.sandbox_kit import REGION, Deployment, SandboxKit

# Beside sys.executable, never a system-wide one: the tests pin the CLI they run.
AWS = Path(sys.executable).parent / "aws"
TIMEOUT = 180  # seconds one command may take (the 40 MB upload takes a few)


@dataclass
class Aws:
    """Runs `aws ...` against one endpoint with one set of credentials (or none)."""

    endpoint: str
    home: Path
    ca_bundle: Path | None = None
    credentials: dict[str, str] | None = None  # boto3 kwargs, as tests.sandbox_kit.as_boto3 gives them

    def env(self) -> dict[str, str]:
        # Built from nothing rather than from os.environ, so a developer's
        # AWS_PROFILE or real keys can never reach the sandbox, nor the reverse.
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "AWS_CONFIG_FILE": str(self.home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / ".aws" / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_OUTPUT": "json",
            # One attempt: a retried failure would hide a sandbox that answered wrongly once.
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        }
        if self.ca_bundle is not None:
            env["AWS_CA_BUNDLE"] = str(self.ca_bundle)
        if self.credentials is not None:
            env["AWS_ACCESS_KEY_ID"] = self.credentials["aws_access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = self.credentials["aws_secret_access_key"]
            if "aws_session_token" in self.credentials:
                env["AWS_SESSION_TOKEN"] = self.credentials["aws_session_token"]
        return env

    def with_credentials(self, credentials: dict[str, str] | None) -> "Aws":
        return Aws(self.endpoint, self.home, self.ca_bundle, credentials)

    def run(self, *args: str, cwd: Path | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AWS), *args],
            env=self.env(),
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args: str, **kwargs: Any) -> str:
        """stdout of a command that must succeed (its stderr in the failure message)."""
        done = self.run(*args, **kwargs)
        assert done.returncode == 0, f"aws {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}"
        return done.stdout

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.ok(*args, **kwargs))


@pytest.fixture(scope="session")
def aws_command() -> Path:
    assert AWS.is_file(), f"{AWS} is missing: install requirements.txt (it pins awscli)"
    return AWS


@pytest.fixture(scope="module")
def https_front(sandbox: SandboxKit, tmp_path_factory) -> HttpsFront:
    address = urlsplit(sandbox.endpoint)
    with HttpsFront(upstream=(address.hostname, address.port), directory=tmp_path_factory.mktemp("tls")) as front:
        yield front


@pytest.fixture(scope="module")
def cli_deployment(sandbox: SandboxKit) -> Deployment:
    """A Photoshare-shaped deployment of this module's own, with alice and bob."""
    return sandbox.deployment()


@pytest.fixture
def aws(aws_command, https_front: HttpsFront, tmp_path: Path) -> Aws:
    """The CLI over HTTPS (as it reaches AWS), with no credentials yet."""
    home = tmp_path / "home"
    home.mkdir()
    return Aws(https_front.endpoint, home, https_front.ca_bundle)


@pytest.fixture
def aws_http(aws_command, sandbox: SandboxKit, tmp_path: Path) -> Aws:
    """The CLI over the sandbox's plain HTTP, as `make run` serves it."""
    home = tmp_path / "home-http"
    home.mkdir()
    return Aws(sandbox.endpoint, home)
