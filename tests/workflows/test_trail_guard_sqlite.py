"""The append-only guard on SQLite, the embedded database of ``make demo`` (``make test-fast``).

SQLite's triggers refuse UPDATE and DELETE; only ``flush`` passes, through the per-connection
function ``kla_trail_flush()`` that it alone switches on.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests import factories as f
from workflows.models import TrailEvent
from workflows.trail.guard import flush_allowed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite guard; PostgreSQL's has tests of its own")


def _flag() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT kla_trail_flush()")
        value: int = cursor.fetchone()[0]
    return value


def test_the_migrations_install_both_triggers(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            ["workflows_trailevent"],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"trail_no_update", "trail_no_delete"}


@pytest.mark.parametrize(
    "sql",
    ["UPDATE workflows_trailevent SET note = 'diubah'", "DELETE FROM workflows_trailevent"],
)
def test_the_database_refuses_changes_to_the_trail(submitted: Any, sql: str) -> None:
    before = list(TrailEvent.objects.order_by("pk").values_list("pk", "note"))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert list(TrailEvent.objects.order_by("pk").values_list("pk", "note")) == before


def test_every_connection_has_the_flag_function_and_it_starts_off(db: Any) -> None:
    assert _flag() == 0


def test_the_flag_lets_deletes_through_and_never_outlives_its_block(submitted: Any) -> None:
    with transaction.atomic():
        with flush_allowed(connection):
            assert _flag() == 1
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM workflows_trailevent")
            assert not TrailEvent.objects.exists()
        assert _flag() == 0
        transaction.set_rollback(True)  # the test's own data stays for the other checks
    assert TrailEvent.objects.exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TrailEvent.objects.all().delete()


def test_the_flag_does_not_pass_an_update(submitted: Any) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        flush_allowed(connection),
    ):
        TrailEvent.objects.update(note="diubah")


@pytest.mark.django_db(transaction=True)
def test_flush_alone_may_empty_the_trail(operator: Any) -> None:
    f.make_draft(operator)
    assert TrailEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not TrailEvent.objects.exists()
    assert _flag() == 0
