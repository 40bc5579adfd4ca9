"""Sweeps running at the same moment on PostgreSQL: each reminder and escalation goes once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection

from tests import factories as f
from tests.concurrency import race
from workflows.models import Escalation, Notification, Reminder, TrailEvent
from workflows.services import submission_act
from workflows.sla.sweep import sla_sweep
from workflows.trail.reading import verify_database

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

SWEEPS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_escalation_and_reminder_exactly_once(
    clock: Any, people: dict[str, Any]
) -> None:
    assert connection.vendor == "postgresql", "the race is only meaningful on PostgreSQL"
    operator = people["operator"]
    submitted = [
        submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
        for _ in range(12)
    ]
    bodies = [f.BodyFactory(code=f"kec-{n}") for n in range(8)]
    for b in bodies:
        f.make_operator(b, f"op-{b.code}")
    moment = wib(2026, 3, 30, 9)

    results: list[Any] = race([lambda: sla_sweep(now=moment, send_emails=False)] * SWEEPS)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.escalations for r in results) == len(submitted)
    assert Escalation.objects.count() == len(submitted)
    per_submission = Counter(
        TrailEvent.objects.filter(action="escalation").values_list("submission_id", flat=True)
    )
    assert per_submission == {s.pk: 1 for s in submitted}
    # Each escalation tells verifikator and bapperida once.
    told = Counter(
        Notification.objects.filter(kind="escalation").values_list("user_id", "submission_id")
    )
    assert set(told.values()) == {1}
    assert len(told) == 2 * len(submitted)

    assert sum(r.reminders for r in results) == len(bodies) + 1
    assert Reminder.objects.count() == len(bodies) + 1
    reminded = Counter(
        TrailEvent.objects.filter(action="reminder").values_list("body_id", flat=True)
    )
    assert set(reminded.values()) == {1}
    assert verify_database()[1] == []
