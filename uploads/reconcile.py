"""Make the catalog and the bucket agree again, off the request path
(`python manage.py reconcile [--fix] [--user EMAIL]`).

They drift apart for reasons no request sees: a tab closed between an upload
and its registration, a publish whose API call never came, an owner who
deleted or overwrote their own key (their policy allows it, and the pinned
version expires a day later by the lifecycle rule), a row restored from a
backup, a console user. The gallery pages no longer list S3 to find out; this
command does, once, for the whole bucket or one user, and each finding is one
of these kinds:

- `unregistered`: an object with no row that may be a photo; `--fix` registers
  it through `uploads.services.photo_register`, which checks it as if the
  browser had (and deletes it if it is not an image of the right size and type);
- `unusable`: an object with no row that can never be a photo (a key of
  another shape, an identity nobody has); `--fix` deletes it, every version;
- `gone`: a row whose checked version is no longer stored; `--fix` forgets it,
  deleting what is left of it (`photo_recheck`, as a browser's failed image does);
- `part-gone`: a row whose thumbnail or public copy is gone; `--fix` forgets that part;
- `stray-public-copy`: a copy under `public/<id>/` of a photo that is not public
  (an unpublish or take-down that stopped half way, a publish never completed);
  `--fix` deletes it;
- `orphan-thumbnail`: a thumbnail no photo has; `--fix` deletes it;
- `stale-upload`: a multipart upload open for more than a day. Reported only:
  the bucket's lifecycle rule aborts them, so one this old means it is not working.

Team photos (`teams/<team>/<identity id>/`) are checked like the others,
except that an unregistered one is reported only (`unregistered-team`): a
photo is registered in a team for a member whose credentials carry its
role, and a command has no one's credentials to ask (the identity folder
says whose browser should have written it, not that they still carry it).

Objects written in the last `GRACE` are left alone: an upload or a publish may
be between its S3 write and its API call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from uploads import services, storage
from uploads.models import Photo
from uploads.rules import TEAMS, VISIBILITIES, key_parse, key_prefix, public_key_for, thumb_key_for

log = logging.getLogger(__name__)

GRACE = dt.timedelta(minutes=10)  # objects younger than this may still be registered or published by a browser
STALE_UPLOAD_AGE = dt.timedelta(days=1)  # the lifecycle rule aborts incomplete multipart uploads after a day

UNREGISTERED = "unregistered"
UNUSABLE = "unusable"
GONE = "gone"
PART_GONE = "part-gone"
STRAY_PUBLIC = "stray-public-copy"
ORPHAN_THUMBNAIL = "orphan-thumbnail"
STALE_UPLOAD = "stale-upload"
UNREGISTERED_TEAM = "unregistered-team"


@dataclass
class Finding:
    kind: str
    key: str
    what: str  # for the operator
    fixable: bool = True
    fixed: bool = False

    def line(self) -> str:
        state = "fixed" if self.fixed else ("found" if self.fixable else "note")
        return f"{state} {self.kind} {self.key}: {self.what}"


@dataclass
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    photos: int = 0  # rows looked at
    objects: int = 0  # keys listed
    young: int = 0  # objects left alone for being younger than the grace period

    @property
    def unfixed(self) -> list[Finding]:
        """What is still inconsistent (notes excepted)."""
        return [f for f in self.findings if f.fixable and not f.fixed]

    def summary(self) -> str:
        fixed = sum(f.fixed for f in self.findings)
        notes = sum(not f.fixable for f in self.findings)
        head = f"reconcile: {self.photos} photos, {self.objects} objects"
        if not self.unfixed and not fixed:
            state = "the catalog and the bucket agree"
        else:
            state = f"{len(self.unfixed)} inconsistencies left, {fixed} fixed"
        extras = [f"{notes} notes"] if notes else []
        if self.young:
            extras.append(f"{self.young} objects younger than {int(GRACE.total_seconds() // 60)} minutes left alone")
        return "; ".join([f"{head}: {state}", *extras]) + "."


def _prefix_of(key: str) -> str | None:
    parsed = key_parse(key)
    return key_prefix(visibility=parsed.visibility, identity_id=parsed.identity_id, team=parsed.team) if parsed else None


def _scope(user: User | None) -> tuple[list[str], list[Photo]]:
    """The prefixes to list and the rows to check: everything, or one user's
    own prefixes and photos (including prefixes of identities they had before)."""
    if user is None:
        prefixes = [f"{visibility}/" for visibility in VISIBILITIES] + [f"{TEAMS}/"]
        return prefixes, list(Photo.objects.select_related("owner"))
    rows = list(Photo.objects.filter(owner=user).select_related("owner"))
    prefixes = set(services.photo_prefixes(user=user).values())
    for row in rows:
        prefixes |= {p for p in map(_prefix_of, _keys(row)) if p}
    return sorted(prefixes), rows


def _keys(row: Photo) -> list[str]:
    return [k for k in dict.fromkeys([row.key, row.thumb_key, row.public_key, row.public_thumb_key]) if k]


def _public_twin(key: str) -> str | None:
    """Where a private key's public copy goes (None for a key that is not private)."""
    parsed = key_parse(key)
    return public_key_for(key) if parsed and parsed.visibility == "private" else None


