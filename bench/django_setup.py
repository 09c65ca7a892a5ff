"""What the Django benchmarks share: settings pointed at a sandbox of their
own, in a temporary directory, as the tests' fixtures make them."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


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
