"""The infra commands as a person runs them: what they print, what they
refuse, and their exit status (run through `run_from_argv`, as manage.py does)."""

from __future__ import annotations

import builtins
import io
import logging
from dataclasses import dataclass
from importlib import import_module

import pytest
from django.conf import settings

from infra.provision import deployment_provision
from core.deployment import deployment_get
from sandbox.server import free_port
from tests.actors import sign_in


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(name: str, *args: str) -> Result:
    """`manage.py <name> <args>` in this process, with this test's settings."""
    out, err = io.StringIO(), io.StringIO()
    command = import_module(f"infra.management.commands.{name}").Command(stdout=out, stderr=err)
    try:
        command.run_from_argv(["manage.py", name, *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def no_prompt(monkeypatch):
    """Fail the test if a command asks anything."""

    def refuse(prompt: str = "") -> str:
        raise AssertionError(f"unexpected prompt: {prompt}")

    monkeypatch.setattr(builtins, "input", refuse)


@pytest.fixture
def on_aws_against_the_sandbox(deployment_cleanup, monkeypatch):
    """PHOTOSHARE_AWS='aws' with the endpoint left on the sandbox and the admin
    key in the environment, so any AWS call a command makes would succeed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    deployment_cleanup.PHOTOSHARE_AWS = "aws"
    return deployment_cleanup


def _users(sandbox, pool_id: str) -> dict[str, dict[str, str]]:
    listed = sandbox.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    return {
        next(a["Value"] for a in u["Attributes"] if a["Name"] == "email"): {
            "status": u["UserStatus"],
            **{a["Name"]: a["Value"] for a in u["Attributes"]},
        }
        for u in listed
    }


# --- provision -------------------------------------------------------------------------------------


def test_provision_prints_what_it_creates_then_nothing(deployment_cleanup, no_prompt):
    """The first run lists what it created; the second says nothing changed; both exit 0."""
    first = run("provision")
    assert first.code == 0, first.err
    assert "Created user pool" in first.out and "Created bucket" in first.out
    assert f"Deployment IDs are in {settings.PHOTOSHARE_DEPLOYMENT_FILE}" in first.out
    second = run("provision")
    assert second.code == 0
    assert "Created" not in second.out and "Updated" not in second.out
    assert "nothing changed" in second.out


def test_provision_without_the_sandbox_fails_with_a_fixed_message(deployment_cleanup, caplog):
    """With nothing listening, provision exits 1 saying how to start the sandbox; the detail goes to the log."""
    deployment_cleanup.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    deployment_cleanup.AWS_MAX_ATTEMPTS = 1
    with caplog.at_level(logging.ERROR, logger="infra"):
        result = run("provision")
    assert result.code == 1
    assert "Cannot reach the sandbox at" in result.err and "make sandbox" in result.err
    assert "Traceback" not in result.err + result.out
    assert "EndpointConnectionError" in caplog.text


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("PHOTOSHARE_BUCKET", "", "PHOTOSHARE_BUCKET is required"),
    ],
)
def test_provision_refuses_bad_settings(deployment_cleanup, setting, value, message):
    """A setting provision cannot work with is named in a one-line error."""
    setattr(deployment_cleanup, setting, value)
    result = run("provision")
    assert result.code == 1
    assert message in result.err


# --- deprovision ------------------------------------------------------------------------------------


def test_deprovision_locally_asks_nothing(sandbox, provisioned, no_prompt):
    """In local mode deprovision goes ahead, listing what it deleted."""
    result = run("deprovision")
    assert result.code == 0, result.err
    assert f"Deleted bucket {provisioned.bucket}" in result.out
    assert "Deleted user pool" in result.out
    again = run("deprovision")
    assert "Nothing to remove." in again.out


@pytest.mark.parametrize("answer", ["", "no", "yes", "y"])
def test_deprovision_on_aws_needs_the_name_typed(sandbox, provisioned, on_aws_against_the_sandbox, monkeypatch, answer):
    """On AWS anything but the deployment's name cancels, deletes nothing and exits 1."""
    monkeypatch.setattr(builtins, "input", lambda prompt="": answer)
    result = run("deprovision")
    assert result.code == 1
    assert "nothing was deleted" in result.err
    sandbox.client("s3").head_bucket(Bucket=provisioned.bucket)


def test_deprovision_on_aws_goes_ahead_when_confirmed(sandbox, provisioned, on_aws_against_the_sandbox, monkeypatch):
    """Typing the deployment's name at the prompt deletes it."""
    prompts: list[str] = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": prompts.append(prompt) or settings.PHOTOSHARE_NAME)
    result = run("deprovision")
    assert result.code == 0, result.err
    assert provisioned.bucket in prompts[0]
    assert f"Deleted bucket {provisioned.bucket}" in result.out


def test_deprovision_on_aws_with_yes_does_not_ask(sandbox, provisioned, on_aws_against_the_sandbox, no_prompt):
    """--yes skips the question, for scripts."""
    result = run("deprovision", "--yes")
    assert result.code == 0, result.err
    assert f"Deleted bucket {provisioned.bucket}" in result.out


# --- seed_demo_users --------------------------------------------------------------------------------


def test_seed_demo_users_creates_confirmed_users(sandbox, provisioned):
    """alice, bob and carol (moderator) exist, confirmed and verified, and sign in with DEMO_PASSWORD."""
    result = run("seed_demo_users")
    assert result.code == 0, result.err
    assert f"password {settings.DEMO_PASSWORD}" in result.out
    assert "carol@example.com (moderator)" in result.out
    users = _users(sandbox, provisioned.user_pool_id)
    assert sorted(users) == ["alice@example.com", "bob@example.com", "carol@example.com"]
    idp = sandbox.client("cognito-idp")
    for email, user in users.items():
        assert user["status"] == "CONFIRMED" and user["email_verified"] == "true"
        assert sign_in(sandbox, provisioned, email=email, password=settings.DEMO_PASSWORD)["IdToken"]
        groups = idp.admin_list_groups_for_user(UserPoolId=provisioned.user_pool_id, Username=email)["Groups"]
        assert [g["GroupName"] for g in groups] == (["moderators"] if email.startswith("carol") else [])


def test_seed_demo_users_twice_creates_nothing_new(sandbox, provisioned):
    """A second run keeps the same users and reports no change."""
    run("seed_demo_users")
    before = _users(sandbox, provisioned.user_pool_id)
    again = run("seed_demo_users")
    assert again.code == 0
    assert "Created" not in again.out and "Added" not in again.out
    assert {e: u["sub"] for e, u in _users(sandbox, provisioned.user_pool_id).items()} == {e: u["sub"] for e, u in before.items()}


def test_seed_demo_users_repairs_groups_and_password(sandbox, provisioned, settings):
    """Group membership and the password are put back as the demo says."""
    run("seed_demo_users")
    idp = sandbox.client("cognito-idp")
    idp.admin_remove_user_from_group(UserPoolId=provisioned.user_pool_id, Username="carol@example.com", GroupName="moderators")
    idp.admin_add_user_to_group(UserPoolId=provisioned.user_pool_id, Username="alice@example.com", GroupName="moderators")
    settings.DEMO_PASSWORD = "Another-Demo-Password-2"
    result = run("seed_demo_users")
    assert "Added carol@example.com to moderators" in result.out
    assert "Removed alice@example.com from moderators" in result.out
    assert sign_in(sandbox, provisioned, email="bob@example.com", password="Another-Demo-Password-2")


def test_seed_demo_users_refuses_on_aws_before_calling_it(sandbox, provisioned, on_aws_against_the_sandbox):
    """On AWS it exits 1 with a fixed message and creates no user, though every call would have succeeded."""
    result = run("seed_demo_users")
    assert result.code == 1
    assert "local sandbox only" in result.err
    assert "Nothing was changed." in result.err
    assert _users(sandbox, provisioned.user_pool_id) == {}


def test_seed_demo_users_before_provision_says_to_provision(deployment_cleanup):
    """Without a deployment it says to run provision first."""
    result = run("seed_demo_users")
    assert result.code == 1
    assert "manage.py provision" in result.err


def test_provision_then_seed_is_what_make_run_does(sandbox, deployment_cleanup):
    """provision then seed_demo_users in a row give a deployment the app can read and users who sign in."""
    assert run("provision").code == 0
    assert run("seed_demo_users").code == 0
    deployment = deployment_get()
    assert deployment == deployment_provision(report=lambda line: None)
    assert sign_in(sandbox, deployment, email="carol@example.com", password=settings.DEMO_PASSWORD)
