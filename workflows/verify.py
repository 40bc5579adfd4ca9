"""Re-walking the chains, from the database or from an exported bundle (no database).

A ``ChainChecker`` is fed events stream by stream in ``seq`` order and keeps only each
stream's last hash, so a bundle of any size verifies in constant memory per stream. The first
bad event of each stream is named by its stream and ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .models import GENESIS_HASH
from .trail import event_hash

BUNDLE_FORMAT = "kla-trail-bundle"
BUNDLE_VERSION = 1


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
        elif record.get("algorithm") != 1:
            self._fail(walk, stream, seq, f"unknown algorithm {record.get('algorithm')!r}")
        elif event_hash(record) != record["hash"]:
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


def database_records() -> Iterator[dict[str, Any]]:
    """Every stored event as a record, stream by stream in ``seq`` order."""
    from .models import TrailEvent
    from .trail import event_record

    rows = TrailEvent.objects.select_related("stream").order_by("stream__name", "seq")
    for event in rows.iterator(chunk_size=2000):
        yield event_record(event, event.stream.name)


def database_heads() -> dict[str, tuple[int, str]]:
    from .models import TrailStream

    return {
        name: (seq, h)
        for name, seq, h in TrailStream.objects.values_list("name", "seq", "head_hash")
    }


def verify_database() -> tuple[ChainChecker, list[Break]]:
    """Re-walk every chain in the database."""
    heads = database_heads()
    return verify_records(database_records(), heads)


# Bundles: JSON Lines. The first line is the header, then one object per line, each with a
# "type": "event" (stream by stream, in seq order), "head" and "evidence".


def write_bundle(handle: IO[str], exported_at: str) -> dict[str, int]:
    """Write the events, the chain heads and the evidence hashes, streaming."""
    from kla.models import Evidence

    counts = {"event": 0, "head": 0, "evidence": 0}

    def line(obj: Mapping[str, Any]) -> None:
        handle.write(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n")

    line({"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "exported_at": exported_at})
    for record in database_records():
        line({"type": "event", **record})
        counts["event"] += 1
    for name, (seq, head_hash) in sorted(database_heads().items()):
        line({"type": "head", "stream": name, "seq": seq, "hash": head_hash})
        counts["head"] += 1
    for ev in (
        Evidence.objects.order_by("pk")
        .values("pk", "submission_id", "name", "size", "sha256", "uploaded_at", "removed_at")
        .iterator(chunk_size=2000)
    ):
        line(
            {
                "type": "evidence",
                "id": ev["pk"],
                "submission": ev["submission_id"],
                "name": ev["name"],
                "size": ev["size"],
                "sha256": ev["sha256"],
                "uploaded_at": ev["uploaded_at"].isoformat(),
                "removed_at": ev["removed_at"].isoformat() if ev["removed_at"] else None,
            }
        )
        counts["evidence"] += 1
    return counts


class BundleError(ValueError):
    """The file is not a trail bundle this version can read."""


def read_bundle(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        try:
            header = json.loads(handle.readline() or "null")
        except json.JSONDecodeError as exc:
            raise BundleError(f"{path}: not a trail bundle ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{path}: not a trail bundle")
        if header.get("version") != BUNDLE_VERSION:
            raise BundleError(f"{path}: bundle version {header.get('version')} is not supported")
        for number, text in enumerate(handle, start=2):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BundleError(f"{path}, line {number}: {exc}") from None
            if not isinstance(obj, dict) or "type" not in obj:
                raise BundleError(f"{path}, line {number}: not a bundle entry")
            yield obj


@dataclass
class BundleResult:
    checker: ChainChecker
    breaks: list[Break]
    evidence: dict[str, list[dict[str, Any]]]


def verify_bundle(path: Path) -> BundleResult:
    """Verify an exported bundle offline; also index its evidence hashes."""
    checker = ChainChecker()
    heads: dict[str, tuple[int, str]] = {}
    evidence: dict[str, list[dict[str, Any]]] = {}
    try:
        for obj in read_bundle(path):
            kind = obj.pop("type")
            if kind == "event":
                checker.feed(obj)
            elif kind == "head":
                heads[obj["stream"]] = (obj["seq"], obj["hash"])
            elif kind == "evidence":
                evidence.setdefault(obj["sha256"], []).append(obj)
    except (KeyError, TypeError) as exc:
        raise BundleError(f"{path}: malformed entry ({exc})") from None
    return BundleResult(checker, checker.finish(heads), evidence)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
