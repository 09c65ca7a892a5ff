"""`python -m sandbox export DIR FILE` and `python -m sandbox import FILE DIR`.

Export reads a data directory (never one a sandbox is using: its lock is
taken, or the export refused) and writes the document of
`sandbox/state_export.py` to FILE, with each distinct body once in
`FILE.bodies/<sha256>`. Import checks such a document and its bodies (each
body's size and SHA-256) and writes a fresh data directory from it, which a
sandbox then starts on. Neither leaves anything half-written: on any failure
what it created is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from moto.s3.models import FakeKey

from sandbox import moto_seams, state_export
from sandbox.persistence import DIRECTORY_MODE, COPY_CHUNK, DamagedState, Store, _open_private, _write_atomically

SHA256_NAME = re.compile(r"[0-9a-f]{64}")


class BadInput(Exception):
    """What the person asked cannot be done; the message says why."""


def bodies_of(file: Path) -> Path:
    return file.with_name(file.name + ".bodies")


@contextlib.contextmanager
def _store(data_dir: Path) -> Iterator[Store]:
    store = Store(data_dir)
    try:
        store.open()
    except DamagedState as exc:  # in use by a running sandbox
        raise BadInput(str(exc)) from None
    try:
        yield store
    finally:
        store.close()


def _copy_hashed(source: Path | bytes, bodies: Path) -> str:
    """Copy a body into `bodies` under its SHA-256, reading it in chunks."""
    digest = hashlib.sha256()
    temporary = bodies / ".incoming.tmp"
    with open(_open_private(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as out:
        if isinstance(source, bytes):
            digest.update(source)
            out.write(source)
        else:
            with open(source, "rb") as reading:
                while chunk := reading.read(COPY_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    name = digest.hexdigest()
    os.replace(temporary, bodies / name)
    return name


def export_state(data_dir: Path, file: Path) -> str:
    """Write DIR's state to FILE and FILE.bodies/; returns the line of figures."""
    started = time.perf_counter()
    if not data_dir.is_dir():
        raise BadInput(f"{data_dir} is not a directory")
    if not (data_dir / "state.bin").is_file() and not (data_dir / "state.json").is_file():
        raise BadInput(f"{data_dir} holds no sandbox state (no state.bin or state.json)")
    bodies = bodies_of(file)
    for existing in (file, bodies):
        if existing.exists():
            raise BadInput(f"{existing} already exists; export to a new name")
    if not file.parent.is_dir():
        raise BadInput(f"{file.parent} is not a directory")
    moto_seams.install()
    with _store(data_dir) as store:
        try:
            store.load()
        except DamagedState as exc:
            raise BadInput(str(exc)) from None
        bodies.mkdir(mode=DIRECTORY_MODE)
        try:
            copied: dict[Path, str] = {}

            def body_name(key: FakeKey) -> str:
                source = moto_seams.persistence.body_source(key)
                if not isinstance(source, Path):
                    return _copy_hashed(source(), bodies)
                if source not in copied:
                    copied[source] = _copy_hashed(source, bodies)
                return copied[source]

            doc = state_export.document(body_name=body_name)
            _write_atomically(file, [json.dumps(doc, indent=1).encode(), b"\n"])
        except BaseException:
            shutil.rmtree(bodies, ignore_errors=True)
            raise
    stored = sum(p.stat().st_size for p in bodies.iterdir())
    return (
        f"exported {state_export.summary(doc)} to {file}, {len(list(bodies.iterdir()))} body files "
        f"({stored / 1e6:.1f} MB) in {bodies}, in {time.perf_counter() - started:.2f} s"
    )


def import_state(file: Path, data_dir: Path) -> str:
    """Write a fresh DIR from FILE and FILE.bodies/; returns the line of figures."""
    started = time.perf_counter()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{file} does not exist") from None
    except IsADirectoryError:
        raise BadInput(f"{file} is a directory, not a state document") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise BadInput(f"{file} is not JSON ({exc})") from None
    try:
        state_export.check(doc, source=str(file))
    except state_export.BadDocument as exc:
        raise BadInput(str(exc)) from None
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BadInput(f"{data_dir} is not empty; import writes a fresh data directory (name a new or empty one)")
    bodies = bodies_of(file)

    def body_path(name: str, size: int) -> Path:
        if not isinstance(name, str) or not SHA256_NAME.fullmatch(name):  # never a path out of FILE.bodies/
            raise state_export.BadDocument(f"{file} names a body {name!r} that is not a SHA-256")
        path = bodies / name
        if not path.is_file():
            raise state_export.BadDocument(f"body {name} is missing from {bodies}")
        if path.stat().st_size != size:
            raise state_export.BadDocument(f"body {name} in {bodies} is {path.stat().st_size} bytes, not {size}")
        digest = hashlib.sha256()
        with open(path, "rb") as reading:
            while chunk := reading.read(COPY_CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != name:
            raise state_export.BadDocument(f"body {name} in {bodies} is damaged (its SHA-256 differs)")
        return path

    moto_seams.install()
    try:
        state_export.restore(doc, source=str(file), body_path=body_path)
    except state_export.BadDocument as exc:
        raise BadInput(str(exc)) from None
    existed = data_dir.exists()
    try:
        with _store(data_dir) as store:
            snapshot = store.capture()  # bodies are copied from FILE.bodies/ into objects/, not read into memory
            if snapshot.document is None:  # logged by capture; a directory without its JSON form would not survive an upgrade
                raise BadInput(f"{file} was read, but its state could not be written back as JSON (see the log above)")
            store.write(snapshot)
    except BaseException:
        if existed:
            for child in data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return (
        f"imported {state_export.summary(doc)} into {data_dir}, {len(snapshot.referenced)} body files, "
        f"in {time.perf_counter() - started:.2f} s"
    )
