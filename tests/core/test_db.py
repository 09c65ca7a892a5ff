"""core.db.row_insert: one INSERT with no transaction around it when the
caller has none (on SQLite a transaction holds the one write lock across
GIL waits), and a savepoint when the caller has one, so a duplicate leaves
the caller's transaction usable."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from core.db import row_insert


def _statements(run) -> list[tuple[str, bool]]:
    """Each SQL statement `run()` sends, with whether it ran inside an atomic block."""
    sent: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        sent.append((sql.split(" ", 1)[0].upper(), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return sent


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_insert_is_one_autocommit_statement():
    """No BEGIN, no SAVEPOINT: the INSERT alone, outside any atomic block."""
    sent = _statements(lambda: row_insert(User(username="first")))
    assert sent == [("INSERT", False)]
    assert User.objects.filter(username="first").exists()


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_outside_a_transaction_is_an_integrity_error():
    """The unique constraint still speaks, and nothing else is written."""
    row_insert(User(username="taken"))
    with pytest.raises(IntegrityError):
        row_insert(User(username="taken"))
    assert User.objects.filter(username="taken").count() == 1


@pytest.mark.django_db
def test_inside_a_transaction_a_duplicate_leaves_it_usable():
    """In the caller's atomic block a duplicate rolls back to a savepoint; the caller's next query works."""
    with transaction.atomic():
        row_insert(User(username="taken"))
        with pytest.raises(IntegrityError):
            row_insert(User(username="taken"))
        assert User.objects.filter(username="taken").count() == 1  # would raise TransactionManagementError without the savepoint
