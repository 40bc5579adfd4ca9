"""``manage.py summaries_rebuild [--instruction ID]``: recompute the compliance and coverage
summary rows from the submissions (``workflows.summaries``).

The actions keep the rows current; this is for a database loaded by other means (a restore,
a bulk import) and for checking: ``--check`` reports the rows that differ and changes nothing.
A rebuild reads the submissions, then replaces the rows: run it while nobody acts (an action
committed in between would be overwritten; ``--check`` afterwards says so).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from workflows import summaries


class Command(BaseCommand):
    help = "Recompute the compliance and coverage summary rows from the submissions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instruction", type=int, help="Only this instruction (its id)")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Report whether the rows match the submissions; change nothing (exit 1 if not)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        instruction = options.get("instruction")
        if options["check"]:
            differing = summaries.differences(instruction)
            if differing:
                raise CommandError(f"{differing} summary rows differ from the submissions")
            self.stdout.write("The summary rows match the submissions.")
            return
        with transaction.atomic():
            written = summaries.rebuild(instruction)
        self.stdout.write(f"{written} compliance rows written.")
