"""Photos as plain functions: register an upload the browser made, list,
delete, and reconcile the catalog with the bucket.

No IAM condition can limit the size or type of what `PutObject` writes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
has none for either), so the server checks each upload after the fact
against `uploads.rules`: it must sit under the uploader's own identity
prefix, be at most MAX_PHOTO_BYTES, start like an image, and have been
stored with that image's own Content-Type. Anything else is deleted, every
version of it.

What viewers get is what was checked. The owner can write their key again
whenever they like (their policy allows PutObject there, and no IAM condition
can say "only once"), so a check of the key alone would not hold. Instead:
- the bucket keeps versions, and a photo is pinned to the VersionId that was
  checked (`Photo.version_id`); an overwrite makes a new version nobody is
  shown, and the lifecycle rule expires the pinned one a day after it stopped
  being current. So an owner can remove their photo (delete or overwrite it)
  but never change it; the catalog then forgets it;
- a viewing URL names that version and forces `response-content-type` to the
  type sniffed at registration (and `inline`), so nothing registered is ever
  served as anything but image/*, whatever Content-Type is stored;
- deleting a photo deletes every version of its key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import User
from core.aws import AwsCallError
from uploads import storage
from uploads.models import Photo
from uploads.rules import (
    MAX_PHOTO_BYTES,
    NO_STORAGE_YET,
    NOT_AN_IMAGE,
    SNIFF_BYTES,
    TOO_LARGE,
    image_type_sniff,
    key_parse,
    key_prefixes,
)

log = logging.getLogger(__name__)

TITLE_MAX = 200  # characters
NOT_YOURS = "That upload is not in your folder."
WRONG_TYPE = "That image was uploaded with a type other than its own. Please upload it again."


class PhotoRejected(Exception):
    """The upload cannot become a photo; the message is for the user."""


@dataclass(frozen=True)
class Reconciled:
    added: list[Photo]
    removed: list[str]  # keys whose objects were gone


def photo_prefixes(*, user: User) -> dict[str, str]:
    """Visibility -> the user's own prefix, as their IAM policy scopes it."""
    return key_prefixes(identity_id=user.identity_id) if user.identity_id else {}


def _visibility_of(user: User, key: str) -> str:
    """The visibility of a photo key under the user's own prefixes. Thumbnails
    have a well-formed key too, but are not photos one registers."""
    if not user.identity_id:
        raise PhotoRejected(NO_STORAGE_YET)
    parsed = key_parse(key)
    if parsed is None or parsed.identity_id != user.identity_id or parsed.thumbnail:
        raise PhotoRejected(NOT_YOURS)
    return parsed.visibility


def _refuse(key: str, reason: str, message: str) -> PhotoRejected:
    """Delete the upload (every version: none of it was ever a photo) and say why."""
    storage.object_delete(key=key)
    log.info("deleted %s: %s", key, reason)
    return PhotoRejected(message)


def photo_register(*, user: User, key: str, title: str = "") -> Photo:
    """Verify an upload and add it to the catalog, pinned to the version that
    was checked (idempotent for the owner: registering again, even after an
    overwrite, returns the photo as first checked)."""
    visibility = _visibility_of(user, key)
    existing = Photo.objects.filter(key=key).first()
    if existing is not None:
        return existing
    stat = storage.object_stat(key=key)
    if stat is None:
        raise PhotoRejected("The upload did not arrive. Please try again.")
    if stat.version_id is None:
        # Without versions nothing can be pinned: the owner's next PUT would be served as checked.
        log.error("cannot register %s: bucket versioning is off (run `manage.py provision`)", key)
        raise AwsCallError("BucketVersioningOff", "run manage.py provision", operation="photo_register")
    if stat.size > MAX_PHOTO_BYTES:
        raise _refuse(key, f"{stat.size} bytes is over the limit", TOO_LARGE)
    # The bytes of the version the stat saw, not of whatever is current by now.
    head = storage.object_head_bytes(key=key, count=SNIFF_BYTES, version_id=stat.version_id) if stat.size else b""
    content_type = image_type_sniff(head)
    if content_type is None:
        raise _refuse(key, "not an image", NOT_AN_IMAGE)
    if stat.content_type != content_type:
        # S3 would serve the stored type to anyone fetching the object without
        # our URL's response-content-type: a GIF89a<html> polyglot stored as text/html.
        raise _refuse(key, f"stored as {stat.content_type!r} but starts like {content_type}", WRONG_TYPE)
    try:
        with transaction.atomic():
            return Photo.objects.create(
                owner=user,
                key=key,
                version_id=stat.version_id,
                visibility=visibility,
                title=title[:TITLE_MAX],
                content_type=content_type,
                size=stat.size,
            )
    except IntegrityError:  # registered concurrently by another request
        return Photo.objects.get(key=key)


def photo_list(*, user: User) -> list[Photo]:
    return list(Photo.objects.filter(owner=user))


def photo_url(*, photo: Photo) -> str:
    """The pinned version, served as the sniffed type. Photos registered before
    versioning have no version ID; their URL still forces the type."""
    return storage.object_download_url(key=photo.key, version_id=photo.version_id or None, content_type=photo.content_type)


def photos_shown(*, user: User) -> list[tuple[Photo, str]]:
    """The gallery: the catalog made to match the bucket first, then each
    photo with its download URL."""
    photos_reconcile(user=user)
    return [(photo, photo_url(photo=photo)) for photo in photo_list(user=user)]


def photo_delete(*, user: User, photo_id: str) -> bool:
    """Delete the user's own photo, every version of its object first; False
    if it is not theirs."""
    photo = Photo.objects.filter(owner=user, pk=photo_id).first()
    if photo is None:
        return False
    storage.object_delete(key=photo.key)
    photo.delete()
    return True


def _still_shown(photo: Photo, listed: storage.Listed | None) -> bool:
    """The key is not deleted, and the version checked is still stored (the
    lifecycle rule expires it a day after an overwrite)."""
    if listed is None or listed.current is None:
        return False
    return not photo.version_id or photo.version_id in listed.versions


def photos_reconcile(*, user: User) -> Reconciled:
    """Make the catalog match the bucket for this user: register uploads that
    were never registered (a closed tab, a restored catalog) and forget photos
    whose objects are gone (deleted by the owner, a console, or their checked
    version expired by the lifecycle rule after an overwrite). One listing per
    prefix, not one request per photo."""
    catalog = {photo.key: photo for photo in Photo.objects.filter(owner=user)}
    own = set(photo_prefixes(user=user).values())
    # Photos kept from an identity the user no longer has live under old prefixes.
    prefixes = own | {key.rsplit("/", 1)[0] + "/" for key in catalog}
    listed = {key: item for prefix in sorted(prefixes) for key, item in storage.objects_list(prefix=prefix).items()}
    present = {key for key, item in listed.items() if item.current is not None}
    added: list[Photo] = []
    for key in sorted(present - catalog.keys()):
        if key.rsplit("/", 1)[0] + "/" not in own:
            continue
        try:
            added.append(photo_register(user=user, key=key))
        except PhotoRejected as exc:
            log.info("reconcile skipped %s: %s", key, exc)
    removed = sorted(key for key, photo in catalog.items() if not _still_shown(photo, listed.get(key)))
    Photo.objects.filter(owner=user, key__in=removed).delete()
    return Reconciled(added=added, removed=removed)
