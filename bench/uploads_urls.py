"""The routes of `bench/uploads_server.py`'s Django server: the app's own,
plus the baseline upload view and a CPU clock (see that module)."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET, require_POST

from core.aws import aws_client
from uploads.images import HEADER_BYTES, image_dimensions
from uploads.models import Photo
from uploads.rules import MAX_PHOTO_BYTES, image_type_sniff, key_prefixes


@require_POST
def stream_to_s3(request: HttpRequest) -> JsonResponse:
    """The baseline: the bytes pass through Django on their way to S3. The
    server holds them, so it checks them itself and asks S3 nothing back:
    the row is written from what it read (the app's registration, by
    contrast, must ask S3 what the browser stored)."""
    upload = request.FILES.get("photo")
    if not request.user.is_authenticated or upload is None or upload.size > MAX_PHOTO_BYTES:
        return JsonResponse({"error": "Sign in and send one photo named photo, within the size limit."}, status=400)
    head = upload.read(HEADER_BYTES)
    content_type = image_type_sniff(head)
    if content_type is None:
        return JsonResponse({"error": "That is not a photo."}, status=400)
    upload.seek(0)
    key = f"{key_prefixes(identity_id=request.user.identity_id)['private']}{uuid.uuid4()}.png"
    stored = aws_client("s3").put_object(Bucket=settings.PHOTOSHARE_BUCKET, Key=key, Body=upload, ContentType=content_type)
    width, height = image_dimensions(head, content_type) or (None, None)
    photo = Photo.objects.create(
        owner=request.user, key=key, version_id=stored["VersionId"], visibility=Photo.Visibility.PRIVATE,
        title=upload.name, content_type=content_type, size=upload.size, width=width, height=height,
    )
    return JsonResponse({"id": str(photo.pk)}, status=201)


@require_GET
def cpu(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"cpu": time.process_time()})


urlpatterns = [
    path("bench/stream/", stream_to_s3),
    path("bench/cpu/", cpu),
    path("", include("photoshare.urls")),
]
