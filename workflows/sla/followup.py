"""The sweep's part in findings (DESIGN, "Supervision and monitoring"): a recommendation's
body is reminded once 5 working days before its follow-up is due, and a recommendation past
due is escalated once to Inspektorat's auditors and BAPPERIDA's consolidators.

Both only while the body owes the follow-up (``BODY_OWES``: ``open`` or ``in_progress``);
a ``responded`` one waits for the auditor, a ``resolved`` or ``unresolvable`` one is done.
Each is claimed by inserting its ``RecommendationNotice`` row with ``ON CONFLICT DO NOTHING
... RETURNING``, as ``workflows.sla.sweep`` claims reminders and escalations: the UNIQUE
constraint decides which sweep sends it, and the announcement (one trail event and the
notification rows per finding) is written in the claim's transaction. Candidates are found
with set-based queries, in batches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from kla.time import WIB, long_date, wib_date
from roles.models import Membership
from roles.roles import Role
from roles.selectors import members_of_group
from workflows.models import Finding, Notification, Recommendation, RecommendationNotice
from workflows.models.followup import BODY_OWES, NoticeKind
from workflows.notifications.write import body_address_row
from workflows.sla.calendar import WorkCalendar
from workflows.trail.append import trail_append

BATCH = 500
# Working days before a follow-up's due day on which its body is reminded.
REMINDER_WORKDAYS = 5


def reminder_horizon(today: dt.date, calendar: WorkCalendar) -> dt.datetime:
    """The first moment whose follow-ups are not reminded yet today.

    A follow-up due on day D is reminded from the 5th working day before D; that day is on
    or before ``today`` exactly when D is on or before the 5th working day after ``today``.
    """
    last_day = calendar.add_workdays(today, REMINDER_WORKDAYS)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=WIB)


def _claim(
    ids: Sequence[int], kind: str, now: dt.datetime, *, due_before: dt.datetime | None = None
) -> list[int]:
    """Insert-or-skip the notice rows of these recommendations; the ids this sweep won.

    The status (and, for escalations, the due time) is checked again in the insert itself,
    so an answer committed since the candidates were read is not escalated.
    """
    ops = connection.ops
    marks = ", ".join(["%s"] * len(ids))
    statuses = sorted(BODY_OWES)
    params: list[Any] = [kind, ops.adapt_datetimefield_value(now), *ids, *statuses]
    due = ""
    if due_before is not None:
        due = "AND r.due_at < %s "
        params.append(ops.adapt_datetimefield_value(due_before))
    # ORDER BY: concurrent sweeps insert overlapping keys in the same order, so they queue on
    # the unique index instead of deadlocking.
    sql = (
        f"INSERT INTO {RecommendationNotice._meta.db_table} "  # noqa: S608 -- names only
        "(recommendation_id, kind, sent_at) "
        f"SELECT r.id, %s, %s FROM {Recommendation._meta.db_table} r "
        f"WHERE r.id IN ({marks}) AND r.status IN ({', '.join(['%s'] * len(statuses))}) "
        f"{due}ORDER BY r.id "
        "ON CONFLICT (recommendation_id, kind) DO NOTHING RETURNING recommendation_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _by_finding(won: Sequence[int]) -> dict[Finding, list[Recommendation]]:
    """The recommendations won, grouped by their finding (one notice per finding)."""
    grouped: dict[Finding, list[Recommendation]] = defaultdict(list)
    rows = (
        Recommendation.objects.filter(pk__in=list(won))
        .select_related("finding__body", "finding__submission", "finding__instruction")
        .order_by("finding_id", "id")
    )
    for recommendation in rows:
        grouped[recommendation.finding].append(recommendation)
    return grouped


def _texts(recommendations: Sequence[Recommendation]) -> str:
    return "; ".join(r.text[:120] for r in recommendations)


def _record(finding: Finding, recommendations: Sequence[Recommendation]) -> dict[str, Any]:
    due = finding.due_at.astimezone(WIB)
    return {
        "finding": finding.pk,
        "recommendations": [r.pk for r in recommendations],
        "due_at": due.isoformat(),
    }


def _announce_reminders(won: Sequence[int]) -> None:
    """The body's operators are told (its own address when it has none); a trail event."""
    grouped = _by_finding(won)
    body_ids = {finding.body_id for finding in grouped}
    operators: dict[int, list[User]] = defaultdict(list)
    for membership in Membership.objects.filter(
        body_id__in=body_ids, user__is_active=True
    ).select_related("user"):
        operators[membership.body_id].append(membership.user)
    rows: list[Notification] = []
    for finding, recommendations in grouped.items():
        due = long_date(recommendations[0].due_at)
        title = _("Pengingat tindak lanjut temuan: %(title)s (batas %(due)s)") % {
            "title": finding.title,
            "due": due,
        }
        message = _(
            "%(body)s belum menindaklanjuti rekomendasi berikut, yang jatuh tempo %(due)s: "
            "%(texts)s"
        ) % {"body": finding.body.name, "due": due, "texts": _texts(recommendations)}
        data = _record(finding, recommendations)
        people = operators[finding.body_id]
        rows.extend(
            Notification(
                user=person,
                kind="finding:reminder",
                submission=finding.submission,
                title=title,
                message=message,
            )
            for person in people
        )
        if not people:
            to_body = body_address_row(
                finding.body,
                kind="finding:reminder",
                title=title,
                message=message,
                submission=finding.submission,
            )
            if to_body is not None:
                data["email"] = to_body.email
                rows.append(to_body)
        data["recipients"] = sorted(p.get_username() for p in people)
        trail_append(
            stream=finding.stream,
            action="follow_up_reminder",
            actor=None,
            note=message,
            data=data,
            submission=finding.submission,
            body=finding.body,
        )
    Notification.objects.bulk_create(rows, batch_size=BATCH)


