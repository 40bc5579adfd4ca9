"""``manage.py verify_trail [--bundle FILE [--file EVIDENCE ...]]``: re-walk the chains.

Exit 0 when every chain is intact; otherwise exit 1, naming the stream and the ``seq`` of the
first bad event of each broken stream. With ``--bundle`` no database is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows.trail.bundle import BundleError, file_sha256, verify_bundle
from workflows.trail.chain import Break
from workflows.trail.reading import verify_database


class Command(BaseCommand):
    help = "Verify the trail's hash chains, in the database or in an exported bundle."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bundle", type=Path, help="verify this exported bundle offline")
        parser.add_argument(
            "--file",
            type=Path,
            action="append",
            default=[],
            help="with --bundle: check a downloaded evidence file against the bundle's hashes",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bundle: Path | None = options["bundle"]
        if options["file"] and bundle is None:
            raise CommandError("--file needs --bundle")
        if bundle is not None:
            if not bundle.is_file():
                raise CommandError(f"{bundle}: no such file")
            try:
                result = verify_bundle(bundle)
            except BundleError as exc:
                raise CommandError(str(exc)) from None
            checker, breaks = result.checker, result.breaks
            for path in options["file"]:
                self._check_file(path, result.evidence)
        else:
            checker, breaks = verify_database()
        self._report(len(checker.walks), checker.events, breaks)

    def _check_file(self, path: Path, evidence: dict[str, list[dict[str, Any]]]) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        digest = file_sha256(path)
        matches = evidence.get(digest)
        if not matches:
            raise CommandError(f"{path}: sha256 {digest} is not in the bundle")
        for match in matches:
            self.stdout.write(
                f"{path}: sha256 {digest} matches evidence {match['id']} "
                f"({match['name']}) of submission {match['submission']}"
            )

    def _report(self, streams: int, events: int, breaks: list[Break]) -> None:
        if breaks:
            for item in breaks:
                self.stderr.write(f"BROKEN {item}")
            raise CommandError(
                f"trail broken in {len(breaks)} of {streams} streams; first: {breaks[0]}"
            )
        self.stdout.write(f"trail intact: {streams} streams, {events} events")
