"""The working calendar in the admin (editable: no release needed) and the SLA records.

Saving or deleting a calendar day recomputes every open due time (``workflows.sla.receivers``),
as does saving the instruction's deadline or budgets in its own admin.
"""

from __future__ import annotations

from django.contrib import admin

from kla.admin.readonly import ModelAdmin, ReadOnlyAdmin
from workflows.models import CalendarDay, Escalation, NihilDeclaration, Reminder, Timer


@admin.register(CalendarDay)
class CalendarDayAdmin(ModelAdmin):
    """Regional holidays and decrees that move a day, over the national calendar."""

    list_display = ("date", "kind", "reason")
    list_filter = ("kind",)
    search_fields = ("reason",)
    date_hierarchy = "date"


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
