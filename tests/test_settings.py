"""The settings contract: documented, required where they must be, and clean
under `check --deploy` in production."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.deployment import ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r"""env_(?:str|int|bool|list|required)\(\s*["']([A-Z0-9_]+)["']""")
DIRECT = re.compile(r"""os\.environ(?:\.get)?[\[(]\s*["']([A-Z0-9_]+)["']""")
APP_PACKAGES = ("photoshare", "core", "accounts", "uploads", "infra", "scripts")


def _read_by_code() -> set[str]:
    names = set(ENVIRONMENT.values()) | {"DJANGO_SETTINGS_MODULE"}
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            names |= set(READ.findall(text)) | set(DIRECT.findall(text))
    return names


def _documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z0-9_]+=", line)}


def test_every_setting_read_is_documented_and_vice_versa():
    """.env.example lists exactly the environment variables the app reads."""
    assert _read_by_code() == _documented()


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PHOTOSHARE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "photoshare.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-for-the-check-only-" + "y" * 20,
    "ALLOWED_HOSTS": "photos.example.com",
}


def test_production_settings_pass_check_deploy_without_warnings():
    """`manage.py check --deploy` under production settings prints no warning."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_setting(missing):
    """A missing required production setting stops start-up, naming itself."""
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize(
    "name, value",
    [
        ("PHOTOSHARE_AWS", "azure"),
        ("SANDBOX_PORT", "lots"),
        ("ALLOW_GUESTS", "maybe"),
        ("TRUSTED_PROXY_COUNT", "one"),
        ("GUEST_IDENTITIES_PER_HOUR", "many"),
        ("EMAIL_USE_TLS", "perhaps"),
        ("MAX_PHOTO_BYTES", "50MB"),
        ("MULTIPART_THRESHOLD", "8 MiB"),
        ("MULTIPART_PART_BYTES", "lots"),
    ],
)
def test_a_malformed_setting_is_refused_by_name(name, value):
    """A setting with a value of the wrong kind fails fast, naming itself."""
    result = _manage("check", env={name: value})
    assert result.returncode != 0
    assert name in result.stderr


@pytest.mark.parametrize(
    "env, named",
    [
        pytest.param({"MULTIPART_PART_BYTES": str(4 * 1024 * 1024)}, "MULTIPART_PART_BYTES", id="part under S3's 5 MiB"),
        pytest.param({"MULTIPART_THRESHOLD": str(6 * 1024 * 1024)}, "MULTIPART_THRESHOLD", id="threshold under a part"),
        pytest.param({"MAX_PHOTO_BYTES": "0"}, "MAX_PHOTO_BYTES", id="no photo fits"),
        pytest.param(
            {"MAX_PHOTO_BYTES": str(60 * 1024 * 1024 * 1024), "MULTIPART_PART_BYTES": str(5 * 1024 * 1024),
             "MULTIPART_THRESHOLD": str(5 * 1024 * 1024)},
            "MULTIPART_PART_BYTES",
            id="more than 10,000 parts",
        ),
    ],
)
def test_upload_sizes_outside_s3s_bounds_are_refused(env, named):
    """Upload limits S3 could not honour (parts under 5 MiB, over 10,000 parts) stop start-up, naming the setting."""
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert named in result.stderr
    assert "ImproperlyConfigured" in result.stderr
