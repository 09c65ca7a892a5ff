"""The test database (tests/conftest.py, django_db_modify_db_settings): a
file of this run's own, where threads writing at once (the live server's
request threads) each wait for the write lock instead of failing with
"database table is locked" as they did on the shared-cache in-memory one."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from accounts.models import User

WRITERS = 6
ROWS_EACH = 15


@pytest.mark.django_db
def test_it_is_a_private_file_in_wal_mode_under_the_runs_temp_directory(tmp_path_factory):
    """Not in memory: a 0600 file in WAL mode, under this run's pytest temp directory (unique per run)."""
    database = Path(connection.settings_dict["NAME"])
    assert not connection.is_in_memory_db()
    assert database.is_relative_to(tmp_path_factory.getbasetemp())
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.django_db(transaction=True)
def test_threads_writing_at_once_all_commit():
    """Six threads, each with its own connection, write in IMMEDIATE transactions at once: every row is committed, no error."""
    start = threading.Barrier(WRITERS, timeout=30)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for row in range(ROWS_EACH):
                with transaction.atomic():
                    User.objects.create(username=f"w{writer}-{row}")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert User.objects.filter(username__startswith="w").count() == WRITERS * ROWS_EACH
