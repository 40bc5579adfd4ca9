"""The trail's records: stream heads and append-only events (see ``workflows.trail``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Submission

GENESIS_HASH = "0" * 64


class TrailStream(models.Model):
    """The head of one hash chain; its row is locked to append, so ``seq`` never forks."""

    name = models.CharField(max_length=80, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("alur jejak")
        verbose_name_plural = _("alur jejak")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"


class TrailEvent(models.Model):
    """One immutable event. Foreign keys protect, never cascade; names are kept as text."""

    stream = models.ForeignKey(TrailStream, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    files = models.JSONField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="trail"
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, null=True, blank=True, related_name="trail"
    )
    algorithm = models.PositiveSmallIntegerField(default=1)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("peristiwa jejak")
        verbose_name_plural = _("peristiwa jejak")
        ordering = ["stream_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="trail_stream_seq"),
        ]
        indexes = [
            models.Index(fields=["submission", "seq"]),
            models.Index(fields=["actor_name", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.stream_id}#{self.seq} {self.action}"
