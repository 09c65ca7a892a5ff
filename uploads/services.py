"""Photos as plain functions: register an upload the browser made, list the
catalog a page at a time, rename, publish, unpublish, take down, recheck and
delete. (The catalog is reconciled with the bucket off the request path, by
uploads/reconcile.py.)

No IAM condition can limit the size or type of what `PutObject` writes
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
has none for either), so the server checks each upload after the fact
against `uploads.rules`: it must sit under the uploader's own identity
prefix (or their folder in a team's prefix, when their credentials carry
that team's role), be at most MAX_PHOTO_BYTES, start like an image, and have been
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
- the browser's signed reads name that version and force
  `response-content-type` to the type sniffed at registration (photo_json
  gives both), so nothing registered is ever served as anything but image/*,
  whatever Content-Type is stored; the server presigns no viewing URL;
- deleting a photo deletes every version of its key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.aws import AwsCallError
from core.db import row_insert
from uploads import storage
from uploads.images import HEADER_BYTES, image_dimensions
from uploads.models import Photo
from uploads.rules import (
    MAX_PHOTO_BYTES,
    MAX_THUMB_BYTES,
    NO_STORAGE_YET,
    NOT_AN_IMAGE,
    SNIFF_BYTES,
    TEAMS,
    THUMB_TYPE,
    TOO_LARGE,
    image_type_sniff,
    key_parse,
    key_prefixes,
    public_key_for,
    thumb_key_for,
)

log = logging.getLogger(__name__)

TITLE_MAX = 200  # characters
NOT_YOURS = "That upload is not in your folder."
NOT_YOUR_TEAM = "That upload is not in a team folder of yours."
TEAM_UNPUBLISHED = "Team photos stay with the team: they cannot be published. Upload it to your own photos to publish it."
WRONG_TYPE = "That image was uploaded with a type other than its own. Please upload it again."
NOT_ARRIVED = "The upload did not arrive. Please try again."


REASON_MAX = 500  # characters of a take-down reason
PAGE_MAX = 100  # photos per page at most
BAD_THUMB = "That thumbnail is not this photo's: it must be a JPEG at most {mb} MB in the same folder, named like the photo."
THUMB_MISSING = "The thumbnail did not arrive. Please try again."
NOT_YOUR_PUBLIC = "That copy is not in your public folder."
COPY_MISSING = "The public copy did not arrive. Please try again."
COPY_DIFFERS = "The public copy is not the same as your photo, so it was deleted. Please try again."
TAKEN_DOWN = "A moderator took this photo down, so it cannot be published again."
PUBLIC_ORIGINAL = "This photo was uploaded to your public folder; to make it private, delete it and upload it again."


class PhotoRejected(Exception):
    """The upload cannot become a photo; the message is for the user."""


class PhotoConflict(Exception):
    """The photo is in a state that forbids the change; the message is for the user."""


class BadCursor(ValueError):
    """A pagination cursor this server did not make."""


@dataclass(frozen=True)
class PhotoPage:
    photos: list[Photo]
    next_cursor: str | None  # None on the last page


def photo_prefixes(*, user: User) -> dict[str, str]:
    """Visibility -> the user's own prefix, as their IAM policy scopes it."""
    return key_prefixes(identity_id=user.identity_id) if user.identity_id else {}


def _visibility_of(user: User, key: str, teams: Collection[str]) -> tuple[str, str]:
    """(visibility, team) of a photo key under the user's own prefixes, or
    their folder of a team in `teams` (the teams whose role their
    credentials carry). Thumbnails have a well-formed key too, but are not
    photos one registers. Either refusal leaves the object alone: it may be
    someone else's."""
    if not user.identity_id:
        raise PhotoRejected(NO_STORAGE_YET)
    parsed = key_parse(key)
    refusal = NOT_YOUR_TEAM if key.startswith(f"{TEAMS}/") else NOT_YOURS
    # One message for every team refusal: whether a team exists is its members' business.
    if parsed is None or parsed.identity_id != user.identity_id or parsed.thumbnail:
        raise PhotoRejected(refusal)
    if parsed.team and parsed.team not in teams:
        raise PhotoRejected(refusal)
    return parsed.visibility, parsed.team


