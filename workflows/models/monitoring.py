"""Monitoring by BAPPERIDA and P3AP2KB (Diktum KELIMA; DESIGN, "Supervision and monitoring"):
the notes they write to a body and the reminders they send it by hand.

Both are only ever added: a note is not edited (what was said stays said, as on the trail),
and a manual reminder is the record that one went out that WIB day. The writing is
``workflows.supervision.monitoring``'s.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Indicator, Instruction


class MonitoringNote(models.Model):
    """A catatan monitoring to a body for one instruction, optionally about one indicator."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="monitoring_notes")
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("catatan"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The role the author wrote in (verifier or consolidator), as the trail records it.
    role = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("catatan monitoring")
        verbose_name_plural = _("catatan monitoring")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["instruction", "body"], name="monitoring_instruction_body")]

    def __str__(self) -> str:
        return self.note[:80]


class ManualReminder(models.Model):
    """A reminder sent to a body by hand from the compliance matrix.

    The UNIQUE constraint is what keeps it to one a body a WIB day and instruction, however
    many people press "Ingatkan" at once (the second insert fails: 409). Separate from the
    sweep's ``Reminder``: a manual one neither uses up nor is used up by the automatic one.
    """

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    note = models.TextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()
    # Who was told: operators' usernames, or the body's own address when it has none.
    sent_to = models.JSONField(default=list)

    class Meta:
        verbose_name = _("pengingat manual")
        verbose_name_plural = _("pengingat manual")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "body", "day"], name="manual_reminder_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body_id} {self.day}"
