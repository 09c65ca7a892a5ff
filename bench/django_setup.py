"""What the Django benchmarks share: settings pointed at a sandbox of their
own, in a temporary directory, as the tests' fixtures make them."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sandbox.server import Sandbox, free_port, running


def configure(workdir: Path, port: int) -> None:
    """Settings as tests/conftest.py's aws_settings makes them: the local
    sandbox on `port`, a deployment name and IDs file of this run's own."""
    name = f"bench{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "photoshare.settings.test",
            "PHOTOSHARE_AWS": "local",
            "SANDBOX_PORT": str(port),
            "PHOTOSHARE_NAME": name,
            "PHOTOSHARE_BUCKET": f"{name}-photos",
            "PHOTOSHARE_VAR_DIR": str(workdir),
            "PHOTOSHARE_DEPLOYMENT_FILE": str(workdir / "deployment.json"),
            "DATABASE_PATH": str(workdir / "db.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's host in, as pytest-django does


@contextlib.contextmanager
def provisioned_site() -> Iterator[Sandbox]:
    """A sandbox on a free loopback port, Django configured for it in a
    temporary directory, migrated and provisioned; yields the sandbox."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="photoshare-bench-") as tmp, running(port=port) as server:
        configure(Path(tmp), port)
        from django.conf import settings
        from django.core.management import call_command

        from infra.provision import deployment_provision

        if settings.AWS_ENDPOINT_URL != server.endpoint:
            raise SystemExit(f"settings point at {settings.AWS_ENDPOINT_URL}, the sandbox is at {server.endpoint}")
        call_command("migrate", verbosity=0)
        deployment_provision(report=lambda line: None)
        yield server
