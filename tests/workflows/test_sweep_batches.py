"""The sweep a batch at a time: claimed on a partial index with a lease, announced with one
bulk append to the trail whose chains verify."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from tests import factories as f
from workflows.models import Escalation, Timer, TrailEvent, TrailStream
from workflows.services import submission_act
from workflows.sla import sweep
from workflows.sla.sweep import escalations_send
from workflows.trail.append import trail_append, trail_append_many
from workflows.trail.reading import verify_database

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def submitted(operator: User, n: int) -> list[Any]:
    return [
        submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
        for _ in range(n)
    ]


def test_a_bulk_append_writes_the_chains_one_append_each_would(operator: User) -> None:
    with transaction.atomic():
        trail_append(stream="body:x", action="note", actor=operator, note="first")
        events = trail_append_many(
            [
                {"stream": "body:x", "action": "reminder", "actor": None, "note": "a"},
                {"stream": "body:y", "action": "reminder", "actor": None, "note": "b"},
                {"stream": "body:x", "action": "reminder", "actor": operator, "note": "c"},
            ]
        )
    assert [(e.stream.name, e.seq) for e in events] == [("body:x", 2), ("body:y", 1), ("body:x", 3)]
    x = list(TrailEvent.objects.filter(stream__name="body:x").order_by("seq"))
    assert [e.note for e in x] == ["first", "a", "c"]
    assert x[1].prev_hash == x[0].hash and x[2].prev_hash == x[1].hash
    assert TrailStream.objects.get(name="body:x").head_hash == x[2].hash
    assert x[2].actor_name == operator.get_username() and x[1].actor_name == "system"
    assert verify_database()[1] == []


@pytest.mark.django_db(transaction=True)
def test_a_bulk_append_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        trail_append_many([{"stream": "body:x", "action": "reminder"}])


def test_escalations_go_batch_by_batch_and_once(
    clock: Any, people: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setattr(sweep, "BATCH", 2)
    steps = submitted(people["operator"], 5)
    assert escalations_send(now=wib(2026, 3, 30, 9)) == 5
    assert escalations_send(now=wib(2026, 3, 30, 9)) == 0
    timers = Timer.objects.filter(submission__in=steps, closed_at__isnull=True)
    assert all(t.escalated_at is not None for t in timers)
    assert Escalation.objects.count() == 5
    assert verify_database()[1] == []


def test_a_batch_a_dead_sweep_claimed_waits_out_its_lease(
    clock: Any, people: dict[str, Any]
) -> None:
    (step,) = submitted(people["operator"], 1)
    timer = Timer.objects.get(submission=step, closed_at__isnull=True)
    # A sweep claimed it and died before sending.
    Timer.objects.filter(pk=timer.pk).update(escalation_claimed_at=timezone.now())
    assert escalations_send(now=wib(2026, 3, 30, 9)) == 0
    clock.at = clock.at + sweep.CLAIM_LEASE + dt.timedelta(seconds=1)
    assert escalations_send(now=wib(2026, 3, 30, 9)) == 1


def test_a_claimed_step_no_longer_overdue_is_given_back(
    clock: Any, people: dict[str, Any], monkeypatch: Any
) -> None:
    (step,) = submitted(people["operator"], 1)
    timer = Timer.objects.get(submission=step, closed_at__isnull=True)
    # Claimed, then the due time moved later before the announcement (a recompute).
    later = wib(2026, 4, 30, 23, 59)
    original = sweep._claim_escalations

    def moved(ids: list[int], now: dt.datetime) -> list[int]:
        Timer.objects.filter(pk__in=ids).update(due_at=later)
        return original(ids, now)

    monkeypatch.setattr(sweep, "_claim_escalations", moved)
    assert escalations_send(now=wib(2026, 3, 30, 9)) == 0
    timer.refresh_from_db()
    assert (timer.escalated_at, timer.escalation_claimed_at) == (None, None)


@pytest.mark.postgres
def test_the_claim_reads_the_partial_index_of_steps_still_to_escalate(
    clock: Any, people: dict[str, Any]
) -> None:
    submitted(people["operator"], 3)
    qs = (
        Timer.objects.filter(
            closed_at__isnull=True, escalated_at__isnull=True, due_at__lt=wib(2026, 3, 30)
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "timer_to_escalate" in plan, plan