def _refuse(key: str, reason: str, message: str) -> PhotoRejected:
    """Delete the upload (every version: none of it was ever a photo) and say why."""
    storage.object_delete(key=key)
    log.info("deleted %s: %s", key, reason)
    return PhotoRejected(message)


def _checked(
    key: str,
    *,
    max_bytes: int,
    missing: str,
    too_large: str,
    not_image: str = NOT_AN_IMAGE,
    wrong_type: str = WRONG_TYPE,
    expected_type: str | None = None,
) -> tuple[storage.StoredObject, str, bytes]:
    """Read one upload's first bytes and what S3 stored it as, in one call,
    and check them: (stat, type, head). Anything that is not an image of the
    right type and size is deleted, and refused with the message given."""
    found = storage.object_first_bytes(key=key, count=max(SNIFF_BYTES, HEADER_BYTES))  # never the whole object
    if found is None:
        raise PhotoRejected(missing)
    stat, head = found
    if stat.version_id is None:
        # Without versions nothing can be pinned: the owner's next PUT would be served as checked.
        log.error("cannot register %s: bucket versioning is off (run `manage.py provision`)", key)
        raise AwsCallError("BucketVersioningOff", "run manage.py provision", operation="photo_register")
    if stat.size > max_bytes:
        raise _refuse(key, f"{stat.size} bytes is over the limit", too_large)
    content_type = image_type_sniff(head)
    if content_type is None or (expected_type and content_type != expected_type):
        raise _refuse(key, "not an image of the expected type", not_image)
    if stat.content_type != content_type:
        # S3 would serve the stored type to anyone fetching the object without
        # the URL's response-content-type: a GIF89a<html> polyglot stored as text/html.
        raise _refuse(key, f"stored as {stat.content_type!r} but starts like {content_type}", wrong_type)
    return stat, content_type, head


