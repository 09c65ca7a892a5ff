"""Every line of code the inspector page points at exists, and is the line
that does the step; each sign-in's flow draws its own lanes and operations."""

from __future__ import annotations

import pytest
from django.conf import settings

from inspector import steps

REFS = list(dict.fromkeys(ref for flow in steps.FLOWS.values() for step in flow.steps for ref in step.code)) + [
    steps.CodeRef("static/js/inspector.js", "export async function tryRun("),
    steps.CodeRef("infra/policies/authenticated.json", '"Statement"'),
    steps.CodeRef("infra/policies/unauthenticated.json", '"Statement"'),
]


@pytest.mark.parametrize("ref", REFS, ids=lambda ref: ref.label if ref.line else ref.path)
def test_each_code_reference_names_its_line(ref):
    """file:line is found, and that line holds the text the step names."""
    assert ref.line > 0, f"{ref.needle!r} is no longer in {ref.path}"
    lines = (settings.BASE_DIR / ref.path).read_text().splitlines()
    assert ref.needle in lines[ref.line - 1]


def test_a_missing_line_is_zero_not_a_wrong_line():
    assert steps.CodeRef("accounts/views.py", "no such text anywhere 8d1f").line == 0
    assert steps.CodeRef("no/such/file.py", "x").line == 0


@pytest.mark.parametrize("key", steps.FLOWS)
def test_the_diagram_has_an_arrow_per_step_between_lanes(key):
    flow = steps.FLOWS[key]
    drawn = steps.diagram(flow)
    assert len(drawn["arrows"]) == len(flow.steps)
    xs = {lane["x"] for lane in drawn["lanes"]}
    for arrow in drawn["arrows"]:
        assert arrow["x1"] in xs and 0 < arrow["y"] < drawn["height"]
        assert 0 < arrow["label_x"] < drawn["width"]
        # A label fits in the picture, even bold (inspector.js marks the current step so).
        chars = len(f"{arrow['step'].number}. {arrow['step'].label}") * steps.CHAR
        start = {"start": 0, "middle": chars / 2, "end": chars}[arrow["label_anchor"]]
        assert 0 <= arrow["label_x"] - start and arrow["label_x"] - start + chars <= drawn["width"], arrow["step"].label
    # Lane boxes do not overlap, and stay inside the picture.
    boxes = sorted(lane["box_x"] for lane in drawn["lanes"])
    assert boxes[0] >= 0 and boxes[-1] + drawn["lane_box"] <= drawn["width"]
    assert all(b - a > drawn["lane_box"] for a, b in zip(boxes, boxes[1:]))
    # Drawn at one scale whatever the flow: the same width for all.
    assert drawn["width"] == steps.diagram(steps.FLOWS["sso"])["width"]


def _operations(key: str) -> list[tuple[str, str, str]]:
    return [(step.source, step.target, step.label) for step in steps.FLOWS[key].steps]


def test_the_user_pool_flow_signs_in_with_initiate_auth():
    """Password: Django -> user pool InitiateAuth, then GetId and GetCredentialsForIdentity; no OIDC provider."""
    flow = steps.FLOWS["user-pool"]
    assert flow.participants == ("Browser", "Django", "User pool", "Identity pool", "STS", "S3", "DynamoDB")
    labels = [label for _, _, label in _operations("user-pool")]
    assert labels[:4] == ["POST /accounts/sign-in/", "InitiateAuth", "GetId", "GetCredentialsForIdentity"]
    assert not any(flow.skipped(step) for step in flow.steps)


def test_the_guest_flow_is_the_user_pools_with_the_sign_in_dimmed():
    flow = steps.FLOWS["guest"]
    assert flow.steps == steps.FLOWS["user-pool"].steps
    assert [step.label for step in flow.steps if flow.skipped(step)] == ["POST /accounts/sign-in/", "InitiateAuth"]


