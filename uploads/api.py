"""The photo JSON API under /api/ (routes in uploads/api_urls.py).

Each view reads and checks the request, calls one service and answers JSON;
every refusal is {"error": "<fixed human message>"} (core.http). A photo
that is not the caller's, not public and not of a team whose role the
caller's credentials carry answers 404 whatever was asked of it, so nobody
learns that someone else's private or team photo exists; so does a team's
listing to anyone but its members.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from accounts.audit import Requester
from accounts.store import CredentialStore
from core.aws import AwsCallError
from core.http import JsonBodyRefused, json_answer, json_error, json_object_read
from uploads.serializers import photo_json
from uploads.services import (
    PAGE_MAX,
    BadCursor,
    PhotoConflict,
    PhotoPage,
    PhotoRejected,
    photo_delete,
    photo_publish,
    photo_recheck,
    photo_register,
    photo_rename,
    photo_take_down,
    photo_unpublish,
    photo_visible,
    photos_owned,
    photos_public,
    photos_team,
    viewer_is_moderator,
)
from uploads.models import Photo
from uploads.rules import TEAMS
from uploads.viewer import request_team, request_teams

PAGE_DEFAULT = 30  # photos per page
BODY_MAX = 4096  # bytes; keys and a title or a reason
UNAVAILABLE = "Photo storage is not answering right now. Please try again in a moment."
NOT_FOUND = "No such photo."
NO_TEAM = "No such team."
SIGN_IN = "Sign in first."
NOT_A_MODERATOR = "Only moderators can take photos down."
BAD_REGISTER = 'Send JSON with a string "key", and optionally a string "thumbKey" and a string "title".'
BAD_RENAME = 'Send JSON with a string "title".'
BAD_PUBLISH = 'Send JSON with a string "publicKey" and optionally a string "publicThumbKey".'
BAD_TAKE_DOWN = 'Send JSON with a non-empty string "reason".'
BAD_LIMIT = f"limit must be a whole number from 1 to {PAGE_MAX}."
BAD_CURSOR = "That cursor is not one this server gave out. Start from the first page."

View = Callable[..., HttpResponse]


def _api(*methods: str, signed_in: bool = False) -> Callable[[View], View]:
    """Only `methods` (405 with Allow otherwise); a guest gets 401 when
    `signed_in`; storage failures become 503. All as JSON."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return json_error(f"Use {' or '.join(methods)}.", 405, allow=", ".join(methods))
            if signed_in and not request.user.is_authenticated:
                return json_error(SIGN_IN, 401)
            try:
                return view(request, *args, **kwargs)
            except JsonBodyRefused as exc:
                return json_error(exc.message, 400)
            except PhotoRejected as exc:
                return json_error(str(exc), 400)
            except PhotoConflict as exc:
                return json_error(str(exc), 409)
            except AwsCallError:  # logged by uploads.storage
                return json_error(UNAVAILABLE, 503)

        return wrapper

    return decorate


def _team_slugs(request: HttpRequest) -> list[str]:
    return [team.slug for team in request_teams(request)]


