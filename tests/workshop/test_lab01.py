"""Lab 1 round trip: owner statement on private/* lets bob read alice's private photo."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab01_apply_attack_doctor_revert(lab_stack):
    """Applied, bob reads alice's key and doctor says owner-scope; reverted, AccessDenied and doctor clean."""
    out = lab_round_trip(lab_stack, number=1, rule="owner-scope", refused_code="AccessDenied")
    assert "lab01-private-photo.txt" in out["attack"]
