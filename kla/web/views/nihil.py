"""The "nihil" page: an operator declares that their body has nothing to report in a category.

Operators declare for their bodies; verifiers, consolidators and auditors read the
declarations (and get 403 if they post); anybody else gets 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods

from kla.errors import Forbidden, Invalid, ServiceError
from kla.models import Body, Category
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.instructions import chosen_instruction, page_instruction
from roles.permissions import may_draft, may_open_nihil
from roles.selectors import bodies_operated_by
from workflows.sla.nihil import REASON_MAX, nihil_declare, nihil_visible_to


class NihilForm(forms.Form):
    """Category, body (when the person operates several) and the reason."""

    agency = forms.ChoiceField(label=_l("Perangkat/lembaga"), required=False)
    category = forms.ChoiceField(label=_l("Kategori"), choices=Category.choices)
    reason = forms.CharField(
        label=_l("Alasan nihil"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_l("Mengapa perangkat Anda tidak memiliki data untuk kategori ini."),
    )

    def __init__(self, *args: Any, bodies: list[Body], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(bodies) > 1:
            agency = self.fields["agency"]
            assert isinstance(agency, forms.ChoiceField)
            agency.choices = [(b.code, b.name) for b in bodies]
            agency.required = True
        else:
            del self.fields["agency"]


@login_required
@require_http_methods(["GET", "POST"])
def nihil(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The declarations the person may read and, for operators, the form to declare one."""
    roles = request_roles(request)
    if not may_open_nihil(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    bodies = list(bodies_operated_by(request.user))
    form = NihilForm(request.POST or None, bodies=bodies)
    if request.method != "POST":
        return _nihil_page(request, form)
    if not may_draft(roles):
        raise Forbidden(_("Hanya operator perangkat/lembaga yang dapat menyatakan nihil."))
    if not form.is_valid():
        return _nihil_page(request, form, status=400)

    def render_refusal(exc: ServiceError) -> HttpResponse:
        if isinstance(exc, Invalid):
            for key, errors in exc.errors.items():
                for message in errors:
                    form.add_error(key if key in form.fields else None, message)
            return _nihil_page(request, form, status=400)
        return _nihil_page(request, form, status=exc.status, error=exc.message)

    on_refusal(request, render_refusal)
    shown = chosen_instruction(request)
    nihil_declare(
        user=request.user,
        category=form.cleaned_data["category"],
        agency=form.cleaned_data.get("agency") or None,
        reason=form.cleaned_data["reason"],
        instruction=shown.pk if shown is not None else None,
    )
    messages.success(request, _("Pernyataan nihil dicatat."))
    return redirect("nihil")


def _nihil_page(
    request: AuthenticatedHttpRequest, form: NihilForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    roles = request_roles(request)
    shown = page_instruction(request)
    declarations = nihil_visible_to(roles).order_by("body__name", "category")
    if shown is not None:
        declarations = declarations.filter(instruction=shown)
    return render(
        request,
        "kla/nihil.html",
        {
            "form": form if may_draft(roles) else None,
            "declarations": declarations,
            "instruction": shown,
            "error": error,
        },
        status=status,
    )
