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
SERVER_FILES = ("gunicorn.conf.py",)


def _read_by_code() -> set[str]:
    names = set(ENVIRONMENT.values()) | {"DJANGO_SETTINGS_MODULE"}
    paths = [path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py")]
    for path in [*paths, *(ROOT / name for name in SERVER_FILES)]:
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


def test_on_aws_an_oidc_issuer_without_its_secret_is_refused_by_name():
    """OIDC_CLIENT_SECRET has a development default for the sandbox only: on AWS, with an issuer set, it is required."""
    env = {"PHOTOSHARE_AWS": "aws", "PHOTOSHARE_BUCKET": "b", "OIDC_ISSUER": "https://accounts.example.com"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "OIDC_CLIENT_SECRET" in result.stderr
    assert _manage("check", env={**env, "OIDC_CLIENT_SECRET": "from-the-provider"}).returncode == 0


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


# --- production serving (issue 12) ---------------------------------------------------------

POSTGRES_URL = "postgresql://photoshare:p%40ss@db.internal:5433/photos?sslmode=require"


def _production_values(expression: str, **env: str) -> str:
    """`expression` evaluated under production settings (and `env`), as printed by `manage.py shell`."""
    code = f"from django.conf import settings as s; print({expression})"
    result = _manage("shell", "--no-imports", "-c", code, env={**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_serves_static_files_through_whitenoise_with_hashed_compressed_names():
    """WhiteNoise right after SecurityMiddleware, and the compressed manifest storage for static files."""
    printed = _production_values('s.MIDDLEWARE[:2], s.STORAGES["staticfiles"]["BACKEND"]')
    assert printed == (
        "['django.middleware.security.SecurityMiddleware', 'whitenoise.middleware.WhiteNoiseMiddleware'] "
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_production_shares_rate_limit_counters_and_keeps_sessions_in_the_database():
    """Every process counts against one database cache table; the tokens stay server-side in db sessions."""
    printed = _production_values('s.CACHES["default"]["BACKEND"], s.CACHES["default"]["LOCATION"], s.SESSION_ENGINE')
    assert printed == "django.core.cache.backends.db.DatabaseCache photoshare_cache django.contrib.sessions.backends.db"


def test_production_leaves_the_https_decision_to_gunicorn():
    """No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any client."""
    assert _production_values("s.SECURE_PROXY_SSL_HEADER") == "None"


def test_database_url_selects_postgresql_with_persistent_checked_connections():
    """DATABASE_URL is parsed (percent-encoding, port, ?sslmode) into psycopg's settings with CONN_MAX_AGE and health checks."""
    printed = _production_values(
        'sorted((k, v) for k, v in s.DATABASES["default"].items() if k in '
        '("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"))',
        DATABASE_URL=POSTGRES_URL, DATABASE_CONN_MAX_AGE="30",
    )  # fmt: skip
    assert printed == str(sorted({
        "ENGINE": "django.db.backends.postgresql", "NAME": "photos", "USER": "photoshare", "PASSWORD": "p@ss",
        "HOST": "db.internal", "PORT": 5433, "OPTIONS": {"sslmode": "require"}, "CONN_MAX_AGE": 30,
        "CONN_HEALTH_CHECKS": True,
    }.items()))  # fmt: skip


def test_without_database_url_it_is_sqlite_as_before():
    """No DATABASE_URL: the private SQLite backend with its concurrency options."""
    printed = _production_values('s.DATABASES["default"]["ENGINE"], s.DATABASES["default"]["OPTIONS"]["transaction_mode"]')
    assert printed == "photoshare.private_sqlite3 IMMEDIATE"


def test_production_with_postgresql_still_passes_check_deploy():
    """DATABASE_URL changes nothing `check --deploy` looks at."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "DATABASE_URL": POSTGRES_URL})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "env, named",
    [
        pytest.param({"DATABASE_URL": "mysql://u:p@db/photos"}, "DATABASE_URL", id="not PostgreSQL"),
        pytest.param({"DATABASE_URL": "sqlite:///var/db.sqlite3"}, "DATABASE_URL", id="SQLite goes through DATABASE_PATH"),
        pytest.param({"DATABASE_CONN_MAX_AGE": "a minute"}, "DATABASE_CONN_MAX_AGE", id="not a number"),
        pytest.param({"PHOTOSHARE_LOOPBACK_HTTP": "maybe"}, "PHOTOSHARE_LOOPBACK_HTTP", id="not a boolean"),
    ],
)
def test_a_bad_production_database_or_loopback_setting_is_refused_by_name(env, named):
    """A DATABASE_URL that is not PostgreSQL, or a malformed value, stops start-up naming the setting."""
    result = _manage("check", env={**PRODUCTION, **env})
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.parametrize("hosts", ["photos.example.com", "127.0.0.1,photos.example.com", "0.0.0.0", "10.0.0.5"])
def test_loopback_http_is_refused_for_any_host_but_loopback(hosts):
    """PHOTOSHARE_LOOPBACK_HTTP with a host others can reach stops start-up, naming both settings and the host."""
    result = _manage("check", env={**PRODUCTION, "ALLOWED_HOSTS": hosts, "PHOTOSHARE_LOOPBACK_HTTP": "1"})
    assert result.returncode != 0
    assert "PHOTOSHARE_LOOPBACK_HTTP" in result.stderr and "ALLOWED_HOSTS" in result.stderr
    assert hosts.split(",")[-1] in result.stderr


def test_loopback_http_relaxes_exactly_the_https_only_settings():
    """On 127.0.0.1 the flag turns off the HTTPS redirect, HSTS and secure-only cookies, and nothing else."""
    names = "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG, s.SESSION_COOKIE_HTTPONLY"
    loopback = {"ALLOWED_HOSTS": "127.0.0.1,localhost", "PHOTOSHARE_LOOPBACK_HTTP": "1"}
    assert _production_values(names, **loopback) == "False 0 False False False True"
    assert _production_values(names) == "True 31536000 True True False True"
