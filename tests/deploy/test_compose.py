"""docker-compose.yml, compose.aws.yml, the Dockerfile and its entry point,
checked as files: there is no Docker engine on these machines, so nothing
here builds or starts a container. What can run, runs: the production
settings are loaded with exactly the environment each compose file gives
`web`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
AWS = yaml.safe_load((ROOT / "compose.aws.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = (ROOT / "docker" / "entrypoint.sh").read_text()
BUILD_TOOLS = ("gcc", "g++", "clang", "make", "build-essential", "libpq-dev", "python3-dev", "libc6-dev", "cargo", "rustc")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])((?:[^${}]|\$\{[^}]*\})*))?\}")


def documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z0-9_]+=", line)}


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line and not line.startswith("#")
    ]


def resolved(environment: dict, values: dict[str, str]) -> dict[str, str]:
    """A service's environment as compose would give it, ${NAME:-default} and ${NAME:?error} filled from `values`.
    A name without a value is passed through from `values`, and absent when not there."""

    def fill(text: str) -> str:
        def one(match: re.Match) -> str:
            name, kind, rest = match.groups()
            if values.get(name):
                return values[name]
            if kind == "?":
                raise AssertionError(f"compose would refuse: {name} unset ({rest})")
            return fill(rest or "")

        return INTERPOLATION.sub(one, text)

    out = {}
    for name, value in environment.items():
        if value is None:
            if name in values:
                out[name] = values[name]
        else:
            out[name] = fill(str(value))
    return out


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PHOTOSHARE_", "AWS_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


SECRET = "s" * 30 + "-compose-check-only-" + "k" * 30


# --- docker-compose.yml: the local stack -----------------------------------------------------


def test_the_local_stack_is_the_sandbox_postgresql_16_and_web():
    """Three services; db is PostgreSQL 16; web and sandbox are built from this Dockerfile."""
    services = LOCAL["services"]
    assert set(services) == {"sandbox", "db", "web"}
    assert services["db"]["image"] == "postgres:16"
    assert services["web"]["build"] == "." and services["sandbox"]["build"] == "."
    assert services["web"]["command"] == ["web"] and services["sandbox"]["command"] == ["sandbox"]


@pytest.mark.parametrize("compose, service", [(LOCAL, "sandbox"), (LOCAL, "db"), (LOCAL, "web"), (AWS, "db"), (AWS, "web")])
def test_every_service_has_a_health_check(compose, service):
    """A test command, an interval, a timeout and a bounded number of retries."""
    check = compose["services"][service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    assert {"interval", "timeout", "retries"} <= set(check) and 0 < check["retries"] <= 20


def test_the_health_checks_ask_what_each_service_serves():
    """The sandbox answers HTTP on its port; PostgreSQL says it is ready for this database."""
    services = LOCAL["services"]
    assert "http://127.0.0.1:4566/" in " ".join(services["sandbox"]["healthcheck"]["test"])
    assert "pg_isready -U photoshare -d photoshare" in " ".join(services["db"]["healthcheck"]["test"])


@pytest.mark.parametrize(
    "compose, service, target",
    [(LOCAL, "sandbox", "/data"), (LOCAL, "db", "/var/lib/postgresql/data"), (LOCAL, "web", "/data"), (AWS, "db", "/var/lib/postgresql/data")],
)
def test_state_lives_in_named_volumes(compose, service, target):
    """Each service's data is a named volume declared at the top level, not a host directory."""
    mounts = dict(volume.split(":", 1)[::-1] for volume in compose["services"][service]["volumes"])
    source = mounts[target]
    assert not source.startswith(("/", ".", "~")) and source in compose["volumes"]


def test_web_waits_for_a_healthy_database_and_sandbox():
    """depends_on with condition service_healthy, for both."""
    assert LOCAL["services"]["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "sandbox": {"condition": "service_healthy"},
    }


def test_the_server_and_the_browser_reach_the_sandbox_at_two_endpoints():
    """The server on the compose network; the browser on the host port the sandbox publishes, on localhost."""
    env = LOCAL["services"]["web"]["environment"]
    assert env["AWS_ENDPOINT_URL"] == "http://sandbox:4566"
    browser = urlsplit(env["AWS_BROWSER_ENDPOINT_URL"])
    assert browser.hostname == "localhost"
    assert f"127.0.0.1:{browser.port}:4566" in LOCAL["services"]["sandbox"]["ports"]


def test_the_apps_public_url_is_its_published_port_and_the_buckets_only_cors_origin():
    """APP_ORIGINS (provision's CORS rule) is the published web port on 127.0.0.1, the only host it answers to."""
    env = LOCAL["services"]["web"]["environment"]
    origin = urlsplit(env["APP_ORIGINS"])
    assert (origin.scheme, origin.hostname, env["ALLOWED_HOSTS"]) == ("http", "127.0.0.1", "127.0.0.1")
    assert f"127.0.0.1:{origin.port}:8000" in LOCAL["services"]["web"]["ports"]
    assert env["GUNICORN_BIND"] == "0.0.0.0:8000"


def test_every_published_port_is_on_the_hosts_loopback():
    """The sandbox trusts its network (admin key test/test) and the app runs over HTTP: nothing on other interfaces."""
    ports = [port for service in LOCAL["services"].values() for port in service.get("ports", [])]
    assert ports and all(port.startswith("127.0.0.1:") for port in ports)
    assert "ports" not in LOCAL["services"]["db"]


