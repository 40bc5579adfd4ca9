"""Trail bundles: the auditors' offline copy of the log, written and verified (no database).

Version 2 (``docs/trail.md``): JSON Lines. A header ``{"format": "kla-trail-bundle",
"version": 2, "exported_at", "origin", "tree_size", "checkpoint", "verifier_key"}``; then one
line ``{"type": "event", "leaf_index", ...the event's fields}`` for each leaf 0 to
``tree_size - 1`` in order; then one line ``{"type": "head", "stream", "seq", "hash"}`` per
stream as of that tree. Nothing else: a file's hash counts only where a chained upload event
names it.

Version 1 (before the log): a header, events stream by stream, heads, and evidence lines; it
still verifies, with the warning "unsigned, not anchored".
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workflows.models import TrailCheckpoint, TrailEvent, TrailLeaf
from workflows.trail.append import event_record
from workflows.trail.chain import HASHED_FIELDS, Break, ChainChecker
from workflows.trail.merkle import Frontier, leaf_hash
from workflows.trail.note import Checkpoint, NoteError, Verifier, read_checkpoint

BUNDLE_FORMAT = "kla-trail-bundle"
BUNDLE_VERSION = 2
VERSIONS = (1, 2)
# The events whose files are stored files: a file counts when one of these names its hash.
UPLOAD_ACTIONS = ("evidence_upload", "follow_up")
UPLOAD_STREAMS = {"evidence_upload": ("submission:",), "follow_up": ("submission:", "body:")}
UNANCHORED = "unsigned, not anchored"
# An event line's fields besides ``type`` and ``leaf_index``: exactly what its hash covers.
EVENT_KEYS = frozenset((*HASHED_FIELDS, "hash"))


def _line(handle: IO[str], obj: Mapping[str, Any]) -> None:
    handle.write(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n")


def write_bundle(
    handle: IO[str],
    *,
    exported_at: str,
    checkpoint: TrailCheckpoint,
    verifier: Verifier,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the leaves ``0 .. checkpoint.tree_size - 1`` with their events, then the heads.

    The heads are each stream's last event within that tree, so the bundle is one consistent
    picture of the log at the checkpoint, however much was appended meanwhile.
    """
    size = checkpoint.tree_size
    _line(
        handle,
        {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "exported_at": exported_at,
            "origin": Checkpoint.parse(checkpoint.note[: checkpoint.note.index("\n\n") + 1]).origin,
            "tree_size": size,
            "checkpoint": checkpoint.note,
            "verifier_key": str(verifier),
        },
    )
    heads: dict[str, tuple[int, str]] = {}
    leaves = (
        TrailLeaf.objects.filter(index__lt=size).order_by("index").values_list("index", "event_id")
    )
    events = 0
    batch: list[tuple[int, int]] = []

    def flush() -> None:
        nonlocal events
        by_id = {
            e.pk: e
            for e in TrailEvent.objects.filter(pk__in=[eid for _, eid in batch]).select_related(
                "stream"
            )
        }
        for index, event_id in batch:
            event = by_id[event_id]
            record = event_record(event, event.stream.name)
            _line(handle, {"type": "event", "leaf_index": index, **record})
            seq, _ = heads.get(record["stream"], (0, ""))
            if record["seq"] > seq:
                heads[record["stream"]] = (record["seq"], record["hash"])
            events += 1
        batch.clear()
        if progress is not None:
            progress(events, size)  # also the export's heartbeat, a batch at a time

    for row in leaves.iterator(chunk_size=2000):
        batch.append(row)
        if len(batch) >= 2000:
            flush()
    if batch:
        flush()
    for name, (seq, head_hash) in sorted(heads.items()):
        _line(handle, {"type": "head", "stream": name, "seq": seq, "hash": head_hash})
    return {"event": events, "head": len(heads)}


class BundleError(ValueError):
    """The file is not a trail bundle this version can read."""


def _header(path: Path, handle: IO[str]) -> dict[str, Any]:
    try:
        header = json.loads(handle.readline() or "null")
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, huge numbers, deep nesting
        raise BundleError(f"{path}: not a trail bundle ({type(exc).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}: not a trail bundle")
    version = header.get("version")
    if type(version) is not int or version not in VERSIONS:
        raise BundleError(f"{path}: bundle version {header.get('version')} is not supported")
    return header


def bundle_header(path: Path) -> dict[str, Any]:
    """The bundle's first line, checked to be a header of a version this code reads."""
    with path.open(encoding="utf-8") as handle:
        return _header(path, handle)


def bundle_key(path: Path) -> Verifier | None:
    """The verifier key a bundle's header names (to trust only when no other is given)."""
    text = bundle_header(path).get("verifier_key")
    if not isinstance(text, str):
        return None
    try:
        return Verifier.parse(text)
    except NoteError:
        return None


