"""The email outbox: notification rows not emailed yet, sent by the worker or by the relay.

The rows are written in the action's transaction (a row without a user goes to a body's own
address, ``Notification.email``); ``EMAIL_TASK`` is queued after commit with their ids, and
beat's relay (``outbox_send``, every minute and in each sweep) sends whatever a lost broker
message left behind. A sender first claims its rows (``claimed_at``) in a short
transaction that locks only them (``skip_locked``, ``of=("self",)``), then mails them with no
lock held, then marks each one sent: several workers never send the same email twice. A claim
whose sender died is taken over after ``CLAIM_LEASE``; a mail server that fails gives the
claim back at once, for the retry.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from workflows.models import Heartbeat, Notification

logger = logging.getLogger(__name__)

# Task names are part of the queue's contract: messages already queued must still find them.
EMAIL_TASK = "workflows.tasks.send_notification_emails"
RELAY_TASK = "workflows.tasks.relay"
BATCH = 500
CLAIM_LEASE = dt.timedelta(minutes=10)


def _claim(ids: list[int] | None, limit: int) -> list[int]:
    """Claim up to ``limit`` unsent rows for this sender, in one short transaction."""
    now = timezone.now()
    with transaction.atomic():
        rows = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(emailed_at__isnull=True)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
            # A person without an address has the inbox only; a body's row has its address.
            .filter(Q(user__isnull=True) | ~Q(user__email=""))
            .order_by("pk")
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        claimed = list(rows.values_list("pk", flat=True)[:limit])
        Notification.objects.filter(pk__in=claimed).update(claimed_at=now)
    return claimed


def notifications_email(*, ids: list[int] | None = None) -> int:
    """Email the notifications not emailed yet (all pending ones when ``ids`` is None)."""
    claimed = _claim(ids, BATCH)
    sent = 0
    try:
        for row in Notification.objects.filter(pk__in=claimed).select_related("user"):
            link = (
                f"{settings.SITE_URL}/pengajuan/{row.submission_id}/" if row.submission_id else ""
            )
            send_mail(
                subject=row.title,
                message="\n\n".join(part for part in (row.message, link) if part),
                from_email=None,
                recipient_list=[row.user.email if row.user is not None else row.email],
            )
            Notification.objects.filter(pk=row.pk).update(emailed_at=timezone.now())
            sent += 1
    finally:
        # What was claimed and not sent (the mail server failed) goes back for the retry.
        Notification.objects.filter(pk__in=claimed, emailed_at__isnull=True).update(claimed_at=None)
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


RELAY = "relay"


def relay_run() -> int:
    """Beat's relay: send what the broker could not take when it was owed, and say so."""
    sent = outbox_send()
    Heartbeat.objects.update_or_create(name=RELAY, defaults={"at": timezone.now()})
    return sent
