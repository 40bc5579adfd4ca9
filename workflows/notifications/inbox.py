"""Reading notifications in the app: a person's own list, the unread count, marking read.

A notification belongs to one person; anybody else's id answers as if it did not exist (404).
Marking read is idempotent: the first reading's time is kept.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.errors import NotVisible
from workflows.models import Notification


def notifications_of(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The person's notifications, newest first (none for an anonymous visitor)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def notifications_unread_count(*, user: User | AnonymousUser) -> int:
    """How many of the person's notifications are unread (one COUNT query; 0 for anonymous)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the person's notifications read and return it.

    ``NotVisible`` (404) when the id is not one of theirs. Already read: unchanged.
    """
    notification = (
        Notification.objects.select_for_update().filter(pk=notification_id, user_id=user.pk).first()
    )
    if notification is None:
        raise NotVisible(_("Notifikasi tidak ditemukan."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the person read; returns how many changed."""
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
