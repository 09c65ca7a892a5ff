"""Fixtures shared by every test: one real sandbox per test session, on a free
loopback port, reached only over HTTP through boto3 or requests."""

from __future__ import annotations

import pytest

from tests.sandbox_kit import SandboxKit, start_kit

# Deployments (provisioned, site, shared_site, ...) for every test directory.
pytest_plugins = ["tests.site_fixtures"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory) -> None:
    """The SQLite test database in a file of this run's own temp directory,
    not Django's default in-memory one.

    Under `live_server` the in-memory database is a shared-cache one, and
    pytest-django hands the test thread's connection to every request thread:
    one request's statement that conflicts with another's in flight fails at
    once with SQLITE_LOCKED ("database table is locked", a 500 in a browser
    test), which the busy timeout never retries. With a file each thread has
    its own connection and the app's own configuration (WAL, IMMEDIATE, a
    writer waits up to `timeout` for the lock), as under `make run`.

    pytest numbers the directory per run and removes old ones, so clones
    testing at the same time never share a file; the backend creates the file
    itself (O_EXCL, 0600) after Django deletes a leftover. Overrides
    pytest-django's fixture of the same name, keeping its xdist/tox suffix as
    a dependency; PostgreSQL (DATABASE_URL) keeps its own test database."""
    from django.conf import settings as django_settings

    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "photoshare.private_sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


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