def _announce_escalations(won: Sequence[int]) -> None:
    """Inspektorat's auditors and BAPPERIDA's consolidators are told; a trail event."""
    grouped = _by_finding(won)
    seen: dict[Any, User] = {}
    for person in [*members_of_group(Role.AUDITOR), *members_of_group(Role.CONSOLIDATOR)]:
        seen.setdefault(person.pk, person)
    people = list(seen.values())
    names = sorted(p.get_username() for p in people)
    rows: list[Notification] = []
    for finding, recommendations in grouped.items():
        due = long_date(recommendations[0].due_at)
        title = _("Tindak lanjut temuan melewati batas: %(title)s") % {"title": finding.title}
        message = _(
            "%(body)s belum menindaklanjuti rekomendasi berikut, yang jatuh tempo %(due)s: "
            "%(texts)s"
        ) % {"body": finding.body.name, "due": due, "texts": _texts(recommendations)}
        trail_append(
            stream=finding.stream,
            action="follow_up_escalation",
            actor=None,
            note=message,
            data=_record(finding, recommendations) | {"recipients": names},
            submission=finding.submission,
            body=finding.body,
        )
        rows.extend(
            Notification(
                user=person,
                kind="finding:escalation",
                submission=finding.submission,
                title=title,
                message=message,
            )
            for person in people
        )
    Notification.objects.bulk_create(rows, batch_size=BATCH)


def _unsent(kind: str) -> Any:
    return ~Exists(RecommendationNotice.objects.filter(recommendation=OuterRef("pk"), kind=kind))


def follow_up_reminders_send(*, now: dt.datetime, calendar: WorkCalendar | None = None) -> int:
    """Remind the bodies of every recommendation they owe whose reminder day has come and
    whose due time has not passed (past it, the escalation is what is owed). A finding
    recorded with less than 5 working days to go is reminded at the first sweep."""
    calendar = calendar if calendar is not None else WorkCalendar.load()
    horizon = reminder_horizon(wib_date(now), calendar)
    sent = 0
    last = 0
    while True:
        # Keyset on the id: a candidate lost to another sweep is not read again.
        candidates = list(
            Recommendation.objects.filter(
                _unsent(NoticeKind.REMINDER),
                pk__gt=last,
                status__in=BODY_OWES,
                due_at__gte=now,
                due_at__lt=horizon,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not candidates:
            return sent
        last = candidates[-1]
        with transaction.atomic():
            won = _claim(candidates, NoticeKind.REMINDER, now)
            if won:
                _announce_reminders(won)
        sent += len(won)


def follow_up_escalations_send(*, now: dt.datetime) -> int:
    """Escalate every recommendation its body still owes past its due time, once."""
    sent = 0
    last = 0
    while True:
        candidates = list(
            Recommendation.objects.filter(
                _unsent(NoticeKind.ESCALATION),
                pk__gt=last,
                status__in=BODY_OWES,
                due_at__lt=now,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not candidates:
            return sent
        last = candidates[-1]
        with transaction.atomic():
            won = _claim(candidates, NoticeKind.ESCALATION, now, due_before=now)
            if won:
                _announce_escalations(won)
        sent += len(won)
