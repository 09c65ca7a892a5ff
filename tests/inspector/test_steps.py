"""Every line of code the inspector page points at exists, and is the line that does the step."""

from __future__ import annotations

import pytest
from django.conf import settings

from inspector import steps

REFS = [ref for step in steps.STEPS for ref in step.code] + [
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


def test_the_diagram_has_an_arrow_per_step_between_lanes():
    drawn = steps.diagram()
    assert len(drawn["arrows"]) == len(steps.STEPS)
    xs = {lane["x"] for lane in drawn["lanes"]}
    for arrow in drawn["arrows"]:
        assert arrow["x1"] in xs and 0 < arrow["y"] < drawn["height"]


def test_a_code_reference_links_to_its_line_where_the_source_is_published(settings):
    ref = steps.CodeRef("accounts/views.py", "def api_credentials(")
    settings.SOURCE_URL = ""
    assert ref.url == ""
    settings.SOURCE_URL = "https://github.com/example/photoshare/blob/main/"
    assert ref.url == f"https://github.com/example/photoshare/blob/main/accounts/views.py#L{ref.line}"
