"""A provisioned deployment with the demo users, for the account tests."""

from __future__ import annotations

import pytest

from infra.demo_users import demo_users_seed
from tests.infra.conftest import deployment_cleanup, provisioned  # noqa: F401  (fixtures shared with infra tests)


@pytest.fixture
def site(provisioned, db):
    """The deployment (user pool, identity pool, bucket) with alice, bob and carol."""
    demo_users_seed(report=lambda line: None)
    return provisioned
