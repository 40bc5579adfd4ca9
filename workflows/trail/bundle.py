"""Trail bundles: the auditors' offline copy of every chain, written and verified (no database)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kla.models import Evidence
from workflows.trail.chain import Break, ChainChecker
from workflows.trail.reading import database_heads, database_records

BUNDLE_FORMAT = "kla-trail-bundle"
BUNDLE_VERSION = 1


# Bundles: JSON Lines. The first line is the header, then one object per line, each with a
# "type": "event" (stream by stream, in seq order), "head" and "evidence".


def write_bundle(handle: IO[str], exported_at: str) -> dict[str, int]:
    """Write the events, the chain heads and the evidence hashes, streaming."""
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
