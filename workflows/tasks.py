"""Celery tasks: they take ids, re-read rows, are idempotent and declare their retries."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.utils import timezone

from .models import Notification


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 5}, acks_late=True
)
def send_notification_emails(ids: list[int] | None = None) -> int:
    """Email the notifications not emailed yet (all pending ones when ``ids`` is None)."""
    sent = 0
    pending = Notification.objects.filter(emailed_at__isnull=True).exclude(user__email="")
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    for pk in list(pending.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(pk=pk, emailed_at__isnull=True)
                .first()
            )
            if row is None:
                continue  # another worker has it, or it went out already
            link = (
                f"{settings.SITE_URL}/pengajuan/{row.submission_id}/" if row.submission_id else ""
            )
            send_mail(
                subject=row.title,
                message="\n\n".join(part for part in (row.message, link) if part),
                from_email=None,
                recipient_list=[row.user.email],
            )
            row.emailed_at = timezone.now()
            row.save(update_fields=["emailed_at"])
            sent += 1
    return sent


@shared_task(
    autoretry_for=(DatabaseError,),
    retry_backoff=30,
    retry_kwargs={"max_retries": 3},
    acks_late=True,
    # A sweep that waited longer than the beat interval is superseded by the next one.
    expires=600,
)
def sla_sweep_task(now: str | None = None) -> dict[str, int]:
    """The beat task: the SLA sweep as of ``now`` (ISO 8601, default the present moment).

    Idempotent: what it sends is claimed through UNIQUE constraints, so overlapping or
    retried sweeps never send anything twice.
    """
    import datetime as dt

    from kla.models import WIB

    from .sweep import sla_sweep

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
