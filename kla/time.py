"""Time as the instruction counts it: Western Indonesian Time (WIB, UTC+7), whole days.

Stored moments are aware datetimes in UTC; a "day" of the instruction (a deadline, a due day,
a reminder day) is a calendar date in WIB.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.formats import date_format, time_format

WIB = ZoneInfo("Asia/Jakarta")


def wib_date(at: dt.datetime) -> dt.date:
    """The calendar date of a moment in WIB."""
    return at.astimezone(WIB).date()


def end_of_workday(day: dt.date) -> dt.datetime:
    """23:59 WIB of a day: when a step due that day falls due."""
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=WIB)


def long_date(value: dt.date | dt.datetime, *, weekday: bool = False) -> str:
    """A date as "17 Maret 2025" (a moment read in WIB) in the active language, with the
    weekday first ("Senin, 17 Maret 2025") when asked."""
    day = value.astimezone(WIB).date() if isinstance(value, dt.datetime) else value
    return str(date_format(day, "l, j F Y" if weekday else "j F Y"))


def long_moment(at: dt.datetime, *, seconds: bool = False, weekday: bool = False) -> str:
    """A moment as "17 Maret 2025 14:05 WIB": the one way a time is written, on pages and in
    mail."""
    local = at.astimezone(WIB)
    clock = str(time_format(local.time(), "H:i:s" if seconds else "H:i"))
    return f"{long_date(local, weekday=weekday)} {clock} WIB"
