"""The Django admin for administrators: bodies, the instruction, indicators.

Submissions and evidence are read-only here: they change only through the flow's services,
so that every change has its trail event.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from guardian.admin import GuardedModelAdmin

from kla.admin.readonly import ModelAdmin, ReadOnlyAdmin
from kla.admin.sla import recompute_notice
from kla.errors import Invalid
from kla.instructions import instruction_copy
from kla.models import INSTRUCTION_FIELDS, Body, Evidence, Indicator, Instruction, Submission


class YearsField(forms.Field):
    """Reporting years as people type them: "2024, 2025"."""

    def to_python(self, value: Any) -> list[int]:
        if isinstance(value, list):
            return value
        parts = [p.strip() for p in str(value or "").replace(";", ",").split(",") if p.strip()]
        if not parts or not all(p.isdigit() and 2000 <= int(p) <= 2100 for p in parts):
            raise forms.ValidationError(_("Tulis tahun dipisah koma, misalnya 2024, 2025."))
        return sorted({int(p) for p in parts})

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(y) for y in value)
        return str(value or "")


if TYPE_CHECKING:
    InstructionModelForm = forms.ModelForm[Instruction]
else:  # Django's form classes take no type arguments at run time
    InstructionModelForm = forms.ModelForm


class InstructionForm(InstructionModelForm):
    years = YearsField(label=_l("Tahun pelaporan"), help_text=_l("Misalnya 2024, 2025"))

    class Meta:
        model = Instruction
        fields = (*INSTRUCTION_FIELDS, "addressees")


def _next_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@admin.register(Instruction)
class InstructionAdmin(ModelAdmin):
    """The instructions: deadline, years, addressees, budgets; copy one for next year."""

    form = InstructionForm
    list_display = ("__str__", "title", "issued_on", "deadline", "is_current")
    filter_horizontal = ("addressees",)
    actions = ["copy_for_next_year"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # its open due times are recomputed (``workflows.sla.receivers``)
            recompute_notice(request)

    @admin.action(description=_l("Salin untuk tahun berikutnya"))
    def copy_for_next_year(
        self, request: HttpRequest, queryset: QuerySet[Instruction]
    ) -> HttpResponse | None:
        """One copy a year on: the same number, dates a year later; the admin corrects them."""
        if queryset.count() != 1:
            self.message_user(request, _("Pilih tepat satu instruksi."), messages.ERROR)
            return None
        source = queryset.get()
        try:
            copy = instruction_copy(
                source=source,
                number=source.number,
                year=source.year + 1,
                issued_on=_next_year(source.issued_on),
                effective_on=_next_year(source.effective_on),
                deadline=_next_year(source.deadline),
            )
        except Invalid as exc:
            text = " ".join(m for msgs in exc.errors.values() for m in msgs)
            self.message_user(request, text, messages.ERROR)
            return None
        self.message_user(
            request,
            _("%(copy)s dibuat dari %(source)s; periksa tanggal dan judulnya.")
            % {"copy": copy, "source": source},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:kla_instruction_change", args=[copy.pk]))


@admin.register(Body)
class BodyAdmin(GuardedModelAdmin):
    """Bodies, with per-body object permissions (a verifier limited to some bodies)."""

    obj_perms_manage_template = "admin/kla/obj_perms_manage.html"

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
