"""Next year's instruction as data: 2/2027 runs the whole flow on the 2027 calendar, and the
sweep serves every instruction whose reminder days are running, each on its own.

The 2027 days come from the pinned ``holidays`` package (categories public and government),
as ``workflows.sla.calendar`` reads them: Nyepi on Monday 8 March, Idulfitri (estimated)
on 10 and 11 March with cuti bersama on 9, 12 and 15 March, so that no day from 8 to 15 March
is a working day; cuti bersama on Thursday 25 March and Good Friday on 26 March.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.models import Body, Category, Instruction, Submission
from tests import factories as f
from workflows.models import CalendarDay, DayKind, Notification, Reminder, Timer, TrailEvent
from workflows.services import submission_act
from workflows.sla.calendar import WorkCalendar
from workflows.sla.nihil import nihil_declare
from workflows.sla.sweep import answered, reminder_days, sla_sweep
from workflows.trail.reading import verify_database

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

D = dt.date


def act(user: User, submission: Submission, action: str, note: Any = "") -> Submission:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note)


def instruction_2027(*, current: bool = False, **fields: Any) -> Instruction:
    """Instruksi 2/2027, addressed to every body made so far."""
    values: dict[str, Any] = {
        "number": 2,
        "year": 2027,
        "title": "Pelaksanaan Kota Layak Anak Tahun 2027",
        "issued_on": D(2027, 3, 1),
        "deadline": D(2027, 4, 1),
        "is_current": current,
    } | fields
    return f.InstructionFactory(**values)


def open_timer(submission: Submission) -> Timer:
    return Timer.objects.get(submission=submission, closed_at__isnull=True)


class TestTheCalendarOf2027:
    def test_the_idulfitri_week_of_2027_has_no_working_day(self) -> None:
        calendar = WorkCalendar.load()
        assert [d for d in range(8, 16) if calendar.is_workday(D(2027, 3, d))] == []
        assert calendar.is_workday(D(2027, 3, 5)) and calendar.is_workday(D(2027, 3, 16))
        assert not calendar.is_workday(D(2027, 3, 25))  # cuti bersama before Good Friday
        assert not calendar.is_workday(D(2027, 3, 26))

    def test_an_administrator_day_overrides_the_package_in_2027(self) -> None:
        CalendarDay.objects.create(date=D(2027, 3, 15), kind=DayKind.WORKDAY, reason="Masuk")
        CalendarDay.objects.create(date=D(2027, 3, 16), kind=DayKind.HOLIDAY, reason="HUT Kota")
        calendar = WorkCalendar.load()
        assert calendar.is_workday(D(2027, 3, 15))
        assert not calendar.is_workday(D(2027, 3, 16))
        assert calendar.add_workdays(D(2027, 3, 5), 2) == D(2027, 3, 17)

    def test_the_reminder_days_of_2_2027_skip_good_friday_and_its_cuti_bersama(self) -> None:
        instruction = instruction_2027()
        assert reminder_days(instruction, WorkCalendar.load()) == [
            (D(2027, 3, 23), 5),
            (D(2027, 3, 29), 3),
            (D(2027, 3, 31), 1),
            (D(2027, 4, 1), 0),
        ]


class TestAWholeFlowIn2027:
    @pytest.mark.parametrize("current", [False, True], ids=["beside-2-2026", "current"])
    def test_2_2027_runs_from_draft_to_audit_with_due_times_on_the_2027_calendar(
        self, clock: Any, people: dict[str, Any], current: bool
    ) -> None:
        operator = people["operator"]
        this_year = f.InstructionFactory()  # 2/2026, current until 2/2027 takes over
        instruction = instruction_2027(current=current)
        assert Instruction.current() == (instruction if current else this_year)

        clock.set(2027, 3, 5, 10)  # a Friday, the last working day before the holiday week
        draft = f.make_draft(operator, instruction=instruction, years=[2027])
        assert draft.instruction_id == instruction.pk
        assert draft.due_at == wib(2027, 4, 1, 23, 59, 59)  # the end of the deadline day

        s = act(operator, draft, "submit")
        assert (s.state, s.late) == ("submitted", False)
        assert s.due_at == wib(2027, 3, 17, 23, 59)  # 16 and 17 March: 2 working days

        clock.set(2027, 3, 17, 9)
        s = act(people["verifier"], s, "approve")
        assert s.due_at == wib(2027, 3, 19, 23, 59)

        clock.set(2027, 3, 19, 10)
        s = act(people["consolidator"], s, "consolidate")
        # 22, 23, 24 March, then 29 and 30 March: 25 and 26 March are holidays.
        assert s.due_at == wib(2027, 3, 30, 23, 59)
        assert open_timer(s).due_at == wib(2027, 3, 30, 23, 59)

        clock.set(2027, 3, 30, 15)
        s = act(people["auditor"], s, "audit", "Tidak ada temuan")
        assert (s.state, s.due_at) == ("audited", None)
        steps = Timer.objects.filter(submission=s).order_by("started_at")
        assert [(t.step, t.due_at) for t in steps] == [
            ("draft", wib(2027, 4, 1, 23, 59, 59)),
            ("submitted", wib(2027, 3, 17, 23, 59)),
            ("verified", wib(2027, 3, 19, 23, 59)),
            ("consolidated", wib(2027, 3, 30, 23, 59)),
        ]
        assert verify_database()[1] == []

    def test_an_administrator_day_in_2027_moves_an_open_due_time(
        self, clock: Any, operator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        instruction = instruction_2027()
        clock.set(2027, 3, 5, 10)
        s = act(operator, f.make_draft(operator, instruction=instruction), "submit")
        with django_capture_on_commit_callbacks(execute=True):
            day = CalendarDay.objects.create(
                date=D(2027, 3, 15), kind=DayKind.WORKDAY, reason="Cuti bersama dibatalkan"
            )
        assert Submission.objects.get(pk=s.pk).due_at == wib(2027, 3, 16, 23, 59)
        with django_capture_on_commit_callbacks(execute=True):
            day.delete()
        assert Submission.objects.get(pk=s.pk).due_at == wib(2027, 3, 17, 23, 59)

    def test_an_overdue_step_of_an_instruction_that_is_not_current_is_escalated(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        f.InstructionFactory()
        instruction = instruction_2027()
        clock.set(2027, 3, 5, 10)
        s = act(operator, f.make_draft(operator, instruction=instruction), "submit")
        assert sla_sweep(now=wib(2027, 3, 17, 23, 58)).escalations == 0
        assert sla_sweep(now=wib(2027, 3, 18, 0, 0)).escalations == 1
        assert TrailEvent.objects.filter(submission=s, action="escalation").count() == 1

    def test_2_2027_reminds_on_its_own_days(self, clock: Any, body: Body, operator: User) -> None:
        f.InstructionFactory()
        instruction = instruction_2027()
        day = D(2027, 3, 15)
        while day <= D(2027, 4, 3):
            for hour in (0, 9, 16):
                sla_sweep(now=wib(day.year, day.month, day.day, hour))
            day += dt.timedelta(days=1)
        sent = Reminder.objects.filter(instruction=instruction, body=body).order_by("day")
        assert [(r.day, r.days_before) for r in sent] == [
            (D(2027, 3, 23), 5),
            (D(2027, 3, 29), 3),
            (D(2027, 3, 31), 1),
            (D(2027, 4, 1), 0),
        ]
        assert not Reminder.objects.exclude(instruction=instruction).exists()


class TestTwoInstructionsOpenAtOnce:
    """2/2026 (deadline 1 April 2026) and 1/2027, issued early with its deadline on 8 April
    2026: on 31 March 2026 the first is one working day away, the second five (3 April is
    Good Friday)."""

    @pytest.fixture
    def world(
        self, clock: Any, body: Body, operator: User, other_body: Body, other_operator: User
    ) -> dict[str, Any]:
        kemenag = f.BodyFactory(code="kemenag", name="Kemenag", addressed_by=[])
        current = f.InstructionFactory(addressees=[body, other_body])
        early = f.InstructionFactory(
            number=1,
            year=2027,
            issued_on=D(2026, 3, 25),
            deadline=D(2026, 4, 8),
            is_current=False,
            addressees=[body, kemenag],
        )
        # Dinkes answers every category of 2/2026 and only the regulation of 1/2027. (The
        # instruction is named: ``make_draft`` without one would address it to every body.)
        act(operator, f.make_draft(operator, "regulation", instruction=current), "submit")
        for category in ("program", "partnership", "innovation"):
            nihil_declare(user=operator, category=category, reason="Tidak ada")
        clock.set(2026, 3, 26, 9)
        act(operator, f.make_draft(operator, "regulation", instruction=early), "submit")
        return {"current": current, "early": early, "kemenag": kemenag}

    def test_each_instruction_reminds_its_own_unanswered_addressees(
        self, world: dict[str, Any], body: Body, other_body: Body
    ) -> None:
        current, early, kemenag = world["current"], world["early"], world["kemenag"]
        assert sla_sweep(now=wib(2026, 3, 31, 9)).reminders == 3
        sent = {(r.instruction_id, r.body_id, r.day, r.days_before) for r in Reminder.objects.all()}
        assert sent == {
            (current.pk, other_body.pk, D(2026, 3, 31), 1),
            (early.pk, body.pk, D(2026, 3, 31), 5),
            (early.pk, kemenag.pk, D(2026, 3, 31), 5),
        }
        events = TrailEvent.objects.filter(action="reminder")
        missing = {(e.stream.name, e.data["label"]): e.data["missing"] for e in events}
        assert missing == {
            ("body:dinsos", "2/2026"): list(Category.values),
            ("body:dinkes", "1/2027"): ["program", "partnership", "innovation"],
            ("body:kemenag", "1/2027"): list(Category.values),
        }
        titles = set(
            Notification.objects.filter(kind="reminder").values_list("user__username", "title")
        )
        assert {(user, title.split(":")[0]) for user, title in titles} == {
            ("op-dinsos", "Pengingat KLA 2/2026"),
            ("op-dinkes", "Pengingat KLA 1/2027"),
        }
        assert sla_sweep(now=wib(2026, 3, 31, 15)).reminders == 0
        assert verify_database()[1] == []

    def test_the_answers_to_one_instruction_do_not_answer_the_other(
        self, world: dict[str, Any], body: Body
    ) -> None:
        assert answered(world["current"]) == {(body.pk, c) for c in Category.values}
        assert answered(world["early"]) == {(body.pk, "regulation")}

    def test_an_instruction_not_in_force_yet_is_not_reminded_of(
        self, clock: Any, body: Body, operator: User
    ) -> None:
        f.InstructionFactory()
        early = f.InstructionFactory(
            number=1,
            year=2027,
            issued_on=D(2026, 3, 25),
            effective_on=D(2026, 4, 1),
            deadline=D(2026, 4, 8),
            is_current=False,
        )
        sla_sweep(now=wib(2026, 3, 31, 9))
        assert not Reminder.objects.filter(instruction=early).exists()
        sla_sweep(now=wib(2026, 4, 2, 9))
        assert [(r.day, r.days_before) for r in Reminder.objects.filter(instruction=early)] == [
            (D(2026, 4, 2), 3)
        ]

    def test_an_inactive_addressee_is_not_reminded(self, clock: Any, body: Body) -> None:
        f.InstructionFactory()
        body.active = False
        body.save()
        early = f.InstructionFactory(
            number=1, year=2027, issued_on=D(2026, 3, 25), deadline=D(2026, 4, 8), is_current=False
        )
        assert sla_sweep(now=wib(2026, 3, 31, 9)).reminders == 0
        assert not Reminder.objects.filter(instruction=early).exists()
