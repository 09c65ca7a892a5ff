"""Lab 2 round trip: a guest role with s3:PutObject on public/* lets a stranger overwrite alice's published photo."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab02_apply_attack_doctor_revert(lab_stack):
    """Applied, a guest overwrites alice's public key and doctor says guest-write; reverted, AccessDenied."""
    out = lab_round_trip(lab_stack, number=2, rule="guest-write", refused_code="AccessDenied")
    assert "overwritten" in out["attack"]
