"""The records of SLA timers and the working calendar (imported by ``workflows.models``).

Timers are rows: each open step of a submission has one open ``Timer`` with its due time.
``Reminder`` and ``Escalation`` rows are what was sent; their UNIQUE constraints are what makes
each one go out exactly once, however many sweeps run at the same moment (insert-or-skip).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Category, Instruction, Submission


class DayKind(models.TextChoices):
    """What an administrator says a date is, over weekends and the national holidays."""

    HOLIDAY = "holiday", _("Hari libur")
    WORKDAY = "workday", _("Hari kerja")


class CalendarDay(models.Model):
    """A date an administrator declares a holiday (a regional one) or a working day (a decree
    that moves a cuti bersama); it overrides weekends and the ``holidays`` package."""

    date = models.DateField(_("tanggal"), unique=True)
    kind = models.CharField(_("jenis"), max_length=10, choices=DayKind.choices)
    reason = models.CharField(_("alasan"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("hari kalender kerja")
        verbose_name_plural = _("kalender kerja")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class CalendarRevision(models.Model):
    """Which version of the working calendar is current: one row, given a new token by every
    change of a ``CalendarDay`` in the change's own transaction
    (``workflows.sla.receivers``). A process keeps the calendar it built for as long as the
    token an action reads after its row lock is the same (``WorkCalendar.of_revision``).
    A random token, never a count or a time: a count comes back after a rolled-back change,
    and two changes can share a moment."""

    token = models.UUIDField(default=uuid.uuid4)

    class Meta:
        verbose_name = _("revisi kalender kerja")
        verbose_name_plural = _("revisi kalender kerja")

    def __str__(self) -> str:
        return str(self.token)


class NihilDeclaration(models.Model):
    """A body's statement that it has nothing to report in one category (with the reason)."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="nihil_declarations")
    category = models.CharField(_("kategori"), max_length=20, choices=Category.choices)
    reason = models.TextField(_("alasan"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(_("dinyatakan"))

    class Meta:
        verbose_name = _("pernyataan nihil")
        verbose_name_plural = _("pernyataan nihil")
        ordering = ["body__code", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "body", "category"], name="nihil_once_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body.code} {self.category}: nihil"


class Timer(models.Model):
    """One step of one submission: when it started and when it is due (null: no due time).

    Closed when the step ends; at most one is open per submission. ``due_at`` is recomputed
    from ``step`` and ``started_at`` whenever the deadline, a budget or the calendar changes.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="timers")
    step = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The sweep's claim on escalating it (a lease: ``workflows.sla.sweep``), and when it was
    # escalated (its ``Escalation`` row, the one guarantee, is written in the same transaction).
    escalation_claimed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("timer SLA")
        verbose_name_plural = _("timer SLA")
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_timer_per_submission",
            )
        ]
        indexes = [
            # The sweep's scan: open timers by due time.
            models.Index(
                fields=["due_at"],
                condition=models.Q(closed_at__isnull=True),
                name="timer_open_due",
            ),
            # The escalations' scan: open steps not escalated yet, by due time; an escalated
            # one leaves it, so the scan does not grow as escalations accumulate.
            models.Index(
                fields=["due_at", "id"],
                condition=models.Q(closed_at__isnull=True, escalated_at__isnull=True),
                name="timer_to_escalate",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.submission_id} {self.step} due {self.due_at}"


class Reminder(models.Model):
    """A reminder sent to a body that had not answered every category, once per reminder day."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pengingat")
        verbose_name_plural = _("pengingat")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "body", "day"], name="reminder_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body_id} {self.day}"


class Escalation(models.Model):
    """An overdue step escalated, once per timer."""

    timer = models.OneToOneField(Timer, on_delete=models.CASCADE, related_name="escalation")
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("eskalasi")
        verbose_name_plural = _("eskalasi")

    def __str__(self) -> str:
        return f"timer {self.timer_id}"


class DueRecompute(models.Model):
    """Recomputing open due times after a change of the calendar, a deadline or a budget, in
    the background and in batches (``workflows.sla.recompute``).

    While one is unfinished, open due times are being recomputed: the pages and the API say
    so instead of showing them, and the sweep escalates nothing until it has finished.
    """

    requested_at = models.DateTimeField(_("diminta"))
    reason = models.CharField(_("sebab"), max_length=200)
    # Only this instruction's open steps; all of them when null.
    instruction = models.ForeignKey(
        Instruction, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    total = models.PositiveIntegerField(_("jumlah timer"), default=0)
    done = models.PositiveIntegerField(_("selesai"), default=0)
    # The last timer recomputed: the next batch starts after it.
    after_timer = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai pada"), null=True, blank=True)

    class Meta:
        verbose_name = _("penghitungan ulang tenggat")
        verbose_name_plural = _("penghitungan ulang tenggat")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["requested_at"],
                condition=models.Q(finished_at__isnull=True),
                name="due_recompute_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reason}: {self.done}/{self.total}"
