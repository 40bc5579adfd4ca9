"""Appending to the trail: the one place events are written (the format is ``chain``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from kla.models import Body, Submission
from workflows.compiled import compiled_cursor
from workflows.models import TrailEvent, TrailStream
from workflows.trail.chain import ALGORITHM, event_hash, format_at, jsonable

# What people are shown of each event, in this order (the API, the trail page's downloads).
PUBLIC_FIELDS = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "prev_hash",
    "hash",
)
SYSTEM_ACTOR = "system"
SYSTEM_STREAM = "system"


# The stored columns an event's record is made of, in ``record_of``'s order.
RECORD_COLUMNS = (
    "algorithm",
    "seq",
    "at",
    "actor_name",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "data",
    "prev_hash",
    "hash",
)


def record_of(stream_name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The plain mapping that ``canonical`` and bundles use, from an event's stored columns
    (``RECORD_COLUMNS``): for a model instance and for rows read as values alike."""
    algorithm, seq, at, actor, role, action, from_state, to_state, note, files, data = values[:11]
    prev_hash, digest = values[11:]
    return {
        "algorithm": algorithm,
        "stream": stream_name,
        "seq": seq,
        "at": format_at(at),
        "actor": actor,
        "role": role,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "files": files,
        "data": data,
        "prev_hash": prev_hash,
        "hash": digest,
    }


def event_record(event: TrailEvent, stream_name: str) -> dict[str, Any]:
    """A stored event as the plain mapping that ``canonical`` and bundles use."""
    return record_of(stream_name, [getattr(event, column) for column in RECORD_COLUMNS])


def _locked_head(name: str) -> TrailStream:
    head = TrailStream.objects.select_for_update().filter(name=name).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            TrailStream.objects.create(name=name)
    except IntegrityError:
        pass  # another transaction created it first; the lock below waits for it
    return TrailStream.objects.select_for_update().get(name=name)


def trail_append(
    *,
    stream: str,
    action: str,
    actor: User | None,
    role: str = "",
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    files: Iterable[Mapping[str, str]] = (),
    data: Mapping[str, Any] | None = None,
    submission: Submission | None = None,
    body: Body | None = None,
    head: TrailStream | None = None,
) -> TrailEvent:
    """Append one event to a stream under the head's row lock, inside the caller's transaction.

    ``actor`` ``None`` records the system (the SLA sweep). The sequence number and the previous
    hash are read from the locked head, never from "the highest id", so concurrent appends to
    one stream queue up instead of forking it. ``head``: the stream's head, which the caller
    has locked in this transaction already (``workflows.locked_read``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail_append must run inside the action's transaction")
    if head is None:
        head = _locked_head(stream)
    elif head.name != stream:
        raise ValueError(f"the head given is {head.name!r}'s, not {stream!r}'s")
    entry = {
        "stream": stream,
        "action": action,
        "actor": actor,
        "role": role,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "files": files,
        "data": data,
        "submission": submission,
        "body": body,
    }
    # Truncated to microseconds, the precision both databases store.
    event = _event(head, entry, timezone.now().replace(tzinfo=dt.UTC))
    _write(event, head)
    return event


@cache
def _event_sql(vendor: str) -> tuple[str, str, tuple[Field[Any, Any], ...]]:
    """The event's INSERT, the head's UPDATE and the event's columns in the order of its
    values. Two statements: the heads' trigger checks that the head moves to an event that
    is there, which a ``WITH`` of both would not yet show it."""
    quote = connection.ops.quote_name
    fields = tuple(f for f in TrailEvent._meta.concrete_fields if not f.primary_key)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    values = ", ".join("%s" for _ in fields)
    event_table, head_table = quote(TrailEvent._meta.db_table), quote(TrailStream._meta.db_table)
    pk = quote(str(TrailEvent._meta.pk.column))
    return (
        f"INSERT INTO {event_table} ({columns}) VALUES ({values}) RETURNING {pk}",  # noqa: S608 -- names only
        f"UPDATE {head_table} SET seq = %s, head_hash = %s WHERE id = %s",  # noqa: S608 -- names only
        fields,
    )


def _write(event: TrailEvent, head: TrailStream) -> None:
    """Insert the event and move its stream's head on to it (compiled once; prepared on
    PostgreSQL)."""
    insert, move, fields = _event_sql(connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    # The event's id is read once both are sent: in a pipeline (``compiled.sent_together``)
    # the two go with what was sent before them.
    with compiled_cursor() as inserting, compiled_cursor() as moving:
        inserting.execute(insert, values)
        moving.execute(move, [head.seq, head.head_hash, head.pk])
        (event.pk,) = inserting.fetchone()
    event._state.adding = False
    event._state.db = connection.alias


def trail_append_many(entries: Iterable[Mapping[str, Any]]) -> list[TrailEvent]:
    """Append many events at once (a sweep's announcements), each to its own stream's chain,
    inside the caller's transaction: the heads are locked in one query, in name order (so two
    callers queue instead of deadlocking), the events written with one bulk insert and the
    heads moved with one UPDATE. Each entry takes ``trail_append``'s keyword arguments. The
    events are the ones a ``trail_append`` each would write; a stream named twice gets its
    events in the order given, a round each (its head moves one event at a time).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail_append_many must run inside the caller's transaction")
    rounds: list[list[Mapping[str, Any]]] = []
    seen: dict[str, int] = {}
    for entry in entries:
        name = str(entry["stream"])
        turn = seen.get(name, 0)
        seen[name] = turn + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(entry)
    if not rounds:
        return []
    names = sorted(seen)
    TrailStream.objects.bulk_create([TrailStream(name=n) for n in names], ignore_conflicts=True)
    heads = {
        head.name: head
        for head in TrailStream.objects.select_for_update().filter(name__in=names).order_by("name")
    }
    at = timezone.now().replace(tzinfo=dt.UTC)
    written: list[TrailEvent] = []
    for batch in rounds:
        events = [_event(heads[str(entry["stream"])], entry, at) for entry in batch]
        TrailEvent.objects.bulk_create(events, batch_size=500)
        _move_heads([heads[str(entry["stream"])] for entry in batch])
        written += events
    return written