def read_bundle(path: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The header, and the entries one by one (the file is read as it goes)."""
    header = bundle_header(path)

    def entries() -> Iterator[dict[str, Any]]:
        with path.open(encoding="utf-8") as handle:
            handle.readline()
            for number, text in enumerate(handle, start=2):
                try:
                    obj = json.loads(text)
                except (ValueError, RecursionError) as exc:
                    raise BundleError(f"{path}, line {number}: {type(exc).__name__}") from None
                if not isinstance(obj, dict) or "type" not in obj:
                    raise BundleError(f"{path}, line {number}: not a bundle entry")
                yield obj

    return header, entries()


@dataclass
class BundleResult:
    """What a bundle proved: its chains, its tree, and the hashes of its upload events."""

    version: int
    checker: ChainChecker
    breaks: list[Break]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tree_size: int = 0
    signed_by: Verifier | None = None
    # sha256 -> the chained upload events that name it: (stream, seq, file name, what)
    uploads: dict[str, list[tuple[str, int, str, str]]] = field(default_factory=dict)
    roots: dict[int, bytes] = field(default_factory=dict)
    leaves: bytearray | None = None
    # With the leaves kept: each leaf's stream and seq, to name a leaf that differs.
    where: list[tuple[str, int]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.problems


def _index_uploads(result: BundleResult, record: Mapping[str, Any]) -> None:
    """Note the files of an upload event, on the streams uploads are written to alone."""
    action = record.get("action")
    if action not in UPLOAD_ACTIONS or not str(record.get("stream", "")).startswith(
        UPLOAD_STREAMS[action]
    ):
        return
    data = record.get("data") or {}
    if record["action"] == "evidence_upload":
        what = f"evidence {data.get('evidence')}"
    else:
        what = f"a follow-up of recommendation {data.get('recommendation')}"
    for item in record.get("files") or []:
        result.uploads.setdefault(item["sha256"], []).append(
            (record["stream"], record["seq"], item["name"], what)
        )


def verify_bundle(
    path: Path,
    *,
    keys: list[Verifier] | None = None,
    sizes: frozenset[int] = frozenset(),
    keep_leaves: bool = False,
) -> BundleResult:
    """Verify a bundle offline: each event's hash, each chain and head, and (version 2) each
    leaf in order, the root against the signed checkpoint inside, and its signature (with
    ``keys`` the keys to trust; without them, the bundle's own key, with a warning).

    ``sizes``: tree sizes whose roots to keep (for an older checkpoint's consistency).
    """
    header, entries = read_bundle(path)
    version = int(header["version"])
    checker = ChainChecker()
    result = BundleResult(version=version, checker=checker, breaks=[])
    heads: dict[str, tuple[int, str]] = {}
    frontier = Frontier()
    if keep_leaves:
        result.leaves = bytearray()
    expected_size: int | None = None
    checkpoint: Checkpoint | None = None
    if version == 2:
        checkpoint, expected_size = _open_header(path, header, keys or [], result)
    heads_begun = False
    try:
        for obj in entries:
            kind = obj.pop("type")
            if kind == "event":
                index = obj.pop("leaf_index", None) if version == 2 else None
                if heads_begun:
                    result.problems.append("an event line after the head lines")
                    break
                if set(obj) != EVENT_KEYS:
                    odd = sorted(set(obj) ^ EVENT_KEYS)
                    where = f"stream {obj.get('stream')} seq {obj.get('seq')}"
                    result.problems.append(f"the event line of {where} has other fields: {odd}")
                    break
                checker.feed(obj)
                _index_uploads(result, obj)
                if version == 2:
                    if index != frontier.size:
                        result.problems.append(
                            f"leaf {frontier.size}: the line holds leaf_index {index!r}"
                        )
                        break
                    leaf = leaf_hash(bytes.fromhex(obj["hash"]))
                    if result.leaves is not None:
                        result.leaves += leaf
                        result.where.append((obj["stream"], obj["seq"]))
                    frontier.push(leaf)
                    if frontier.size in sizes:
                        result.roots[frontier.size] = frontier.root()
            elif kind == "head":
                heads_begun = True
                if obj["stream"] in heads or set(obj) != {"stream", "seq", "hash"}:
                    result.problems.append(f"a second or malformed head line for {obj['stream']}")
                    break
                heads[obj["stream"]] = (obj["seq"], obj["hash"])
            elif kind == "evidence" and version == 1:
                continue  # outside the chains: a version-1 file check uses the upload events
            else:
                result.problems.append(f"an entry of unknown type {kind!r}")
                break
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"{path}: malformed entry ({exc!r})") from None
    result.breaks = checker.finish(heads)
    result.tree_size = frontier.size
    if 0 in sizes:
        result.roots[0] = Frontier().root()
    if version == 1:
        result.warnings.append(f"version 1 bundle: {UNANCHORED}")
    elif checkpoint is not None and expected_size is not None:
        if frontier.size != expected_size:
            result.problems.append(
                f"the bundle holds {frontier.size} leaves, its checkpoint {expected_size}"
            )
        elif frontier.root() != checkpoint.root_hash:
            result.problems.append(
                f"the root of the bundle's {frontier.size} leaves differs from its signed "
                "checkpoint"
            )
    return result


def _open_header(
    path: Path, header: Mapping[str, Any], keys: list[Verifier], result: BundleResult
) -> tuple[Checkpoint | None, int | None]:
    note = header.get("checkpoint")
    if not isinstance(note, str):
        raise BundleError(f"{path}: the header has no checkpoint")
    trusted: list[Verifier] = list(keys)
    if not trusted:
        try:
            trusted = [Verifier.parse(str(header.get("verifier_key", "")))]
        except NoteError as exc:
            raise BundleError(f"{path}: the header's verifier key: {exc}") from None
        result.warnings.append(
            "the bundle's own key was trusted; pass --key with the log's published verifier key"
        )
    try:
        checkpoint, signer = read_checkpoint(note, trusted)
    except NoteError as exc:
        result.problems.append(f"the bundle's checkpoint: {exc}")
        return None, None
    result.signed_by = signer
    if header.get("tree_size") != checkpoint.tree_size:
        result.problems.append(
            f"the header says tree size {header.get('tree_size')!r}, "
            f"its checkpoint {checkpoint.tree_size}"
        )
    if header.get("origin") != checkpoint.origin:
        result.problems.append("the header's origin is not its checkpoint's")
    return checkpoint, checkpoint.tree_size


def root_b64(root: bytes) -> str:
    return base64.b64encode(root).decode()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
