"""SLA due times: when each step of a submission is due, kept in ``Timer`` rows.

A step is due at 23:59 WIB on the N-th working day after the day it starts (that day does not
count), N being the instruction's budget for the step. The operator's steps (``draft``, and
``returned``: the revision) are due at the earlier of their budget and the end of the deadline
day, unless the deadline had already passed when the step began; a draft has no budget of its
own, so it is due at the end of the deadline day (and has no due time once that has passed).

``timer_start`` runs inside every action's transaction; when the deadline, a budget or the
calendar changes, ``workflows.sla.recompute`` recomputes the open due times in the background
(``workflows.sla.receivers``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from kla.models import Instruction, Submission, SubmissionState
from kla.time import end_of_workday, wib_date
from workflows.compiled import compiled_cursor
from workflows.models import Timer
from workflows.sla.calendar import WorkCalendar

S = SubmissionState

# The instruction's budget (in working days) of each step, by the state that waits on it.
BUDGET_FIELDS: dict[str, str] = {
    S.SUBMITTED: "budget_verify",
    S.RETURNED: "budget_revise",
    S.VERIFIED: "budget_consolidate",
    S.CONSOLIDATED: "budget_audit",
}
OPERATOR_STEPS = frozenset({S.DRAFT, S.RETURNED})


def step_due(
    *,
    step: str,
    started_at: dt.datetime,
    instruction: Instruction,
    calendar: WorkCalendar,
) -> dt.datetime | None:
    """When a step that began at ``started_at`` is due; ``None`` when it has no due time."""
    due: dt.datetime | None = None
    field = BUDGET_FIELDS.get(step)
    if field is not None:
        budget = int(getattr(instruction, field))
        due = end_of_workday(calendar.add_workdays(wib_date(started_at), budget))
    deadline_end = instruction.deadline_end
    if step in OPERATOR_STEPS and started_at <= deadline_end:
        due = deadline_end if due is None else min(due, deadline_end)
    return due


def due_for(
    submission: Submission, *, at: dt.datetime, calendar: WorkCalendar | None = None
) -> dt.datetime | None:
    """When the step the submission's current state waits on, begun at ``at``, is due
    (``None`` once audited)."""
    if submission.state == S.AUDITED:
        return None
    return step_due(
        step=submission.state,
        started_at=at,
        instruction=submission.instruction,
        calendar=calendar if calendar is not None else WorkCalendar.load(),
    )


_UNSET: Any = object()


def timer_start(
    *,
    submission: Submission,
    at: dt.datetime,
    calendar: WorkCalendar | None = None,
    due: dt.datetime | None = _UNSET,
) -> Timer | None:
    """Close the submission's open step and open the one its current state waits on.

    Runs inside the action's transaction (the submission row is locked by the caller), so the
    due time changes together with the state. Sets ``submission.due_at`` (null once audited);
    a caller that has computed the due time (``due_for``) and written it with the state
    passes it as ``due``, and the submission is not written again.
    """
    written = due is not _UNSET
    if not written:
        due = due_for(submission, at=at, calendar=calendar)
    timer: Timer | None = None
    if submission.state != S.AUDITED:
        timer = Timer(submission=submission, step=submission.state, started_at=at, due_at=due)
    if timer is not None and connection.vendor == "postgresql":
        _close_and_open(timer)
    else:
        Timer.objects.filter(submission=submission, closed_at__isnull=True).update(closed_at=at)
        if timer is not None:
            timer.save(force_insert=True)
    if not written:
        Submission.objects.filter(pk=submission.pk).update(due_at=due)
    submission.due_at = due
    return timer


def _close_and_open(timer: Timer) -> None:
    """PostgreSQL: the open step closed and the next one opened in one statement. The INSERT
    reads the UPDATE's output, so the old row is closed before the new one is checked against
    the one-open-step constraint."""
    table = Timer._meta.db_table
    with compiled_cursor() as cursor:
        cursor.execute(
            f"WITH closed AS (UPDATE {table} SET closed_at = %s "  # noqa: S608 -- names only
            "WHERE submission_id = %s AND closed_at IS NULL RETURNING 1) "
            f"INSERT INTO {table} (submission_id, step, started_at, due_at) "
            "SELECT %s, %s, %s, %s WHERE (SELECT COUNT(*) FROM closed) >= 0 RETURNING id",
            [
                timer.started_at,
                timer.submission_id,
                timer.submission_id,
                timer.step,
                timer.started_at,
                timer.due_at,
            ],
        )
        timer.pk = cursor.fetchone()[0]
    timer._state.adding = False


def is_overdue(submission: Submission, now: dt.datetime) -> bool:
    """Whether the submission's current step is past its due time."""
    return (
        submission.due_at is not None and submission.state != S.AUDITED and submission.due_at < now
    )