def _present(walked: dict[str, storage.Walked], key: str, version_id: str) -> bool:
    """The pinned version is still stored (a plain key: its current version is)."""
    item = walked.get(key)
    if item is None:
        return False
    return version_id in item.versions if version_id else item.current is not None


def _who(row: Photo) -> str:
    title = f" {row.title!r}" if row.title else ""
    return f"photo {row.pk}{title} of {row.owner.email}"


def _delete(keys: Iterable[str]) -> None:
    for key in keys:
        storage.object_delete(key=key)


def _check_rows(
    rows: list[Photo],
    walked: dict[str, storage.Walked],
    *,
    fix: bool,
    result: Reconciliation,
    handled: set[str],
    forgotten: set[Any],
) -> None:
    """Rows whose pinned versions are gone, and rows still naming public copies while not
    public. Adds the keys it dealt with to `handled`, and the rows --fix deleted to `forgotten`."""
    for row in rows:
        findings = []
        if not _present(walked, row.key, row.version_id):
            findings.append(Finding(GONE, row.key, f"{_who(row)}: its checked version is no longer stored"))
        else:
            parts = [("thumbnail", row.thumb_key, row.thumb_version_id)]
            if row.public_key != row.key:
                parts.append(("public copy", row.public_key, row.public_version_id))
            if row.public_thumb_key != row.thumb_key:
                parts.append(("public thumbnail", row.public_thumb_key, row.public_thumb_version_id))
            for part, key, version_id in parts:
                if key and not _present(walked, key, version_id):
                    findings.append(Finding(PART_GONE, key, f"{_who(row)}: its {part} is no longer stored"))
        if findings:
            if fix:
                # The same re-check a browser's failed image asks for: it deletes what is left of a
                # photo whose original is gone, and forgets a thumbnail or copy that is gone.
                services.photo_recheck(user=row.owner, photo_id=row.pk)
                for finding in findings:
                    finding.fixed = True
            handled.update(_keys(row))
            if fix and findings[0].kind == GONE:
                # Forgotten: what is stored at its key now (an overwrite) is an upload like any other.
                handled.discard(row.key)
                forgotten.add(row.pk)
            result.findings.extend(findings)
            continue
        public = row.visibility == Photo.Visibility.PUBLIC and row.taken_down_at is None
        copies = [k for k in (row.public_key, row.public_thumb_key) if k and k not in (row.key, row.thumb_key)]
        if copies and not public:
            stray = [Finding(STRAY_PUBLIC, key, f"{_who(row)} is not public, but its row still names this copy") for key in copies]
            if fix:
                _delete(copies)
                Photo.objects.filter(pk=row.pk).update(
                    public_key="", public_version_id="", public_thumb_key="", public_thumb_version_id=""
                )
                for finding in stray:
                    finding.fixed = True
            handled.update(copies)
            result.findings.extend(stray)


def _register(key: str, owner: User, thumb_key: str | None, *, claimed: set[str]) -> Finding:
    """Register an object as the browser would have; whatever is refused is deleted."""
    for thumb in dict.fromkeys([thumb_key, None]):
        try:
            photo = services.photo_register(user=owner, key=key, thumb_key=thumb)
        except services.PhotoRejected as exc:
            refusal = str(exc)
            if storage.object_stat(key=key) is None:
                break  # the photo itself was refused (and deleted); a bad thumbnail alone gets another try without it
            continue
        if photo.thumb_key:
            claimed.add(photo.thumb_key)
        return Finding(UNREGISTERED, key, f"not in the catalog: registered for {owner.email} as photo {photo.pk}", fixed=True)
    else:
        storage.object_delete(key=key)  # refused for a reason that did not delete it
    return Finding(UNUSABLE, key, f"not in the catalog and refused ({refusal}): deleted", fixed=True)


