"""The SLA sweep: escalations of overdue steps, reminders before the deadline, the outbox.

Run by the Celery beat task (``workflows.tasks.sla_sweep_task``) every few minutes and by
``manage.py sla_sweep [--now ...]`` for any moment. Each reminder and escalation is claimed
by inserting its row with ``ON CONFLICT DO NOTHING ... RETURNING``: the UNIQUE constraint
decides which sweep sends it, so two sweeps running at once never send one twice. The
announcement (trail event and notification rows) is written in the claim's transaction, so a
claimed row is never left unannounced. Candidates are found with set-based queries and
announced a batch at a time: the trail events in one bulk append (each to its own stream's
chain, ``trail_append_many``), the notifications in one bulk insert. Escalation batches are
claimed with ``skip_locked`` first, so several sweeps (two workers) share the work.

Every instruction is swept, not only the current one: escalations look at every open timer,
whatever its instruction, and reminders go out for each instruction whose reminder days are
running, to its own active addressees, counting only the answers given to it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.models import Body, Category, Instruction, SubmissionState
from kla.time import WIB, long_date, long_moment, wib_date
from roles.models import Membership
from roles.roles import Role
from roles.selectors import members_of_group, people_by_body
from workflows.duties import people_waited_for_many
from workflows.flow import duty_roles
from workflows.models import ComplianceCell, Escalation, Notification, Reminder, Timer
from workflows.notifications.outbox import outbox_send
from workflows.notifications.write import body_address_row
from workflows.sla.calendar import WorkCalendar
from workflows.sla.followup import follow_up_escalations_send, follow_up_reminders_send
from workflows.sla.recompute import recompute_pending, recomputing
from workflows.trail.append import trail_append_many

logger = logging.getLogger(__name__)

S = SubmissionState
BATCH = 500
SWEEP_TASK = "workflows.tasks.sla_sweep_task"  # the name queued messages carry
# Working days before the deadline on which bodies that have not answered are reminded
# (0: the deadline day itself).
REMINDER_OFFSETS = (5, 3, 1, 0)
# How long a sweep's claim on a batch of escalations lasts if it dies before sending them.
CLAIM_LEASE = dt.timedelta(minutes=10)


@dataclass
class SweepResult:
    """What one sweep sent."""

    escalations: int = 0
    reminders: int = 0
    emails: int = 0
    # Findings' recommendations (``workflows.sla.followup``).
    follow_up_reminders: int = 0
    follow_up_escalations: int = 0
    # Open timers whose due time was recomputed first.
    recomputed: int = 0


def sla_sweep(*, now: dt.datetime | None = None, send_emails: bool = True) -> SweepResult:
    """Sweep as of ``now``: escalate overdue steps, send the reminders owed, empty the outbox."""
    now = now if now is not None else timezone.now()
    result = SweepResult()
    # Due times a lost message left to recompute are recomputed first; until they are right
    # nothing is escalated (``workflows.sla.recompute``).
    result.recomputed = recompute_pending()
    result.escalations = 0 if recomputing() else escalations_send(now=now)
    result.reminders = reminders_send(now=now)
    result.follow_up_escalations = follow_up_escalations_send(now=now)
    result.follow_up_reminders = follow_up_reminders_send(now=now)
    if send_emails:
        result.emails = outbox_send()
    return result


# --- escalations ---------------------------------------------------------------------------


def _claim(sql: str, params: Sequence[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _claim_escalations(timer_ids: list[int], now: dt.datetime) -> list[int]:
    """Insert-or-skip the escalation rows of these timers; the ids of those this sweep won."""
    ops = connection.ops
    marks = ", ".join(["%s"] * len(timer_ids))
    # ORDER BY: concurrent sweeps insert overlapping keys in the same order, so they queue on
    # the unique index instead of deadlocking.
    sql = (
        f"INSERT INTO {Escalation._meta.db_table} (timer_id, sent_at) "  # noqa: S608 -- names only
        f"SELECT t.id, %s FROM {Timer._meta.db_table} t "
        f"WHERE t.id IN ({marks}) AND t.closed_at IS NULL AND t.due_at < %s "
        "ORDER BY t.id "
        "ON CONFLICT (timer_id) DO NOTHING RETURNING timer_id"
    )
    stamp = ops.adapt_datetimefield_value(now)
    return _claim(sql, [stamp, *timer_ids, stamp])


def _announce_escalations(timer_ids: Iterable[int], now: dt.datetime) -> None:
    timers = list(
        Timer.objects.filter(pk__in=list(timer_ids))
        .select_related("submission__body", "submission__instruction")
        .order_by("pk")
    )
    keys = {(t.step, t.submission.body_id) for t in timers}
    # Who each step waits for, and the consolidators, for the whole batch at once.
    waited = people_waited_for_many(keys)
    operators = people_by_body(Role.OPERATOR, {body for _step, body in keys})
    consolidators = list(members_of_group(Role.CONSOLIDATOR))
    people_cache: dict[tuple[str, int], list[User]] = {}
    # Whether the step's escalation also goes to the body's address (no operator to tell).
    address_cache: dict[tuple[str, int], bool] = {}
    rows: list[Notification] = []
    events: list[dict[str, Any]] = []
    for timer in timers:
        submission = timer.submission
        key = (timer.step, submission.body_id)
        if key not in people_cache:
            seen: dict[Any, User] = {}
            for person in [*waited[key], *consolidators]:
                seen.setdefault(person.pk, person)
            people_cache[key] = list(seen.values())
            address_cache[key] = (
                bool(submission.body.email)
                and Role.OPERATOR in duty_roles(timer.step)
                and not operators[submission.body_id]
            )
        due = timer.due_at.astimezone(WIB) if timer.due_at else None
        step_label = str(S(timer.step).label) if timer.step in S.values else timer.step
        title = _("Melewati tenggat: #%(id)s %(title)s") % {
            "id": submission.pk,
            "title": submission.title or submission.get_category_display(),
        }
        message = _("Tahap “%(step)s” (%(body)s) jatuh tempo %(due)s.") % {
            "step": step_label,
            "body": submission.body.name,
            "due": long_moment(due) if due else "-",
        }
        data: dict[str, Any] = {
            "timer": timer.pk,
            "step": timer.step,
            "due_at": due.isoformat() if due else None,
            "recipients": sorted(p.get_username() for p in people_cache[key]),
        }
        to_body = (
            body_address_row(
                submission.body,
                kind="escalation",
                title=title,
                message=message,
                submission=submission,
            )
            if address_cache[key]
            else None
        )
        if to_body is not None:
            data["email"] = to_body.email
            rows.append(to_body)
        events.append(
            {
                "stream": submission.stream,
                "action": "escalation",
                "actor": None,
                "from_state": timer.step,
                "to_state": timer.step,
                "note": message,
                "data": data,
                "submission": submission,
                "body": submission.body,
            }
        )
        rows.extend(
            Notification(
                user=person, kind="escalation", submission=submission, title=title, message=message
            )
            for person in people_cache[key]
        )
    trail_append_many(events)
    Notification.objects.bulk_create(rows, batch_size=BATCH)


def escalations_send(*, now: dt.datetime) -> int:
    """Escalate every open step past its due time that has not been escalated yet.

    Batch by batch, each claimed first in a short transaction of its own: the open,
    unescalated steps past due (on their partial index, which escalated ones leave), locked
    with ``skip_locked`` so several sweeps take different batches, and leased to this sweep
    (``escalation_claimed_at``; a sweep that died leaves its lease to expire). Then, in one
    transaction per batch, the ``Escalation`` rows are inserted set-based, the UNIQUE
    constraint deciding which sweep sends each; the won ones are announced (one bulk append
    to the trail, one bulk insert of notifications) and marked escalated.
    """
    sent = 0
    while True:
        claimed = _claim_batch(now)
        if not claimed:
            return sent
        with transaction.atomic():
            won = _claim_escalations(claimed, now)
            if won:
                _announce_escalations(won, now)
            done = Timer.objects.filter(pk__in=claimed, escalation__isnull=False)
            done.update(escalated_at=timezone.now())
            # Claimed but not escalated (closed meanwhile, or due later after a recompute).
            Timer.objects.filter(pk__in=claimed, escalation__isnull=True).update(
                escalation_claimed_at=None
            )
        sent += len(won)


def _claim_batch(now: dt.datetime) -> list[int]:
    """Lease one batch of open steps past due and not escalated to this sweep."""
    moment = timezone.now()
    with transaction.atomic():
        ids = list(
            Timer.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(closed_at__isnull=True, escalated_at__isnull=True, due_at__lt=now)
            .filter(
                Q(escalation_claimed_at__isnull=True)
                | Q(escalation_claimed_at__lt=moment - CLAIM_LEASE)
            )
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        Timer.objects.filter(pk__in=ids).update(escalation_claimed_at=moment)
    return ids


# --- reminders -----------------------------------------------------------------------------


def reminder_days(instruction: Instruction, calendar: WorkCalendar) -> list[tuple[dt.date, int]]:
    """The reminder days of an instruction with how many working days before the deadline."""
    return sorted(
        (
            calendar.workdays_before(instruction.deadline, n) if n else instruction.deadline,
            n,
        )
        for n in REMINDER_OFFSETS
    )


def reminder_owed(
    instruction: Instruction, calendar: WorkCalendar, today: dt.date
) -> tuple[dt.date, int] | None:
    """The latest reminder day reached by ``today``; none after the deadline day.

    A sweep that finds reminder days passed without their reminder sends only this one: an
    old "five days left" is no use when one day is left.
    """
    if today > instruction.deadline:
        return None
    reached = [(day, n) for day, n in reminder_days(instruction, calendar) if day <= today]
    return reached[-1] if reached else None


def answered(instruction: Instruction) -> set[tuple[int, str]]:
    """The (body, category) pairs answered: a submission that is not a draft, or nihil (read
    from the summary rows the actions keep, ``workflows.summaries``)."""
    return set(
        ComplianceCell.objects.filter(instruction=instruction)
        .filter(Q(beyond_draft__gt=0) | Q(nihil_at__isnull=False))
        .values_list("body_id", "category")
    )


def _claim_reminders(
    instruction: Instruction, body_ids: list[int], day: dt.date, days_before: int, now: dt.datetime
) -> list[int]:
    ops = connection.ops
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(body_ids))
    params: list[Any] = []
    for body_id in body_ids:
        params += [
            instruction.pk,
            body_id,
            ops.adapt_datefield_value(day),
            days_before,
            ops.adapt_datetimefield_value(now),
        ]
    sql = (
        f"INSERT INTO {Reminder._meta.db_table} "  # noqa: S608 -- table name only
        "(instruction_id, body_id, day, days_before, sent_at) "
        f"VALUES {values} "
        "ON CONFLICT (instruction_id, body_id, day) DO NOTHING RETURNING body_id"
    )
    return _claim(sql, params)


def _announce_reminders(
    instruction: Instruction,
    body_ids: list[int],
    missing: dict[int, list[str]],
    day: dt.date,
    days_before: int,
) -> None:
    bodies = Body.objects.in_bulk(body_ids)
    operators: dict[int, list[User]] = defaultdict(list)
    for membership in Membership.objects.filter(
        body_id__in=body_ids, user__is_active=True
    ).select_related("user"):
        operators[membership.body_id].append(membership.user)
    labels = dict(Category.choices)
    deadline = long_date(instruction.deadline)
    rows: list[Notification] = []
    events: list[dict[str, Any]] = []
    for body_id in sorted(body_ids):
        body = bodies[body_id]
        when = (
            _("hari ini batas waktunya")
            if days_before == 0
            else _("%(n)s hari kerja lagi") % {"n": days_before}
        )
        title = _("Pengingat KLA %(label)s: batas waktu %(deadline)s (%(when)s)") % {
            "label": instruction.label,
            "deadline": deadline,
            "when": when,
        }
        message = _(
            "%(body)s belum menjawab kategori: %(missing)s. Ajukan pengajuan atau nyatakan "
            "nihil sebelum batas waktu."
        ) % {"body": body.name, "missing": ", ".join(str(labels[c]) for c in missing[body_id])}
        data: dict[str, Any] = {
            "instruction": instruction.pk,
            "label": instruction.label,
            "day": day.isoformat(),
            "days_before": days_before,
            "deadline": instruction.deadline.isoformat(),
            "missing": missing[body_id],
        }
        rows.extend(
            Notification(user=person, kind="reminder", title=title, message=message)
            for person in operators[body_id]
        )
        if not operators[body_id]:
            to_body = body_address_row(body, kind="reminder", title=title, message=message)
            if to_body is not None:
                data["email"] = to_body.email
                rows.append(to_body)
        events.append(
            {
                "stream": f"body:{body.code}",
                "action": "reminder",
                "actor": None,
                "note": message,
                "data": data,
                "body": body,
            }
        )
    trail_append_many(events)
    Notification.objects.bulk_create(rows, batch_size=BATCH)


def reminders_send(*, now: dt.datetime, calendar: WorkCalendar | None = None) -> int:
    """Remind, instruction by instruction, the addressees that have not answered every
    category, where a reminder of that instruction is owed today.

    Every instruction whose reminder window holds today is swept, current or not (next year's
    may open while this year's is still running), each with its own deadline, answers and
    active addressees. One that is not in force yet is left alone: its addressees cannot
    answer it before ``effective_on``.
    """
    today = wib_date(now)
    open_instructions = list(
        Instruction.objects.filter(deadline__gte=today, effective_on__lte=today).order_by("pk")
    )
    if not open_instructions:
        return 0
    calendar = calendar if calendar is not None else WorkCalendar.load()
    sent = 0
    for instruction in open_instructions:
        owed = reminder_owed(instruction, calendar, today)
        if owed is not None:
            sent += _remind(instruction, *owed, now=now)
    return sent


def _remind(instruction: Instruction, day: dt.date, days_before: int, *, now: dt.datetime) -> int:
    """Send one instruction's reminder of ``day`` to its addressees still owed it, in batches."""
    done = answered(instruction)
    already = set(
        Reminder.objects.filter(instruction=instruction, day=day).values_list("body_id", flat=True)
    )
    missing: dict[int, list[str]] = {}
    addressees = instruction.addressees.filter(active=True).order_by("pk")
    for body_id in addressees.values_list("pk", flat=True):
        if body_id in already:
            continue
        gaps = [c for c in Category.values if (body_id, c) not in done]
        if gaps:
            missing[body_id] = gaps
    owing = sorted(missing)
    sent = 0
    for start in range(0, len(owing), BATCH):
        with transaction.atomic():
            won = _claim_reminders(instruction, owing[start : start + BATCH], day, days_before, now)
            if won:
                _announce_reminders(instruction, won, missing, day, days_before)
        sent += len(won)
    return sent
