"""Keeping due times right: a change of the deadline, a budget or the calendar asks for every
open due time to be recomputed, in the background (``workflows.sla.recompute``).

Signals rather than calls in the admin: every path that saves these rows (the admin, the
seed, a shell) recomputes alike. A new submission's draft timer is started by the service
that creates it (``kla.drafting.submission_create``), not here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from kla.models import Instruction
from workflows.models import CalendarDay, CalendarRevision
from workflows.sla.recompute import recompute_request


@receiver(post_save, sender=Instruction, dispatch_uid="sla_instruction_saved")
def _instruction_saved(sender: Any, instance: Instruction, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw"):
        recompute_request(
            reason=_("Instruksi %(label)s diubah") % {"label": instance.label},
            instruction_id=instance.pk,
        )


@receiver(post_save, sender=CalendarDay, dispatch_uid="sla_calendar_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="sla_calendar_deleted")
def _calendar_changed(sender: Any, **kwargs: Any) -> None:
    # A new revision in the change's transaction, for a fixture's rows too: every process's
    # kept calendar goes (``WorkCalendar.of_revision``).
    if not CalendarRevision.objects.update(token=uuid.uuid4()):
        CalendarRevision.objects.create()
    if not kwargs.get("raw"):
        recompute_request(reason=_("Kalender kerja diubah"))
