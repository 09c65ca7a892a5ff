"""The flow the inspector page walks through, step by step, with the line of
this repository's code that does each step and the sequence diagram drawn
from the same list.

Line numbers are found at render time by searching each file for the line
that defines the step (`CodeRef.needle`), so an edit above it cannot leave the
page pointing at the wrong line; a needle that is no longer found is a test
failure (`tests/inspector/test_steps.py`), never a silently wrong link.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class CodeRef:
    path: str  # relative to the repository root
    needle: str  # the text of the line that does it (its first occurrence)

    @property
    def line(self) -> int:
        return _line_of(self.path, self.needle)

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def url(self) -> str:
        """The line on the web (settings.SOURCE_URL), or "" when no such place is set."""
        base = settings.SOURCE_URL.rstrip("/")
        return f"{base}/{self.path}#L{self.line}" if base else ""


@functools.lru_cache(maxsize=64)
def _line_of_cached(path: str, needle: str, mtime_ns: int) -> int:
    with open(settings.BASE_DIR / path, encoding="utf-8") as source:
        for number, text in enumerate(source, start=1):
            if needle in text:
                return number
    return 0


def _line_of(path: str, needle: str) -> int:
    """The 1-based line of `needle` in `path`, 0 when it is not there (the file is
    read again only when it changes)."""
    try:
        mtime_ns = (settings.BASE_DIR / path).stat().st_mtime_ns
    except OSError:
        return 0
    return _line_of_cached(path, needle, mtime_ns)


# The diagram's lanes, left to right.
PARTICIPANTS = ("Browser", "Django", "User pool", "Identity pool", "STS", "S3")


@dataclass(frozen=True)
class Step:
    number: int
    source: str  # a participant
    target: str
    label: str  # on the arrow
    text: str  # beside the step, for a person
    code: tuple[CodeRef, ...]
    users_only: bool = False  # guests skip it


STEPS: tuple[Step, ...] = (
    Step(
        1, "Browser", "Django", "POST /accounts/sign-in/",
        "You sign in on Django's page; the browser never talks to the user pool.",
        (CodeRef("accounts/views.py", "def sign_in("),),
        users_only=True,
    ),
    Step(
        2, "Django", "User pool", "InitiateAuth",
        "Django checks the password with the user pool (USER_PASSWORD_AUTH with SECRET_HASH) and keeps the tokens "
        "in its session. Moderators' ID tokens carry cognito:preferred_role.",
        (CodeRef("accounts/cognito.py", "def user_sign_in("),),
        users_only=True,
    ),
    Step(
        3, "Django", "Identity pool", "GetId",
        "Django asks the identity pool for your identity ID, once: with your ID token as a login, or with no "
        "login for a guest. That ID is ${cognito-identity.amazonaws.com:sub}.",
        (CodeRef("accounts/cognito.py", "def identity_id_get("), CodeRef("accounts/services.py", "def identity_ensure(")),
    ),
    Step(
        4, "Django", "Identity pool", "GetCredentialsForIdentity",
        "The identity pool picks the role (the role mapping, or the guest role) and returns one-hour credentials. "
        "Django records it in the audit trail.",
        (CodeRef("accounts/cognito.py", "def identity_credentials_issue("), CodeRef("accounts/audit.py", "def audit_record(")),
    ),
    Step(
        5, "Django", "Browser", "POST /api/credentials",
        "The browser gets the temporary keys, never a token.",
        (CodeRef("accounts/views.py", "def api_credentials("),),
    ),
    Step(
        6, "Browser", "STS", "GetCallerIdentity",
        "The browser asks STS, with those keys, which role they are: the answer is the assumed-role ARN.",
        (CodeRef("static/js/inspector.js", "export async function callerIdentity("),),
    ),
    Step(
        7, "Browser", "S3", "a signed S3 request",
        "The browser signs each request itself (SigV4). IAM evaluates the role's policy with "
        "${cognito-identity.amazonaws.com:sub} set to your identity ID.",
        (CodeRef("static/js/inspector.js", "export async function tryRun("), CodeRef("sandbox/gateway/authorization.py", "def request_authorize(")),
    ),
    Step(
        8, "Browser", "Django", "GET /api/inspector/decisions/<id>",
        "The browser sends S3's x-amz-request-id to Django, which asks the sandbox why, and answers with your own "
        "decisions only.",
        (CodeRef("inspector/views.py", "def api_decision("), CodeRef("core/sandbox.py", "def decision(")),
    ),
)

# Geometry of the SVG, in its own units (it scales to its box).
LANE_GAP = 130
LEFT = 70
TOP = 56  # where the first arrow is
ROW = 46
WIDTH = LEFT * 2 + LANE_GAP * (len(PARTICIPANTS) - 1)


def lane_x(participant: str) -> int:
    return LEFT + LANE_GAP * PARTICIPANTS.index(participant)


def diagram() -> dict[str, object]:
    """What templates/inspector/diagram.svg.html draws: lanes and arrows."""
    height = TOP + ROW * len(STEPS) + 10
    lanes = [{"name": name, "x": lane_x(name)} for name in PARTICIPANTS]
    arrows = []
    for index, step in enumerate(STEPS):
        x1, x2 = lane_x(step.source), lane_x(step.target)
        y = TOP + ROW * index + 18
        direction = 1 if x2 > x1 else -1
        arrows.append(
            {
                "step": step,
                "x1": x1,
                "x2": x2 - direction * 6,  # the arrowhead ends on the lane
                "y": y,
                "label_x": (x1 + x2) // 2,
                "label_y": y - 7,
                "badge_x": x1 + direction * 12,
                "reply": direction < 0,
            }
        )
    return {"width": WIDTH, "height": height, "lanes": lanes, "arrows": arrows, "lane_bottom": height - 4}
