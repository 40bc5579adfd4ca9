"""The working calendar: weekends, national holidays and cuti bersama, the admin's days."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import holidays
import pytest
from django.core.management import CommandError, call_command

from workflows.models import CalendarDay, CalendarRevision, DayKind
from workflows.sla.calendar import WorkCalendar

pytestmark = pytest.mark.django_db

D = dt.date


def workdays(first: dt.date, last: dt.date) -> list[dt.date]:
    return list(WorkCalendar.load().workdays(first, last))


def test_holidays_package_is_recent_enough_for_idulfitri_2026() -> None:
    major, minor = (int(p) for p in holidays.__version__.split(".")[:2])
    assert (major, minor) >= (0, 99)


def test_nyepi_and_idulfitri_week_are_not_working_days() -> None:
    calendar = WorkCalendar.load()
    for day in range(18, 25):
        assert not calendar.is_workday(D(2026, 3, day)), day
    assert calendar.is_workday(D(2026, 3, 17))
    assert calendar.is_workday(D(2026, 3, 25))


def test_good_friday_and_weekends_are_not_working_days() -> None:
    calendar = WorkCalendar.load()
    assert not calendar.is_workday(D(2026, 4, 3))
    assert not calendar.is_workday(D(2026, 3, 28))
    assert not calendar.is_workday(D(2026, 3, 29))


def test_seven_working_days_from_the_instruction_to_the_deadline() -> None:
    assert workdays(D(2026, 3, 17), D(2026, 4, 1)) == [
        D(2026, 3, 17),
        D(2026, 3, 25),
        D(2026, 3, 26),
        D(2026, 3, 27),
        D(2026, 3, 30),
        D(2026, 3, 31),
        D(2026, 4, 1),
    ]


def test_an_admin_added_holiday_is_not_a_working_day() -> None:
    CalendarDay.objects.create(date=D(2026, 3, 26), kind=DayKind.HOLIDAY, reason="HUT Kota")
    days = workdays(D(2026, 3, 17), D(2026, 4, 1))
    assert D(2026, 3, 26) not in days
    assert len(days) == 6


def test_an_admin_added_working_day_counts_even_over_a_cuti_bersama() -> None:
    CalendarDay.objects.create(
        date=D(2026, 3, 24), kind=DayKind.WORKDAY, reason="SKB mengubah cuti bersama"
    )
    days = workdays(D(2026, 3, 17), D(2026, 4, 1))
    assert D(2026, 3, 24) in days
    assert len(days) == 8


def test_adding_working_days_skips_the_holiday_weeks() -> None:
    calendar = WorkCalendar.load()
    assert calendar.add_workdays(D(2026, 3, 17), 2) == D(2026, 3, 26)
    assert calendar.add_workdays(D(2026, 3, 17), 0) == D(2026, 3, 17)
    assert calendar.workdays_before(D(2026, 4, 1), 5) == D(2026, 3, 25)
    assert calendar.workdays_before(D(2026, 4, 1), 3) == D(2026, 3, 27)
    assert calendar.workdays_before(D(2026, 4, 1), 1) == D(2026, 3, 31)


def test_workdays_command_lists_each_day_then_the_count() -> None:
    out = StringIO()
    call_command("workdays", "--from", "2026-03-17", "--to", "2026-04-01", stdout=out)
    assert out.getvalue().splitlines() == [
        "2026-03-17",
        "2026-03-25",
        "2026-03-26",
        "2026-03-27",
        "2026-03-30",
        "2026-03-31",
        "2026-04-01",
        "7",
    ]


def test_workdays_command_follows_the_admin_calendar() -> None:
    CalendarDay.objects.create(date=D(2026, 3, 21), kind=DayKind.WORKDAY, reason="Sabtu kerja")
    out = StringIO()
    call_command("workdays", "--from", "2026-03-21", "--to", "2026-03-22", stdout=out)
    assert out.getvalue().splitlines() == ["2026-03-21", "1"]


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2026-02-30", "--to", "2026-04-01"],
        ["--from", "kemarin", "--to", "2026-04-01"],
        ["--from", "2026-04-02", "--to", "2026-04-01"],
    ],
)
def test_workdays_command_refuses_bad_dates_clearly(args: Any) -> None:
    with pytest.raises(CommandError):
        call_command("workdays", *args, stdout=StringIO())


def test_a_process_keeps_the_calendar_until_its_revision_changes() -> None:
    """The action reads the calendar's revision with what it reads anyway: the same token
    gives the calendar this process built, a change of a day (in the admin, or a fixture's
    raw rows) gives a new token and the calendar as it is now."""
    token = CalendarRevision.objects.get().token
    kept = WorkCalendar.of_revision(token)
    assert WorkCalendar.of_revision(token) is kept
    saturday = dt.date(2026, 3, 21)
    assert not kept.is_workday(saturday)
    CalendarDay.objects.create(date=saturday, kind=DayKind.WORKDAY, reason="Ganti hari")
    changed = CalendarRevision.objects.get().token
    assert changed != token
    assert WorkCalendar.of_revision(changed).is_workday(saturday)
    day = CalendarDay(date=dt.date(2026, 3, 22), kind=DayKind.WORKDAY, reason="Dari fixture")
    day.save_base(raw=True)
    assert CalendarRevision.objects.get().token != changed
