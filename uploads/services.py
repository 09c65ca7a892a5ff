"""Photos as plain functions: register an upload the browser made, list,
delete, and reconcile the catalog with the bucket.

No IAM condition can limit the size or type of what `PutObject` writes
(AWS_NOTES, "S3 and IAM"), so the server checks each upload after the fact:
it must sit under the uploader's own identity prefix, be at most
MAX_PHOTO_BYTES, and start like an image. Anything else is deleted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import User
from uploads import storage
from uploads.models import Photo

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # 10 MiB
TITLE_MAX = 200  # characters
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"

# Leading bytes of the image formats browsers show.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class PhotoRejected(Exception):
    """The upload cannot become a photo; the message is for the user."""


@dataclass(frozen=True)
class Reconciled:
    added: list[Photo]
    removed: list[str]  # keys whose objects were gone


def _sniff(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_prefixes(*, user: User) -> dict[str, str]:
    """Visibility -> the user's own prefix, as their IAM policy scopes it."""
    return {v: f"{v}/{user.identity_id}/" for v in Photo.Visibility.values}


def _visibility_of(user: User, key: str) -> str:
    if not user.identity_id:
        raise PhotoRejected("Your account has no storage yet. Reload the page and try again.")
    match = re.fullmatch(rf"(private|public)/{re.escape(user.identity_id)}/{_NAME}", key)
    if match is None:
        raise PhotoRejected("That upload is not in your folder.")
    return match.group(1)


def photo_register(*, user: User, key: str, title: str = "") -> Photo:
    """Verify an upload and add it to the catalog (idempotent for the owner)."""
    visibility = _visibility_of(user, key)
    existing = Photo.objects.filter(key=key).first()
    if existing is not None:
        return existing
    stat = storage.object_stat(key=key)
    if stat is None:
        raise PhotoRejected("The upload did not arrive. Please try again.")
    if stat.size > MAX_PHOTO_BYTES:
        storage.object_delete(key=key)
        log.info("deleted %s: %d bytes is over the limit", key, stat.size)
        raise PhotoRejected(f"Photos can be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    content_type = _sniff(storage.object_head_bytes(key=key, count=16)) if stat.size else None
    if content_type is None:
        storage.object_delete(key=key)
        log.info("deleted %s: not an image", key)
        raise PhotoRejected("That file is not a JPEG, PNG, GIF or WebP image.")
    try:
        with transaction.atomic():
            return Photo.objects.create(
                owner=user, key=key, visibility=visibility, title=title[:TITLE_MAX], content_type=content_type, size=stat.size
            )
    except IntegrityError:  # registered concurrently by another request
        return Photo.objects.get(key=key)


def photo_list(*, user: User) -> list[Photo]:
    return list(Photo.objects.filter(owner=user))


def photo_url(*, photo: Photo) -> str:
    return storage.object_download_url(key=photo.key)


def photo_delete(*, user: User, photo_id: str) -> bool:
    """Delete the user's own photo, object first; False if it is not theirs."""
    photo = Photo.objects.filter(owner=user, pk=photo_id).first()
    if photo is None:
        return False
    storage.object_delete(key=photo.key)
    photo.delete()
    return True


def photos_reconcile(*, user: User) -> Reconciled:
    """Make the catalog match the bucket for this user: register uploads that
    were never registered (a closed tab, a restored catalog) and forget photos
    whose objects are gone (a lifecycle rule, a console delete). One listing
    per prefix, not one request per photo."""
    catalog = {photo.key: photo for photo in Photo.objects.filter(owner=user)}
    own = set(photo_prefixes(user=user).values()) if user.identity_id else set()
    # Photos kept from an identity the user no longer has live under old prefixes.
    prefixes = own | {key.rsplit("/", 1)[0] + "/" for key in catalog}
    present = {key for prefix in sorted(prefixes) for key in storage.objects_list(prefix=prefix)}
    added: list[Photo] = []
    for key in sorted(present - catalog.keys()):
        if key.rsplit("/", 1)[0] + "/" not in own:
            continue
        try:
            added.append(photo_register(user=user, key=key))
        except PhotoRejected as exc:
            log.info("reconcile skipped %s: %s", key, exc)
    removed = sorted(catalog.keys() - present)
    Photo.objects.filter(owner=user, key__in=removed).delete()
    return Reconciled(added=added, removed=removed)
