"""Keeping the sandbox's state in a directory across restarts.

A workshop participant closes the laptop and runs `make run` the next day:
users, identities (with the same identity IDs), roles, buckets and photos
must all still be there. The directory holds:

- `state.bin`: one snapshot of moto's backends and our identity pools,
  behind a header with its length and SHA-256, replaced atomically
  (temporary file, fsync, rename, fsync of the directory): the fast form;
- `state.json`: the same state in the versioned JSON document of
  `sandbox/state_export.py`, the durable form, which another moto version
  can read. Building it holds requests back longer than the pickle does
  (`bench/sandbox_restart.py` prints both), so it is written by at most one
  save every DOCUMENT_EVERY seconds and by every clean stop, the moment
  before an upgrade; bodies it still names are kept until a newer one is
  written;
- `objects/`: S3 object bodies, one file per distinct content, written once
  and read only when an object is (start-up does not read them);
- `lock`: held while a sandbox uses the directory, so two cannot share it.

Start-up loads `state.bin` when it was written by this moto. When it was
written by another (Photoshare upgraded its moto), or does not unpickle, the
state is rebuilt from `state.json` instead, with one warning (which says how
much older than `state.bin` it was, if it was: after a crash, up to
DOCUMENT_EVERY seconds of changes), and both are written again for this moto
straight away. A `state.bin` that fails its own
checks (truncated, corrupted) is refused either way: that is damage, not an
upgrade.

The state holds every password, app client secret and pool signing key, so
the directory is 0700 and every file in it 0600, whatever the umask; a
directory found looser (made by an older sandbox, or by hand) is tightened,
with a warning.

Snapshots are taken within a second of a change and on a clean stop,
so a crash (SIGKILL, power loss) loses at most the last second. A snapshot
that fails its checks is refused with a message, never half-loaded.
Issued credentials are not kept: they are short-lived, and a restarted
sandbox simply does not know them any more (InvalidAccessKeyId).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import moto_seams, state_export
from sandbox.cognito_identity import models as cognito_identity
from sandbox.cognito_idp import codes as user_pool_codes

log = logging.getLogger("sandbox.persistence")

MAGIC = b"PHOTOSHARE-SANDBOX-STATE\n"
BODY_NAME = re.compile(r"[0-9a-f]{32}(-[0-9]+)?-[0-9]+")  # moto_seams.persistence.body_ref: the ETag, then the size
FORMAT = 1
SAVE_AFTER = 0.7  # seconds from the first unsaved change to the start of the save that keeps it
POLL = 0.1  # seconds between looks at the change counter
DOCUMENT_EVERY = 30.0  # seconds: at most one save this often also writes state.json (a clean stop always does)


class DamagedState(Exception):
    """The data directory cannot be loaded as it is."""


class SharedLock:
    """Many requests at once, or one snapshot alone: a snapshot must see
    moto's state between requests, never in the middle of one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._writing:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._writing:
                self._condition.wait()
            self._writing = True
            while self._readers:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def _open_private(path: Path, flags: int) -> int:
    """A file only this user can read, even if it already existed looser (a
    temporary file left by a crash keeps its old mode through O_CREAT)."""
    descriptor = os.open(path, flags | os.O_CREAT, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return descriptor


def _tighten(path: Path, mode: int) -> bool:
    """Give `path` exactly `mode` if group or others have any access; True if it had to."""
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, mode)
        return True
    return False


def _private_directory(path: Path) -> None:
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if _tighten(path, DIRECTORY_MODE):
        log.warning("%s was readable by other users; its mode is now 0700", path)


