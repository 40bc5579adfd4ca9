"""The trail in the admin: readable, never editable."""

from django.contrib import admin

from kla.admin.readonly import ReadOnlyAdmin
from workflows.models import TrailEvent


@admin.register(TrailEvent)
class TrailEventAdmin(ReadOnlyAdmin):
    list_display = ("stream", "seq", "at", "actor_name", "role", "action", "from_state", "to_state")
    list_filter = ("action", "role")
    search_fields = ("actor_name", "stream__name")