def test_the_sso_flow_goes_through_the_provider_and_never_the_user_pool():
    """SSO: authorize and sign in at the provider, a code back to Django's callback, the token
    exchange with PKCE, then the identity pool with the provider's login."""
    flow = steps.FLOWS["sso"]
    assert flow.participants == ("Browser", "OIDC provider", "Django", "Identity pool", "STS", "S3", "DynamoDB")
    ops = _operations("sso")
    assert ops[1][:2] == ("Browser", "OIDC provider") and "authorize" in ops[1][2]
    assert ops[2][:2] == ("OIDC provider", "Django") and "/accounts/oidc/callback/" in ops[2][2] and "code" in ops[2][2]
    assert ops[3][:2] == ("Django", "OIDC provider") and "PKCE" in ops[3][2]
    replies = [arrow["step"].label for arrow in steps.diagram(flow)["arrows"] if arrow["reply"]]
    assert replies == ["POST /api/credentials"]  # the token request goes left but is Django's own call
    assert ops[4] == ("Django", "Identity pool", "GetId")
    assert ops[5] == ("Django", "Identity pool", "GetCredentialsForIdentity")
    assert "InitiateAuth" not in [label for _, _, label in ops]


def test_the_link_flow_has_the_server_vouch_for_the_user():
    """Emailed link: Django's link page, then GetOpenIdTokenForDeveloperIdentity (signed by the
    server) and GetCredentialsForIdentity with cognito-identity.amazonaws.com."""
    flow = steps.FLOWS["link"]
    assert flow.participants == ("Browser", "Django", "Identity pool", "STS", "S3", "DynamoDB")
    ops = _operations("link")
    assert ops[0] == ("Browser", "Django", "POST /accounts/sign-in/link/")
    assert ops[1] == ("Django", "Identity pool", "GetOpenIdTokenForDeveloperIdentity")
    assert "signed with the server's own credentials" in flow.steps[1].text
    assert ops[2] == ("Django", "Identity pool", "GetCredentialsForIdentity")
    assert "cognito-identity.amazonaws.com" in flow.steps[2].text
    assert not {"GetId", "InitiateAuth"} & {label for _, _, label in ops}


@pytest.mark.parametrize("key", steps.FLOWS)
def test_every_flow_ends_with_the_browser_at_s3_and_dynamodb(key):
    """The shared tail: the browser's own calls to STS, S3 and DynamoDB, then the explanation;
    numbered 1.. with no gaps, and the phases inspector.js lights up present once each (try twice)."""
    flow = steps.FLOWS[key]
    assert [step.number for step in flow.steps] == list(range(1, len(flow.steps) + 1))
    tail = [(step.source, step.target) for step in flow.steps[-4:]]
    assert tail == [("Browser", "STS"), ("Browser", "S3"), ("Browser", "DynamoDB"), ("Browser", "Django")]
    phases = [step.phase for step in flow.steps if step.phase]
    assert phases == ["credentials", "handout", "sts", "try", "try", "decision"]
    js = (settings.BASE_DIR / "static/js/inspector.js").read_text()
    for phase in set(phases):
        assert f'stepAt("{phase}")' in js


def test_every_step_names_known_lanes():
    for flow in steps.FLOWS.values():
        for step in flow.steps:
            assert step.source in steps.PARTICIPANTS and step.target in steps.PARTICIPANTS and step.source != step.target


@pytest.mark.parametrize(
    "signed_in, sso, developer, own",
    [(False, False, False, "guest"), (True, False, False, "user-pool"), (True, True, False, "sso"), (True, False, True, "link")],
)
def test_the_viewers_own_flow(signed_in, sso, developer, own):
    assert steps.flow_own(signed_in=signed_in, sso=sso, developer=developer) == own


@pytest.mark.parametrize("requested", [None, "", "nope", "SSO", "sso ", "../sso", ["sso"], "user-pool\x00"])
def test_an_unknown_flow_falls_back_to_the_viewers_own(requested):
    assert steps.flow_pick(requested, own="link") is steps.FLOWS["link"]


@pytest.mark.parametrize("key", ["user-pool", "sso", "link", "guest"])
def test_a_known_flow_is_shown_whoever_asks(key):
    assert steps.flow_pick(key, own="guest") is steps.FLOWS[key]


def test_a_code_reference_links_to_its_line_where_the_source_is_published(settings):
    ref = steps.CodeRef("accounts/views.py", "def api_credentials(")
    settings.SOURCE_URL = ""
    assert ref.url == ""
    settings.SOURCE_URL = "https://github.com/example/photoshare/blob/main/"
    assert ref.url == f"https://github.com/example/photoshare/blob/main/accounts/views.py#L{ref.line}"
