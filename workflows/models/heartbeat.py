"""When the periodic work last ran: beat's relay writes it, ``/healthz/`` reads it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last run of one periodic task (``relay``: beat and a worker are both alive)."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("detak")
        verbose_name_plural = _("detak")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at.isoformat()}"
