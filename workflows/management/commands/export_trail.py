"""``manage.py export_trail FILE``: the signed bundle (version 2) auditors verify offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows.trail.checkpoints import KeyMissing, LogForked
from workflows.trail.export import bundle_export


class Command(BaseCommand):
    help = "Cut a checkpoint and export the log up to it, signed, as a JSON Lines bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent}: no such folder")
        tmp = path.with_name(path.name + ".partial")
        try:
            with tmp.open("w", encoding="utf-8") as handle:
                counts, checkpoint = bundle_export(handle)
        except (KeyMissing, LogForked) as exc:
            tmp.unlink(missing_ok=True)
            raise CommandError(str(exc)) from None
        tmp.replace(path)
        self.stdout.write(
            f"exported {counts['event']} events and {counts['head']} heads, the log up to "
            f"checkpoint {checkpoint.tree_size}, to {path}"
        )
