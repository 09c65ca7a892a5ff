"""moto's state, pickled for the data directory (`sandbox/persistence.py`).

The sandbox keeps its state by pickling moto's backends for the services it
serves (DynamoDB's tables and items included). Three kinds of moto object need help: moto's own signing key object
(joserfc's RSAKey, which pickle cannot handle; it is moto's shared key, which
no pool may use, so it is never written), S3 objects, whose bodies are
stored as files named by content, so a large photo is written once rather
than on every snapshot, and a bucket's keys (`_VersionedKeyStore`, a dict
that pickle would save with each key's latest version only). Each pool's own
key (SigningKey) pickles as its PEM.

A restored object does not read its body at start-up: moto keeps a body in
`FakeKey._value_buffer` (a SpooledTemporaryFile it seeks, reads, truncates,
writes and closes), and a restored key gets a `BodyOnDisk` there instead,
which opens the body file for each read and closes it again. Start-up then
costs a stat per body, not a read, and holds no file descriptor open
however many objects there are.
"""

from __future__ import annotations

import copy
import os
import pickle
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from moto import __version__ as MOTO_VERSION  # noqa: F401  (the state file's header records it)
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.s3.models import FakeKey, s3_backends
from moto.s3.utils import _VersionedKeyStore

from sandbox.moto_seams.cognitoidp import signing_keys_for_pools_without
from sandbox.moto_seams.core import ACCOUNT_ID

_SNAPSHOT = {"cognito-idp": cognitoidp_backends, "iam": iam_backends, "s3": s3_backends, "dynamodb": dynamodb_backends}

# Where the classes a snapshot names lived before the sandbox was laid out one
# package per service: state saved then still loads.
_MOVED_MODULES = {
    "sandbox.identity_pool": "sandbox.cognito_identity.models",
    "sandbox.user_pool_codes": "sandbox.cognito_idp.codes",
    "sandbox.user_pool_keys": "sandbox.cognito_idp.keys",
    "sandbox.moto_seams": __name__,
}


def backends_snapshot() -> dict[str, Any]:
    """The moto state to persist (issued STS sessions are left out on purpose)."""
    state: dict[str, Any] = {name: dict(backends[ACCOUNT_ID]) for name, backends in _SNAPSHOT.items()}
    state["s3-bucket-accounts"] = dict(s3_backends.bucket_accounts)
    return state


def backends_restore(state: dict[str, Any]) -> list[str]:
    """Install saved state; returns the IDs of the user pools that were given
    a key of their own because they were saved without one."""
    for name, backends in _SNAPSHOT.items():
        for region, backend in state.get(name, {}).items():  # state saved before DynamoDB was served has none
            backends[ACCOUNT_ID][region] = backend
    s3_backends.bucket_accounts.update(state["s3-bucket-accounts"])
    return signing_keys_for_pools_without()


def _user_pool_signing_key() -> None:
    """What a saved pool's `json_web_key` (moto's shared key) loads as: nothing.
    Snapshots written before pools had their own keys name this function."""
    return None


