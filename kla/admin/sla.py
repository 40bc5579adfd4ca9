"""The working calendar in the admin (editable: no release needed) and the SLA records.

Saving or deleting a calendar day asks for every open due time to be recomputed in the
background (``workflows.sla.receivers``), as does saving the instruction's deadline or budgets
in its own admin; the administrator is told so, with a link to the recomputations and their
progress.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from kla.admin.readonly import ModelAdmin, ReadOnlyAdmin
from workflows.models import (
    CalendarDay,
    DueRecompute,
    Escalation,
    NihilDeclaration,
    Reminder,
    Timer,
)


@admin.register(CalendarDay)
class CalendarDayAdmin(ModelAdmin):
    """Regional holidays and decrees that move a day, over the national calendar."""

    list_display = ("date", "kind", "reason")
    list_filter = ("kind",)
    search_fields = ("reason",)
    date_hierarchy = "date"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        recompute_notice(request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        recompute_notice(request)


def recompute_notice(request: HttpRequest) -> None:
    """Tell the administrator the due times are being recomputed, and where to watch."""
    link = reverse("admin:workflows_duerecompute_changelist")
    messages.info(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _("Tenggat yang masih berjalan sedang dihitung ulang di latar belakang."),
            link,
            _("Lihat kemajuannya."),
        ),
    )


@admin.register(DueRecompute)
class DueRecomputeAdmin(ReadOnlyAdmin):
    """The recomputations of open due times and how far each has got."""

    list_display = ("requested_at", "reason", "instruction", "progress", "finished_at")

    @admin.display(description=_l("kemajuan"))
    def progress(self, obj: Model) -> str:
        assert isinstance(obj, DueRecompute)
        if obj.finished_at is not None:
            return _("selesai (%(n)s timer)") % {"n": obj.done}
        if obj.started_at is None:
            return _("menunggu giliran (%(n)s timer)") % {"n": obj.total}
        percent = 100 * obj.done // obj.total if obj.total else 100
        return _("%(done)s dari %(total)s timer (%(percent)s%%)") % {
            "done": obj.done,
            "total": obj.total,
            "percent": percent,
        }


@admin.register(NihilDeclaration)
class NihilDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("body", "category", "declared_by", "declared_at")
    list_filter = ("category",)
    search_fields = ("body__code", "body__name")


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = ("submission", "step", "started_at", "due_at", "closed_at")
    list_filter = ("step",)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("body", "day", "days_before", "sent_at")


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("timer", "sent_at")
