"""The database guard that makes the trail append-only.

PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE on the trail table. SQLite (the
embedded default): triggers refuse UPDATE and DELETE. Only ``manage.py flush``, which test
runners use between transactional tests, may empty the table, through an explicit flag that
it alone sets: the session setting ``kla.trail_flush`` on PostgreSQL, a per-connection SQL
function ``kla_trail_flush()`` on SQLite (SQLite triggers cannot read a temp table).

A migration that rebuilds the trail table on SQLite (``AlterField`` and friends copy the
table and drop its triggers) must call ``install`` again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "workflows_trailevent"

POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION kla_trail_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND coalesce(current_setting('kla.trail_flush', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS trail_append_only ON {TABLE};
CREATE TRIGGER trail_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION kla_trail_guard();
DROP TRIGGER IF EXISTS trail_no_truncate ON {TABLE};
CREATE TRIGGER trail_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION kla_trail_guard();
"""

POSTGRES_REMOVE = f"""
DROP TRIGGER IF EXISTS trail_append_only ON {TABLE};
DROP TRIGGER IF EXISTS trail_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS kla_trail_guard();
"""

SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS trail_no_update",
    f"""CREATE TRIGGER trail_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the trail is append-only: UPDATE is refused'); END""",
    "DROP TRIGGER IF EXISTS trail_no_delete",
    f"""CREATE TRIGGER trail_no_delete BEFORE DELETE ON {TABLE} WHEN NOT kla_trail_flush()
        BEGIN SELECT RAISE(ABORT, 'the trail is append-only: DELETE is refused'); END""",
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS trail_no_update", "DROP TRIGGER IF EXISTS trail_no_delete"]


def install(connection: BaseDatabaseWrapper) -> None:
    """Install (or re-install) the guard on this database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_INSTALL:
                cursor.execute(statement)


def remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_REMOVE)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_REMOVE:
                cursor.execute(statement)


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` hook: the per-connection flag function SQLite's trigger reads."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "kla_trail_flush", 0, lambda: int(getattr(connection, "kla_trail_flush", False))
        )


@contextmanager
def flush_allowed(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let this connection empty the trail, for ``manage.py flush`` only."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET kla.trail_flush = 'on'")
    connection.kla_trail_flush = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        connection.kla_trail_flush = False  # type: ignore[attr-defined]
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET kla.trail_flush")
