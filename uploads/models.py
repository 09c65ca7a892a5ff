"""The catalog: which uploaded objects are photos, and whose."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Photo(models.Model):
    """A verified upload. The bytes live in S3 under the owner's identity
    prefix (`private/<identity id>/` or `public/<identity id>/`, or their
    folder in a team's `teams/<team>/`); this row is what the app knows
    about them."""

    class Visibility(models.TextChoices):
        PRIVATE = "private"
        PUBLIC = "public"
        TEAM = "team"  # seen by the team's members only, never published

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    key = models.CharField(max_length=1024, unique=True)
    # The S3 version that was checked; viewers are shown this one only, so the
    # owner writing the key again changes nothing they see (uploads.services).
    # Empty for photos registered before the bucket kept versions.
    version_id = models.CharField(max_length=1024, blank=True)
    visibility = models.CharField(max_length=7, choices=Visibility.choices)
    # The team's slug (`teams/<team>/`) for a team photo, blank otherwise.
    team = models.CharField(max_length=63, blank=True)
    title = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField(help_text="bytes")
    created_at = models.DateTimeField(auto_now_add=True)
    # The thumbnail the browser made (`<prefix>thumbs/<uuid>.jpg`), pinned like the original.
    thumb_key = models.CharField(max_length=1024, blank=True)
    thumb_version_id = models.CharField(max_length=1024, blank=True)
    # Display size in pixels (EXIF orientation applied), from the header; null when unreadable.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # The copies under `public/<identity id>/` that guests read, pinned; blank when not public.
    public_key = models.CharField(max_length=1024, blank=True)
    public_version_id = models.CharField(max_length=1024, blank=True)
    public_thumb_key = models.CharField(max_length=1024, blank=True)
    public_thumb_version_id = models.CharField(max_length=1024, blank=True)
    # A moderator's take-down: the photo is private again, and its owner is told why.
    taken_down_at = models.DateTimeField(null=True, blank=True)
    taken_down_reason = models.CharField(max_length=500, blank=True)
    taken_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Keyset pagination of the galleries, newest first (uploads.services).
            models.Index(fields=["visibility", "-created_at", "-id"], name="photo_public_page"),
            models.Index(fields=["owner", "-created_at", "-id"], name="photo_owner_page"),
            models.Index(fields=["team", "-created_at", "-id"], name="photo_team_page"),
        ]

    def __str__(self) -> str:
        return self.title or self.key.rsplit("/", 1)[-1]