def _write_atomically(path: Path, chunks: list[bytes], *, sync_directory: bool = True) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(_open_private(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    if sync_directory:
        _fsync_directory(path.parent)


def _copy_atomically(source: Path, path: Path) -> None:
    """A body file copied in, never read whole into memory."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(source, "rb") as reading, open(_open_private(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        shutil.copyfileobj(reading, handle, COPY_CHUNK)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


COPY_CHUNK = 1024 * 1024  # bytes per read when copying a body file


@dataclass(frozen=True)
class Snapshot:
    payload: bytes
    document: dict[str, Any] | None  # the same state as `state_export`'s document, if asked for and it could be made
    new_bodies: dict[str, bytes | Path]  # ref -> body (or the file it is in elsewhere), not yet in objects/
    referenced: set[str]  # every body the payload refers to
    document_failed: bool = False  # asked for, but the state would not go into it (logged)


class Store:
    """One data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.state_file = self.directory / "state.bin"
        self.json_file = self.directory / "state.json"
        self.objects = self.directory / "objects"
        self._lock_handle: Any = None
        self._known_bodies: set[str] = set()
        # Bodies the state.json on disk names; None: not known (it was not read), so none may go.
        self._document_bodies: set[str] | None = None
        self.migrated = False  # loaded from state.json: state.bin should be rewritten for this moto

    # -- the directory lock
    def open(self) -> None:
        _private_directory(self.directory)
        _private_directory(self.objects)
        self._lock_handle = open(_open_private(self.directory / "lock", os.O_WRONLY), "w")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.close()
            raise DamagedState(f"{self.directory} is in use by another sandbox; stop it first.") from None
        for leftover in self.objects.glob(".*.tmp"):  # half-written by a crashed save
            leftover.unlink()
        self._known_bodies = {p.name for p in self.objects.iterdir() if not p.name.startswith(".")}
        files = [p for p in (self.state_file, self.json_file, *(self.objects / ref for ref in self._known_bodies)) if p.exists()]
        loose = [p for p in files if _tighten(p, FILE_MODE)]
        if loose:
            log.warning("%d files in %s were readable by other users; their mode is now 0600", len(loose), self.directory)

    def close(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    # -- snapshots: captured under the lock, written after it
    def capture(self, *, document: bool = True) -> Snapshot:
        """The state as it is now; the caller holds the gateway's lock
        exclusively. Only pickling, copying new bodies and (when `document`)
        building the JSON document happen here, so requests wait as little as
        possible."""
        referenced: set[str] = set()
        new_bodies: dict[str, bytes | Path] = {}

        def store(ref: str, source: moto_seams.persistence.BodySource) -> None:
            referenced.add(ref)
            if ref not in self._known_bodies and ref not in new_bodies:
                new_bodies[ref] = source if isinstance(source, Path) else source()

        buffer = io.BytesIO()
        moto_seams.persistence.SnapshotPickler(buffer, store_body=store).dump(
            {
                "moto": moto_seams.persistence.backends_snapshot(),
                "identity_pools": cognito_identity.STATE.snapshot(),
                "user_pool_codes": user_pool_codes.STATE.snapshot(),
            }
        )
        made: dict[str, Any] | None = None
        failed = False
        if document:
            try:
                made = state_export.document(body_name=moto_seams.persistence.body_ref)
            except Exception:  # keep saving the pickle; with no current document no upgrade can roll back to an old one
                log.exception("the state could not be put in the JSON form; %s is removed", self.json_file.name)
                failed = True
        return Snapshot(
            payload=buffer.getvalue(), document=made, new_bodies=new_bodies, referenced=referenced, document_failed=failed
        )

    def write(self, snapshot: Snapshot) -> None:
        """Make a captured snapshot durable: new bodies first, then the state
        file that refers to them, then drop bodies nothing refers to."""
        for ref, body in snapshot.new_bodies.items():
            if isinstance(body, Path):
                _copy_atomically(body, self.objects / ref)
            else:
                _write_atomically(self.objects / ref, [body], sync_directory=False)
        if snapshot.new_bodies:
            _fsync_directory(self.objects)
        self._known_bodies |= snapshot.new_bodies.keys()
        # The JSON first: if a crash comes between the two, the newer of them is the durable one.
        if snapshot.document is not None:
            _write_atomically(self.json_file, [json.dumps(snapshot.document, separators=(",", ":")).encode()], sync_directory=False)
            self._document_bodies = set(snapshot.referenced)
        elif snapshot.document_failed:
            self.json_file.unlink(missing_ok=True)
            self._document_bodies = set()
        payload = snapshot.payload
        header = {
            "format": FORMAT,
            "moto": moto_seams.persistence.MOTO_VERSION,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "length": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "saved_at": time.time(),
        }
        _write_atomically(self.state_file, [MAGIC, json.dumps(header).encode() + b"\n", payload])
        if self._document_bodies is None and not self.json_file.exists():
            self._document_bodies = set()
        if self._document_bodies is not None:  # else state.json may name any of them
            keep = snapshot.referenced | self._document_bodies
            for ref in self._known_bodies - keep:  # deleted objects' bodies
                (self.objects / ref).unlink(missing_ok=True)
            self._known_bodies &= keep

    def _body_path(self, ref: str) -> Path:
        """Where a body is; it is read only when the object is (a stat here, no open)."""
        path = self.objects / ref
        if not path.is_file():
            raise DamagedState(f"object body {ref} is missing from {self.objects}")
        return path

    def load(self) -> bool:
        """Restore the saved state; False when there is none yet."""
        try:
            raw = self.state_file.read_bytes()
        except FileNotFoundError:
            if self.json_file.exists():  # written by `python -m sandbox import`, or state.bin removed by hand
                self._load_document(reason=f"{self.state_file} is missing")
                return True
            return False
        if not raw.startswith(MAGIC):
            raise DamagedState(f"{self.state_file} is not a sandbox state file (bad header)")
        header_line, _, payload = raw[len(MAGIC) :].partition(b"\n")
        try:
            header = json.loads(header_line)
        except ValueError:
            raise DamagedState(f"{self.state_file} has a damaged header") from None
        if header.get("format") != FORMAT:
            raise DamagedState(f"{self.state_file} has format {header.get('format')}, this sandbox reads {FORMAT}")
        if len(payload) != header.get("length"):
            raise DamagedState(f"{self.state_file} is truncated ({len(payload)} of {header.get('length')} bytes)")
        if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            raise DamagedState(f"{self.state_file} is corrupted (checksum mismatch)")
        if header.get("moto") != moto_seams.persistence.MOTO_VERSION:
            # Not even tried: a pickle that loads under another moto can still
            # lack what this one's objects need, and fail on some later request.
            self._load_document(
                reason=f"{self.state_file} was written with moto {header.get('moto')}; this sandbox runs "
                f"{moto_seams.persistence.MOTO_VERSION}"
            )
            return True
        try:
            saved = moto_seams.persistence.SnapshotUnpickler(io.BytesIO(payload), body_path=self._body_path).load()
        except DamagedState:
            raise
        except Exception as exc:  # a class moved or changed shape: the JSON form does not depend on either
            reason = f"{self.state_file} could not be read ({type(exc).__name__}: {exc})"
            if not self.json_file.exists():
                raise DamagedState(reason) from exc
            self._load_document(reason=reason)  # nothing was installed: that happens only after a whole load
            return True
        upgraded = moto_seams.persistence.backends_restore(saved["moto"])
        if upgraded:
            log.warning(
                "user pools %s were saved signing with moto's shared key; each now has a key of its own, "
                "and tokens they issued before are refused (sign in again)",
                ", ".join(upgraded),
            )
        cognito_identity.STATE.restore(saved["identity_pools"])
        user_pool_codes.STATE.restore(saved["user_pool_codes"])
        return True

    def _load_document(self, *, reason: str) -> None:
        """Rebuild the state from `state.json`, saying once why."""
        try:
            doc = json.loads(self.json_file.read_bytes())
        except FileNotFoundError:
            raise DamagedState(f"{reason}, and there is no {self.json_file.name} to rebuild it from") from None
        except ValueError as exc:
            raise DamagedState(f"{reason}, and {self.json_file} is damaged too ({exc})") from None
        lag = ""
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            header = json.loads(self.state_file.read_bytes()[len(MAGIC) :].partition(b"\n")[0])
            behind = header["saved_at"] - dt.datetime.fromisoformat(doc["written_at"]).timestamp()
            if behind > 1:
                lag = f" (saved {behind:.0f} s before state.bin: changes since are lost)"
        log.warning("%s; rebuilding the state from %s%s", reason, self.json_file, lag)

        def body_path(name: str, size: int) -> Path:
            if not isinstance(name, str) or not BODY_NAME.fullmatch(name):  # never a path out of objects/
                raise state_export.BadDocument(f"{self.json_file} names a body {name!r} this sandbox never writes")
            path = self.objects / name
            if not path.is_file():
                raise state_export.BadDocument(f"object body {name} is missing from {self.objects}")
            if path.stat().st_size != size:
                raise state_export.BadDocument(f"object body {name} in {self.objects} is {path.stat().st_size} bytes, not {size}")
            return path

        try:
            state_export.restore(doc, source=str(self.json_file), body_path=body_path)
        except state_export.BadDocument as exc:
            raise DamagedState(str(exc)) from None
        self.migrated = True


class Persister:
    """Saves the store soon after the gateway reports a change.

    The clock starts at the first change not yet saved, not at the last save,
    so a change is on disk within POLL + SAVE_AFTER + one save (well under a
    second) even during a burst of writes; a burst costs one save per
    SAVE_AFTER, not one per request."""

    def __init__(self, store: Store, lock: SharedLock, changes: Callable[[], int]) -> None:
        self.store = store
        self.lock = lock
        self.changes = changes
        # Rebuilt from state.json: saved again at once, so state.bin is this moto's.
        self._saved_at_change = -1 if store.migrated else changes()
        self._documented_at_change = self._saved_at_change  # the change state.json was last written at
        self._documented_at = time.monotonic()
        self._first_unsaved: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-persister", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _document_due(self, *, final: bool) -> bool:
        """Whether this save should also write state.json: always on a clean
        stop, else at most every DOCUMENT_EVERY seconds, and only if it is behind."""
        if self.changes() == self._documented_at_change:
            return False
        if final or not self.store.json_file.exists():  # a new directory gets one with its first save
            return True
        return time.monotonic() - self._documented_at >= DOCUMENT_EVERY

    def save_if_changed(self, *, final: bool = False) -> None:
        document = self._document_due(final=final)
        if self.changes() == self._saved_at_change and not document:
            return
        with self.lock.exclusive():
            current = self.changes()
            snapshot = self.store.capture(document=document)
        self.store.write(snapshot)
        self._saved_at_change = current
        if document:
            self._documented_at_change, self._documented_at = current, time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(POLL):
            if self.changes() == self._saved_at_change:
                if self._document_due(final=False):  # quiet now, but state.json is behind
                    self._save_logging_failure()
                continue
            now = time.monotonic()
            if self._first_unsaved is None:
                self._first_unsaved = now
            if now - self._first_unsaved < SAVE_AFTER:
                continue
            self._first_unsaved = None
            self._save_logging_failure()

    def _save_logging_failure(self) -> None:
        try:
            self.save_if_changed()
        except Exception:  # keep serving; the next change retries the save
            log.exception("saving the sandbox state failed")

    def stop(self) -> None:
        """Stop the timer and save what is left (a clean stop keeps everything)."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.save_if_changed(final=True)
