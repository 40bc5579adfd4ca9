"""``manage.py workdays --from DATE --to DATE``: the working days of a range.

Prints each working day from the first date through the second (both included) as
``YYYY-MM-DD``, one per line, then the count alone on the last line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows.sla.calendar import WorkCalendar


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "List the working days (WIB) from --from through --to, then their count."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="first date, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last date, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = _date(options["first"]), _date(options["last"])
        if first > last:
            raise CommandError("--from must not be after --to")
        if (last - first).days > 366 * 20:
            raise CommandError("the range is limited to 20 years")
        days = list(WorkCalendar.load().workdays(first, last))
        for day in days:
            self.stdout.write(day.isoformat())
        self.stdout.write(str(len(days)))
