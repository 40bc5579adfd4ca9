"""The evidence checklist (data dukung) of the instruction shown: read by reviewers and
operators, kept by P3AP2KB's verifiers of every body and administrators.

Anyone else gets 404 on every page here; those who only read get 403 on the forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kla.errors import Invalid, ServiceError
from kla.models import Cluster, EvidenceKind, Indicator, Instruction, Requirement
from kla.requirements import (
    RequirementStatus,
    checklist_compute,
    checklist_editor_required,
    requirement_create,
    requirement_delete,
    requirement_update,
)
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_edit_checklist, may_read_checklist
from roles.roles import Roles


def indicator_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """The 24 indicators grouped by cluster, for a ``<select>`` with one group per cluster."""
    by_cluster: dict[str, list[tuple[int, str]]] = {}
    for i in Indicator.objects.order_by("number"):
        by_cluster.setdefault(i.cluster, []).append((i.number, f"{i.number}. {i.name}"))
    return [(str(label), by_cluster[code]) for code, label in Cluster.choices if code in by_cluster]


class RequirementForm(forms.Form):
    """The shape of a requirement; the service checks the rules and says what is wrong."""

    code = forms.CharField(
        label=_l("Kode"),
        required=False,
        help_text=_l("Seperti 2.1: huruf, angka, titik dan tanda hubung, paling banyak 20."),
    )
    indicator = forms.TypedChoiceField(
        label=_l("Indikator"), required=False, coerce=int, empty_value=None
    )
    label = forms.CharField(label=_l("Nama kebutuhan"), required=False)
    description = forms.CharField(
        label=_l("Uraian"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_kinds = forms.MultipleChoiceField(
        label=_l("Jenis bukti yang memenuhi"),
        required=False,
        choices=EvidenceKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_l("Kosongkan bila berkas jenis apa pun dapat memenuhinya."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        indicator = self.fields["indicator"]
        assert isinstance(indicator, forms.TypedChoiceField)
        indicator.choices = [("", "---------"), *indicator_choices()]

    @staticmethod
    def initial_from(requirement: Requirement) -> dict[str, Any]:
        return {
            "code": requirement.code,
            "indicator": requirement.indicator.number,
            "label": requirement.label,
            "description": requirement.description,
            "evidence_kinds": list(requirement.evidence_kinds),
        }

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "code": data.get("code", ""),
            "indicator": data.get("indicator"),
            "label": data.get("label", ""),
            "description": data.get("description", ""),
            "evidence_kinds": list(data.get("evidence_kinds") or []),
        }

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """The service's field errors beside their fields, the rest above the form."""
        for key, found in errors.items():
            for message in found:
                self.add_error(key if key in self.fields else None, message)