def photo_register(
    *, user: User, key: str, title: str = "", thumb_key: str | None = None, teams: Collection[str] = ()
) -> Photo:
    """Verify an upload (and its thumbnail) and add it to the catalog, pinned
    to the versions that were checked. Idempotent for the owner: registering
    again, even after an overwrite, returns the photo as first checked. A
    photo uploaded to the public prefix is public from the start: its public
    copy is itself. A key in a team's prefix is accepted only for a team in
    `teams`, which the caller reads from the role of the user's issued
    credentials (`viewer_teams`), never from anything the request says."""
    visibility, team = _visibility_of(user, key, teams)
    existing = Photo.objects.filter(key=key).first()
    if existing is not None:
        return existing
    bad_thumb = BAD_THUMB.format(mb=MAX_THUMB_BYTES // (1024 * 1024))
    if thumb_key is not None and thumb_key != thumb_key_for(key):
        raise PhotoRejected(bad_thumb)  # not where this photo's thumbnail goes: left alone
    stat, content_type, head = _checked(key, max_bytes=MAX_PHOTO_BYTES, missing=NOT_ARRIVED, too_large=TOO_LARGE)
    thumb = None
    if thumb_key is not None:
        thumb, _, _ = _checked(
            thumb_key,
            max_bytes=MAX_THUMB_BYTES,
            missing=THUMB_MISSING,
            too_large=bad_thumb,
            not_image=bad_thumb,
            wrong_type=bad_thumb,
            expected_type=THUMB_TYPE,
        )
    dimensions = image_dimensions(head, content_type)
    public = visibility == Photo.Visibility.PUBLIC
    # Every S3 call is done by now: the catalog row is written last, alone.
    photo = Photo(
        owner=user,
        key=key,
        version_id=stat.version_id,
        visibility=visibility,
        team=team,
        title=title[:TITLE_MAX],
        content_type=content_type,
        size=stat.size,
        width=dimensions[0] if dimensions else None,
        height=dimensions[1] if dimensions else None,
        thumb_key=thumb.key if thumb else "",
        thumb_version_id=thumb.version_id if thumb else "",
        public_key=key if public else "",
        public_version_id=stat.version_id if public else "",
        public_thumb_key=thumb.key if thumb and public else "",
        public_thumb_version_id=thumb.version_id if thumb and public else "",
    )
    try:
        row_insert(photo)  # no transaction around it: core.db says why
    except IntegrityError:  # registered concurrently by another request
        return Photo.objects.get(key=key)
    return photo


# --- reading the catalog --------------------------------------------------------------------


def _cursor_make(photo: Photo) -> str:
    raw = f"{photo.created_at.isoformat()}|{photo.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_read(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, photo_id = raw.split("|")
        created = dt.datetime.fromisoformat(moment)
        if created.tzinfo is None:
            raise ValueError("naive time")
        return created, uuid.UUID(photo_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(cursor[:40]) from None


def _page(photos: Any, *, cursor: str | None, limit: int) -> PhotoPage:
    """Newest first, keyset-paginated on (created_at, id): one query per page,
    however many rows come before it (OFFSET would scan them all)."""
    if not 1 <= limit <= PAGE_MAX:
        raise ValueError(f"limit {limit} outside 1..{PAGE_MAX}")
    if cursor:
        created, photo_id = _cursor_read(cursor)
        photos = photos.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=photo_id))
    found = list(photos.select_related("owner").order_by("-created_at", "-id")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return PhotoPage(photos=found, next_cursor=_cursor_make(found[-1]) if more else None)


def photos_public(*, cursor: str | None, limit: int) -> PhotoPage:
    """Everyone's published photos that no moderator took down."""
    return _page(Photo.objects.filter(visibility=Photo.Visibility.PUBLIC, taken_down_at__isnull=True), cursor=cursor, limit=limit)


def photos_owned(*, user: User, cursor: str | None, limit: int) -> PhotoPage:
    """The user's photos in their own folders; what they gave a team is on the team's page."""
    return _page(Photo.objects.filter(owner=user).exclude(visibility=Photo.Visibility.TEAM), cursor=cursor, limit=limit)


def photos_team(*, team: str, cursor: str | None, limit: int) -> PhotoPage:
    """Every member's photos of `team`. The caller checks that the viewer is one."""
    return _page(Photo.objects.filter(team=team, visibility=Photo.Visibility.TEAM), cursor=cursor, limit=limit)


def _photo_id(photo_id: Any) -> uuid.UUID | None:
    try:
        return photo_id if isinstance(photo_id, uuid.UUID) else uuid.UUID(str(photo_id))
    except ValueError:
        return None


def photo_visible(*, user: Any, photo_id: Any, teams: Collection[str] = ()) -> Photo | None:
    """The photo if `user` (maybe anonymous) owns it, it is public and not
    taken down, or it is a photo of a team in `teams` (those whose role the
    user's credentials carry); None otherwise, so callers answer 404 and
    never reveal that someone else's private or team photo exists."""
    pk = _photo_id(photo_id)
    if pk is None:
        return None
    shown = Q(visibility=Photo.Visibility.PUBLIC, taken_down_at__isnull=True)
    if getattr(user, "is_authenticated", False):
        # A team photo is the team's to see, its uploader included: whoever
        # no longer carries the role could not read its objects anyway.
        shown |= Q(owner=user) & ~Q(visibility=Photo.Visibility.TEAM)
        if teams:
            shown |= Q(visibility=Photo.Visibility.TEAM, team__in=list(teams))
    return Photo.objects.select_related("owner").filter(shown, pk=pk).first()


def _owned(user: User, photo_id: Any) -> Photo | None:
    pk = _photo_id(photo_id)
    if pk is None or not getattr(user, "is_authenticated", False):
        return None
    return Photo.objects.select_related("owner").filter(owner=user, pk=pk).first()


# --- changing a photo -----------------------------------------------------------------------


def photo_rename(*, user: User, photo_id: Any, title: str) -> Photo | None:
    photo = _owned(user, photo_id)
    if photo is None:
        return None
    photo.title = title.strip()[:TITLE_MAX]
    photo.save(update_fields=["title"])
    return photo


def _public_copies(photo: Photo) -> list[str]:
    """The public objects that are copies, not the photo's own objects."""
    own = {photo.key, photo.thumb_key}
    return [key for key in (photo.public_key, photo.public_thumb_key) if key and key not in own]


def _make_private(photo: Photo) -> None:
    photo.visibility = Photo.Visibility.PRIVATE
    photo.public_key = photo.public_version_id = photo.public_thumb_key = photo.public_thumb_version_id = ""


def photo_delete(*, user: User, photo_id: Any) -> bool:
    """Delete the user's own photo: every version of every object of it
    (original, thumbnail, public copies) first, then its row; False if it is
    not theirs."""
    photo = _owned(user, photo_id)
    if photo is None:
        return False
    for key in dict.fromkeys([photo.key, photo.thumb_key, photo.public_key, photo.public_thumb_key]):
        if key:
            storage.object_delete(key=key)
    photo.delete()
    return True


def _copy_check(*, user: User, copy_key: str, expected_key: str | None, original: storage.StoredObject | None) -> storage.StoredObject:
    """The public copy `copy_key` of the pinned `original`, checked: in the
    owner's own public prefix under the original's name (else refused and left
    alone: it may be someone else's object or another photo), and
    byte-identical (else deleted)."""
    parsed = key_parse(copy_key)
    if parsed is None or parsed.visibility != "public" or parsed.identity_id != user.identity_id:
        raise PhotoRejected(NOT_YOUR_PUBLIC)
    if copy_key != expected_key or Photo.objects.filter(Q(key=copy_key) | Q(thumb_key=copy_key)).exists():
        raise PhotoRejected(NOT_YOUR_PUBLIC)
    copy = storage.object_stat(key=copy_key)
    if copy is None or copy.version_id is None:
        raise PhotoRejected(COPY_MISSING)
    if original is None:  # the pinned private version is gone: nothing to be a copy of
        raise _refuse(copy_key, "the original version is gone", COPY_DIFFERS)
    same = copy.size == original.size and copy.content_type == original.content_type
    if same and copy.etag != original.etag:
        # A multipart upload's ETag is not an MD5 of its bytes, and its copy's differs on AWS.
        same = "-" in original.etag and storage.object_digest(key=copy_key, version_id=copy.version_id) == storage.object_digest(
            key=original.key, version_id=original.version_id or ""
        )
    if not same:
        raise _refuse(copy_key, f"differs from {original.key}@{original.version_id}", COPY_DIFFERS)
    return copy


def photo_publish(*, user: User, photo_id: Any, public_key: str, public_thumb_key: str | None = None) -> Photo | None:
    """Make the photo public from the copies the owner's browser made with
    its own credentials, each pinned to its checked version. None if the photo
    is not the user's."""
    photo = _owned(user, photo_id)
    if photo is None:
        return None
    if photo.taken_down_at is not None:
        raise PhotoConflict(TAKEN_DOWN)
    if photo.visibility == Photo.Visibility.TEAM:
        # Publishing would copy it into the uploader's public/<id>/ for
        # anyone to read: one member deciding for the team what leaves it.
        # The simplest honest rule is that nothing does.
        raise PhotoConflict(TEAM_UNPUBLISHED)
    if photo.public_key and photo.public_key == public_key and (public_thumb_key or "") == photo.public_thumb_key:
        return photo  # published already, with these very copies
    if photo.public_key:
        raise PhotoConflict("This photo is public already.")
    if public_thumb_key is not None and not photo.thumb_key:
        raise PhotoRejected(NOT_YOUR_PUBLIC)
    original = storage.object_stat(key=photo.key, version_id=photo.version_id or None)
    copy = _copy_check(user=user, copy_key=public_key, expected_key=public_key_for(photo.key), original=original)
    thumb_copy = None
    if public_thumb_key is not None:
        thumb = storage.object_stat(key=photo.thumb_key, version_id=photo.thumb_version_id or None)
        try:
            thumb_copy = _copy_check(user=user, copy_key=public_thumb_key, expected_key=public_key_for(photo.thumb_key), original=thumb)
        except PhotoRejected:
            storage.object_delete(key=public_key)  # no half-published photo
            raise
    photo.visibility = Photo.Visibility.PUBLIC
    photo.public_key, photo.public_version_id = copy.key, copy.version_id or ""
    if thumb_copy is not None:
        photo.public_thumb_key, photo.public_thumb_version_id = thumb_copy.key, thumb_copy.version_id or ""
    photo.save()
    return photo


def photo_unpublish(*, user: User, photo_id: Any) -> Photo | None:
    """Delete the public copies (every version) and make the photo private."""
    photo = _owned(user, photo_id)
    if photo is None:
        return None
    if photo.visibility == Photo.Visibility.TEAM:
        raise PhotoConflict(TEAM_UNPUBLISHED)  # never public, and making it "private" would lose it
    if photo.public_key == photo.key:
        raise PhotoConflict(PUBLIC_ORIGINAL)
    for key in _public_copies(photo):
        storage.object_delete(key=key)
    _make_private(photo)
    photo.save()
    return photo


def photo_take_down(*, moderator: User, photo_id: Any, reason: str, requester: Any = None) -> Photo | None:
    """A moderator removes a public photo from view: whatever public objects
    their browser left are deleted (every version), the photo becomes private
    and its owner is told why, and an AuditEvent records who did it. None when
    there is no such public photo. The caller checks that `moderator` is one
    (`viewer_is_moderator`)."""
    from accounts.audit import moderation_record  # accounts imports nothing of uploads

    pk = _photo_id(photo_id)
    photo = None if pk is None else Photo.objects.select_related("owner").filter(
        pk=pk, visibility=Photo.Visibility.PUBLIC, taken_down_at__isnull=True
    ).first()
    if photo is None:
        return None
    for key in dict.fromkeys([photo.public_key, photo.public_thumb_key]):
        if key:
            storage.object_delete(key=key)
    _make_private(photo)
    photo.taken_down_at = timezone.now()
    photo.taken_down_reason = reason.strip()[:REASON_MAX]
    photo.taken_down_by = moderator
    photo.save()
    moderation_record(requester=requester, moderator=moderator, subject=f"photo {photo.pk} {photo.key}", reason=photo.taken_down_reason)
    return photo


def photo_recheck(*, user: Any, photo_id: Any, teams: Collection[str] = ()) -> Photo | None:
    """A browser could not load an image of this photo: stat its pinned
    versions again. The original gone: the photo is forgotten (what is left
    of it deleted, then the row). A public copy or a thumbnail gone: that is
    forgotten, and a photo without its public copy is private again. None when the photo is
    not visible to `user` (with the teams whose role they carry) or is gone now."""
    photo = photo_visible(user=user, photo_id=photo_id, teams=teams)
    if photo is None:
        return None
    if photo.taken_down_at is not None:
        return photo  # its owner is to be told why, whatever objects are left

    def present(key: str, version_id: str) -> bool:
        return bool(key) and storage.object_stat(key=key, version_id=version_id or None) is not None

    if not present(photo.key, photo.version_id):
        for key in dict.fromkeys([photo.thumb_key, photo.public_key, photo.public_thumb_key]):
            if key:
                storage.object_delete(key=key)
        log.info("recheck: %s@%s is gone, photo %s forgotten", photo.key, photo.version_id, photo.pk)
        photo.delete()
        return None
    changed = False
    if photo.thumb_key and not present(photo.thumb_key, photo.thumb_version_id):
        photo.thumb_key = photo.thumb_version_id = ""
        changed = True
    if photo.public_key and photo.public_key != photo.key and not present(photo.public_key, photo.public_version_id):
        for key in _public_copies(photo):
            storage.object_delete(key=key)
        _make_private(photo)
        changed = True
    elif photo.public_thumb_key and photo.public_thumb_key != photo.thumb_key and not present(
        photo.public_thumb_key, photo.public_thumb_version_id
    ):
        photo.public_thumb_key = photo.public_thumb_version_id = ""
        changed = True
    if photo.public_thumb_key and not photo.thumb_key and photo.public_key == photo.key:
        photo.public_thumb_key = photo.public_thumb_version_id = ""  # uploaded public: its thumbnail was its public one
    if changed:
        photo.save()
    # Made private just now: no longer the caller's to see unless they own it.
    shown = photo.visibility == Photo.Visibility.PUBLIC or (photo.visibility == Photo.Visibility.TEAM and photo.team in teams)
    return photo if photo.owner_id == getattr(user, "pk", None) or shown else None


# --- what the viewer's credentials carry -----------------------------------------------------


@dataclass(frozen=True)
class Team:
    slug: str  # its prefix `teams/<slug>/` and its page's URL
    domain: str  # whose people the identity pool's Rules mapping gives its role: "wintercorp.com"
    role_name: str  # the IAM role its members' credentials are sessions of


def teams_configured() -> dict[str, Team]:
    """Slug -> Team, for the team role provision made (none without an
    OIDC provider). The slug is provision's own, so the prefix here is the
    one the team role's policy names."""
    from django.conf import settings

    from core.deployment import deployment_get
    from infra.provision import team_slug

    arn = deployment_get().team_role_arn
    if not arn:
        return {}
    slug = team_slug()
    return {slug: Team(slug=slug, domain=settings.OIDC_TEAM_DOMAIN, role_name=arn.rsplit("/", 1)[-1])}


def _viewer_role_name(*, user: Any, store: Any) -> str:
    """The IAM role of the user's current identity-pool credentials (held by
    `store`, a CredentialStore), as STS says of those very credentials: the
    identity pool, not this app, chose the role (from the groups in a
    user-pool token, or by its Rules on an OIDC token's claims). Asked once
    per set of credentials; "" without any or when STS cannot say."""
    from accounts.cognito import CognitoError, credentials_caller_arn

    if not getattr(user, "is_authenticated", False):
        return ""
    issued = store.credentials_cached(owner=user.pk)
    if issued is None or not issued.authenticated:
        return ""
    arn = store.caller_arn(credentials=issued.credentials)
    if arn is None:
        try:
            arn = credentials_caller_arn(credentials=issued.credentials)
        except CognitoError:
            return ""
        store.caller_arn_keep(credentials=issued.credentials, arn=arn)
    # arn:aws:sts::<account>:assumed-role/<role name>/<session>; the role ARN may carry a path.
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "assumed-role" else ""


def viewer_is_moderator(*, user: Any, store: Any) -> bool:
    """Whether the user's current credentials are the moderator role's (`_viewer_role_name`)."""
    from core.deployment import deployment_get

    moderator = deployment_get().moderator_role_arn
    return bool(moderator) and _viewer_role_name(user=user, store=store) == moderator.rsplit("/", 1)[-1]


def viewer_teams(*, user: Any, store: Any) -> list[Team]:
    """The teams whose role the user's current credentials are a session of:
    what they may see and upload to. Never a claim or anything the browser
    sends: a token's `hd` is the identity pool's business, the role it
    chose is ours."""
    role = _viewer_role_name(user=user, store=store)
    return [team for team in teams_configured().values() if role and team.role_name == role]
