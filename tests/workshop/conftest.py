"""A lab's whole world: a provisioned sandbox deployment with the demo users,
the app served over real HTTP on 127.0.0.1 (pytest-django's live server, a
thread of this process), and `run`, which calls `manage.py lab` in-process
as a participant would type it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from core.deployment import Deployment
from infra.demo_users import demo_users_seed
from infra.provision import deployment_provision


@dataclass
class LabStack:
    deployment: Deployment
    app_url: str
    run: Callable[..., tuple[int, str]]
    doctor_rules: Callable[[], set[str]]


def run_command(name: str, *args: str) -> tuple[int, str]:
    """(exit status, stdout and stderr) of `manage.py <name> <args>`."""
    out = io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def doctor_rules() -> set[str]:
    """The rule ids of `manage.py doctor --json`, as a participant would read them."""
    status, out = run_command("doctor", "--json")
    assert status in (0, 1), out
    report = json.loads(out)
    return {finding["rule"] for finding in report["findings"]}


@pytest.fixture
def lab_stack(live_server, deployment_cleanup, transactional_db, tmp_path) -> LabStack:
    settings = deployment_cleanup
    settings.APP_ORIGINS = [live_server.url]
    settings.PHOTOSHARE_LABS_FILE = tmp_path / "labs.json"
    deployment = deployment_provision(report=lambda line: None)
    demo_users_seed(report=lambda line: None)
    return LabStack(
        deployment=deployment,
        app_url=live_server.url,
        run=lambda *args: run_command("lab", *args),
        doctor_rules=doctor_rules,
    )