def test_the_local_web_environment_loads_the_production_settings():
    """`manage.py check` with exactly web's environment (a secret key given, as compose requires)."""
    env = resolved(LOCAL["services"]["web"]["environment"], {"DJANGO_SECRET_KEY": SECRET})
    assert env["DJANGO_SETTINGS_MODULE"] == "photoshare.settings.production"
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_the_local_stack_refuses_to_start_without_a_secret_key():
    """No default secret: compose stops with the variable's name."""
    with pytest.raises(AssertionError, match="DJANGO_SECRET_KEY"):
        resolved(LOCAL["services"]["web"]["environment"], {})


# --- compose.aws.yml: the same app on real AWS ---------------------------------------------


AWS_VALUES = {
    "DJANGO_SECRET_KEY": SECRET, "ALLOWED_HOSTS": "photos.example.com", "APP_ORIGINS": "https://photos.example.com",
    "POSTGRES_PASSWORD": "pw", "AWS_REGION": "eu-west-1", "PHOTOSHARE_BUCKET": "example-photos",
    "FORWARDED_ALLOW_IPS": "10.0.0.0/16",
}  # fmt: skip


def test_against_aws_there_is_no_sandbox_and_no_endpoint_override():
    """PHOTOSHARE_AWS=aws, the regional endpoints (no AWS_ENDPOINT_URL), HTTPS only, web waits for the database."""
    web = AWS["services"]["web"]
    assert set(AWS["services"]) == {"db", "web"}
    assert web["environment"]["PHOTOSHARE_AWS"] == "aws"
    assert not {"AWS_ENDPOINT_URL", "AWS_BROWSER_ENDPOINT_URL", "PHOTOSHARE_LOOPBACK_HTTP"} & set(web["environment"])
    assert web["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_the_aws_web_environment_passes_check_deploy():
    """With the required values given, web's environment is clean under `check --deploy`."""
    env = resolved(AWS["services"]["web"]["environment"], AWS_VALUES)
    assert env["DATABASE_URL"] == "postgresql://photoshare:pw@db:5432/photoshare"
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNING" not in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "ALLOWED_HOSTS", "APP_ORIGINS", "PHOTOSHARE_BUCKET", "FORWARDED_ALLOW_IPS"])
def test_the_aws_stack_requires_its_deployment_specific_values(missing):
    """Compose itself refuses to start without each of them, naming it."""
    with pytest.raises(AssertionError, match=missing):
        resolved(AWS["services"]["web"]["environment"], {k: v for k, v in AWS_VALUES.items() if k != missing})


# --- what web reads is documented -----------------------------------------------------------


@pytest.mark.parametrize("compose", [LOCAL, AWS], ids=["docker-compose.yml", "compose.aws.yml"])
def test_every_variable_web_is_given_is_in_env_example(compose):
    """The names in web's environment are settings the app documents (and reads)."""
    assert set(compose["services"]["web"]["environment"]) - documented() == set()


def test_every_variable_the_image_and_entrypoint_read_is_in_env_example():
    """The Dockerfile's ENV (Python's and pip's own aside) and the entry point's ${...}."""
    env_lines = " ".join(arguments for keyword, arguments in instructions() if keyword == "ENV")
    image = {name for name in re.findall(r"([A-Z][A-Z0-9_]*)=", env_lines) if not name.startswith(("PYTHON", "PIP_"))}
    entrypoint = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", ENTRYPOINT))
    assert image == {"PHOTOSHARE_VAR_DIR", "STATIC_ROOT"}
    assert (image | entrypoint) - documented() == set()


# --- the image -------------------------------------------------------------------------------


def test_the_image_is_slim_python_311_with_the_pinned_requirements_from_wheels():
    """python:3.11-slim; requirements.txt (every line pinned with ==) installed from wheels only."""
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    installs = [arguments for keyword, arguments in steps if keyword == "RUN" and "pip install" in arguments]
    assert installs == ["pip install --only-binary=:all: -r requirements.txt"]
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.]+", pin) for pin in pins)


def test_the_image_runs_as_a_non_root_user_after_the_last_install():
    """The last USER comes after every RUN, and is not root."""
    steps = instructions()
    users = [i for i, (keyword, _) in enumerate(steps) if keyword == "USER"]
    runs = [i for i, (keyword, _) in enumerate(steps) if keyword == "RUN"]
    assert users and users[-1] > runs[-1]
    assert steps[users[-1]][1].split(":")[0] not in ("root", "0")


def test_no_build_tools_are_installed_in_the_image():
    """No apt-get (so no compiler, headers or make), and no build tool named anywhere in a RUN."""
    runs = " ".join(arguments for keyword, arguments in instructions() if keyword == "RUN")
    assert "apt-get" not in runs and "apk " not in runs
    assert not [tool for tool in BUILD_TOOLS if re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", runs)]


def test_no_secret_is_baked_into_the_image():
    """DJANGO_SECRET_KEY appears only on the collectstatic line, never as an ENV or ARG that persists."""
    for keyword, arguments in instructions():
        if keyword in ("ENV", "ARG"):
            assert "SECRET" not in arguments and "PASSWORD" not in arguments


@pytest.mark.parametrize("pattern", [".git", ".venv", "var/", ".env", "**/*.pem", "**/deployment-*.json", "tests/"])
def test_the_build_context_leaves_out_local_state_and_secrets(pattern):
    """.dockerignore keeps the repository, the virtualenv, var/ (database, deployment IDs) and secrets out."""
    assert pattern in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_entrypoint_migrates_and_provisions_before_serving():
    """web: migrate, the cache table, provision (locally) and only then gunicorn, replacing the shell (exec)."""
    web = ENTRYPOINT.split("web)", 1)[1].split(";;", 1)[0]
    order = [web.index(step) for step in ("manage.py migrate", "manage.py createcachetable", "manage.py provision", "exec python -m gunicorn")]
    assert order == sorted(order)
    assert "set -eu" in ENTRYPOINT  # a failed migration stops the container instead of serving