def _reader(request: AuthenticatedHttpRequest) -> Roles:
    roles = request_roles(request)
    if not may_read_checklist(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    return roles


def _editor(request: AuthenticatedHttpRequest) -> Roles:
    roles = _reader(request)
    checklist_editor_required(roles)
    return roles


def _requirement(pk: int) -> Requirement:
    found = Requirement.objects.select_related("instruction", "indicator").filter(pk=pk).first()
    if found is None:
        raise Http404(_("Kebutuhan data dukung tidak ditemukan."))
    return found


def _list_url(instruction: Instruction, indicator: int | None = None) -> str:
    url = f"{reverse('requirements')}?instruction={instruction.pk}"
    return f"{url}#indikator-{indicator}" if indicator is not None else url


# --- the list --------------------------------------------------------------------------------


@dataclass
class IndicatorChecklist:
    """One indicator's requirements as the list shows them."""

    indicator: Indicator
    rows: list[RequirementStatus] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(1 for r in self.rows if r.met)


@dataclass
class ClusterChecklist:
    label: str
    indicators: list[IndicatorChecklist]

    @property
    def total(self) -> int:
        return sum(len(i.rows) for i in self.indicators)

    @property
    def met(self) -> int:
        return sum(i.met for i in self.indicators)


def _grouped(rows: list[RequirementStatus]) -> list[ClusterChecklist]:
    """Every indicator by cluster, each with its requirements (none yet for some)."""
    indicators = {
        i.pk: IndicatorChecklist(indicator=i) for i in Indicator.objects.order_by("number")
    }
    for row in rows:
        indicators[row.requirement.indicator_id].rows.append(row)
    by_cluster: dict[str, list[IndicatorChecklist]] = {}
    for item in indicators.values():
        by_cluster.setdefault(item.indicator.cluster, []).append(item)
    return [
        ClusterChecklist(label=str(label), indicators=by_cluster[code])
        for code, label in Cluster.choices
        if code in by_cluster
    ]


@login_required
@require_GET
def requirement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The checklist of the instruction shown, by cluster and indicator, each item met or not."""
    roles = _reader(request)
    instruction = page_instruction(request)
    rows = checklist_compute(user=request.user, roles=roles, instruction=instruction)
    return render(
        request,
        "kla/requirements.html",
        {
            "clusters": _grouped(rows),
            "total": len(rows),
            "met": sum(1 for r in rows if r.met),
            "instruction": instruction,
            "can_edit": may_edit_checklist(roles) and instruction is not None,
        },
    )


# --- the forms -------------------------------------------------------------------------------


def _form_page(
    request: AuthenticatedHttpRequest,
    form: RequirementForm,
    *,
    instruction: Instruction | None,
    requirement: Requirement | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    return render(
        request,
        "kla/requirement_form.html",
        {
            "form": form,
            "instruction": instruction,
            "requirement": requirement,
            "error": error,
        },
        status=status,
    )


def _show_refusals_on_the_form(
    request: AuthenticatedHttpRequest,
    form: RequirementForm,
    *,
    instruction: Instruction | None,
    requirement: Requirement | None = None,
) -> None:
    def render_refusal(exc: ServiceError) -> HttpResponse:
        if isinstance(exc, Invalid):
            form.add_service_errors(exc.errors)
            return _form_page(
                request, form, instruction=instruction, requirement=requirement, status=400
            )
        return _form_page(
            request,
            form,
            instruction=instruction,
            requirement=requirement,
            status=exc.status,
            error=exc.message,
        )

    on_refusal(request, render_refusal)


@login_required
@require_http_methods(["GET", "POST"])
def requirement_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add a requirement to the checklist of the instruction shown."""
    _editor(request)
    instruction = page_instruction(request)
    if request.method != "POST":
        wanted = request.GET.get("indikator", "")
        initial = {"indicator": int(wanted)} if wanted.isascii() and wanted.isdigit() else {}
        return _form_page(request, RequirementForm(initial=initial), instruction=instruction)
    form = RequirementForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, instruction=instruction, status=400)
    _show_refusals_on_the_form(request, form, instruction=instruction)
    requirement = requirement_create(
        user=request.user, instruction=instruction, **form.service_fields()
    )
    messages.success(request, _("Kebutuhan %(code)s ditambahkan.") % {"code": requirement.code})
    return redirect(_list_url(requirement.instruction, requirement.indicator.number))


@login_required
@require_http_methods(["GET", "POST"])
def requirement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Change a requirement of the checklist."""
    roles = _reader(request)
    requirement = _requirement(pk)
    checklist_editor_required(roles)
    instruction = requirement.instruction
    if request.method != "POST":
        form = RequirementForm(initial=RequirementForm.initial_from(requirement))
        return _form_page(request, form, instruction=instruction, requirement=requirement)
    form = RequirementForm(request.POST)
    if not form.is_valid():
        return _form_page(
            request, form, instruction=instruction, requirement=requirement, status=400
        )
    _show_refusals_on_the_form(request, form, instruction=instruction, requirement=requirement)
    changed = requirement_update(
        user=request.user, requirement_id=requirement.pk, fields=form.service_fields()
    )
    messages.success(request, _("Kebutuhan %(code)s disimpan.") % {"code": changed.code})
    return redirect(_list_url(instruction, changed.indicator.number))


@login_required
@require_POST
def requirement_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Delete a requirement that no current file serves (else the edit page says why, 409)."""
    _reader(request)
    requirement = _requirement(pk)
    form = RequirementForm(initial=RequirementForm.initial_from(requirement))
    _show_refusals_on_the_form(
        request, form, instruction=requirement.instruction, requirement=requirement
    )
    requirement_delete(user=request.user, requirement_id=requirement.pk)
    messages.success(request, _("Kebutuhan %(code)s dihapus.") % {"code": requirement.code})
    return redirect(_list_url(requirement.instruction, requirement.indicator.number))
