"""Lab 6 round trip: the classic flow left on lets a guest skip the enhanced flow's scope-down and call IAM."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab06_apply_attack_doctor_revert(lab_stack):
    """Applied, a guest's classic-flow session lists the roles its enhanced-flow one may not; reverted, no OpenID token."""
    out = lab_round_trip(lab_stack, number=6, rule="classic-flow", refused_code="InvalidParameterException")
    deployment = lab_stack.deployment
    roles = [arn.rsplit("/", 1)[-1] for arn in (deployment.authenticated_role_arn, deployment.moderator_role_arn)]
    assert all(role in out["attack"] for role in roles)
    for run in (out["attack"], out["refused"]):
        assert "refused: AccessDenied. In the enhanced flow" in run  # the scope-down, either way
    assert "Basic (classic) flow is not enabled" in out["refused"]