def _check_objects(
    rows: list[Photo],
    walked: dict[str, storage.Walked],
    *,
    fix: bool,
    grace: dt.timedelta,
    result: Reconciliation,
    handled: set[str],
    forgotten: set[Any],
) -> None:
    """Objects no row names: photos to register, copies of private photos, thumbnails of nothing, junk."""
    rows = [row for row in rows if row.pk not in forgotten]
    referenced = {key for row in rows for key in _keys(row)} | handled
    # A public object named like a private original or thumbnail (a row's, or one still
    # to be registered) is a copy of it: the photo is not public, or the copy would be named.
    copy_of = {_public_twin(row.key): f"a copy of {_who(row)}, which is not public" for row in rows}
    copy_of |= {_public_twin(row.thumb_key): f"a copy of the thumbnail of {_who(row)}, which is not public" for row in rows if row.thumb_key}
    copy_of |= {_public_twin(key): f"a copy of {key}, which is not registered" for key, item in walked.items() if item.current}
    copy_of.pop(None, None)
    cutoff = timezone.now() - grace
    loose = []
    for key, item in sorted(walked.items()):
        if key in referenced or item.current is None:
            continue
        if item.modified is not None and item.modified > cutoff:
            result.young += 1
            continue
        loose.append(key)
    thumbs = {key for key in loose if (parsed := key_parse(key)) and parsed.thumbnail}
    claimed: set[str] = set()
    owners: dict[str, User | None] = {}
    for key in loose:
        if key in thumbs:
            continue
        parsed = key_parse(key)
        if parsed is None:
            result.findings.append(_deleted_if(fix, Finding(UNUSABLE, key, "not a key the app ever writes")))
            continue
        if key in copy_of:
            result.findings.append(_deleted_if(fix, Finding(STRAY_PUBLIC, key, copy_of[key])))
            continue
        if parsed.identity_id not in owners:
            owners[parsed.identity_id] = User.objects.filter(identity_id=parsed.identity_id).first()
        owner = owners[parsed.identity_id]
        if parsed.team and owner is not None:
            claimed.add(thumb_key_for(key) or "")  # its thumbnail stays with it
            what = f"in team {parsed.team}'s prefix but not in the catalog (uploaded by {owner.email}'s browser?); left alone"
            result.findings.append(Finding(UNREGISTERED_TEAM, key, what, fixable=False))
            continue
        if owner is None:
            result.findings.append(_deleted_if(fix, Finding(UNUSABLE, key, f"no user has the identity {parsed.identity_id}")))
        else:
            thumb = thumb_key_for(key)
            thumb = thumb if thumb in thumbs else None
            if fix:
                result.findings.append(_register(key, owner, thumb, claimed=claimed))
            else:
                claimed.add(thumb or "")  # registering it would claim its thumbnail too
                what = f"not in the catalog: would be registered for {owner.email}" + (" with its thumbnail" if thumb else "")
                result.findings.append(Finding(UNREGISTERED, key, what))
    for key in sorted(thumbs - claimed):
        if key in copy_of:
            finding = Finding(STRAY_PUBLIC, key, copy_of[key])
        else:
            finding = Finding(ORPHAN_THUMBNAIL, key, "a thumbnail no photo has")
        result.findings.append(_deleted_if(fix, finding))


def _deleted_if(fix: bool, finding: Finding) -> Finding:
    if fix:
        storage.object_delete(key=finding.key)
        finding.fixed = True
    return finding


def _check_uploads(prefixes: list[str], *, stale_after: dt.timedelta, result: Reconciliation) -> None:
    cutoff = timezone.now() - stale_after
    for prefix in prefixes:
        for upload in storage.uploads_incomplete(prefix=prefix):
            if upload.initiated <= cutoff:
                what = f"multipart upload {upload.upload_id} open since {upload.initiated:%Y-%m-%d %H:%M} UTC (is the lifecycle rule on?)"
                result.findings.append(Finding(STALE_UPLOAD, upload.key, what, fixable=False))


def catalog_reconcile(
    *,
    fix: bool,
    user: User | None = None,
    grace: dt.timedelta = GRACE,
    stale_after: dt.timedelta = STALE_UPLOAD_AGE,
) -> Reconciliation:
    """Compare the catalog with the bucket (all of it, or `user`'s prefixes)
    and, with `fix`, repair each finding. Raises core.aws's AwsCallError when
    S3 cannot be listed; nothing is changed before the listing is complete."""
    prefixes, rows = _scope(user)
    walked: dict[str, storage.Walked] = {}
    for prefix in prefixes:
        walked.update(storage.objects_walk(prefix=prefix))
    result = Reconciliation(photos=len(rows), objects=len(walked))
    handled: set[str] = set()
    forgotten: set[Any] = set()
    _check_rows(rows, walked, fix=fix, result=result, handled=handled, forgotten=forgotten)
    _check_objects(rows, walked, fix=fix, grace=grace, result=result, handled=handled, forgotten=forgotten)
    _check_uploads(prefixes, stale_after=stale_after, result=result)
    for finding in result.findings:
        log.info("reconcile: %s", finding.line())
    return result
