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


# Every lane a flow may draw, left to right; a flow draws the ones its steps use.
PARTICIPANTS = ("Browser", "OIDC provider", "Django", "User pool", "Identity pool", "STS", "S3", "DynamoDB")


@dataclass(frozen=True)
class Step:
    number: int
    source: str  # a participant
    target: str
    label: str  # on the arrow
    text: str  # beside the step, for a person
    code: tuple[CodeRef, ...]
    users_only: bool = False  # guests skip it
    # What static/js/inspector.js lights up while it happens ("credentials",
    # "handout", "sts", "try", "decision"): the same in every flow, whatever
    # the step's number there.
    phase: str = ""
    # Drawn dashed, as an answer; by default an arrow going left is one
    # (Django -> Browser), but Django's token request to the provider goes left too.
    reply: bool | None = None


# --- the steps every flow shares, from the identity pool's credentials on ------------------

def _shared(first: int, *, credentials_text: str, credentials_code: tuple[CodeRef, ...]) -> tuple[Step, ...]:
    """GetCredentialsForIdentity and what the browser does with its keys; numbered from `first`."""
    return (
        Step(
            first, "Django", "Identity pool", "GetCredentialsForIdentity", credentials_text,
            (*credentials_code, CodeRef("accounts/cognito.py", "def identity_credentials_issue("), CodeRef("accounts/audit.py", "def audit_record(")),
            phase="credentials",
        ),
        Step(
            first + 1, "Django", "Browser", "POST /api/credentials",
            "The browser gets the temporary keys, never a token.",
            (CodeRef("accounts/views.py", "def api_credentials("),),
            phase="handout",
        ),
        Step(
            first + 2, "Browser", "STS", "GetCallerIdentity",
            "The browser asks STS, with those keys, which role they are: the answer is the assumed-role ARN.",
            (CodeRef("static/js/inspector.js", "export async function callerIdentity("),),
            phase="sts",
        ),
        Step(
            first + 3, "Browser", "S3", "a signed S3 request",
            "The browser signs each request itself (SigV4): photos go straight to S3. IAM evaluates the role's "
            "policy with ${cognito-identity.amazonaws.com:sub} set to your identity ID.",
            (CodeRef("static/js/inspector.js", "export async function tryRun("), CodeRef("sandbox/gateway/authorization.py", "def request_authorize(")),
            phase="try",
        ),
        Step(
            first + 4, "Browser", "DynamoDB", "a signed DynamoDB request",
            "Albums too: the browser reads and writes its own items in the albums table, where the policy allows "
            "only items whose partition key (dynamodb:LeadingKeys) is your identity ID.",
            (CodeRef("static/js/albums-store.js", "export function albumStore("), CodeRef("static/js/inspector.js", "export async function dynamoTryRun(")),
            phase="try",
        ),
        Step(
            first + 5, "Browser", "Django", "GET /api/inspector/decisions/<id>",
            "The browser sends the request id S3 or DynamoDB answered with to Django, which asks the sandbox why, "
            "and answers with your own decisions only.",
            (CodeRef("inspector/views.py", "def api_decision("), CodeRef("core/sandbox.py", "def decision(")),
            phase="decision",
        ),
    )


USER_POOL_STEPS: tuple[Step, ...] = (
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
    *_shared(
        4,
        credentials_text="The identity pool picks the role (the role mapping, or the guest role) and returns one-hour "
        "credentials. Django records it in the audit trail.",
        credentials_code=(),
    ),
)

SSO_STEPS: tuple[Step, ...] = (
    Step(
        1, "Browser", "Django", "GET /accounts/oidc/start/",
        "You press \u201cSign in with Winter Corp SSO\u201d. Django keeps a state, a nonce and a PKCE verifier in "
        "its session and sends the browser to the provider's authorize URL with the verifier's S256 hash.",
        (CodeRef("accounts/views.py", "class SsoStart("),),
    ),
    Step(
        2, "Browser", "OIDC provider", "authorize, then sign in",
        "You sign in on the provider's own page: Photoshare never sees how Winter Corp checks who you are.",
        (CodeRef("sandbox/oidc/provider.py", "def authorization_begin("), CodeRef("sandbox/oidc/provider.py", "def sign_in(")),
    ),
    Step(
        3, "OIDC provider", "Django", "GET /accounts/oidc/callback/?code=…",
        "The provider sends the browser back to Django with a one-time code and the state, which must be the "
        "one this session keeps.",
        (CodeRef("accounts/views.py", "class SsoCallback("),),
    ),
    Step(
        4, "Django", "OIDC provider", "POST token (code + PKCE verifier)",
        "Django trades the code, its client secret and the PKCE verifier for the provider's ID token, and checks "
        "its signature, iss, aud, exp and nonce. No user pool anywhere.",
        (CodeRef("accounts/oidc.py", "def get_payload_data("), CodeRef("sandbox/oidc/provider.py", "def token(")),
        reply=False,
    ),
    Step(
        5, "Django", "Identity pool", "GetId",
        "Django asks the identity pool for your identity ID, once, with Logins {provider host/path: ID token}. "
        "That ID is ${cognito-identity.amazonaws.com:sub}.",
        (CodeRef("accounts/services.py", "def _sso_credentials_issue("), CodeRef("accounts/cognito.py", "def identity_id_get(")),
    ),
    *_shared(
        6,
        credentials_text="The same login again: the pool's Rules mapping reads the token's claims (hd) and picks "
        "the role. Django records it in the audit trail. The sign-in ends when the ID token does.",
        credentials_code=(),
    ),
)

