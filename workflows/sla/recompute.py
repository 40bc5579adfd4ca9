"""Recomputing open due times in the background, in batches, with progress.

A change of the calendar, of an instruction's deadline or of a budget moves the due time of
every open step. Recomputing them inside the change's transaction would hold the row locks of
every open submission for as long as that takes (tens of seconds for a province) and block
every action meanwhile. Instead the change writes a ``DueRecompute`` row in its own
transaction (``recompute_request``) and queues ``RECOMPUTE_TASK`` after commit; a worker (or
beat's relay, should the broker have lost the message) runs the jobs one at a time, oldest
first, ``BATCH`` timers a transaction:

1. the batch's submissions are locked (in id order, as an action locks its one), then their
   open timers are read again, so a step an action closed meanwhile is left alone and the new
   one, started under the new calendar, is already right;
2. the new due times are written grouped by value (one UPDATE per distinct due time), with
   the job's progress, and committed;
3. the compliance rows of the bodies touched get their earliest due time again, in the same
   transaction, locked after the submissions as an action locks them.

Until every job has finished, open due times are being recomputed: ``recomputing()`` is what
the pages and the API ask to say so instead of showing a due time that may be stale, and the
sweep escalates nothing meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kla.models import Instruction, Submission
from kla.queue import publish_on_commit
from kla.time import wib_date
from workflows import summaries
from workflows.models import DueRecompute, Timer
from workflows.sla.calendar import WorkCalendar
from workflows.sla.timers import step_due

RECOMPUTE_TASK = "workflows.tasks.due_recompute"
BATCH = 1000


def _open_timers(instruction_id: int | None) -> QuerySet[Timer]:
    timers = Timer.objects.filter(closed_at__isnull=True)
    if instruction_id is not None:
        timers = timers.filter(submission__instruction_id=instruction_id)
    return timers


def recompute_request(*, reason: str, instruction_id: int | None = None) -> DueRecompute:
    """Ask for the open due times (of one instruction, or all) to be recomputed, in the
    caller's transaction; the work is queued after it commits.

    A job that has not started yet and covers as much is reused: an administrator saving ten
    calendar days queues one recomputation, not ten.
    """
    waiting = DueRecompute.objects.filter(finished_at__isnull=True, started_at__isnull=True)
    covering = waiting.filter(instruction__isnull=True)
    if instruction_id is not None:
        covering = covering | waiting.filter(instruction_id=instruction_id)
    # Locked, so a runner (``skip_locked``) cannot start it before this change commits.
    job = covering.select_for_update().order_by("pk").first()
    if job is None:
        job = DueRecompute.objects.create(
            requested_at=timezone.now(),
            reason=reason[:200],
            instruction_id=instruction_id,
            total=_open_timers(instruction_id).count(),
        )
    publish_on_commit(RECOMPUTE_TASK)
    return job


def recomputing() -> bool:
    """Whether open due times are being recomputed (a job has not finished)."""
    return DueRecompute.objects.filter(finished_at__isnull=True).exists()


def recompute_pending(*, batches: int | None = None) -> int:
    """Run the unfinished jobs, oldest first, one batch a transaction; returns the timers
    recomputed. ``batches`` stops after that many (the task goes on in its next run).

    One runner at a time: each batch takes its job's row lock with ``skip_locked``, so a
    second worker finds nothing to do instead of recomputing the same rows.
    """
    recomputed = 0
    ran = 0
    while batches is None or ran < batches:
        step = _run_batch()
        if step is None:
            return recomputed
        recomputed += step
        ran += 1
    return recomputed


def _run_batch() -> int | None:
    """One batch of the oldest unfinished job; ``None`` when nothing is left to run here."""
    pairs: set[tuple[int, int]] = set()
    with transaction.atomic():
        job = (
            DueRecompute.objects.select_for_update(skip_locked=True)
            .filter(finished_at__isnull=True)
            .order_by("pk")
            .first()
        )
        if job is None:
            return None
        now = timezone.now()
        if job.started_at is None:
            job.started_at = now
        ids = list(
            _open_timers(job.instruction_id)
            .filter(pk__gt=job.after_timer)
            .order_by("pk")
            .values_list("pk", "submission_id")[:BATCH]
        )
        if not ids:
            job.finished_at = now
            job.done = max(job.done, job.total)
            job.save(update_fields=["started_at", "finished_at", "done"])
            return 0
        locked = list(
            Submission.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in={submission for _pk, submission in ids})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        pairs = _recompute(locked)
        # In the batch's transaction, after the submissions (the order an action takes): the
        # cells are right when the batch's progress is.
        summaries.refresh_due(pairs)
        job.after_timer = ids[-1][0]
        job.done += len(ids)
        job.save(update_fields=["started_at", "after_timer", "done"])
    return len(ids)


def _recompute(submission_ids: list[int]) -> set[tuple[int, int]]:
    """New due times for the open timers of these (locked) submissions; the (instruction,
    body) pairs touched."""
    calendar = WorkCalendar.load()
    rows = Timer.objects.filter(submission_id__in=submission_ids, closed_at__isnull=True)
    instructions: dict[int, Instruction] = {}
    cache: dict[tuple[int, str, dt.date, bool], dt.datetime | None] = {}
    timers: dict[dt.datetime | None, list[int]] = defaultdict(list)
    submissions: dict[dt.datetime | None, list[int]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    values: Any = rows.values_list(
        "pk",
        "submission_id",
        "step",
        "started_at",
        "due_at",
        "submission__instruction_id",
        "submission__body_id",
    )
    for pk, submission_id, step, started_at, due_at, inst_id, body_id in values:
        instruction = instructions.get(inst_id)
        if instruction is None:
            instruction = instructions[inst_id] = Instruction.objects.get(pk=inst_id)
        # Everything step_due reads: the day the step began and whether that was before the
        # end of the deadline day.
        key = (inst_id, step, wib_date(started_at), started_at <= instruction.deadline_end)
        if key not in cache:
            cache[key] = step_due(
                step=step, started_at=started_at, instruction=instruction, calendar=calendar
            )
        due = cache[key]
        if due != due_at:
            timers[due].append(pk)
        submissions[due].append(submission_id)
        pairs.add((inst_id, body_id))
    for due, ids in timers.items():
        Timer.objects.filter(pk__in=ids).update(due_at=due)
    for due, ids in submissions.items():
        Submission.objects.filter(pk__in=ids).exclude(due_at=due).update(due_at=due)
    return pairs
