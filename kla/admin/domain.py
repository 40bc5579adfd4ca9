"""The Django admin for administrators: bodies, the instruction, indicators.

Submissions and evidence are read-only here: they change only through the flow's services,
so that every change has its trail event.
"""

from __future__ import annotations

from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from kla.admin.readonly import ModelAdmin, ReadOnlyAdmin
from kla.models import Body, Evidence, Indicator, Instruction, Submission


@admin.register(Instruction)
class InstructionAdmin(ModelAdmin):
    list_display = ("__str__", "title", "issued_on", "deadline", "is_current")


@admin.register(Body)
class BodyAdmin(GuardedModelAdmin):
    """Bodies, with per-body object permissions (a verifier limited to some bodies)."""

    list_display = ("code", "name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")


@admin.register(Indicator)
class IndicatorAdmin(ModelAdmin):
    list_display = ("number", "name", "cluster", "weight")
    list_filter = ("cluster",)


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ("id", "body", "category", "title", "state", "late", "updated_at")
    list_filter = ("state", "category", "late")
    search_fields = ("title", "body__code")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("id", "submission", "name", "size", "sha256", "uploaded_at", "removed_at")
