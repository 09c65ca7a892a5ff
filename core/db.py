"""Writing one row without a transaction around it.

On SQLite (`make run`) a transaction holds the database's one write lock
from BEGIN IMMEDIATE to COMMIT, and between those statements the thread
must win the GIL back each time: under fifty concurrent requests in one
runserver process that took 80 ms on average for a lone INSERT, and
writers queued behind such transactions past the busy timeout with
"database is locked" (a 500; bench/load.py measured it). One statement in
autocommit takes and releases the lock inside SQLite's own C code, with no
Python in between. Django wraps a lone INSERT in a transaction in
get_or_create and whenever a caller adds atomic() to catch IntegrityError;
`row_insert` is that INSERT without it."""

from __future__ import annotations

from django.db import models, transaction


def row_insert(instance: models.Model) -> None:
    """INSERT `instance` (IntegrityError if it breaks a unique constraint).

    Outside a transaction: one statement in autocommit. Inside a caller's
    (a test, a management command): in a savepoint, so a duplicate leaves
    the caller's transaction usable, as atomic() would."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            instance.save(force_insert=True)
    else:
        instance.save(force_insert=True)
