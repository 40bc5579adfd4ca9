"""The database guard that makes the trail and its log append-only.

Append-only tables: the events, the log's leaves and nodes, the checkpoints, the verifier keys
and the record of mailed checkpoints. PostgreSQL: a trigger refuses UPDATE, DELETE and
TRUNCATE on each. SQLite (the embedded default): triggers refuse UPDATE and DELETE.

The stream heads may change, but only forward: a head is inserted at ``seq`` 0 with the
genesis hash, and an update must move it to ``seq + 1`` and the hash of the event stored with
that ``seq`` in its stream; a head is never deleted and never renamed.

Only ``manage.py flush``, which test runners use between transactional tests, may empty the
tables, through an explicit flag that it alone sets: the session setting ``kla.trail_flush``
on PostgreSQL, a per-connection SQL function ``kla_trail_flush()`` on SQLite (SQLite triggers
cannot read a temp table); and ``flush`` itself refuses unless ``TRAIL_FLUSH_ALLOWED=1``.
None of this is access control: a database owner can pass it (the checkpoints held outside
the database are what catch them).

``install`` guards every table of the list that exists, so it is safe to call from any
migration; one that rebuilds a guarded table on SQLite (``AlterField`` and friends copy the
table and drop its triggers) must call it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "workflows_trailevent"
HEADS = "workflows_trailstream"
APPEND_ONLY = (
    TABLE,
    "workflows_trailleaf",
    "workflows_trailnode",
    "workflows_trailcheckpoint",
    "workflows_trailkey",
    "workflows_checkpointmail",
)
GENESIS = "0" * 64

POSTGRES_FUNCTIONS = """
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
CREATE OR REPLACE FUNCTION kla_trail_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq = 0 AND NEW.head_hash = repeat('0', 64) THEN RETURN NEW; END IF;
        RAISE EXCEPTION 'a stream head starts at seq 0'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.name = OLD.name AND NEW.seq = OLD.seq + 1 AND EXISTS (
            SELECT 1 FROM workflows_trailevent e
            WHERE e.stream_id = NEW.id AND e.seq = NEW.seq AND e.hash = NEW.head_hash
        ) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'a stream head moves only forward to its next event'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(current_setting('kla.trail_flush', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'stream heads are never deleted: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def _postgres_table(table: str) -> str:
    # The event table keeps the trigger names it has had from the start.
    prefix = "trail" if table == TABLE else table
    return f"""
DROP TRIGGER IF EXISTS {prefix}_append_only ON {table};
CREATE TRIGGER {prefix}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION kla_trail_guard();
DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table};
CREATE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION kla_trail_guard();
"""


POSTGRES_HEADS = f"""
DROP TRIGGER IF EXISTS trail_head_forward ON {HEADS};
CREATE TRIGGER trail_head_forward BEFORE INSERT OR UPDATE OR DELETE ON {HEADS}
    FOR EACH ROW EXECUTE FUNCTION kla_trail_head_guard();
DROP TRIGGER IF EXISTS trail_head_no_truncate ON {HEADS};
CREATE TRIGGER trail_head_no_truncate BEFORE TRUNCATE ON {HEADS}
    FOR EACH STATEMENT EXECUTE FUNCTION kla_trail_head_guard();
"""


def _sqlite_table(table: str) -> list[str]:
    prefix = "trail" if table == TABLE else table
    return [
        f"DROP TRIGGER IF EXISTS {prefix}_no_update",
        f"""CREATE TRIGGER {prefix}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, 'the trail is append-only: UPDATE is refused'); END""",
        f"DROP TRIGGER IF EXISTS {prefix}_no_delete",
        f"""CREATE TRIGGER {prefix}_no_delete BEFORE DELETE ON {table} WHEN NOT kla_trail_flush()
            BEGIN SELECT RAISE(ABORT, 'the trail is append-only: DELETE is refused'); END""",
    ]


SQLITE_HEADS = [
    "DROP TRIGGER IF EXISTS trail_head_insert",
    f"""CREATE TRIGGER trail_head_insert BEFORE INSERT ON {HEADS}
        WHEN NEW.seq != 0 OR NEW.head_hash != '{GENESIS}'
        BEGIN SELECT RAISE(ABORT, 'a stream head starts at seq 0'); END""",
    "DROP TRIGGER IF EXISTS trail_head_forward",
    f"""CREATE TRIGGER trail_head_forward BEFORE UPDATE ON {HEADS}
        WHEN NOT (NEW.name = OLD.name AND NEW.seq = OLD.seq + 1 AND EXISTS (
            SELECT 1 FROM {TABLE} e
            WHERE e.stream_id = NEW.id AND e.seq = NEW.seq AND e.hash = NEW.head_hash))
        BEGIN SELECT RAISE(ABORT, 'a stream head moves only forward to its next event'); END""",  # noqa: S608 -- constant names
    "DROP TRIGGER IF EXISTS trail_head_no_delete",
    f"""CREATE TRIGGER trail_head_no_delete BEFORE DELETE ON {HEADS} WHEN NOT kla_trail_flush()
        BEGIN SELECT RAISE(ABORT, 'stream heads are never deleted'); END""",
]


def _existing(connection: BaseDatabaseWrapper) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def install(connection: BaseDatabaseWrapper) -> None:
    """Install (or re-install) the guard on every guarded table this database has."""
    tables = _existing(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTIONS)
            for table in APPEND_ONLY:
                if table in tables:
                    cursor.execute(_postgres_table(table))
            if HEADS in tables:
                cursor.execute(POSTGRES_HEADS)
        elif connection.vendor == "sqlite":
            for table in APPEND_ONLY:
                if table in tables:
                    for statement in _sqlite_table(table):
                        cursor.execute(statement)
            if HEADS in tables:
                for statement in SQLITE_HEADS:
                    cursor.execute(statement)


def remove(connection: BaseDatabaseWrapper) -> None:
    tables = _existing(connection)
    with connection.cursor() as cursor:
        for table in APPEND_ONLY:
            if table not in tables:
                continue
            prefix = "trail" if table == TABLE else table
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table}")
            elif connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_delete")
        if HEADS in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS trail_head_forward ON {HEADS}")
                cursor.execute(f"DROP TRIGGER IF EXISTS trail_head_no_truncate ON {HEADS}")
            elif connection.vendor == "sqlite":
                for name in ("trail_head_insert", "trail_head_forward", "trail_head_no_delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS kla_trail_head_guard()")
            cursor.execute("DROP FUNCTION IF EXISTS kla_trail_guard()")


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` hook: the per-connection flag function SQLite's trigger reads."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "kla_trail_flush", 0, lambda: int(getattr(connection, "kla_trail_flush", False))
        )


@contextmanager
def flush_allowed(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let this connection empty the trail, for ``manage.py flush`` only.

    The switch is a session setting: through a transaction-mode pooler it would stay on the
    pooled server connection for whoever gets it next, so it is refused there
    (docs/scale-out.md): flush on a direct connection.
    """
    if connection.vendor == "postgresql" and connection.settings_dict.get(
        "DISABLE_SERVER_SIDE_CURSORS"
    ):
        raise RuntimeError(
            "flush through a transaction-mode pooler (DATABASE_POOLER=transaction) is refused:"
            " connect to PostgreSQL directly"
        )
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
