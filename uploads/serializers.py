"""A photo as the JSON API and the pages' json_script give it to browsers.

The browser signs its own GET URLs (static/js/), so it needs each key with
the version the server checked: it must name that version, never the key
alone, or the owner's later overwrite would be what viewers see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from uploads.models import Photo


def display_name(user: Any) -> str:
    """What others see of a user: their name, else the part of their email
    before the @ (never the whole address, which guests would read)."""
    return user.get_full_name() or (user.email or "").split("@", 1)[0] or "someone"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def photo_json(photo: Photo, *, viewer: Any) -> dict[str, Any]:
    """The photo for `viewer` (a user, or AnonymousUser). Only its owner learns
    of a take-down and its reason."""
    is_owner = getattr(viewer, "pk", None) is not None and viewer.pk == photo.owner_id
    taken_down = None
    if is_owner and photo.taken_down_at is not None:
        taken_down = {"reason": photo.taken_down_reason, "at": _iso(photo.taken_down_at)}
    return {
        "id": str(photo.pk),
        "key": photo.key,
        "thumbKey": photo.thumb_key or None,
        "title": photo.title,
        "visibility": photo.visibility,
        "team": photo.team or None,
        "contentType": photo.content_type,
        "size": photo.size,
        "width": photo.width,
        "height": photo.height,
        "created": _iso(photo.created_at),
        "owner": {"displayName": display_name(photo.owner)},
        "publicKey": photo.public_key or None,
        "publicThumbKey": photo.public_thumb_key or None,
        "versionId": photo.version_id or None,
        "thumbVersionId": photo.thumb_version_id or None,
        "publicVersionId": photo.public_version_id or None,
        "publicThumbVersionId": photo.public_thumb_version_id or None,
        "takenDown": taken_down,
    }
