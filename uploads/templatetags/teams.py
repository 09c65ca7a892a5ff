"""`{% team_nav %}`: the header's "Team photos" entry, for members only.

Whoever's credentials do not carry a team's role sees no entry at all, so
the nav tells nobody that a team exists. It reads the credentials the
session already holds (uploads.viewer says why it issues none)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from uploads.viewer import request_teams

register = template.Library()


@register.inclusion_tag("uploads/team_nav.html", takes_context=True)
def team_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    teams = request_teams(request, issue=False) if request is not None else []
    links = [{"team": team, "url": reverse("teams:gallery", args=[team.slug])} for team in teams]
    return {"links": links, "path": request.path if request is not None else ""}
