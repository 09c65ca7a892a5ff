"""gunicorn.conf.py, loaded as gunicorn loads it (a Python file read from the
environment), without starting a server."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def load(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults_listen_on_loopback_and_trust_no_other_proxy(monkeypatch):
    """127.0.0.1:8000, 2 workers of 4 threads, X-Forwarded-Proto believed from this machine only."""
    conf = load(monkeypatch)
    assert (conf["bind"], conf["workers"], conf["threads"], conf["worker_class"]) == (["127.0.0.1:8000"], 2, 4, "gthread")
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1" and conf["control_socket_disable"] is True


def test_every_value_comes_from_the_environment(monkeypatch):
    """GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT and FORWARDED_ALLOW_IPS."""
    conf = load(monkeypatch, GUNICORN_BIND="0.0.0.0:9000", GUNICORN_WORKERS="3", GUNICORN_THREADS="8",
                GUNICORN_TIMEOUT="30", FORWARDED_ALLOW_IPS="10.0.0.0/16")  # fmt: skip
    assert (conf["bind"], conf["workers"], conf["threads"], conf["timeout"]) == (["0.0.0.0:9000"], 3, 8, 30)
    assert conf["forwarded_allow_ips"] == "10.0.0.0/16"


@pytest.mark.parametrize("name, value", [("GUNICORN_WORKERS", "lots"), ("GUNICORN_THREADS", "0"), ("GUNICORN_TIMEOUT", "-5")])
def test_a_bad_number_stops_gunicorn_naming_the_setting(monkeypatch, name, value):
    """Not a whole number, or below 1: SystemExit with the name."""
    with pytest.raises(SystemExit, match=name):
        load(monkeypatch, **{name: value})


def test_the_access_log_carries_no_query_string_cookie_or_authorization(monkeypatch):
    """Path (%(U)s) rather than the request line (%(r)s) or query (%(q)s); no Cookie or Authorization header atoms."""
    log_format = load(monkeypatch)["access_log_format"]
    assert "%(U)s" in log_format and "%(s)s" in log_format and "%(M)s" in log_format and "x-request-id" in log_format
    for leak in ("%(r)s", "%(q)s", "{cookie}", "{authorization}", "{x-amz-security-token}"):
        assert leak not in log_format.lower()
