"""Celery tasks of the engine: thin, they take ids and call services.

Each is idempotent and declares its retries; what they send is claimed through row locks and
UNIQUE constraints, so overlapping or retried runs never send anything twice.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import DatabaseError

from kla.time import WIB
from workflows.notifications.outbox import EMAIL_TASK, RELAY_TASK, notifications_email, relay_run
from workflows.sla.recompute import RECOMPUTE_TASK, recompute_pending
from workflows.sla.sweep import SWEEP_TASK, sla_sweep
from workflows.trail.checkpoints import CHECKPOINT_TASK, SEQUENCE_TASK, checkpoint_run
from workflows.trail.fixity import FIXITY_TASK, fixity_check_share, fixity_summary
from workflows.trail.log import log_sequence


@shared_task(
    name=EMAIL_TASK,
    autoretry_for=(OSError, DatabaseError),
    retry_backoff=30,
    retry_kwargs={"max_retries": 5},
    acks_late=True,
)
def send_notification_emails(ids: list[int] | None = None) -> int:
    """Email the notifications not emailed yet (all pending ones when ``ids`` is None)."""
    return notifications_email(ids=ids)


@shared_task(
    name=RELAY_TASK,
    autoretry_for=(OSError, DatabaseError),
    retry_backoff=10,
    retry_kwargs={"max_retries": 2},
    acks_late=True,
    # A relay run that waited longer than the beat interval is superseded by the next one.
    expires=120,
)
def relay_task() -> int:
    """Beat's relay, every minute: the emails the broker could not take, and a heartbeat."""
    return relay_run()


@shared_task(
    name=RECOMPUTE_TASK,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 10},
    acks_late=True,
)
def due_recompute() -> int:
    """Recompute the open due times the calendar, deadline or budget changes asked for, batch
    after batch (``workflows.sla.recompute``); a second run at once finds nothing to do."""
    return recompute_pending()


@shared_task(
    name=SWEEP_TASK,
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 3},
    acks_late=True,
    # A sweep that waited longer than the beat interval is superseded by the next one.
    expires=600,
)
def sla_sweep_task(now: str | None = None) -> dict[str, int]:
    """The beat task: the SLA sweep as of ``now`` (ISO 8601, default the present moment)."""
    moment = None
    if now:
        moment = dt.datetime.fromisoformat(now)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=WIB)
    result = sla_sweep(now=moment)
    return {
        "escalations": result.escalations,
        "reminders": result.reminders,
        "emails": result.emails,
    }


@shared_task(
    name=FIXITY_TASK,
    autoretry_for=(DatabaseError,),
    retry_backoff=60,
    retry_kwargs={"max_retries": 3},
    acks_late=True,
    # Beat runs it early in the WIB day: expiring within that day, a late run still checks
    # its own day's share, never another's.
    expires=12 * 3600,
)
def fixity_check_task(now: str | None = None) -> dict[str, int]:
    """The daily beat task: the day's share of the stored files hashed against their upload
    events (``now``: ISO 8601, default the present moment); a failure is recorded once."""
    moment = None
    if now:
        moment = dt.datetime.fromisoformat(now)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=WIB)
    return fixity_summary(fixity_check_share(now=moment))


@shared_task(
    name=SEQUENCE_TASK,
    autoretry_for=(DatabaseError,),
    retry_backoff=10,
    retry_kwargs={"max_retries": 2},
    acks_late=True,
    expires=120,
)
def trail_sequence() -> int:
    """Beat, every minute: give the log's leaves to the events committed since (the sweep
    for late commits runs with each checkpoint)."""
    return log_sequence(sweep=False)


@shared_task(
    name=CHECKPOINT_TASK,
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 2},
    acks_late=True,
    expires=600,
)
def trail_checkpoint() -> int | None:
    """Beat: sign the log when it grew, and mail each day's last checkpoint to the auditors."""
    return checkpoint_run()
