"""var/ is 0700, the SQLite database (sessions hold users' tokens) 0600 and
the deployment file (the app client secret) 0600: when created, and when
they already existed looser. The database is checked through a real
`manage.py migrate` in a subprocess, as `make run` creates it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.deployment import Deployment, deployment_save

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _migrate(var: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PHOTOSHARE_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**clean, "PHOTOSHARE_VAR_DIR": str(var), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("before", ["missing", "loose"])
def test_migrate_leaves_var_0700_and_the_database_0600(tmp_path, before):
    """After `manage.py migrate`, var/ is 0700 and db.sqlite3 0600, whether they were missing or 0777/0666."""
    var = tmp_path / "var"
    if before == "loose":
        var.mkdir()
        var.chmod(0o777)
        (var / "db.sqlite3").touch()
        (var / "db.sqlite3").chmod(0o666)
    result = _migrate(var)
    assert result.returncode == 0, result.stderr
    assert mode(var) == 0o700
    assert mode(var / "db.sqlite3") == 0o600
    assert (var / "db.sqlite3").stat().st_size > 0  # a real database, migrated


def test_a_database_outside_var_is_private_without_touching_its_directory(tmp_path):
    """DATABASE_PATH in a directory the operator chose: the file is 0600, the directory is left as it was."""
    chosen = tmp_path / "data"
    chosen.mkdir()
    chosen.chmod(0o755)
    result = _migrate(tmp_path / "var", DATABASE_PATH=str(chosen / "app.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert mode(chosen / "app.sqlite3") == 0o600
    assert mode(chosen) == 0o755


def _deployment() -> Deployment:
    names = Deployment.__dataclass_fields__
    return Deployment(**{name: f"test-{name}" for name in names})


@pytest.mark.parametrize("before", ["missing", "loose", "a loose leftover temporary file"])
def test_the_deployment_file_is_0600(settings, tmp_path, before):
    """deployment_save writes 0600 whatever was there: nothing, a 0644 file, or a 0644 leftover .tmp."""
    path = tmp_path / "var" / "deployment-local.json"
    settings.PHOTOSHARE_DEPLOYMENT_FILE = path
    path.parent.mkdir()
    if before == "loose":
        path.write_text("{}")
        path.chmod(0o644)
    if before == "a loose leftover temporary file":
        path.with_suffix(".tmp").write_text("{}")
        path.with_suffix(".tmp").chmod(0o644)
    deployment_save(_deployment())
    assert mode(path) == 0o600
