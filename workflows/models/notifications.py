"""Notifications: the in-app inbox of each person, and the outbox of their emails."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Submission


class Notification(models.Model):
    """Something waiting for a person, shown in the app and sent by email after commit.

    A row without ``user`` goes to ``email`` alone: a body's own address, for a body that has
    no operator yet to hear of its reminders and notices. Nobody's inbox shows it; the outbox
    sends it like any other row, once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    email = models.EmailField(blank=True)
    kind = models.CharField(max_length=40)
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When a sender took the row to email it (``workflows.notifications.outbox``).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notifikasi")
        verbose_name_plural = _("notifikasi")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(emailed_at__isnull=True),
                name="notification_unsent",
            ),
            # The bell on every page: a person's unread notifications.
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            # Someone to tell: a person, or (only then) an address of its own.
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(email=""))
                | (models.Q(user__isnull=True) & ~models.Q(email="")),
                name="notification_one_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.title
