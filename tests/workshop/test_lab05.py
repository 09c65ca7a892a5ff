"""Lab 5 round trip: a Rules role mapping on custom:role, a claim the app client lets users write, makes alice a moderator."""

from tests.workshop.lab_round_trip import lab_round_trip


def test_lab05_apply_attack_doctor_revert(lab_stack):
    """Applied, alice writes custom:role, gets the moderator role and takes bob's photo down; reverted, her write is refused."""
    out = lab_round_trip(lab_stack, number=5, rule="role-mapping-writable-claim", refused_code="NotAuthorizedException")
    assert "assumed-role/" in out["attack"] and "-moderator/" in out["attack"]
    assert "taken down" in out["attack"]
    assert "A client attempted to write unauthorized attribute" in out["refused"]
