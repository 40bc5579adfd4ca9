"""The log: every trail event a leaf of one global Merkle tree (RFC 9162), in the database.

The sequencer (``log_sequence``) gives leaf indices to committed events that have none, in
the order it reads them (by event id within a batch), and stores each leaf and every complete
subtree it finishes (``TrailNode``), so that the root and the proofs of any tree size need a
logarithmic number of rows. It runs asynchronously (beat, every minute; before every
checkpoint and bundle export), one at a time (``pg_try_advisory_xact_lock`` on PostgreSQL; on
SQLite its write lock, which every transaction takes at BEGIN): appends never wait for it. It
needs no horizon: it takes what its connection can read, and an event whose transaction
commits late simply gets a later leaf.

``log_root``, ``log_inclusion`` and ``log_consistency`` read the stored tree (the server's
answers); ``log_recompute`` re-derives every leaf from the events' own content, trusting no
stored hash, for ``verify_trail``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q

from workflows.models import TrailEvent, TrailLeaf, TrailNode
from workflows.trail.merkle import (
    Frontier,
    Node,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    perfect_parts,
    range_hash,
)

logger = logging.getLogger(__name__)

BATCH = 5000
# The advisory lock's key: "kla-trail-log" in a signed 64-bit integer.
ADVISORY_KEY = 0x6B6C615F6C6F67


class LogError(LookupError):
    """A tree size or a leaf the stored log does not have."""


def log_size() -> int:
    """How many leaves the log has."""
    top = TrailLeaf.objects.aggregate(top=Max("index"))["top"]
    return 0 if top is None else int(top) + 1


def lock_log(*, wait: bool = False) -> bool:
    """Take the log's lock for this transaction; ``False`` when another holds it (no wait)."""
    if connection.vendor != "postgresql":
        return True  # SQLite: this transaction holds the database's write lock already
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def _lookup_many(nodes: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of these complete subtrees (level 0: leaves)."""
    wanted = set(nodes)
    found: dict[Node, bytes] = {}
    leaves = [index for level, index in wanted if level == 0]
    if leaves:
        for index, value in TrailLeaf.objects.filter(index__in=leaves).values_list("index", "hash"):
            found[(0, index)] = bytes.fromhex(value)
    inner = [(level, index) for level, index in wanted if level > 0]
    if inner:
        query = Q()
        for level, index in inner:
            query |= Q(level=level, index=index)
        for level, index, value in TrailNode.objects.filter(query).values_list(
            "level", "index", "hash"
        ):
            found[(level, index)] = bytes.fromhex(value)
    missing = wanted - found.keys()
    if missing:
        raise LogError(f"the stored log lacks subtrees {sorted(missing)[:5]}")
    return found


def _frontier(size: int) -> Frontier:
    nodes = Frontier.nodes_for(size)
    found = _lookup_many(nodes)
    return Frontier.of(size, [found[n] for n in nodes])


# The events after ``%s`` by id, a window of ``%s``, each with whether it has a leaf and
# whether the event before it in its stream has one: a range scan of the primary key and a
# few index probes per row, whatever the size of the trail.
WINDOW_SQL = """
SELECT e.id, e.hash, e.stream_id, e.seq, EXISTS (
    SELECT 1 FROM workflows_trailleaf l WHERE l.event_id = e.id
), e.seq = 1 OR EXISTS (
    SELECT 1 FROM workflows_trailevent p JOIN workflows_trailleaf pl ON pl.event_id = p.id
    WHERE p.stream_id = e.stream_id AND p.seq = e.seq - 1
) FROM (
    SELECT id, hash, stream_id, seq FROM workflows_trailevent WHERE id > %s ORDER BY id LIMIT %s
) e ORDER BY e.id
"""


def _in_stream_order(window: list[tuple[Any, ...]]) -> list[tuple[int, str]]:
    """The window's events without leaves whose stream's previous event has one (or gets
    one in this batch): within a stream the leaves follow ``seq``. An event whose
    predecessor committed late, after it was read past, waits for the next sweep."""
    pending: list[tuple[int, str]] = []
    taken: set[tuple[int, int]] = set()
    for event_id, event_hash, stream_id, seq, done, prev_done in window:
        if done:
            continue
        if prev_done or (stream_id, seq - 1) in taken:
            pending.append((event_id, event_hash))
            taken.add((stream_id, seq))
    return pending


def _store(pending: list[tuple[int, str]]) -> None:
    """Append these events' leaves, and the complete subtrees they finish, to the tree."""
    frontier = _frontier(log_size())
    leaves: list[tuple[int, int, str]] = []
    nodes: list[tuple[int, int, str]] = []
    for event_id, event_hash in pending:
        try:
            leaf = leaf_hash(bytes.fromhex(event_hash))
        except ValueError:
            raise LogError(f"event {event_id} has no valid hash ({event_hash[:70]!r})") from None
        leaves.append((frontier.size, event_id, leaf.hex()))
        for (level, index), value in frontier.push(leaf):
            nodes.append((level, index, value.hex()))
    if connection.vendor == "postgresql":
        # COPY: about half the time of building and saving model instances.
        with connection.cursor() as cursor:
            with cursor.copy(
                'COPY workflows_trailleaf ("index", event_id, hash) FROM STDIN'
            ) as copy:
                for row in leaves:
                    copy.write_row(row)
            with cursor.copy('COPY workflows_trailnode (level, "index", hash) FROM STDIN') as copy:
                for row in nodes:
                    copy.write_row(row)
        return
    TrailLeaf.objects.bulk_create(
        [TrailLeaf(index=i, event_id=e, hash=h) for i, e, h in leaves], batch_size=1000
    )
    TrailNode.objects.bulk_create(
        [TrailNode(level=lv, index=i, hash=h) for lv, i, h in nodes], batch_size=1000
    )


def log_sequence(*, batch: int = BATCH, sweep: bool = True) -> int:
    """Give leaves to the committed events that have none; returns how many it gave.

    ``sweep``: first every event without a leaf, whatever its id (one scan of the trail:
    an event whose transaction committed late, after higher ids, is found here); checkpoints
    and bundle exports sweep. Without it (beat's run every minute) only the events after the
    last one sequenced, a window at a time, at a cost that does not grow with the trail; a
    late one waits for the next sweep. Returns 0 at once when another sequencer holds the lock.
    """
    added = 0
    after: int | None = None
    if sweep:
        with transaction.atomic():
            if not lock_log():
                return added
            pending = list(
                TrailEvent.objects.filter(leaf__isnull=True)
                .order_by("id")
                .values_list("id", "hash")[:batch]
            )
            if pending:
                _store(pending)
                added += len(pending)
        if len(pending) < batch:
            return added
        after = pending[-1][0]
    while True:
        with transaction.atomic():
            if not lock_log():
                return added
            if after is None:
                top = TrailLeaf.objects.aggregate(top=Max("event_id"))["top"]
                after = int(top) if top is not None else 0
            with connection.cursor() as cursor:
                cursor.execute(WINDOW_SQL, [after, batch])
                window = cursor.fetchall()
            pending = _in_stream_order(window)
            if pending:
                _store(pending)
                added += len(pending)
        if len(window) < batch:
            return added
        after = window[-1][0]


def _check_size(size: int, available: int) -> None:
    if size < 0 or size > available:
        raise LogError(f"the log has {available} leaves, not {size}")


def log_root(size: int) -> bytes:
    """The stored tree's root at ``size`` leaves."""
    _check_size(size, log_size())
    found = _lookup_many(perfect_parts(0, size))
    return range_hash(0, size, found.__getitem__)


def _ranges_hashes(ranges: list[tuple[int, int]]) -> list[bytes]:
    wanted = [part for start, n in ranges for part in perfect_parts(start, n)]
    found = _lookup_many(wanted)
    return [range_hash(start, n, found.__getitem__) for start, n in ranges]


def log_inclusion(index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
    _check_size(size, log_size())
    if not 0 <= index < size:
        raise LogError(f"leaf {index} is not in the tree of {size}")
    return _ranges_hashes(inclusion_ranges(index, size))


def log_consistency(first: int, second: int) -> list[bytes]:
    """The consistency proof from the tree of ``first`` leaves to that of ``second``."""
    _check_size(second, log_size())
    if first == second:
        return []
    return _ranges_hashes(consistency_ranges(first, second))


@dataclass(frozen=True)
class LeafRow:
    """A leaf as re-derived from its event: what the event's content hashes to, now."""

    index: int
    event_id: int
    stream: str
    seq: int
    stored_leaf: str  # the leaf table's hash, hex
    event_hash: str  # the hash stored with the event, hex


def log_leaves(limit: int | None = None) -> Iterator[LeafRow]:
    """The leaves in index order with their events (for re-derivation and bundles)."""
    rows = TrailLeaf.objects.order_by("index").values_list(
        "index", "event_id", "event__stream__name", "event__seq", "hash", "event__hash"
    )
    if limit is not None:
        rows = rows.filter(index__lt=limit)
    for index, event_id, stream, seq, stored, event_hash in rows.iterator(chunk_size=5000):
        yield LeafRow(index, event_id, stream, seq, stored, event_hash)
