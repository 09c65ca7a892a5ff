"""Fixtures shared by every test: one real sandbox per test session, on a free
loopback port, reached only over HTTP through boto3 or requests."""

from __future__ import annotations

import pytest

from tests.sandbox_kit import SandboxKit, start_kit


@pytest.fixture(scope="session")
def sandbox() -> SandboxKit:
    """The sandbox every test talks to, started once on 127.0.0.1:<free port>."""
    with start_kit() as kit:
        yield kit