LINK_STEPS: tuple[Step, ...] = (
    Step(
        1, "Browser", "Django", "POST /accounts/sign-in/link/",
        "You follow the link from your email and press the button: the signed link is the proof, used once.",
        (CodeRef("accounts/views.py", "def sign_in_link_use("), CodeRef("accounts/magic_link.py", "def link_use(")),
    ),
    Step(
        2, "Django", "Identity pool", "GetOpenIdTokenForDeveloperIdentity",
        "Django vouches for you: signed with the server's own credentials, it asks for your identity ID and an "
        "OpenID token for your developer user id. Only the server may make this call.",
        (CodeRef("accounts/services.py", "def _developer_credentials_issue("), CodeRef("accounts/cognito.py", "def developer_token_get(")),
    ),
    *_shared(
        3,
        credentials_text="Django hands that token back under Logins {cognito-identity.amazonaws.com: token}; the "
        "identity pool gives the authenticated role's one-hour credentials. Django records it in the audit trail.",
        credentials_code=(),
    ),
)


@dataclass(frozen=True)
class Flow:
    key: str  # ?flow=<key>
    title: str  # in the switch
    how: str  # "Your credentials came by <how>."
    steps: tuple[Step, ...]
    guest: bool = False  # a guest's: the users-only steps are drawn, dimmed

    @property
    def participants(self) -> tuple[str, ...]:
        used = {name for step in self.steps for name in (step.source, step.target)}
        return tuple(name for name in PARTICIPANTS if name in used)

    def skipped(self, step: Step) -> bool:
        return self.guest and step.users_only


FLOWS: dict[str, Flow] = {
    flow.key: flow
    for flow in (
        Flow("user-pool", "User pool password", "signing in with a password (the user pool)", USER_POOL_STEPS),
        Flow("sso", "Winter Corp SSO", "signing in with Winter Corp SSO (an OpenID Connect provider)", SSO_STEPS),
        Flow("link", "Emailed link", "signing in with an emailed link (a developer identity)", LINK_STEPS),
        Flow("guest", "Guest", "browsing as a guest (no sign-in)", USER_POOL_STEPS, guest=True),
    )
}
STEPS = USER_POOL_STEPS  # the password sign-in's, as the page showed before there were others


def flow_own(*, signed_in: bool, sso: bool, developer: bool) -> str:
    """The flow a session's credentials came through, from what CredentialStore holds."""
    if not signed_in:
        return "guest"
    if sso:
        return "sso"
    if developer:
        return "link"
    return "user-pool"


def flow_pick(requested: object, *, own: str) -> Flow:
    """?flow=<key> when it names a flow, else the viewer's own (anything else is ignored, not an error)."""
    return FLOWS.get(requested, FLOWS[own]) if isinstance(requested, str) else FLOWS[own]


# Geometry of the SVG, in its own units (it scales to its box).
LANE_GAP = 112
LANE_BOX = 104  # a lane's name box, narrower than the gap
LEFT = 62
TOP = 56  # where the first arrow is
ROW = 46
CHAR = 7  # a label's character at its widest (bold, when the step is current), near enough
EDGE = 6  # the least room between a label and the picture's edge


def diagram(flow: Flow | None = None) -> dict[str, object]:
    """What templates/inspector/diagram.svg draws for `flow` (the user pool's by default): lanes and arrows."""
    flow = flow or FLOWS["user-pool"]
    names = flow.participants
    # Every flow's picture is as wide as the widest one's, its lanes centred: the
    # SVG scales to its box, so a flow with fewer lanes would otherwise be drawn larger.
    most = max(len(each.participants) for each in FLOWS.values())
    width = LEFT * 2 + LANE_GAP * (most - 1)
    left = LEFT + LANE_GAP * (most - len(names)) // 2
    height = TOP + ROW * len(flow.steps) + 10

    def lane_x(participant: str) -> int:
        return left + LANE_GAP * names.index(participant)

    lanes = [{"name": name, "x": lane_x(name), "box_x": lane_x(name) - LANE_BOX // 2} for name in names]
    arrows = []
    for index, step in enumerate(flow.steps):
        x1, x2 = lane_x(step.source), lane_x(step.target)
        y = TOP + ROW * index + 18
        direction = 1 if x2 > x1 else -1
        # Centred over its arrow, unless that would push it past an edge (a long
        # label between two lanes at the side): then it starts (or ends) at the edge.
        label_x, anchor = (x1 + x2) // 2, "middle"
        half = CHAR * len(f"{step.number}. {step.label}") // 2
        if label_x - half < EDGE:
            label_x, anchor = EDGE, "start"
        elif label_x + half > width - EDGE:
            label_x, anchor = width - EDGE, "end"
        arrows.append(
            {
                "step": step,
                "x1": x1,
                "x2": x2 - direction * 6,  # the arrowhead ends on the lane
                "y": y,
                "label_x": label_x,
                "label_anchor": anchor,
                "label_y": y - 7,
                "badge_x": x1 + direction * 12,
                "reply": direction < 0 if step.reply is None else step.reply,
                "skipped": flow.skipped(step),
            }
        )
    return {
        "width": width, "height": height, "lanes": lanes, "arrows": arrows, "lane_bottom": height - 4,
        "lane_box": LANE_BOX, "flow": flow,
    }
