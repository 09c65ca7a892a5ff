"""Lab 4 round trip: a trust policy without aud accepts a token from an attacker's own identity pool."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab04_apply_attack_doctor_revert(lab_stack):
    """Applied, the attacker's pool's token assumes the signed-in role and doctor says trust-no-aud; reverted, AccessDenied."""
    out = lab_round_trip(lab_stack, number=4, rule="trust-no-aud", refused_code="AccessDenied")
    assert lab_stack.deployment.authenticated_role_arn in out["attack"]
    assert "ADMIN KEY" in out["attack"]  # the attacker's own pool is made with the admin key, and says so
