"""``manage.py instruction_copy --number N --year Y --issued-on DATE --deadline DATE ...``.

Starts next year's instruction from an existing one (the current one unless ``--from``):
addressees and budgets copied, years shifted by one unless given, the title's year replaced
unless ``--title`` is given. Prints the new instruction's id on the last line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kla.errors import ServiceError
from kla.instructions import instruction_copy, instruction_get


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _int(name: str, value: str) -> int:
    text = value.strip()
    if not text.isdigit():
        raise CommandError(f"{name} {value!r} is not a whole number")
    return int(text)


def _years(value: str) -> list[int]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise CommandError(f"--years {value!r} is not a comma-separated list of years")
    return [int(p) for p in parts]


class Command(BaseCommand):
    help = "Start a new instruction (next year's) as a copy of an existing one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--number", required=True, help="the new instruction's number")
        parser.add_argument("--year", required=True, help="the new instruction's year")
        parser.add_argument("--issued-on", required=True, help="the day it is set (YYYY-MM-DD)")
        parser.add_argument("--deadline", required=True, help="its deadline (YYYY-MM-DD)")
        parser.add_argument("--effective-on", help="in force from (default: --issued-on)")
        parser.add_argument("--title", help="default: the source's title, its year replaced")
        parser.add_argument("--years", help="reporting years, e.g. 2027,2028,2029")
        parser.add_argument("--from", dest="source", help="the id to copy (default: current)")
        parser.add_argument(
            "--make-current", action="store_true", help="make the new instruction current"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source = instruction_get(
                _int("--from", options["source"]) if options["source"] else None, field="--from"
            )
            copy = instruction_copy(
                source=source,
                number=_int("--number", options["number"]),
                year=_int("--year", options["year"]),
                issued_on=_date(options["issued_on"]),
                deadline=_date(options["deadline"]),
                effective_on=_date(options["effective_on"]) if options["effective_on"] else None,
                title=options["title"],
                years=_years(options["years"]) if options["years"] else None,
                make_current=options["make_current"],
            )
        except ServiceError as exc:
            raise CommandError(_message(exc)) from None
        self.stdout.write(
            f"{copy} ({copy.title}): years {', '.join(map(str, copy.years))}, "
            f"deadline {copy.deadline:%Y-%m-%d}, {copy.addressees.count()} addressees"
            f"{', current' if copy.is_current else ''}"
        )
        self.stdout.write(str(copy.pk))


def _message(exc: ServiceError) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items())
    return exc.message
