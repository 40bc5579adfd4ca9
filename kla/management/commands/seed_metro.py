"""``manage.py seed_metro [--demo-users --password P]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kla.seed import seed_metro


class Command(BaseCommand):
    help = "Load Instruksi Wali Kota Metro 2/2026, its addressee bodies and the 24 indicators."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-users", action="store_true", help="add the demo accounts")
        parser.add_argument("--password", help="password of the demo accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo_users"] and not options["password"]:
            raise CommandError("--demo-users needs --password")
        report = seed_metro(demo_password=options["password"] if options["demo_users"] else None)
        made = ", ".join(f"{kind} {n}" for kind, n in sorted(report.created.items()))
        self.stdout.write(f"seed_metro: created {made}")
