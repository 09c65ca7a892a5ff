"""What the person behind a request carries: the moderator role, a team's
role. Views, the API and the nav's team entry ask here, and it is where
HTTP ends: below it, uploads.services decides from a user and their
CredentialStore only.

A role is read from the identity pool's credentials (STS says whose session
they are, once per set of credentials), so the session must hold some. When
it holds none yet, pages that need the answer issue them first, the same
ones POST /api/credentials then gives this browser (cached for most of
their hour); the answer is kept on the request, so a page and its nav entry
ask once.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

from accounts.audit import Requester
from accounts.cognito import CognitoError
from accounts.services import SessionExpired, identity_credentials_get
from accounts.store import CredentialStore
from core.aws import AwsCallError
from uploads.services import Team, teams_configured, viewer_is_moderator, viewer_teams

log = logging.getLogger(__name__)

_TEAMS = "_photoshare_viewer_teams"  # the request attribute that keeps the answer


def _store_with_credentials(request: HttpRequest, *, issue: bool) -> CredentialStore | None:
    """The session's store once it holds this user's credentials (issued
    now if `issue` and it holds none); None for a guest or when there are
    none to be had (then no role is carried)."""
    if not request.user.is_authenticated:
        return None
    store = CredentialStore(request.session)
    if not issue:
        return store  # viewer_teams reads only what is cached
    try:
        identity_credentials_get(user=request.user, store=store, requester=Requester.of(request))
    except (SessionExpired, AwsCallError, CognitoError) as exc:  # logged where raised
        log.info("no credentials for user %s, so no role: %s", request.user.pk, type(exc).__name__)
        return None
    return store


def request_is_moderator(request: HttpRequest) -> bool:
    store = _store_with_credentials(request, issue=True)
    return store is not None and viewer_is_moderator(user=request.user, store=store)


def request_teams(request: HttpRequest, *, issue: bool = True) -> list[Team]:
    """The teams whose role this user's credentials carry ([] for a guest,
    and without asking anything when the deployment has no team role).

    `issue=False` is for the nav on every page: it reads the credentials the
    session already holds and never issues any, so an ordinary page costs
    no Cognito call and writes no audit event; until the session holds
    credentials (the SSO sign-in issues them, as do the upload and team
    pages), the nav shows no team."""
    if hasattr(request, _TEAMS):
        return getattr(request, _TEAMS)
    teams: list[Team] = []
    if request.user.is_authenticated and teams_configured():
        store = _store_with_credentials(request, issue=issue)
        teams = viewer_teams(user=request.user, store=store) if store is not None else []
    if issue or teams:
        setattr(request, _TEAMS, teams)
    return teams


def request_team(request: HttpRequest, slug: str) -> Team | None:
    """The team `slug` if this user is one of its members, else None: an
    unknown team and someone else's look the same."""
    return next((team for team in request_teams(request) if team.slug == slug), None)
