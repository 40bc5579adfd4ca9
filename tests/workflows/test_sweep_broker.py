"""The sweep through the real broker, and what happens when the broker is down.

An action never depends on Redis: its notification rows are the outbox, and the sweep sends
what the broker could not take. The beat task runs in a real worker on Redis.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from kla.celery import app as celery_app
from tests import factories as f
from workflows.models import Escalation, Notification, TrailEvent
from workflows.services import submission_act
from workflows.sla.sweep import sla_sweep
from workflows.tasks import sla_sweep_task

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

REDIS_TEST_BROKER = "redis://127.0.0.1:6379/15"
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def _reset_producers() -> None:
    # Connections and producers are pooled per URL: forget them so the next send reads
    # the broker URL just set.
    celery_app._after_fork()  # type: ignore[attr-defined]


@pytest.fixture
def broker(settings: Any) -> Iterator[Any]:
    """Use a real broker (set ``conf.broker_url``) with tasks not run inline."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_routes, conf.broker_connection_timeout
    conf.task_always_eager = False
    yield conf
    conf.broker_url, conf.task_routes, conf.broker_connection_timeout = saved  # type: ignore[misc]
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)
    _reset_producers()


@pytest.mark.django_db
def test_an_action_succeeds_with_the_broker_down_and_the_sweep_sends_its_email(
    clock: Any, people: dict[str, Any], broker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broker.broker_url = CLOSED_PORT_BROKER
    broker.broker_connection_timeout = 1
    _reset_producers()
    operator = people["operator"]
    draft = f.make_draft(operator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        s = submission_act(user=operator, submission_id=draft.pk, action="submit")
    assert callbacks, "the email was queued after commit"
    assert s.state == "submitted"
    owed = Notification.objects.filter(submission=s, user=people["verifier"])
    assert owed.get().emailed_at is None
    assert mail.outbox == []

    result = sla_sweep(now=wib(2026, 3, 17, 10, 5))

    assert result.emails >= 1
    assert owed.get().emailed_at is not None
    assert [m.to for m in mail.outbox if m.subject.startswith("Menunggu verifikasi")] == [
        ["verifikator@example.test"]
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sweeps_through_redis_in_a_real_worker(
    clock: Any, people: dict[str, Any], broker: Any
) -> None:
    broker.broker_url = REDIS_TEST_BROKER
    # A queue of this test's own: other test runs share the Redis database.
    queue = f"sla-test-{uuid.uuid4().hex}"
    broker.task_routes = {"workflows.tasks.sla_sweep_task": {"queue": queue}}
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)
    _reset_producers()
    operator = people["operator"]
    s = submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")

    with start_worker(celery_app, perform_ping_check=False, queues=[queue]):
        sla_sweep_task.delay(now="2026-03-27T09:00+07:00")
        deadline = time.monotonic() + 30
        while not Escalation.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        # A second sweep through the broker sends nothing more.
        sla_sweep_task.delay(now="2026-03-27T09:05+07:00")
        time.sleep(1)

    assert Escalation.objects.count() == 1
    assert TrailEvent.objects.filter(submission=s, action="escalation").count() == 1
    escalated = Notification.objects.filter(kind="escalation", submission=s)
    assert escalated.count() == 2
    assert not escalated.filter(emailed_at__isnull=True).exists()
