"""What the server accepts as a photo, defined once: where its key lives in
the bucket, which image types, how large. The browser is told all of it by
the upload page (`browser_rules()`, through json_script) and never builds
its own copy; the server checks every upload against the same values.

Keys are `<private|public>/<identity id>/<name>`, thumbnails
`<private|public>/<identity id>/thumbs/<uuid>.jpg`. The identity ID is the
identity pool's (`us-east-1:<uuid>`), because that is what the IAM policy
variable `${cognito-identity.amazonaws.com:sub}` stands for, so each user's
policy lets them write under their own prefixes only.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_s3_cognito-bucket.html

A team's photos are `teams/<team>/<identity id>/<name>` (thumbnails under
its `thumbs/`). The team role may write anywhere under `teams/<team>/`, so
IAM cannot say whose upload is whose there; the identity folder is what
lets the server register a key for the member whose browser wrote it and
for nobody else (uploads.services), as it does for private keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

VISIBILITIES = ("private", "public")  # the first key segment of a user's own keys
TEAM = "team"  # Photo.Visibility of a team's photo
TEAMS = "teams"  # the first key segment of a team's photos: teams/<team>/
# The limits are settings (photoshare/settings/base.py, `.env.example`), read once here.
MAX_PHOTO_BYTES: int = settings.MAX_PHOTO_BYTES  # bytes; 50 MiB unless settings say otherwise
MULTIPART_THRESHOLD: int = settings.MULTIPART_THRESHOLD  # bytes; above it the browser uploads in parts
MULTIPART_PART_BYTES: int = settings.MULTIPART_PART_BYTES  # bytes per part, the last excepted
THUMBNAILS = "thumbs"  # the folder under a user's prefix that holds thumbnails
THUMB_TYPE = "image/jpeg"  # the browser draws every thumbnail as a JPEG
MAX_THUMB_BYTES = getattr(settings, "MAX_THUMB_BYTES", 2 * 1024 * 1024)  # bytes; 2 MiB unless settings say otherwise


@dataclass(frozen=True)
class ImageType:
    extension: str
    name: str  # for people
    # Each signature is (offset, bytes) pairs that must all match the file's start.
    signatures: tuple[tuple[tuple[int, bytes], ...], ...]


# The formats every browser shows, with the leading bytes that identify them.
IMAGE_TYPES = {
    "image/jpeg": ImageType("jpg", "JPEG", (((0, b"\xff\xd8\xff"),),)),
    "image/png": ImageType("png", "PNG", (((0, b"\x89PNG\r\n\x1a\n"),),)),
    "image/gif": ImageType("gif", "GIF", (((0, b"GIF87a"),), ((0, b"GIF89a"),))),
    "image/webp": ImageType("webp", "WebP", (((0, b"RIFF"), (8, b"WEBP")),)),
}
SNIFF_BYTES = max(offset + len(part) for t in IMAGE_TYPES.values() for s in t.signatures for offset, part in s)

_NAMES = [t.name for t in IMAGE_TYPES.values()]
IMAGE_TYPE_NAMES = f"{', '.join(_NAMES[:-1])} or {_NAMES[-1]}"  # "JPEG, PNG, GIF or WebP"
NOT_AN_IMAGE = f"That file is not a {IMAGE_TYPE_NAMES} image."


def megabytes(size: int) -> str:
    """`size` bytes for people, in MB of 1024 * 1024 bytes (as file managers
    and browsers count them): "50 MB", "12.5 MB"."""
    value = size / (1024 * 1024)
    return f"{int(value)} MB" if value == int(value) else f"{value:.1f} MB"


MAX_PHOTO_SIZE = megabytes(MAX_PHOTO_BYTES)  # "50 MB"
TOO_LARGE = f"Photos can be at most {MAX_PHOTO_SIZE}."
# For the browser, which fills in the file's name and size before any byte is sent.
TOO_LARGE_FILE = f"{{name}} is {{size}}; photos can be at most {MAX_PHOTO_SIZE}."
NOT_AN_IMAGE_FILE = f"{{name}} is not a {IMAGE_TYPE_NAMES} image."
NO_STORAGE_YET = "Your account has no storage yet. Reload the page and try again."


def image_type_sniff(head: bytes) -> str | None:
    """The image type `head` (the file's first bytes) starts like, if any."""
    for content_type, image in IMAGE_TYPES.items():
        for signature in image.signatures:
            if all(head[offset : offset + len(part)] == part for offset, part in signature):
                return content_type
    return None


# --- keys -----------------------------------------------------------------------------------

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"  # the browser sends <uuid>.<extension>
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TEAM_SLUG = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"  # infra.provision.team_slug's shape
_KEY = re.compile(
    rf"(?:(?P<visibility>{'|'.join(VISIBILITIES)})|{TEAMS}/(?P<team>{TEAM_SLUG}))"
    rf"/(?P<identity_id>[A-Za-z0-9-]+:[A-Za-z0-9-]+)/"
    rf"(?:{THUMBNAILS}/(?P<thumbnail>{_UUID}\.jpg)|(?P<name>{_NAME}))"
)


@dataclass(frozen=True)
class PhotoKey:
    visibility: str  # "private", "public" or TEAM
    identity_id: str
    name: str
    thumbnail: bool
    team: str = ""  # the team's slug for a team key


def key_prefix(*, visibility: str, identity_id: str, team: str = "") -> str:
    """The folder a visibility's photos of this identity go in (ends with
    '/'); for TEAM, the identity's folder in `team`'s prefix."""
    if visibility == TEAM:
        if not re.fullmatch(TEAM_SLUG, team):
            raise ValueError(f"bad team slug {team!r}")
        return f"{TEAMS}/{team}/{identity_id}/"
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    return f"{visibility}/{identity_id}/"


def team_prefix(*, team: str) -> str:
    """The whole prefix the team role reads, writes and lists (ends with '/')."""
    if not re.fullmatch(TEAM_SLUG, team):
        raise ValueError(f"bad team slug {team!r}")
    return f"{TEAMS}/{team}/"


def key_prefixes(*, identity_id: str) -> dict[str, str]:
    """Visibility -> this identity's own prefix, as its IAM policy scopes it."""
    return {visibility: key_prefix(visibility=visibility, identity_id=identity_id) for visibility in VISIBILITIES}


def key_parse(key: str) -> PhotoKey | None:
    """The parts of a well-formed key, or None (any other shape: no dot
    segments, no sub-folders but thumbs/, no other visibility)."""
    match = _KEY.fullmatch(key)
    if match is None:
        return None
    thumbnail = match.group("thumbnail")
    team = match.group("team") or ""
    return PhotoKey(
        visibility=TEAM if team else match.group("visibility"),
        identity_id=match.group("identity_id"),
        name=thumbnail or match.group("name"),
        thumbnail=thumbnail is not None,
        team=team,
    )


def thumb_key_for(key: str) -> str | None:
    """Where the thumbnail of photo `key` must be: the same prefix, under
    thumbs/, named after the photo's own UUID (`<uuid>.<extension>` ->
    `thumbs/<uuid>.jpg`). None for a key whose name is not a UUID."""
    parsed = key_parse(key)
    if parsed is None or parsed.thumbnail:
        return None
    stem = parsed.name.rsplit(".", 1)[0]
    if not re.fullmatch(_UUID, stem):
        return None
    prefix = key_prefix(visibility=parsed.visibility, identity_id=parsed.identity_id, team=parsed.team)
    return f"{prefix}{THUMBNAILS}/{stem}.jpg"


def public_key_for(key: str) -> str | None:
    """Where the public copy of `key` goes: the same name under
    `public/<identity id>/` (thumbnails under its thumbs/). None for a team
    key: a team's photos are not published (uploads.services says why)."""
    parsed = key_parse(key)
    if parsed is None or parsed.team:
        return None
    folder = f"{THUMBNAILS}/" if parsed.thumbnail else ""
    return f"{key_prefix(visibility='public', identity_id=parsed.identity_id)}{folder}{parsed.name}"


# --- for the browser ------------------------------------------------------------------------


def browser_rules(*, identity_id: str, teams: tuple[str, ...] = ()) -> dict[str, Any]:
    """All the browser needs to upload where the server will accept it: its
    own prefixes (it only adds `<uuid>.<extension>`), its folder in each team
    whose role its credentials carry (`teams`, slugs), the types with their
    extensions and signatures, the size limit, when and in what parts to
    upload multipart, and the messages (`{name}`, `{size}` filled in by the
    page)."""
    return {
        "identityId": identity_id,
        "prefixes": key_prefixes(identity_id=identity_id) if identity_id else {},
        "teamPrefixes": {t: key_prefix(visibility=TEAM, identity_id=identity_id, team=t) for t in teams} if identity_id else {},
        "maxBytes": MAX_PHOTO_BYTES,
        "multipartThreshold": MULTIPART_THRESHOLD,
        "partBytes": MULTIPART_PART_BYTES,
        "maxThumbBytes": MAX_THUMB_BYTES,
        "thumbnails": THUMBNAILS,
        "sniffBytes": SNIFF_BYTES,
        "types": {
            content_type: {
                "extension": image.extension,
                "signatures": [[[offset, list(part)] for offset, part in signature] for signature in image.signatures],
            }
            for content_type, image in IMAGE_TYPES.items()
        },
        "messages": {
            "notAnImage": NOT_AN_IMAGE,
            "notAnImageFile": NOT_AN_IMAGE_FILE,  # {name}
            "tooLarge": TOO_LARGE,
            "tooLargeFile": TOO_LARGE_FILE,  # {name}, {size}
            "noStorage": NO_STORAGE_YET,
        },
    }
