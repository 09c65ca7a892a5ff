"""Lab 7 round trip: with ServerSideTokenCheck off, an ID token copied before GlobalSignOut still buys credentials."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab07_apply_attack_doctor_revert(lab_stack):
    """Applied, the copied ID token gets credentials after sign-out; reverted, NotAuthorizedException."""
    out = lab_round_trip(lab_stack, number=7, rule="server-side-token-check-off", refused_code="NotAuthorizedException")
    assert "GlobalSignOut" in out["attack"] and "after she signed out" in out["attack"]
    assert "Token has been revoked" in out["refused"]
