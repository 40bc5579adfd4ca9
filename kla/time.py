"""Time as the instruction counts it: Western Indonesian Time (WIB, UTC+7), whole days.

Stored moments are aware datetimes in UTC; a "day" of the instruction (a deadline, a due day,
a reminder day) is a calendar date in WIB.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def wib_date(at: dt.datetime) -> dt.date:
    """The calendar date of a moment in WIB."""
    return at.astimezone(WIB).date()


def end_of_workday(day: dt.date) -> dt.datetime:
    """23:59 WIB of a day: when a step due that day falls due."""
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=WIB)
