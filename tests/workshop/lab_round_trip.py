"""The round trip every lab's test makes, per issue 15's "Done when": apply,
attack (exit 0), doctor reports the lab's rule, revert, attack (exit 1 with
AWS's error code), doctor without the rule and with no rule a fresh
provision did not have."""

from __future__ import annotations

from tests.workshop.conftest import LabStack


def lab_round_trip(stack: LabStack, *, number: int, rule: str, refused_code: str) -> dict[str, str]:
    fresh = stack.doctor_rules()
    assert rule not in fresh

    status, applied = stack.run("apply", str(number))
    assert status == 0, applied
    status, listed = stack.run("list")
    assert status == 0, listed
    assert any(line.split()[:2] == [str(number), "yes"] and rule in line for line in listed.splitlines()), listed

    status, attack = stack.run("attack", str(number), "--app-url", stack.app_url)
    assert status == 0, attack
    assert "SUCCEEDED" in attack and "obtained:" in attack
    assert rule in stack.doctor_rules()

    status, reverted = stack.run("revert", str(number))
    assert status == 0, reverted
    status, again = stack.run("attack", str(number), "--app-url", stack.app_url)
    assert status == 1, again
    assert f"REFUSED: {refused_code}" in again

    after = stack.doctor_rules()
    assert rule not in after
    assert after <= fresh, f"rules a fresh provision did not report: {after - fresh}"
    print(applied, attack, reverted, again, sep="\n")  # shown when the test fails, or with -s
    return {"apply": applied, "attack": attack, "revert": reverted, "refused": again}
