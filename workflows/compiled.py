"""Statements compiled once per process, with stand-ins for the values that change.

Building the ORM's subqueries anew on every action cost more than running them; the hot
statements of an action (``workflows.locked_read``, ``workflows.summaries``,
``workflows.notifications.write``) are compiled once with stand-ins in place of the ids,
names and values of one call, and ``bind`` puts that call's values in their places.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


class Mark:
    """A stand-in for a value in a hand-written part of a compiled statement."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<mark {self.name}>"


def bind(params: Iterable[Any], marks: Mapping[Any, Any]) -> list[Any]:
    """A compiled statement's parameters with each stand-in replaced by this call's value.

    A stand-in is a ``Mark``, or an int or a text the ORM compiled into the statement that no
    real value takes (a large negative id, a name with a NUL in it).
    """
    return [marks.get(p, p) if isinstance(p, int | str | Mark) else p for p in params]


# --- running them: prepared on PostgreSQL ----------------------------------------------------


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's cursor binding on the server, each statement prepared on its first run.

    The server then parses and plans a compiled statement once per connection instead of on
    every action; psycopg keeps the prepared statements per connection (``prepared_max``).
    """

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs["prepare"] = True
        return super().execute(query, params, **kwargs)


def prepared() -> bool:
    """Whether the compiled statements run prepared: PostgreSQL, and not turned off for a
    pooler that does not carry prepared statements over (``DATABASE_PREPARED_STATEMENTS``)."""
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


def compiled_cursor() -> Any:
    """A cursor for compiled statements: Django's own, except that on PostgreSQL (unless
    ``prepared()`` says no) it binds on the server and prepares what it runs. Django's execute
    wrappers and query logging see it as any cursor of the connection."""
    if not prepared():
        return connection.cursor()
    # What Django's ``cursor()`` does first: a dead kept connection is replaced, not used.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _PreparedCursor(connection.connection)
    # As Django's ``create_cursor``: the connection's time zone when its loader has another.
    if (
        connection.timezone
        != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone
    ):
        register_tzloader(connection.timezone, raw)
    if connection.queries_logged:
        return _PreparedDebugWrapper(raw, connection)
    return CursorWrapper(raw, connection)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Django's logging cursor (DEBUG, the tests' query counts), logging each statement with
    its values in place, as Django logs its own: psycopg keeps no text of a prepared
    statement's run for ``last_executed_query`` to read."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def sent_together() -> Iterator[None]:
    """Inside it, compiled statements go to PostgreSQL without waiting for each one's answer
    (psycopg's pipeline mode): a statement whose rows are read waits for the ones sent before
    it, and whatever is left is answered on leaving. A failed statement raises Django's error
    there, at the latest, and the ones after it do not run. Without ``prepared()`` (SQLite,
    a pooler) each statement waits for its answer, as anywhere else."""
    if not connection.in_atomic_block:
        # Each answer read would commit what was sent before it.
        raise TransactionManagementError("statements are sent together inside a transaction")
    if not prepared():
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


# --- model instances from a compiled query --------------------------------------------------


@dataclass(frozen=True)
class CompiledQuery:
    """A model queryset (with ``select_related``) compiled once: its SQL and parameters with
    stand-ins, and what Django's own iterator needs to build its instances from the rows (the
    selected columns, the models they belong to, the converters of their fields)."""

    sql: str
    params: tuple[Any, ...]
    select: tuple[Any, ...]
    klass_info: dict[str, Any]
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]

    @classmethod
    def of(cls, queryset: QuerySet[Any]) -> CompiledQuery:
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        # ``instances`` builds the model's fields and its select_related alone.
        assert not compiler.annotation_col_map, "annotations are not built by CompiledQuery"
        select = tuple(compiler.select)
        found = compiler.get_converters([column for column, _sql, _alias in select])
        return cls(
            sql=sql,
            params=tuple(params),
            select=select,
            klass_info=compiler.klass_info,
            converters=tuple((pos, tuple(f), e) for pos, (f, e) in sorted(found.items())),
        )

    def instances(self, marks: Mapping[Any, Any]) -> list[Any]:
        """Run it with this call's values in place of the stand-ins and build the instances,
        related ones attached, as ``QuerySet.__iter__`` would."""
        with compiled_cursor() as running:
            running.execute(self.sql, bind(self.params, marks))
            rows = [list(row) for row in running.fetchall()]
        # The backend's converters are the compiling connection's methods; they read only
        # what every connection of the alias shares (its time zone, from the settings).
        for row in rows:
            for pos, functions, expression in self.converters:
                for convert in functions:
                    row[pos] = convert(row[pos], expression, connection)
        model = self.klass_info["model"]
        fields = self.klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in self.select[start:end]]
        populators = get_related_populators(  # type: ignore[call-arg]  # Django 5.2's three
            self.klass_info, list(self.select), connection.alias
        )
        built = []
        for row in rows:
            instance = model.from_db(connection.alias, names, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            built.append(instance)
        return built
