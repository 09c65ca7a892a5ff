"""Fixtures shared by every test: one real sandbox per test session, on a free
loopback port, reached only over HTTP through boto3 or requests."""

from __future__ import annotations

import pytest

from tests.sandbox_kit import SandboxKit, start_kit

# Deployments (provisioned, site, shared_site, ...) for every test directory.
pytest_plugins = ["tests.site_fixtures"]


@pytest.fixture(scope="session")
def sandbox() -> SandboxKit:
    """The sandbox every test talks to, started once on 127.0.0.1:<free port>."""
    with start_kit() as kit:
        yield kit


@pytest.fixture
def aws_settings(sandbox, settings, tmp_path):
    """Django settings pointed at the test sandbox, with a deployment name and
    IDs file of this test's own, so no test sees another's resources."""
    import uuid

    from tests.site_fixtures import browser_endpoint

    name = f"t{uuid.uuid4().hex[:10]}"
    settings.PHOTOSHARE_AWS = "local"
    settings.AWS_ENDPOINT_URL = sandbox.endpoint
    settings.AWS_BROWSER_ENDPOINT_URL = browser_endpoint(sandbox)
    settings.PHOTOSHARE_NAME = name
    settings.PHOTOSHARE_BUCKET = f"{name}-photos"
    settings.PHOTOSHARE_DEPLOYMENT_FILE = tmp_path / "deployment.json"
    return settings
