"""Photo pages and the registration API. The upload itself goes from the
browser straight to S3 (static/js/upload.js); these views only list,
register and delete."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.aws import AwsCallError
from core.http import JsonBodyRefused, json_answer, json_error, json_object_read, json_post
from uploads.rules import IMAGE_TYPE_NAMES, IMAGE_TYPES, MAX_PHOTO_BYTES, browser_rules
from uploads.services import PhotoRejected, photo_delete, photo_register, photos_shown

UNAVAILABLE = "Photo storage is not answering right now. Please try again in a moment."
REGISTER_BODY_MAX = 4096  # bytes; a key and a title
BAD_BODY = 'Send JSON with a string "key" and an optional string "title".'
REQUIRED, OPTIONAL = {"key": str}, {"title": str}  # the register body's fields and their types


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    try:
        photos = photos_shown(user=request.user)
    except AwsCallError:  # logged by uploads.storage
        messages.error(request, UNAVAILABLE)
        photos = []
    return render(request, "uploads/gallery.html", {"photos": photos})


@login_required
@require_GET
def upload(request: HttpRequest) -> HttpResponse:
    """The form; the page data tells upload.js the user's own prefixes and the
    accepted types and size, as the server will check them."""
    context = {
        "rules": browser_rules(identity_id=request.user.identity_id or ""),
        "accept": ",".join(IMAGE_TYPES),
        "type_names": IMAGE_TYPE_NAMES,
        "max_megabytes": MAX_PHOTO_BYTES // (1024 * 1024),
    }
    return render(request, "uploads/upload.html", context)


@login_required
@require_POST
def delete(request: HttpRequest, photo_id: str) -> HttpResponse:
    try:
        deleted = photo_delete(user=request.user, photo_id=photo_id)
    except AwsCallError:  # logged by uploads.storage
        messages.error(request, UNAVAILABLE)
    else:
        messages.info(request, "Photo deleted." if deleted else "That photo is not yours, or is already gone.")
    return redirect("uploads:gallery")


@json_post(signed_in="Sign in to upload photos.")
def api_photos(request: HttpRequest) -> JsonResponse:
    """POST /api/photos {"key", "title"}: register an upload the browser made."""
    try:
        body = json_object_read(request, max_bytes=REGISTER_BODY_MAX, required=REQUIRED, optional=OPTIONAL, invalid=BAD_BODY)
        photo = photo_register(user=request.user, key=body["key"], title=body.get("title", "").strip())
    except JsonBodyRefused as exc:
        return json_error(exc.message, 400)
    except PhotoRejected as exc:
        return json_error(str(exc), 400)
    except AwsCallError:  # logged by uploads.storage
        return json_error(UNAVAILABLE, 503)
    answer = {"id": str(photo.pk), "key": photo.key, "visibility": photo.visibility, "gallery": reverse("uploads:gallery")}
    return json_answer(answer, status=201)
