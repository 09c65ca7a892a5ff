"""Fixtures for provisioning tests: a deployment of the test's own, always
deprovisioned afterwards so the shared sandbox does not fill up."""

from __future__ import annotations

import pytest
from django.test import override_settings

from infra.provision import deployment_deprovision, deployment_provision
from photoshare.deployment import Deployment

# The settings that say which deployment and where; restored for the teardown,
# since a test may switch them (PHOTOSHARE_AWS='aws', an unreachable endpoint...).
_WHICH = ("PHOTOSHARE_NAME", "PHOTOSHARE_BUCKET", "PHOTOSHARE_DEPLOYMENT_FILE", "AWS_ENDPOINT_URL", "AWS_REGION")


def _ignore(line: str) -> None:
    pass


@pytest.fixture
def deployment_cleanup(aws_settings):
    """aws_settings, and whatever gets provisioned under them removed at the end."""
    which = {name: getattr(aws_settings, name) for name in _WHICH}
    yield aws_settings
    with override_settings(PHOTOSHARE_AWS="local", AWS_MAX_ATTEMPTS=3, **which):
        deployment_deprovision(report=_ignore)


@pytest.fixture
def provisioned(deployment_cleanup) -> Deployment:
    """A freshly provisioned deployment in the sandbox, under aws_settings."""
    return deployment_provision(report=_ignore)
