"""Monitoring as pages (Diktum KELIMA): the monitoring notes (/monitoring/) with the form for
verifiers and consolidators, and the "Ingatkan" button of the compliance matrix.

Operators read their own body's notes, reviewers every body's; anybody else gets 404. The
services (``workflows.supervision.monitoring``) decide; a refusal other than 403 and 404 shows
the page again with its message (and its status: 400, or 409 for a second reminder a day).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods, require_POST

from kla.errors import Invalid, ServiceError
from kla.listing import BodyCode
from kla.models import Indicator
from kla.web.filters import BodyPicker
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.compliance import compliance_page
from kla.web.views.instructions import page_instruction
from roles.permissions import may_monitor, may_view_compliance, may_view_monitoring
from roles.roles import Roles
from workflows.supervision.monitoring import (
    NOTE_MAX,
    compliance_remind,
    monitoring_note_write,
    monitoring_notes_visible_to,
)

PAGE_SIZE = 25


class MonitoringNoteForm(forms.Form):
    """A note to a body, optionally about one indicator (the instruction is the page's)."""

    agency = BodyCode(
        label=_l("Perangkat/lembaga"), active_only=True, widget=BodyPicker(many=False)
    )
    indicator = forms.ChoiceField(label=_l("Indikator"), required=False)
    note = forms.CharField(
        label=_l("Catatan monitoring"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, roles: Roles, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles = roles
        indicator = self.fields["indicator"]
        assert isinstance(indicator, forms.ChoiceField)
        indicator.choices = [("", _l("Semua indikator"))] + [
            (str(i.number), f"{i.number}. {i.name}") for i in Indicator.objects.order_by("number")
        ]

    def clean_agency(self) -> str:
        """A scoped verifier writes to their bodies only: another is refused beside the field
        (the service would refuse it too, 403)."""
        code: str = self.cleaned_data["agency"]
        field = self.fields["agency"]
        assert isinstance(field, BodyCode)
        scoped = not (self.roles.verifier_everywhere or self.roles.consolidator)
        if scoped and code and field.found[code][0] not in self.roles.verifier_of:
            raise forms.ValidationError(_("Perangkat/lembaga ini di luar lingkup verifikasi Anda."))
        return code


@login_required
@require_http_methods(["GET", "POST"])
def monitoring(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The notes this person may read for the page's instruction, and the form to write one."""
    roles = request_roles(request)
    if not may_view_monitoring(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    instruction = page_instruction(request)
    writes = may_monitor(roles)
    form = MonitoringNoteForm(request.POST or None, roles=roles) if writes else None

    def again(status: int = 200, error: str = "") -> HttpResponse:
        notes = monitoring_notes_visible_to(roles)
        if instruction is not None:
            notes = notes.filter(instruction=instruction)
        agency = request.GET.get("agency", "")
        if agency:
            notes = notes.filter(body__code=agency)
        page = Paginator(notes.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
            request.GET.get("halaman")
        )
        context = {"page": page, "form": form, "instruction": instruction, "error": error}
        return render(request, "kla/monitoring.html", context, status=status)

    if request.method != "POST":
        return again()
    if form is None:
        # Operators and auditors read only: the service says so, as the API does (403).
        monitoring_note_write(user=request.user, agency="", note="")
        return again()  # not reached
    if not form.is_valid():
        return again(400)

    def render_refusal(exc: ServiceError) -> HttpResponse:
        if isinstance(exc, Invalid):
            for key, errors in exc.errors.items():
                for message in errors:
                    form.add_error(key if key in form.fields else None, message)
            return again(400)
        return again(exc.status, exc.message)

    on_refusal(request, render_refusal)
    data = form.cleaned_data
    monitoring_note_write(
        user=request.user,
        agency=data["agency"],
        instruction=instruction.pk if instruction is not None else None,
        indicator=data["indicator"] or None,
        note=data["note"],
    )
    messages.success(request, _("Catatan monitoring dikirim."))
    return redirect(request.get_full_path())


@login_required
@require_POST
def compliance_remind_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Ingatkan" on a row of the compliance matrix: a reminder to that body, once a day."""
    roles = request_roles(request)
    if not may_view_compliance(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    instruction = page_instruction(request)

    def render_refusal(exc: ServiceError) -> HttpResponse:
        message = exc.message
        if isinstance(exc, Invalid):
            message = " ".join(m for errors in exc.errors.values() for m in errors)
        return compliance_page(request, status=exc.status, error=message)

    on_refusal(request, render_refusal)
    reminder = compliance_remind(
        user=request.user,
        agency=request.POST.get("agency", ""),
        note=request.POST.get("note", ""),
        instruction=instruction.pk if instruction is not None else None,
    )
    told = ", ".join(reminder.sent_to) or _("tidak ada penerima (perangkat tanpa operator)")
    messages.success(
        request,
        _("Pengingat dikirim ke %(body)s: %(told)s.") % {"body": reminder.body.name, "told": told},
    )
    back = reverse("compliance")
    if request.GET.get("instruction"):
        back += "?" + urlencode({"instruction": request.GET["instruction"]})
    return redirect(back)
