"""The working calendar (hari kerja): Monday to Friday, minus Indonesia's national holidays and
cuti bersama, with the days an administrator declares on top.

The national days come from the ``holidays`` package (0.99 or newer: older ones put some
Idulfitri holidays on the wrong days and lack cuti bersama). The administrator's
``CalendarDay`` rows are read whenever a calendar is built, so a change in the admin reaches
every process without a release; an action builds it only when its revision
(``CalendarRevision``) has changed since this process last did.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from functools import lru_cache

import holidays

from workflows.models import CalendarDay, DayKind

# A step that would need more working days than this has no due time worth computing; it
# bounds every walk along the calendar, so no input can loop for long.
MAX_WALK_DAYS = 3660


@lru_cache(maxsize=64)
def national_holidays(year: int) -> frozenset[dt.date]:
    """Public holidays and cuti bersama of one year (the package's data does not change)."""
    days = holidays.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(days.keys())


# The calendar this process built last, with the revision it was built for.
_kept: dict[str, tuple[uuid.UUID, WorkCalendar]] = {}


class WorkCalendar:
    """Which dates are working days, read once from the administrator's overrides."""

    def __init__(self, overrides: dict[dt.date, str] | None = None) -> None:
        self.overrides = overrides if overrides is not None else {}

    @classmethod
    def load(cls) -> WorkCalendar:
        """The calendar as the administrator has it now (one small query)."""
        return cls(dict(CalendarDay.objects.values_list("date", "kind")))

    @classmethod
    def of_revision(cls, token: uuid.UUID | None) -> WorkCalendar:
        """The calendar of revision ``token`` (``CalendarRevision``, read by the caller with
        what it reads anyway): the one this process built last when the token is the same,
        otherwise loaded anew and kept. ``None`` (no revision row) loads it every time."""
        if token is None:
            return cls.load()
        kept = _kept.get("calendar")
        if kept is not None and kept[0] == token:
            return kept[1]
        calendar = cls.load()
        # Loaded after the token was read, so at least as new as it: never older.
        _kept["calendar"] = (token, calendar)
        return calendar

    def is_workday(self, day: dt.date) -> bool:
        kind = self.overrides.get(day)
        if kind == DayKind.WORKDAY:
            return True
        if kind == DayKind.HOLIDAY:
            return False
        return day.weekday() < 5 and day not in national_holidays(day.year)

    def workdays(self, first: dt.date, last: dt.date) -> Iterator[dt.date]:
        """The working days from ``first`` through ``last``, both included."""
        day = first
        while day <= last:
            if self.is_workday(day):
                yield day
            day += dt.timedelta(days=1)

    def add_workdays(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (``day`` itself does not count)."""
        return self._walk(day, count, 1)

    def workdays_before(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day before ``day``."""
        return self._walk(day, count, -1)

    def _walk(self, day: dt.date, count: int, step: int) -> dt.date:
        found = 0
        for _ in range(MAX_WALK_DAYS):
            if found >= count:
                return day
            day += dt.timedelta(days=step)
            if self.is_workday(day):
                found += 1
        if found >= count:
            return day
        raise ValueError(f"no {count} working days within {MAX_WALK_DAYS} days of {day}")