MOVES_PER_STATEMENT = 500


def _move_heads(moved: Sequence[TrailStream]) -> None:
    """Move many heads on to their new events: one ``UPDATE ... FROM`` a list of values per 500
    heads (Django's ``bulk_update`` builds a ``CASE`` a column: a third of a national
    sweep's time). A head appears once in ``moved`` (one round of
    ``trail_append_many``)."""
    quote = connection.ops.quote_name
    table = quote(TrailStream._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(moved), MOVES_PER_STATEMENT):
            part = moved[start : start + MOVES_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s)"] * len(part))
            cursor.execute(
                f"WITH moved (id, seq, head_hash) AS (VALUES {values}) "  # noqa: S608 -- names only
                f"UPDATE {table} SET seq = moved.seq, head_hash = moved.head_hash "
                f"FROM moved WHERE {table}.id = moved.id",
                [value for head in part for value in (head.pk, head.seq, head.head_hash)],
            )


def _event(head: TrailStream, entry: Mapping[str, Any], at: dt.datetime) -> TrailEvent:
    """The next event of ``head``'s chain (not saved); moves ``head`` on to it."""
    actor: User | None = entry.get("actor")
    record = {
        "algorithm": ALGORITHM,
        "stream": head.name,
        "seq": head.seq + 1,
        "at": format_at(at),
        "actor": actor.get_username() if actor is not None else SYSTEM_ACTOR,
        "role": entry.get("role", ""),
        "action": entry["action"],
        "from_state": entry.get("from_state", ""),
        "to_state": entry.get("to_state", ""),
        "note": entry.get("note", ""),
        "files": [{"name": f["name"], "sha256": f["sha256"]} for f in entry.get("files", ())],
        "data": jsonable(dict(entry.get("data") or {})),
        "prev_hash": head.head_hash,
    }
    digest = event_hash(record)
    event = TrailEvent(
        stream=head,
        seq=record["seq"],
        at=at,
        actor=actor,
        actor_name=record["actor"],
        role=record["role"],
        action=record["action"],
        from_state=record["from_state"],
        to_state=record["to_state"],
        note=record["note"],
        files=record["files"],
        data=record["data"],
        submission=entry.get("submission"),
        body=entry.get("body"),
        algorithm=ALGORITHM,
        prev_hash=head.head_hash,
        hash=digest,
    )
    head.seq, head.head_hash = record["seq"], digest
    return event
