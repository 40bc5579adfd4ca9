"""Lateness (DESIGN, Submissions): a submit from draft from 00:00:00 WIB after the deadline day
is late, for good, unless a reviewer had returned the submission; a resubmit never is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.models import Submission
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import submission_act

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

# The deadline of Instruksi 2/2026 is 1 April 2026.
LAST_TENTH = wib(2026, 4, 1, 23, 59, 59) + dt.timedelta(milliseconds=900)
NEXT_DAY = wib(2026, 4, 2)


def act(user: User, submission: Submission, action: str, note: Any = "") -> Submission:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note)


def late_in_trail(submission: Submission) -> list[tuple[str, bool]]:
    """The ``late`` each submit and resubmit recorded, in order."""
    events = TrailEvent.objects.filter(
        submission=submission, action__in=("submit", "resubmit")
    ).order_by("seq")
    return [(e.action, e.data["late"]) for e in events]


def test_a_submit_at_23_59_59_9_on_the_deadline_day_is_on_time(clock: Any, operator: User) -> None:
    draft = f.make_draft(operator)
    clock.at = LAST_TENTH
    s = act(operator, draft, "submit")
    assert s.late is False
    assert late_in_trail(s) == [("submit", False)]


def test_a_submit_at_midnight_after_the_deadline_day_is_late(clock: Any, operator: User) -> None:
    draft = f.make_draft(operator)
    clock.at = NEXT_DAY
    s = act(operator, draft, "submit")
    assert s.late is True
    assert Submission.objects.get(pk=s.pk).late is True
    assert late_in_trail(s) == [("submit", True)]


def test_a_placeholder_withdrawn_and_submitted_after_the_deadline_is_late(
    clock: Any, operator: User
) -> None:
    s = act(operator, f.make_draft(operator), "submit")  # 17 March: on time
    assert s.late is False
    s = act(operator, s, "withdraw")
    clock.at = NEXT_DAY
    s = act(operator, s, "submit")
    assert s.late is True
    assert late_in_trail(s) == [("submit", False), ("submit", True)]


def test_a_resubmit_after_the_deadline_is_never_late(clock: Any, people: dict[str, Any]) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 31, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    clock.set(2026, 4, 6, 9)
    s = act(operator, s, "resubmit", "SK dilampirkan")
    assert (s.state, s.late) == ("submitted", False)
    assert late_in_trail(s) == [("submit", False), ("resubmit", False)]


def test_a_submission_returned_in_time_is_not_late_when_submitted_again_after_a_withdraw(
    clock: Any, people: dict[str, Any]
) -> None:
    """Answered in time: the reviewer's return says so, whatever route it comes back by."""
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    clock.set(2026, 3, 26, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    clock.set(2026, 4, 3, 9)
    s = act(operator, s, "resubmit", "SK dilampirkan")
    s = act(operator, s, "withdraw")
    clock.set(2026, 4, 6, 9)
    s = act(operator, s, "submit")
    assert (s.state, s.late) == ("submitted", False)


def test_late_stays_late_after_later_actions(clock: Any, people: dict[str, Any]) -> None:
    operator, verifier = people["operator"], people["verifier"]
    draft = f.make_draft(operator)
    clock.set(2026, 4, 2, 8)
    s = act(operator, draft, "submit")
    clock.set(2026, 4, 3, 9)
    s = act(verifier, s, "return", "Lampirkan SK")
    s = act(operator, s, "resubmit", "SK dilampirkan")
    assert s.late is True
    s = act(verifier, s, "approve")
    assert Submission.objects.get(pk=s.pk).late is True
    assert late_in_trail(s) == [("submit", True), ("resubmit", True)]


def test_a_late_submission_withdrawn_and_submitted_again_stays_late(
    clock: Any, operator: User
) -> None:
    draft = f.make_draft(operator)
    clock.at = NEXT_DAY
    s = act(operator, draft, "submit")
    s = act(operator, s, "withdraw")
    s = act(operator, s, "submit")
    assert s.late is True


def test_a_second_submission_may_be_late_while_the_first_was_on_time(
    clock: Any, operator: User
) -> None:
    first = act(operator, f.make_draft(operator, "regulation"), "submit")
    second = f.make_draft(operator, "regulation", title="Perwali kedua")
    clock.at = NEXT_DAY
    second = act(operator, second, "submit")
    first.refresh_from_db()
    assert (first.late, second.late) == (False, True)


def test_lateness_follows_the_instruction_of_the_submission(
    clock: Any, body: Any, operator: User
) -> None:
    """A submission to another instruction is late by that instruction's deadline."""
    later = f.InstructionFactory(
        number=3, year=2026, deadline=dt.date(2026, 4, 10), is_current=False
    )
    draft = f.make_draft(operator, instruction=later)
    clock.at = NEXT_DAY  # past 2/2026's deadline, not 3/2026's
    s = act(operator, draft, "submit")
    assert s.late is False
