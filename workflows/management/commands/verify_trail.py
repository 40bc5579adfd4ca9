"""``manage.py verify_trail``: re-walk the chains and the log, in the database or in a bundle.

- no option: every chain in the database, the log re-derived from them, and every stored
  checkpoint's signature and root;
- ``--checkpoint FILE``: also a signed checkpoint held outside the database: refused unless a
  key of the log (current or past, or ``--key``) signed it; then today's log must extend it;
- ``--bundle FILE [--key K] [--checkpoint FILE] [--file EVIDENCE ...]``: an exported bundle,
  offline: each event, chain, head and leaf, the root against its signed checkpoint, an older
  checkpoint's consistency with it, and files against its chained upload events. With a
  checkpoint newer than the bundle, the log in the database must extend the bundle: the first
  leaf that differs is named;
- ``--evidence``: every stored evidence and follow-up file re-hashed against its upload event.

Exit 0 when all is intact; otherwise non-zero, naming the stream and ``seq`` of the first bad
event of each broken stream, or the checkpoint and what differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from workflows.trail.bundle import (
    BundleError,
    BundleResult,
    bundle_key,
    file_sha256,
    verify_bundle,
)
from workflows.trail.chain import Break
from workflows.trail.fixity import fixity_check_all
from workflows.trail.note import Checkpoint, NoteError, Verifier, read_checkpoint
from workflows.trail.verification import (
    checkpoint_open,
    compare,
    first_leaf_differing,
    log_check,
    verify_trail_database,
)


class Command(BaseCommand):
    help = "Verify the trail: its chains, its log and checkpoints, a bundle, stored files."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bundle", type=Path, help="verify this exported bundle offline")
        parser.add_argument(
            "--checkpoint",
            type=Path,
            help="a signed checkpoint held outside the database, that the log must extend",
        )
        parser.add_argument(
            "--key",
            action="append",
            default=[],
            help="a verifier key to trust (<name>+<key id>+<base64 key>); repeat it for the "
            "keys before a rotation",
        )
        parser.add_argument(
            "--file",
            type=Path,
            action="append",
            default=[],
            help="with --bundle: a downloaded file, accepted only if a chained upload names it",
        )
        parser.add_argument(
            "--evidence",
            action="store_true",
            help="re-hash every stored evidence and follow-up file against its upload event",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bundle: Path | None = options["bundle"]
        if options["file"] and bundle is None:
            raise CommandError("--file needs --bundle")
        if options["evidence"] and (bundle or options["checkpoint"] or options["key"]):
            raise CommandError("--evidence checks the stored files: give it on its own")
        keys = self._keys(options["key"])
        note = self._read(options["checkpoint"]) if options["checkpoint"] else None
        if bundle is not None:
            self._bundle(bundle, keys, note, options["file"])
        elif options["evidence"]:
            self._evidence()
        else:
            self._database(keys, note)

    # --- inputs ---------------------------------------------------------------------------

    def _keys(self, texts: list[str]) -> list[Verifier]:
        keys: list[Verifier] = []
        for text in texts:
            try:
                keys.append(Verifier.parse(text))
            except NoteError as exc:
                raise CommandError(f"--key: {exc}") from None
        return keys

    def _read(self, path: Path) -> str:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read ({exc})") from None

    # --- the database ---------------------------------------------------------------------

    def _database(self, keys: list[Verifier], note: str | None) -> None:
        report = verify_trail_database()
        problems = list(report.problems)
        checkpoint: Checkpoint | None = None
        if note is not None:
            try:
                checkpoint, signer = checkpoint_open(note, keys)
            except NoteError as exc:
                raise CommandError(f"checkpoint refused: {exc}") from None
            log = log_check(sizes=[checkpoint.tree_size])
            problems += compare(
                checkpoint,
                log.size,
                log.roots.get(checkpoint.tree_size),
                label="checkpoint",
                origins=[signer.name],
            )
        self._report_breaks(report.breaks, len(report.checker.walks))
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError("the log does not verify: " + "; ".join(problems[:5]))
        waiting = (
            f", {report.log.unsequenced} events waiting for the sequencer"
            if report.log.unsequenced
            else ""
        )
        self.stdout.write(
            f"trail intact: {len(report.checker.walks)} streams, {report.checker.events} events; "
            f"log of {report.log.size} leaves{waiting}; {report.checkpoints} stored checkpoints "
            "verified"
        )
        if checkpoint is not None:
            self.stdout.write(
                f"checkpoint of size {checkpoint.tree_size} verified: the log extends it"
            )

    # --- a bundle -------------------------------------------------------------------------

    def _bundle(
        self, path: Path, keys: list[Verifier], note: str | None, files: list[Path]
    ) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        outside: Checkpoint | None = None
        signer = ""
        if note is not None:
            outside, signer = self._outside(path, keys, note)
        sizes = frozenset([outside.tree_size]) if outside is not None else frozenset()
        try:
            result = verify_bundle(path, keys=keys, sizes=sizes, keep_leaves=outside is not None)
        except BundleError as exc:
            raise CommandError(str(exc)) from None
        if result.version == 1 and (keys or files):
            raise CommandError(
                "a version 1 bundle is unsigned and not anchored: no key can vouch for it, "
                "and no file is checked against it; export a version 2 bundle"
            )
        for warning in result.warnings:
            self.stderr.write(f"WARNING {warning}")
        problems = list(result.problems)
        if outside is not None and result.version == 2:
            problems += self._consistency(result, outside, signer)
        elif outside is not None:
            problems.append("a version 1 bundle has no tree to hold a checkpoint against")
        self._report_breaks(result.breaks, len(result.checker.walks))
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError("the bundle does not verify: " + "; ".join(problems))
        for file in files:
            self._check_file(file, result)
        signed = (
            f"; signed by {result.signed_by}, tree size {result.tree_size}"
            if result.signed_by
            else ""
        )
        self.stdout.write(
            f"trail intact: {len(result.checker.walks)} streams, "
            f"{result.checker.events} events{signed}"
        )

    def _outside(self, path: Path, keys: list[Verifier], note: str) -> tuple[Checkpoint, str]:
        """The checkpoint held outside, signed by a ``--key`` (else by the bundle's own key)."""
        trusted = list(keys)
        if not trusted:
            try:
                header_key = bundle_key(path)
            except BundleError as exc:
                raise CommandError(str(exc)) from None
            trusted = [header_key] if header_key is not None else []
        try:
            checkpoint, signer = read_checkpoint(note, trusted)
        except NoteError as exc:
            raise CommandError(f"checkpoint refused: {exc}") from None
        return checkpoint, signer.name

    def _consistency(self, result: BundleResult, outside: Checkpoint, signer: str) -> list[str]:
        size = outside.tree_size
        if size <= result.tree_size:
            if result.roots.get(size) == outside.root_hash:
                return []
            # Two signed trees of one size that differ: where, if the log is at hand.
            return [
                f"checkpoint of size {size}: the bundle's root at that size differs: one of "
                "the two histories up to that size was rewritten",
                *self._first_difference(result),
            ]
        # A checkpoint newer than the bundle: today's log must extend both.
        try:
            log = log_check(sizes=[size])
        except DatabaseError as exc:
            return [f"checkpoint of size {size} is newer than the bundle, and the log: {exc}"]
        return [
            *self._first_difference(result),
            *compare(
                outside,
                log.size,
                log.roots.get(size),
                label="checkpoint",
                origins=[signer],
            ),
        ]

    def _first_difference(self, result: BundleResult) -> list[str]:
        """The first leaf where the log in the database differs from the bundle, if any."""
        assert result.leaves is not None
        try:
            log = log_check(keep_leaves=True)
            assert log.leaves is not None
            first = first_leaf_differing(result.leaves, log.leaves)
            named = log_check(name_leaves=[first]).where.get(first) if first is not None else None
        except DatabaseError:
            return []  # offline: the bundle alone cannot say where
        if first is None:
            return []
        stream, seq = result.where[first] if first < len(result.where) else ("?", 0)
        now = f"; in the log: stream {named[0]} seq {named[1]}" if named else ""
        return [
            f"leaf {first} of the bundle differs from the log's (in the bundle: stream {stream} "
            f"seq {seq}{now}): the history was rewritten from there"
        ]

    def _check_file(self, path: Path, result: BundleResult) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        digest = file_sha256(path)
        matches = result.uploads.get(digest)
        if not matches:
            raise CommandError(
                f"{path}: sha256 {digest} is not in the bundle: no chained upload event names it"
            )
        for stream, seq, name, what in matches:
            self.stdout.write(
                f"{path}: sha256 {digest} matches {what} ({name}), uploaded in stream {stream} "
                f"seq {seq}"
            )

    # --- stored files ---------------------------------------------------------------------

    def _evidence(self) -> None:
        """Every stored file against its upload event; a new failure is recorded and told."""
        results = fixity_check_all(record=True)
        bad = [r for r in results if not r.ok]
        for result in bad:
            self.stderr.write(f"BROKEN {result}")
        if bad:
            raise CommandError(
                f"{len(bad)} of {len(results)} stored files do not match their upload event; "
                f"first: {bad[0]}"
            )
        self.stdout.write(f"stored files intact: {len(results)} match their upload events")

    def _report_breaks(self, breaks: list[Break], streams: int) -> None:
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(
                f"trail broken in {len(breaks)} of {streams} streams; first: {breaks[0]}"
            )