def _page_answer(request: HttpRequest, load: Callable[..., PhotoPage], route: str, args: tuple[str, ...] = ()) -> JsonResponse:
    raw_limit = request.GET.get("limit", str(PAGE_DEFAULT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= PAGE_MAX:
        return json_error(BAD_LIMIT, 400)
    limit = int(raw_limit)
    try:
        page = load(cursor=request.GET.get("cursor") or None, limit=limit)
    except BadCursor:
        return json_error(BAD_CURSOR, 400)
    # A relative URL: the host the client used is the right one, behind any proxy.
    following = f"{reverse(route, args=args)}?{urlencode({'cursor': page.next_cursor, 'limit': limit})}" if page.next_cursor else None
    return json_answer({"photos": [photo_json(p, viewer=request.user) for p in page.photos], "next": following})


@_api("GET", "POST", signed_in=True)
def photos(request: HttpRequest) -> HttpResponse:
    """GET: the caller's own photos, newest first. POST {"key", "thumbKey"?,
    "title"?}: register an upload the browser made (201; 200 if it was already)."""
    if request.method == "GET":
        return _page_answer(request, functools.partial(photos_owned, user=request.user), "api-photos")
    body = json_object_read(
        request, max_bytes=BODY_MAX, required={"key": str}, optional={"thumbKey": str, "title": str}, invalid=BAD_REGISTER
    )
    known = Photo.objects.filter(key=body["key"], owner=request.user).exists()
    # Only a team key needs the caller's role, and with it a look at their credentials.
    teams = _team_slugs(request) if body["key"].startswith(f"{TEAMS}/") else []
    photo = photo_register(
        user=request.user, key=body["key"], thumb_key=body.get("thumbKey"), title=body.get("title", "").strip(), teams=teams
    )
    return json_answer(photo_json(photo, viewer=request.user), status=200 if known else 201)


@_api("GET")
def photos_published(request: HttpRequest) -> HttpResponse:
    """Everyone's published photos, for anyone, guests included."""
    return _page_answer(request, photos_public, "api-photos-public")


@_api("GET")
def team_photos(request: HttpRequest, team: str) -> HttpResponse:
    """A team's photos, newest first, for its members only (404 for anyone
    else, guests included, as for a team that does not exist)."""
    found = request_team(request, team)
    if found is None:
        return json_error(NO_TEAM, 404)
    return _page_answer(request, functools.partial(photos_team, team=found.slug), "api-team-photos", args=(found.slug,))


@_api("GET", "PATCH", "DELETE")
def photo(request: HttpRequest, photo_id: str) -> HttpResponse:
    """GET: the photo if it is the caller's or public. PATCH {"title"} and
    DELETE: the owner only (404 for anyone else, 401 for a guest)."""
    if request.method == "GET":
        found = photo_visible(user=request.user, photo_id=photo_id)
        if found is None and request.user.is_authenticated:
            found = photo_visible(user=request.user, photo_id=photo_id, teams=_team_slugs(request))
        return json_answer(photo_json(found, viewer=request.user)) if found else json_error(NOT_FOUND, 404)
    if not request.user.is_authenticated:
        return json_error(SIGN_IN, 401)
    if request.method == "DELETE":
        return HttpResponse(status=204) if photo_delete(user=request.user, photo_id=photo_id) else json_error(NOT_FOUND, 404)
    body = json_object_read(request, max_bytes=BODY_MAX, required={"title": str}, invalid=BAD_RENAME)
    renamed = photo_rename(user=request.user, photo_id=photo_id, title=body["title"])
    return json_answer(photo_json(renamed, viewer=request.user)) if renamed else json_error(NOT_FOUND, 404)


@_api("POST", signed_in=True)
def publish(request: HttpRequest, photo_id: str) -> HttpResponse:
    """{"publicKey", "publicThumbKey"?}: the copies the owner's browser made."""
    body = json_object_read(
        request, max_bytes=BODY_MAX, required={"publicKey": str}, optional={"publicThumbKey": str}, invalid=BAD_PUBLISH
    )
    done = photo_publish(
        user=request.user, photo_id=photo_id, public_key=body["publicKey"], public_thumb_key=body.get("publicThumbKey")
    )
    return json_answer(photo_json(done, viewer=request.user)) if done else json_error(NOT_FOUND, 404)


@_api("POST", signed_in=True)
def unpublish(request: HttpRequest, photo_id: str) -> HttpResponse:
    done = photo_unpublish(user=request.user, photo_id=photo_id)
    return json_answer(photo_json(done, viewer=request.user)) if done else json_error(NOT_FOUND, 404)


@_api("POST", signed_in=True)
def take_down(request: HttpRequest, photo_id: str) -> HttpResponse:
    """{"reason"}: moderators only, as STS says of their current credentials."""
    if not viewer_is_moderator(user=request.user, store=CredentialStore(request.session)):
        return json_error(NOT_A_MODERATOR, 403)
    body = json_object_read(request, max_bytes=BODY_MAX, required={"reason": str}, invalid=BAD_TAKE_DOWN)
    if not body["reason"].strip():
        return json_error(BAD_TAKE_DOWN, 400)
    done = photo_take_down(moderator=request.user, photo_id=photo_id, reason=body["reason"], requester=Requester.of(request))
    return json_answer(photo_json(done, viewer=request.user)) if done else json_error(NOT_FOUND, 404)


@_api("POST")
def recheck(request: HttpRequest, photo_id: str) -> HttpResponse:
    """A browser-signed image of the photo failed to load: 200 with the photo
    as it is now, or 404 when it is gone (or was never visible to the caller)."""
    teams = _team_slugs(request) if request.user.is_authenticated else []
    found = photo_recheck(user=request.user, photo_id=photo_id, teams=teams)
    return json_answer(photo_json(found, viewer=request.user)) if found else json_error(NOT_FOUND, 404)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other /api/ path, as JSON, in development as in production."""
    return json_error("There is no such API route.", 404)
