"""Photo pages: My photos, a team's photos, one photo, and the upload form. Images are never
presigned here: each page gives the browser the photos as JSON (json_script)
and static/js/gallery.js signs every read with the browser's own
credentials, for the version the server checked."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from uploads.models import Photo
from uploads.rules import IMAGE_TYPE_NAMES, IMAGE_TYPES, MAX_PHOTO_SIZE, browser_rules
from uploads.serializers import photo_json
from uploads.services import (
    BadCursor,
    PhotoPage,
    photo_prefixes,
    photo_visible,
    photos_owned,
    photos_public,
    photos_team,
    teams_configured,
)
from uploads.viewer import request_is_moderator, request_team, request_teams

PAGE_SIZE = 30  # photos per gallery page
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"  # gallery.js puts a photo's id in its place


def cards(photos: list[Photo], *, viewer: Any) -> list[dict[str, Any]]:
    """Each photo as the API gives it, plus whether the viewer owns it (their
    own photos are read from the private key, others' from the public copy)."""
    return [{**photo_json(photo, viewer=viewer), "mine": photo.owner_id == viewer.pk} for photo in photos]


def page_data(request: HttpRequest, photos: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """What gallery.js and photo.js need, through json_script (the CSP allows no inline script)."""
    return {
        "photos": photos,
        "credentialsUrl": reverse("api-credentials"),
        "csrfToken": get_token(request),
        "recheckUrl": reverse("api-photo-recheck", args=[PLACEHOLDER_ID]),
        **extra,
    }


def gallery_render(request: HttpRequest, template: str, load: Any, **extra: Any) -> HttpResponse:
    """One page of a gallery, with a plain next-page link (gallery.js follows it as one scrolls)."""
    try:
        found: PhotoPage = load(cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE)
    except BadCursor:
        raise Http404("No such page.")
    photos = cards(found.photos, viewer=request.user)
    next_url = f"{request.path}?{urlencode({'cursor': found.next_cursor})}" if found.next_cursor else None
    context = {"photos": photos, "next_url": next_url, "page_data": page_data(request, photos), **extra}
    return render(request, template, context)


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    """My photos, newest first, each with its badge (private, public, taken down)."""
    return gallery_render(request, "uploads/gallery.html", lambda **page: photos_owned(user=request.user, **page))


@require_GET
def team_gallery(request: HttpRequest, team: str) -> HttpResponse:
    """A team's photos, newest first, for its members only: whoever's
    credentials do not carry the team's role gets the same 404 as for a
    team that does not exist."""
    found = request_team(request, team)
    if found is None:
        raise Http404("No such page.")
    return gallery_render(
        request, "uploads/team_gallery.html", lambda **page: photos_team(team=found.slug, **page), team=found
    )


def _neighbours(photo: Photo, shown: QuerySet[Photo]) -> tuple[Photo | None, Photo | None]:
    """The newer and the older photo beside this one, in the gallery it was opened from."""
    newer = Q(created_at__gt=photo.created_at) | Q(created_at=photo.created_at, id__gt=photo.id)
    older = Q(created_at__lt=photo.created_at) | Q(created_at=photo.created_at, id__lt=photo.id)
    before = shown.filter(newer).order_by("created_at", "id").only("id").first()
    after = shown.filter(older).order_by("-created_at", "-id").only("id").first()
    return before, after


@require_GET
def photo(request: HttpRequest, photo_id: str) -> HttpResponse:
    """One photo, for its owner, for its team's members, or (public and not
    taken down) for anyone; otherwise 404, never 403, so as not to reveal
    that it exists."""
    found = photo_visible(user=request.user, photo_id=photo_id)
    if found is None and request.user.is_authenticated:  # the team's, then? Only now is the role worth asking.
        found = photo_visible(user=request.user, photo_id=photo_id, teams=[team.slug for team in request_teams(request)])
    if found is None:
        raise Http404("No such photo.")
    mine = found.owner_id == request.user.pk
    team = found.team if found.visibility == Photo.Visibility.TEAM else ""
    if team:
        shown = Photo.objects.filter(team=team, visibility=Photo.Visibility.TEAM)
    elif mine:
        shown = Photo.objects.filter(owner=found.owner).exclude(visibility=Photo.Visibility.TEAM)
    else:
        shown = Photo.objects.filter(visibility="public", taken_down_at=None)
    newer, older = _neighbours(found, shown)
    [data] = cards([found], viewer=request.user)
    urls = {
        "photo": reverse("api-photo", args=[found.pk]),
        "publish": reverse("api-photo-publish", args=[found.pk]),
        "unpublish": reverse("api-photo-unpublish", args=[found.pk]),
        "takeDown": reverse("api-photo-take-down", args=[found.pk]),
        "afterDelete": reverse("teams:gallery", args=[team]) if team else reverse("uploads:gallery"),
        "afterTakeDown": reverse("home"),
    }
    prefixes = photo_prefixes(user=request.user) if mine else {}
    context = {
        "photo": data,
        "created": found.created_at,
        "taken_down_at": found.taken_down_at,
        "moderator": found.visibility == "public" and request_is_moderator(request),
        "team": team,
        "team_domain": teams_configured()[team].domain if team else "",
        "prev_url": reverse("uploads:photo", args=[newer.pk]) if newer else None,
        "next_url": reverse("uploads:photo", args=[older.pk]) if older else None,
        "back_url": reverse("teams:gallery", args=[team]) if team else reverse("uploads:gallery") if mine else reverse("home"),
        "back_label": "Team photos" if team else "My photos" if mine else "Public photos",
        "page_data": page_data(request, [data], urls=urls, prefixes=prefixes),
    }
    return render(request, "uploads/photo.html", context)


@login_required
@require_GET
def upload(request: HttpRequest) -> HttpResponse:
    """The upload page; the page data tells upload.js the user's own prefixes
    (and their folder of each team whose role they carry, offered as a
    destination; `?to=<team>` chooses it), the accepted types and size, and
    when to go multipart, as the server will check them."""
    teams = request_teams(request)
    chosen = request.GET.get("to", "")
    context = {
        "rules": browser_rules(identity_id=request.user.identity_id or "", teams=tuple(team.slug for team in teams)),
        "teams": [{"team": team, "gallery_url": reverse("teams:gallery", args=[team.slug])} for team in teams],
        "chosen_team": chosen if any(team.slug == chosen for team in teams) else "",
        "accept": ",".join(IMAGE_TYPES),
        "type_names": IMAGE_TYPE_NAMES,
        "max_size": MAX_PHOTO_SIZE,
        "register_url": reverse("api-photos"),
        "gallery_url": reverse("uploads:gallery"),
    }
    return render(request, "uploads/upload.html", context)