class BodyOnDisk:
    """What a restored S3 object keeps as moto's `_value_buffer`: the body
    file, opened only for the duration of each read.

    moto only seeks, reads, truncates, writes and closes the buffer. A write
    (moto replacing the body in place, which it does not do for a stored
    object today) moves the body into a SpooledTemporaryFile, as moto's own
    keys hold it, so the file on disk is never written through this."""

    def __init__(self, path: Path, max_size: int) -> None:
        self.path = path
        self._max_size = max_size
        self._position = 0
        self._closed = False
        self._replaced: Any = None  # the SpooledTemporaryFile once written to

    def _check(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed file.")  # what moto expects of a deleted key's buffer

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._check()
        if self._replaced is not None:
            return self._replaced.seek(offset, whence)
        if whence == os.SEEK_END:
            offset += self.path.stat().st_size
        elif whence == os.SEEK_CUR:
            offset += self._position
        self._position = max(0, offset)
        return self._position

    def tell(self) -> int:
        self._check()
        return self._replaced.tell() if self._replaced is not None else self._position

    def read(self, size: int = -1) -> bytes:
        self._check()
        if self._replaced is not None:
            return self._replaced.read(size)
        with open(self.path, "rb") as handle:
            handle.seek(self._position)
            data = handle.read(size)
        self._position += len(data)
        return data

    def truncate(self, size: int | None = None) -> int:
        self._check()
        if self._replaced is None:
            self._replaced = tempfile.SpooledTemporaryFile(max_size=self._max_size)
            if size:
                self._replaced.write(self.read(size))
        return self._replaced.truncate(size)

    def write(self, data: bytes) -> int:
        self._check()
        if self._replaced is None:
            self.truncate(self._position)
        return self._replaced.write(data)

    def close(self) -> None:
        if self._replaced is not None:
            self._replaced.close()
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed


def body_on_disk(key: FakeKey) -> Path | None:
    """The file a restored object reads its body from; None when moto holds the body itself."""
    buffer = key.__dict__.get("_value_buffer")
    if isinstance(buffer, BodyOnDisk) and buffer._replaced is None:
        return buffer.path
    return None


def object_with_body_on_disk(state: dict[str, Any], path: Path) -> FakeKey:
    """An S3 object whose attributes are `state` and whose body is the file at `path`, unread."""
    key = FakeKey.__new__(FakeKey)
    key.__dict__.update({k: v for k, v in state.items() if k not in ("value", "_value_buffer", "lock")})
    key._value_buffer = BodyOnDisk(path, key._max_buffer_size)
    key.lock = threading.Lock()
    return key


def _deepcopy_keeping_body_on_disk(self: FakeKey, memo: dict[int, Any]) -> FakeKey:
    """ListObjectVersions deep-copies every version; a restored one is copied
    pointing at the same body file rather than read into memory. Other keys
    copy as moto's own do, through their pickling state."""
    path = body_on_disk(self)
    duplicate = FakeKey.__new__(FakeKey)
    memo[id(self)] = duplicate
    if path is None:
        duplicate.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return duplicate
    state = {k: v for k, v in self.__dict__.items() if k not in ("_value_buffer", "lock")}
    duplicate.__dict__.update(copy.deepcopy(state, memo))
    duplicate._value_buffer = BodyOnDisk(path, duplicate._max_buffer_size)
    duplicate.lock = threading.Lock()
    return duplicate


def install() -> None:
    """Restored objects' bodies stay on disk when moto copies a key's versions."""
    FakeKey.__deepcopy__ = _deepcopy_keeping_body_on_disk


def _object_with_body(state: dict[str, Any], ref: str) -> FakeKey:
    """Stands in the pickle for an S3 object; SnapshotUnpickler swaps in a
    version that finds the body `ref` in the data directory."""
    raise pickle.UnpicklingError("S3 objects can only be loaded by SnapshotUnpickler")


def _versioned_key_store(lists: list[tuple[str, list[Any]]]) -> _VersionedKeyStore:
    """A bucket's keys with every version, as SnapshotPickler saved them."""
    store = _VersionedKeyStore()
    for name, versions in lists:
        store.setlist(name, versions)
    return store


def body_ref(key: FakeKey) -> str:
    """A file name for an object's body: its MD5 (the ETag of a single PUT) and size."""
    return f"{key.etag.strip(chr(34))}-{key.size}"


BodySource = Path | Callable[[], bytes]  # the file a body is in already, or how to read it from moto


def body_source(key: FakeKey) -> BodySource:
    path = body_on_disk(key)
    return path if path is not None else (lambda: key.value)


class SnapshotPickler(pickle.Pickler):
    """Pickles moto state, handing each S3 object body to `store_body(ref, source)`."""

    def __init__(self, file: Any, *, store_body: Callable[[str, BodySource], None]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._store_body = store_body

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):  # moto's shared key: never persisted
            return (_user_pool_signing_key, ())
        if isinstance(obj, FakeKey):
            ref = body_ref(obj)
            self._store_body(ref, body_source(obj))  # read only when the store has no such body yet
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            return (_object_with_body, (state, ref))
        if isinstance(obj, _VersionedKeyStore):
            # pickle saves a dict subclass through items(), which this one
            # answers with each key's latest version only: every older version
            # and the version under a delete marker would be lost.
            return (_versioned_key_store, ([(name, list(versions)) for name, versions in obj.iterlists()],))
        if isinstance(obj, type(threading.Lock())):
            return (threading.Lock, ())
        if isinstance(obj, type(threading.RLock())):
            return (threading.RLock, ())
        return NotImplemented


class SnapshotUnpickler(pickle.Unpickler):
    """Loads what SnapshotPickler wrote; `body_path(ref)` says where each body
    is (it checks the file is there), and the body is read only when asked for."""

    def __init__(self, file: Any, *, body_path: Callable[[str], Path]) -> None:
        super().__init__(file)
        self._body_path = body_path

    def find_class(self, module: str, name: str) -> Any:
        module = _MOVED_MODULES.get(module, module)
        if (module, name) == (__name__, "_object_with_body"):
            return lambda state, ref: object_with_body_on_disk(state, self._body_path(ref))
        return super().find_class(module, name)
