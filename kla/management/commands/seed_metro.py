"""``manage.py seed_metro [--demo-users --password P]``: the seed data files of ``kla/data``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kla.seed import SeedDataError, seed_metro


class Command(BaseCommand):
    help = (
        "Load the seed data files (kla/data): the instruction, its addressee bodies, the 24 "
        "indicators and the role groups. Creates what is missing, never overwrites an "
        "administrator's changes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-users", action="store_true", help="add the demo accounts")
        parser.add_argument("--password", help="password of the demo accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo_users"] and not options["password"]:
            raise CommandError("--demo-users needs --password")
        try:
            report = seed_metro(
                demo_password=options["password"] if options["demo_users"] else None,
                progress=self._progress if options["verbosity"] > 0 else None,
            )
        except SeedDataError as exc:
            raise CommandError(str(exc)) from None
        made = ", ".join(f"{kind} {n}" for kind, n in sorted(report.created.items()))
        self.stdout.write(f"seed_metro: created {made}")
        if report.changed:
            changed = ", ".join(f"{kind} {n}" for kind, n in sorted(report.changed.items()))
            self.stdout.write(f"seed_metro: changed {changed}")
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"seed_metro: warning: {warning}"))

    def _progress(self, step: str) -> None:
        self.stdout.write(f"seed_metro: {step} ...")
        self.stdout.flush()
