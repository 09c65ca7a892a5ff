"""Django's SQLite backend, with the database readable by its owner only.

Sessions live in this database and hold each signed-in user's Cognito tokens
(the refresh token lasts 30 days), so the file must not be readable by other
accounts on the machine, as the usual umask (022) would make it. SQLite
creates the file on the first connection; this backend makes sure, before
every new connection, that the var directory is 0700 and the database file
0600, tightening them when they already exist looser (a checkout made
before this rule, a copied file). SQLite gives its journal and WAL files the
database file's mode, so they follow.

Used as ENGINE "photoshare.private_sqlite3" in settings.DATABASES."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create `path` as 0700, or tighten it to 0700 if it exists looser."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & ~PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Create `path` empty as 0600 (SQLite takes an empty file for a new
    database), or tighten it to 0600 if it exists looser.

    An existing file is only stat'ed and chmod'ed by name, never opened:
    closing any descriptor of a file drops every POSIX lock this process
    holds on it, and SQLite's locks are POSIX locks. Opening and closing the
    database here while another thread's connection holds its lock would let
    a second writer in, the way "How To Corrupt An SQLite Database File"
    (https://www.sqlite.org/howtocorrupt.html, section 2.2) describes. Only a
    file this call creates itself (O_EXCL) is opened, and no one can hold a
    lock on that yet."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & ~PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)
        return
    os.close(descriptor)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.is_in_memory_db():
            database = Path(conn_params["database"])
            private_dir(Path(settings.VAR_DIR))
            # Only a directory we create: tightening one the operator chose
            # (DATABASE_PATH=/srv/data/...) could break whatever else lives there.
            if not database.parent.exists():
                private_dir(database.parent)
            private_file(database)
        return super().get_new_connection(conn_params)
