"""``manage.py export_trail FILE``: the bundle auditors verify offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from workflows.trail.bundle import write_bundle


class Command(BaseCommand):
    help = "Export the trail (events, chain heads, evidence hashes) as a JSON Lines bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent}: no such folder")
        tmp = path.with_name(path.name + ".partial")
        # One repeatable-read snapshot, so heads and events agree while others append.
        snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
        with transaction.atomic():
            if snapshot:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with tmp.open("w", encoding="utf-8") as handle:
                counts = write_bundle(handle, timezone.now().isoformat())
        tmp.replace(path)
        self.stdout.write(
            f"exported {counts['event']} events, {counts['head']} heads, "
            f"{counts['evidence']} evidence hashes to {path}"
        )
