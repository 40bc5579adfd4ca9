"""Fixtures of the SLA tests: a clock that the services read through ``timezone.now``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kla.time import WIB


def wib(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A moment in WIB: ``wib(2026, 3, 17, 10)``."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=WIB)


class Clock:
    """The moment every ``timezone.now()`` returns while the fixture is active."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, *args: int) -> dt.datetime:
        self.at = wib(*args)
        return self.at


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: Any) -> Clock:
    """Starts at 10:00 WIB on 17 March 2026, the day the instruction was set."""
    c = Clock(wib(2026, 3, 17, 10))
    monkeypatch.setattr(timezone, "now", c)
    return c
