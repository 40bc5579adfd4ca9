"""The email outbox: notification rows not emailed yet, sent by the worker or by the sweep.

The rows are written in the action's transaction; ``EMAIL_TASK`` is queued after commit with
their ids, and the sweep's ``outbox_send`` sends whatever a lost broker message left behind.
Each row is claimed under its own row lock (``skip_locked``), so two workers never send it twice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from workflows.models import Notification

logger = logging.getLogger(__name__)

# Task names are part of the queue's contract: messages already queued must still find them.
EMAIL_TASK = "workflows.tasks.send_notification_emails"
BATCH = 500


def notifications_email(*, ids: list[int] | None = None) -> int:
    """Email the notifications not emailed yet (all pending ones when ``ids`` is None)."""
    sent = 0
    pending = Notification.objects.filter(emailed_at__isnull=True).exclude(user__email="")
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    for pk in list(pending.values_list("pk", flat=True)[:BATCH]):
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


def outbox_send(*, rounds: int = 1000) -> int:
    """Send the notification emails not sent yet, batch after batch (the sweep's part).

    A mail server failure is logged and left for the next sweep: the rows stay unsent.
    """
    total = 0
    for _round in range(rounds):
        try:
            sent = notifications_email()
        except Exception as exc:  # the sweep goes on; what is unsent waits for the next one
            logger.warning("notification emails not sent (%s); the next sweep retries", exc)
            break
        total += sent
        if sent == 0:
            break
    return total
