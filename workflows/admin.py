"""The trail in the admin: readable, never editable."""

from django.contrib import admin

from kla.admin import ReadOnlyAdmin

from .models import TrailEvent
from .sla_admin import CalendarDayAdmin  # noqa: F401 -- registers the SLA admins


@admin.register(TrailEvent)
class TrailEventAdmin(ReadOnlyAdmin):
    list_display = ("stream", "seq", "at", "actor_name", "role", "action", "from_state", "to_state")
    list_filter = ("action", "role")
    search_fields = ("actor_name", "stream__name")
