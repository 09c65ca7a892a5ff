"""moto's state, pickled for the data directory (`sandbox/persistence.py`).

The sandbox keeps its state by pickling moto's backends for the services it
serves. Two kinds of moto object need help: moto's own signing key object
(joserfc's RSAKey, which pickle cannot handle; it is moto's shared key, which
no pool may use, so it is never written) and S3 objects, whose bodies are
stored as files named by content, so a large photo is written once rather
than on every snapshot. Each pool's own key (SigningKey) pickles as its PEM.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

from joserfc.jwk import RSAKey
from moto import __version__ as MOTO_VERSION  # noqa: F401  (the state file's header records it)
from moto.cognitoidp.models import cognitoidp_backends
from moto.iam.models import iam_backends
from moto.s3.models import FakeKey, s3_backends

from sandbox.moto_seams.cognitoidp import signing_keys_for_pools_without
from sandbox.moto_seams.core import ACCOUNT_ID

_SNAPSHOT = {"cognito-idp": cognitoidp_backends, "iam": iam_backends, "s3": s3_backends}

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
        for region, backend in state[name].items():
            backends[ACCOUNT_ID][region] = backend
    s3_backends.bucket_accounts.update(state["s3-bucket-accounts"])
    return signing_keys_for_pools_without()


def _user_pool_signing_key() -> None:
    """What a saved pool's `json_web_key` (moto's shared key) loads as: nothing.
    Snapshots written before pools had their own keys name this function."""
    return None


def _object_with_body(state: dict[str, Any], ref: str) -> FakeKey:
    """Stands in the pickle for an S3 object; SnapshotUnpickler swaps in a
    version that reads the body `ref` from the data directory."""
    raise pickle.UnpicklingError("S3 objects can only be loaded by SnapshotUnpickler")


def _object_from(state: dict[str, Any], body: bytes) -> FakeKey:
    key = FakeKey.__new__(FakeKey)
    key.__setstate__({**state, "value": body})
    return key


def body_ref(key: FakeKey) -> str:
    """A file name for an object's body: its MD5 (the ETag of a single PUT) and size."""
    return f"{key.etag.strip(chr(34))}-{key.size}"


class SnapshotPickler(pickle.Pickler):
    """Pickles moto state, handing each S3 object body to `store_body(ref, read)`."""

    def __init__(self, file: Any, *, store_body: Callable[[str, Callable[[], bytes]], None]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._store_body = store_body

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):  # moto's shared key: never persisted
            return (_user_pool_signing_key, ())
        if isinstance(obj, FakeKey):
            ref = body_ref(obj)
            self._store_body(ref, lambda: obj.value)
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            return (_object_with_body, (state, ref))
        if isinstance(obj, type(threading.Lock())):
            return (threading.Lock, ())
        if isinstance(obj, type(threading.RLock())):
            return (threading.RLock, ())
        return NotImplemented


class SnapshotUnpickler(pickle.Unpickler):
    """Loads what SnapshotPickler wrote, reading bodies with `load_body(ref)`."""

    def __init__(self, file: Any, *, load_body: Callable[[str], bytes]) -> None:
        super().__init__(file)
        self._load_body = load_body

    def find_class(self, module: str, name: str) -> Any:
        module = _MOVED_MODULES.get(module, module)
        if (module, name) == (__name__, "_object_with_body"):
            return lambda state, ref: _object_from(state, self._load_body(ref))
        return super().find_class(module, name)
