"""Lab 6 round trip: the classic flow left on lets a guest skip the enhanced flow's scope-down and call IAM."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab06_apply_attack_doctor_revert(lab_stack):
    """Applied, a guest's classic-flow session lists the account's roles that its enhanced-flow session may not; reverted, GetOpenIdToken is refused."""
    out = lab_round_trip(lab_stack, number=6, rule="classic-flow", refused_code="InvalidParameterException")
    roles = [arn.rsplit("/", 1)[-1] for arn in (lab_stack.deployment.authenticated_role_arn, lab_stack.deployment.moderator_role_arn)]
    assert all(role in out["attack"] for role in roles)
    for run in (out["attack"], out["refused"]):
        assert "refused: AccessDenied. In the enhanced flow" in run  # the scope-down, either way
    assert "Basic (classic) flow is not enabled" in out["refused"]
