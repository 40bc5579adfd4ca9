"""Due times of each step, the deadline cap of the operator's steps, recomputes, lateness."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.models import Instruction, Submission
from tests import factories as f
from workflows.models import CalendarDay, DayKind, Timer
from workflows.services import submission_act

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

DEADLINE_END = wib(2026, 4, 1, 23, 59, 59)


def act(user: User, submission: Submission, action: str, note: Any = "") -> Any:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note)


def open_timer(submission: Submission) -> Any:
    return Timer.objects.get(submission=submission, closed_at__isnull=True)


def test_submitted_at_ten_on_17_march_is_due_for_verification_on_26_march(
    clock: Any, operator: User
) -> None:
    s = act(operator, f.make_draft(operator), "submit")
    assert s.due_at == wib(2026, 3, 26, 23, 59)
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 26, 23, 59)
    timer = open_timer(s)
    assert (timer.step, timer.started_at, timer.due_at) == (
        "submitted",
        wib(2026, 3, 17, 10),
        wib(2026, 3, 26, 23, 59),
    )


def test_a_draft_is_due_at_the_end_of_the_deadline_day(clock: Any, operator: User) -> None:
    draft = f.make_draft(operator)
    assert draft.due_at == DEADLINE_END
    assert open_timer(draft).step == "draft"


def test_a_draft_begun_after_the_deadline_has_no_due_time(clock: Any, operator: User) -> None:
    clock.set(2026, 4, 2, 8)
    draft = f.make_draft(operator)
    assert draft.due_at is None


def test_a_withdrawn_submission_is_again_due_at_the_end_of_the_deadline_day(
    clock: Any, operator: User
) -> None:
    s = act(operator, f.make_draft(operator), "submit")
    s = act(operator, s, "withdraw")
    assert s.due_at == DEADLINE_END
    assert Timer.objects.filter(submission=s, closed_at__isnull=True).count() == 1


def test_a_revision_is_due_at_its_budget_when_that_comes_first(
    clock: Any, people: dict[str, Any]
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 25, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    assert s.due_at == wib(2026, 3, 27, 23, 59)


def test_a_revision_is_capped_at_the_end_of_the_deadline_day(
    clock: Any, people: dict[str, Any]
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 31, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    # Two working days after 31 March would be 2 April: the deadline comes first.
    assert s.due_at == DEADLINE_END


def test_a_revision_begun_after_the_deadline_gets_its_whole_budget(
    clock: Any, people: dict[str, Any]
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 4, 6, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    assert s.due_at == wib(2026, 4, 8, 23, 59)


def test_each_reviewer_step_has_its_budget_and_audited_has_no_due_time(
    clock: Any, people: dict[str, Any]
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    consolidator, auditor = people["consolidator"], people["auditor"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 25, 9)
    s = act(verifier, s, "approve")
    assert s.due_at == wib(2026, 3, 27, 23, 59)  # consolidate: 2
    clock.set(2026, 3, 27, 9)
    s = act(consolidator, s, "consolidate")
    assert s.due_at == wib(2026, 4, 6, 23, 59)  # audit: 5, over Good Friday
    clock.set(2026, 3, 30, 9)
    s = act(auditor, s, "audit")
    assert s.due_at is None
    assert not Timer.objects.filter(submission=s, closed_at__isnull=True).exists()
    assert Timer.objects.filter(submission=s).count() == 4


def test_budgets_are_read_from_the_instruction(clock: Any, operator: User) -> None:
    draft = f.make_draft(operator)
    Instruction.objects.filter(pk=draft.instruction_id).update(budget_verify=4)
    s = act(operator, draft, "submit")
    assert s.due_at == wib(2026, 3, 30, 23, 59)


def test_changing_the_deadline_recomputes_open_due_times(
    clock: Any, operator: User, other_operator: User, django_capture_on_commit_callbacks: Any
) -> None:
    draft = f.make_draft(operator)
    submitted = act(other_operator, f.make_draft(other_operator), "submit")
    instruction = Instruction.objects.get(pk=draft.instruction_id)
    instruction.deadline = dt.date(2026, 4, 10)
    with django_capture_on_commit_callbacks(execute=True):
        instruction.save()
    assert Submission.objects.get(pk=draft.pk).due_at == wib(2026, 4, 10, 23, 59, 59)
    assert open_timer(draft).due_at == wib(2026, 4, 10, 23, 59, 59)
    assert Submission.objects.get(pk=submitted.pk).due_at == wib(2026, 3, 26, 23, 59)


def test_changing_a_budget_recomputes_open_due_times(
    clock: Any, operator: User, django_capture_on_commit_callbacks: Any
) -> None:
    s = act(operator, f.make_draft(operator), "submit")
    instruction = Instruction.objects.get(pk=s.instruction_id)
    instruction.budget_verify = 3
    with django_capture_on_commit_callbacks(execute=True):
        instruction.save()
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 27, 23, 59)


def test_changing_the_calendar_recomputes_open_due_times(
    clock: Any, operator: User, django_capture_on_commit_callbacks: Any
) -> None:
    s = act(operator, f.make_draft(operator), "submit")
    with django_capture_on_commit_callbacks(execute=True):
        day = CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind=DayKind.HOLIDAY)
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 27, 23, 59)
    with django_capture_on_commit_callbacks(execute=True):
        day.delete()
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 26, 23, 59)


def test_closed_steps_keep_their_due_times_on_a_recompute(
    clock: Any, people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 25, 9)
    act(verifier, s, "approve")
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind=DayKind.HOLIDAY)
    closed = Timer.objects.get(submission=s, step="submitted")
    assert closed.due_at == wib(2026, 3, 26, 23, 59)
    assert open_timer(s).due_at == wib(2026, 3, 30, 23, 59)


class TestLateness:
    def test_submitted_by_the_end_of_the_deadline_day_is_not_late(
        self, clock: Any, operator: User
    ) -> None:
        draft = f.make_draft(operator)
        clock.set(2026, 4, 1, 23, 59, 58)
        assert act(operator, draft, "submit").late is False

    def test_first_submitted_after_the_deadline_day_is_late_for_good(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator, verifier = people["operator"], people["verifier"]
        draft = f.make_draft(operator)
        clock.set(2026, 4, 2, 0, 0, 1)
        s = act(operator, draft, "submit")
        assert s.late is True
        s = act(verifier, s, "return", "Kurang")
        s = act(operator, s, "resubmit", "Sudah")
        assert Submission.objects.get(pk=s.pk).late is True
