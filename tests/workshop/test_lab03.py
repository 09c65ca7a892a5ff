"""Lab 3 round trip: ListBucket without s3:prefix lets bob list every user's keys."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab03_apply_attack_doctor_revert(lab_stack):
    """Applied, bob's listing shows alice's private key and doctor says listbucket-unscoped; reverted, AccessDenied."""
    out = lab_round_trip(lab_stack, number=3, rule="listbucket-unscoped", refused_code="AccessDenied")
    assert "lab03-private-photo.txt" in out["attack"]
