"""The hash chains: the canonical form of an event, its hash, and the walk that checks them.

Each stream is a hash chain. An event's hash is SHA-256 over its canonical serialisation, in
one of two algorithms (``docs/trail.md`` is the full specification, with test vectors):

- **Algorithm 2** (every new event): the RFC 8785 (JCS) canonical JSON, by the ``rfc8785``
  package, of the event under the trail API's names: ``algorithm``, ``stream``, ``seq``,
  ``at`` (UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), ``actor``, ``role``, ``action``,
  ``from_state``, ``to_state``, ``note``, ``files`` (a list of ``{name, sha256}``), ``data``
  and ``prev_hash`` (the previous event's hash, 64 zeros for the first): a bundle's event line
  without ``type``, ``leaf_index`` and ``hash``.
- **Algorithm 1** (events written before it): a JSON object with the keys ``v``, ``stream``,
  ``seq``, ``at``, ``actor``, ``role``, ``action``, ``from``, ``to``, ``note``, ``files``,
  ``data`` and ``prev``, serialised by Python's ``json.dumps`` with sorted keys, no
  insignificant white space and UTF-8 text (``ensure_ascii=False``).

The same functions verify the chains, online and offline, so they must never change meaning:
a new scheme gets a new algorithm number, and the old ones keep verifying.

A ``ChainChecker`` is fed events stream by stream in ``seq`` order and keeps only each
stream's last hash, so a trail of any size verifies in constant memory per stream, from the
database or from a bundle. The first bad event of each stream is named by its stream and ``seq``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785

from workflows.models import GENESIS_HASH

ALGORITHM = 2
ALGORITHMS = (1, 2)
# The fields algorithm 2 hashes, under the trail API's names.
HASHED_FIELDS = (
    "algorithm",
    "stream",
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "data",
    "prev_hash",
)
# JSON numbers an RFC 8785 serialiser takes exactly (I-JSON); larger integers become text.
SAFE_INTEGER = 2**53 - 1


def format_at(at: dt.datetime) -> str:
    """The timestamp as hashed: UTC with microseconds."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON that RFC 8785 takes: unknown types and huge integers as text."""
    value = json.loads(json.dumps(value, default=str))

    def fix(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: fix(v) for key, v in item.items()}
        if isinstance(item, list):
            return [fix(v) for v in item]
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > SAFE_INTEGER:
            return str(item)
        if isinstance(item, float) and (
            not math.isfinite(item) or (item.is_integer() and abs(item) > SAFE_INTEGER)
        ):
            return str(item)
        return item

    return fix(value)


def _files(event: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"name": f["name"], "sha256": f["sha256"]} for f in event["files"]]


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers, in the event's own algorithm (module docstring)."""
    if event["algorithm"] == 1:
        payload = {
            "v": 1,
            "stream": event["stream"],
            "seq": event["seq"],
            "at": event["at"],
            "actor": event["actor"],
            "role": event["role"],
            "action": event["action"],
            "from": event["from_state"],
            "to": event["to_state"],
            "note": event["note"],
            "files": _files(event),
            "data": event["data"],
            "prev": event["prev_hash"],
        }
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    if event["algorithm"] == 2:
        fields = {name: event[name] for name in HASHED_FIELDS}
        fields["files"] = _files(event)
        return bytes(rfc8785.dumps(fields))
    raise ValueError(f"unknown algorithm {event['algorithm']!r}")


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical serialisation, in hex."""
    return hashlib.sha256(canonical(event)).hexdigest()


def _hashes_to(record: Mapping[str, Any]) -> bool:
    try:
        return bool(event_hash(record) == record["hash"])
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return False  # content without a canonical form matches no hash


@dataclass(frozen=True)
class Break:
    """The first bad event of a stream."""

    stream: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"stream {self.stream} seq {self.seq}: {self.reason}"


@dataclass
class _Walk:
    expected: int = 1
    prev: str = GENESIS_HASH
    broken: bool = False


@dataclass
class ChainChecker:
    """Checks sequence, links and hashes of each stream; ``finish`` checks the heads."""

    walks: dict[str, _Walk] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)
    events: int = 0

    def _fail(self, walk: _Walk, stream: str, seq: int, reason: str) -> None:
        walk.broken = True
        self.breaks.append(Break(stream, seq, reason))

    def feed(self, record: Mapping[str, Any]) -> None:
        stream = record["stream"]
        walk = self.walks.setdefault(stream, _Walk())
        self.events += 1
        if walk.broken:
            return
        seq = record["seq"]
        if seq != walk.expected:
            self._fail(walk, stream, walk.expected, f"event missing or out of order (found {seq})")
        elif record["prev_hash"] != walk.prev:
            self._fail(walk, stream, seq, "does not link to the previous event")
        elif record.get("algorithm") not in ALGORITHMS:
            self._fail(walk, stream, seq, f"unknown algorithm {record.get('algorithm')!r}")
        elif not _hashes_to(record):
            self._fail(walk, stream, seq, "content does not match its hash")
        else:
            walk.prev = record["hash"]
            walk.expected += 1

    def finish(self, heads: Mapping[str, tuple[int, str]]) -> list[Break]:
        """Compare each chain's end with its head; returns every stream's first break."""
        for stream, (seq, head_hash) in heads.items():
            walk = self.walks.setdefault(stream, _Walk())
            if walk.broken:
                continue
            last = walk.expected - 1
            if seq > last:
                self._fail(walk, stream, last + 1, f"events {last + 1}..{seq} are missing")
            elif seq < last:
                self._fail(walk, stream, seq + 1, "events beyond the stream's head")
            elif head_hash != walk.prev:
                self._fail(walk, stream, seq, "the head does not match the last event")
        for stream, walk in self.walks.items():
            if stream not in heads and not walk.broken:
                self._fail(walk, stream, 1, "stream has no head")
        return sorted(self.breaks, key=lambda b: (b.stream, b.seq))


def verify_records(
    records: Iterable[Mapping[str, Any]], heads: Mapping[str, tuple[int, str]]
) -> tuple[ChainChecker, list[Break]]:
    checker = ChainChecker()
    for record in records:
        checker.feed(record)
    return checker, checker.finish(heads)
