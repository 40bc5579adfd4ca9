"""Dates and times on every page in one Indonesian style: "17 Maret 2025", and moments as
"17 Maret 2025 14:05 WIB" (in WIB whatever the server's zone; English through the switch).

Built into every template (``TEMPLATES`` ``builtins``): ``{{ value|tanggal }}``,
``{{ value|waktu }}``, ``|waktu:"detik"`` with seconds (the trail), ``|tanggal:"hari"`` and
``|waktu:"hari"`` with the weekday (deadlines).
"""

from __future__ import annotations

import datetime as dt

from django import template

from kla.time import long_date, long_moment

register = template.Library()


@register.filter
def tanggal(value: dt.date | dt.datetime | str | None, style: str = "") -> str:
    """A date, the WIB date of a moment, or ``YYYY-MM-DD`` (a category's date field) as
    "17 Maret 2025"; empty for none, any other text as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return long_date(dt.date.fromisoformat(value), weekday=style == "hari")
        except ValueError:
            return value
    return long_date(value, weekday=style == "hari")


@register.filter
def waktu(value: dt.datetime | None, style: str = "") -> str:
    """A moment in WIB as "17 Maret 2025 14:05 WIB"; empty for none."""
    if value is None or value == "":
        return ""
    return long_moment(value, seconds=style == "detik", weekday=style == "hari")
