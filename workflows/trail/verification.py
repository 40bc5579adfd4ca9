"""What ``verify_trail`` checks in the database: the chains, then the log re-derived from them.

Nothing stored is trusted that can be re-derived: each event's hash is recomputed from its
content (the chains), each leaf from its event's hash, each root from the leaves. A checkpoint
signed by the log's key and held outside the database (``--checkpoint``) then proves that
nobody rewrote, cut or emptied the history it covers: the re-derived tree must be at least as
large, and its root at that size the checkpoint's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from workflows.models import TrailCheckpoint, TrailEvent
from workflows.trail.chain import Break, ChainChecker
from workflows.trail.checkpoints import known_verifiers
from workflows.trail.log import log_leaves
from workflows.trail.merkle import Frontier, leaf_hash
from workflows.trail.note import Checkpoint, NoteError, Verifier, read_checkpoint
from workflows.trail.reading import verify_database


@dataclass
class LogCheck:
    """The log as re-derived from the events."""

    size: int = 0
    unsequenced: int = 0
    roots: dict[int, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    leaves: bytearray | None = None
    where: dict[int, tuple[str, int]] = field(default_factory=dict)


def log_check(
    sizes: Iterable[int] = (), *, keep_leaves: bool = False, name_leaves: Iterable[int] = ()
) -> LogCheck:
    """Walk the leaves in order, each re-derived from its event's hash (which the chain check
    re-derives from its content); keep the roots at ``sizes``."""
    wanted = set(sizes)
    named = set(name_leaves)
    check = LogCheck(leaves=bytearray() if keep_leaves else None)
    frontier = Frontier()
    if 0 in wanted:
        check.roots[0] = frontier.root()
    for row in log_leaves():
        if row.index != frontier.size:
            check.problems.append(
                f"leaf {frontier.size} is missing from the log (next stored: {row.index})"
            )
            break
        try:
            leaf = leaf_hash(bytes.fromhex(row.event_hash))
        except ValueError:  # not even hex: the chain walk names its stream and seq too
            leaf = leaf_hash(row.event_hash.encode())
        if leaf.hex() != row.stored_leaf and len(check.problems) < 20:
            check.problems.append(
                f"leaf {row.index} (stream {row.stream} seq {row.seq}) does not match its event"
            )
        if check.leaves is not None:
            check.leaves += leaf
        if row.index in named:
            check.where[row.index] = (row.stream, row.seq)
        frontier.push(leaf)
        if frontier.size in wanted:
            check.roots[frontier.size] = frontier.root()
    check.size = frontier.size
    check.unsequenced = TrailEvent.objects.filter(leaf__isnull=True).count()
    return check


@dataclass
class DatabaseReport:
    checker: ChainChecker
    breaks: list[Break]
    log: LogCheck
    problems: list[str]
    checkpoints: int


def verify_trail_database() -> DatabaseReport:
    """The chains, the log re-derived from them, and every stored checkpoint against it."""
    checker, breaks = verify_database()
    stored = list(TrailCheckpoint.objects.order_by("tree_size"))
    log = log_check(sizes=[c.tree_size for c in stored])
    problems = list(log.problems)
    verifiers = known_verifiers()
    for checkpoint in stored:
        problems.extend(_against(checkpoint.note, log, verifiers, label="stored checkpoint"))
    return DatabaseReport(checker, breaks, log, problems, len(stored))


def _against(note: str, log: LogCheck, verifiers: list[Verifier], *, label: str) -> list[str]:
    try:
        checkpoint, signer = read_checkpoint(note, verifiers)
    except NoteError as exc:
        return [f"{label}: {exc}"]
    return compare(
        checkpoint,
        log.size,
        log.roots.get(checkpoint.tree_size),
        label=label,
        origins=[signer.name],
    )


def compare(
    checkpoint: Checkpoint,
    size: int,
    root: bytes | None,
    *,
    label: str,
    origins: Iterable[str] = (),
) -> list[str]:
    """What is wrong with a tree of ``size`` whose root at the checkpoint's size is ``root``.

    The checkpoint's origin must be the log's: ``TRAIL_ORIGIN``, or the name of a key that
    signed for it before the origin was renamed (``origins``).
    """
    if checkpoint.origin != settings.TRAIL_ORIGIN and checkpoint.origin not in set(origins):
        return [f"{label}: it is a checkpoint of another log ({checkpoint.origin})"]
    if size < checkpoint.tree_size:
        return [
            f"{label} of size {checkpoint.tree_size}: the log's tree is smaller, {size} leaves: "
            "its history was cut or emptied"
        ]
    if root != checkpoint.root_hash:
        return [
            f"{label} of size {checkpoint.tree_size}: the log's root at that size differs: "
            "its history up to that size was rewritten"
        ]
    return []


def checkpoint_open(note: str, extra: Iterable[Verifier] = ()) -> tuple[Checkpoint, Verifier]:
    """A checkpoint held outside, opened with the log's keys (current and past) or ``extra``."""
    return read_checkpoint(note, [*known_verifiers(), *extra])


def first_leaf_differing(old: bytearray, new: bytearray) -> int | None:
    """The index of the first 32-byte leaf where two leaf lists differ (the shorter's end)."""
    count = min(len(old), len(new)) // 32
    for index in range(count):
        if old[index * 32 : index * 32 + 32] != new[index * 32 : index * 32 + 32]:
            return index
    if len(old) > len(new):
        return count
    return None
