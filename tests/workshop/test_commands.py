"""`manage.py lab`: listing, usage errors, one lab at a time, `check`, and
the refusal to touch real AWS without --aws and a typed confirmation."""

from __future__ import annotations

import json

import pytest

from django.conf import settings

from tests.workshop.conftest import run_command
from workshop.registry import LABS


def lab_stack_record(stack) -> str:
    """The applied-lab record as `lab apply` left it."""
    return settings.PHOTOSHARE_LABS_FILE.read_text()


def test_list_shows_every_lab_with_its_rule_and_none_applied(lab_stack):
    """`lab list`: a row per lab with number, applied no, the doctor rule id and the title."""
    status, out = lab_stack.run("list")
    assert status == 0, out
    rows = out.splitlines()[1:]
    assert len(rows) == len(LABS) >= 4
    for row, lab in zip(rows, LABS.values()):
        assert row.split()[:3] == [str(lab.number), "no", lab.rule]
        assert row.endswith(lab.title)


@pytest.mark.parametrize(
    "args, says",
    [
        (("apply", "99"), "There is no lab 99"),
        (("attack", "0"), "There is no lab 0"),
        (("apply", "one"), "needs a lab number"),
        (("revert",), "needs a lab number"),
        (("explode", "1"), "Unknown action 'explode'"),
        ((), "Say what to do"),
        (("list", "1"), "takes no number"),
    ],
)
def test_bad_number_or_usage_exits_2_with_a_message(lab_stack, args, says):
    """A bad lab number or usage: exit 2, the problem named, the usage line shown where it helps."""
    status, out = lab_stack.run(*args)
    assert status == 2, out
    assert says in out


def test_a_second_lab_is_refused_naming_the_first_and_its_revert(lab_stack):
    """With lab 1 applied, applying lab 2 exits 2 naming lab 1 and `lab revert 1`, and changes nothing."""
    assert lab_stack.run("apply", "1")[0] == 0
    assert json.loads(lab_stack_record(lab_stack)) == {"applied": 1, "identity_pool_id": lab_stack.deployment.identity_pool_id}
    status, out = lab_stack.run("apply", "2")
    assert status == 2, out
    assert "Lab 1" in out and "python manage.py lab revert 1" in out
    assert not LABS[2].applied(deployment=lab_stack.deployment)
    assert lab_stack.run("revert", "1")[0] == 0
    assert not LABS[1].applied(deployment=lab_stack.deployment)
    assert lab_stack.run("apply", "2")[0] == 0  # free again once lab 1 is reverted
    assert json.loads(lab_stack_record(lab_stack)) == {"applied": 2, "identity_pool_id": lab_stack.deployment.identity_pool_id}
    assert lab_stack.run("revert", "2")[0] == 0


def test_apply_is_idempotent(lab_stack):
    """Applying a lab twice changes nothing the second time, and it stays applied."""
    assert lab_stack.run("apply", "3")[0] == 0
    status, out = lab_stack.run("apply", "3")
    assert status == 0 and "Changed" not in out, out
    assert LABS[3].applied(deployment=lab_stack.deployment)
    lab_stack.run("revert", "3")


def test_check_verifies_a_lab_end_to_end(lab_stack):
    """`lab check 1` applies, attacks, asks doctor, reverts and attacks again, then says "lab 1 verified"."""
    status, out = lab_stack.run("check", "1", "--app-url", lab_stack.app_url)
    assert status == 0, out
    assert out.strip().endswith("lab 1 verified")
    assert "SUCCEEDED" in out and "REFUSED" in out
    assert not LABS[1].applied(deployment=lab_stack.deployment)


def test_attacks_remember_their_sessions_so_a_workshop_stays_within_the_sign_in_limit(lab_stack):
    """Six attacks in a row (the app allows five sign-ins per account and address in five
    minutes) all run: the attacker's browser keeps its sessions between commands."""
    for attempt in range(6):
        status, out = lab_stack.run("attack", "1", "--app-url", lab_stack.app_url)
        assert status == 1, f"attempt {attempt + 1}: {out}"  # refused by AWS, not stopped by the app
    remembered = settings.PHOTOSHARE_LABS_FILE.with_name("labs-sessions.json")
    assert set(json.loads(remembered.read_text())[lab_stack.app_url]) == {"alice@example.com", "bob@example.com"}
    assert remembered.stat().st_mode & 0o777 == 0o600


def test_attack_that_cannot_reach_the_app_exits_2(lab_stack):
    """An app that is not there is neither success nor refusal: exit 2, saying so."""
    status, out = lab_stack.run("attack", "1", "--app-url", "http://127.0.0.1:9")
    assert status == 2, out
    assert "could not" in out



@pytest.mark.parametrize("args", [("list",), ("apply", "1"), ("revert", "1"), ("attack", "1"), ("check", "1")])
def test_real_aws_is_refused_without_the_aws_flag(settings, args):
    """Settings pointing at real AWS: every action refuses, before any AWS call, unless --aws."""
    settings.PHOTOSHARE_AWS = "aws"
    status, out = run_command("lab", *args)
    assert status == 2, out
    assert "real AWS" in out and "--aws" in out and "Nothing was changed" in out


def test_real_aws_needs_the_deployment_name_typed(settings, monkeypatch):
    """With --aws, a mistyped deployment name still refuses."""
    settings.PHOTOSHARE_AWS = "aws"
    settings.PHOTOSHARE_NAME = "workshop-prod"
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "workshop")
    status, out = run_command("lab", "apply", "1", "--aws")
    assert status == 2, out
    assert "did not match" in out
    assert "workshop-prod" in asked[0]
