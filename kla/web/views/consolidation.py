"""BAPPERIDA's consolidation screen: consolidators act; verifiers and auditors may look (their
POST is 403); for anyone else the page does not exist (404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods

from kla.errors import Forbidden, Invalid, ServiceError
from kla.listing import BodyCode, BoundedPaginator
from kla.models import Category, Indicator
from kla.reports.consolidation import (
    RowOutcome,
    consolidation_apply,
    consolidation_queue,
)
from kla.web.filters import BodyPicker
from kla.web.middleware import refusal_messages
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_consolidate, may_view_consolidation
from workflows.four_eyes import authored_among

PAGE_SIZE = 50


class QueueFilter(forms.Form):
    """Filters of the consolidation screen; a bad value counts as not given (and is shown
    beside its field). The body is a code, looked up alone: no list of every body."""

    agency = BodyCode(label=_l("Perangkat/lembaga"), required=False, widget=BodyPicker(many=False))
    category = forms.ChoiceField(
        label=_l("Kategori"), required=False, choices=[("", _l("Semua")), *Category.choices]
    )
    indicator = forms.TypedChoiceField(
        label=_l("Indikator"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [  # type: ignore[attr-defined]
            ("", _l("Semua")),
            *[(i.number, f"{i.number}. {i.name}") for i in Indicator.objects.order_by("number")],
        ]

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            key: data[key]
            for key in ("agency", "category", "indicator")
            if key not in self.errors and data.get(key)
        }


def _selected(values: list[str]) -> list[tuple[int, int | None]] | None:
    """``"<id>:<version>"`` checkbox values; ``None`` when any is malformed."""
    items: list[tuple[int, int | None]] = []
    for value in values:
        pk, _sep, version = value.partition(":")
        if not pk.isascii() or not pk.isdigit() or len(pk) > 18:
            return None
        if version and (not version.isascii() or not version.isdigit() or len(version) > 9):
            return None
        items.append((int(pk), int(version) if version else None))
    return items


def _consolidation_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    roles = request_roles(request)
    instruction = page_instruction(request)
    form = QueueFilter(request.GET or None)
    filters = form.filters() if request.GET else {}
    qs = consolidation_queue(user=request.user, roles=roles, instruction=instruction, **filters)
    page = BoundedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("halaman"))
    rows = list(page.object_list)
    authored = (
        authored_among(request.user, [s.pk for s in rows]) if may_consolidate(roles) else set()
    )
    query = request.GET.copy()
    query.pop("halaman", None)
    return {
        "form": form,
        "page": page,
        "rows": [{"s": s, "authored": s.pk in authored} for s in rows],
        "can_act": may_consolidate(roles),
        "query": query.urlencode(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def consolidation(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The verified submissions; consolidators consolidate many at once or return one."""
    roles = request_roles(request)
    if not may_view_consolidation(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    if request.method != "POST":
        return _consolidation_page(request)
    if not may_consolidate(roles):
        raise Forbidden(_("Hanya konsolidator (BAPPERIDA) yang dapat melakukan ini."))
    note = str(request.POST.get("note", ""))[:5000]
    items = _selected(request.POST.getlist("pilih"))

    def render_refusal(exc: ServiceError) -> HttpResponse:
        errors = refusal_messages(exc)
        return _consolidation_page(request, status=exc.status, errors=errors, note=note)

    on_refusal(request, render_refusal)
    if items is None:
        raise Invalid({"pilih": _("Pilihan tidak valid.")})
    outcomes = consolidation_apply(
        user=request.user, action=request.POST.get("action"), items=items, note=note, roles=roles
    )
    return _consolidation_page(request, outcomes=outcomes)


def _consolidation_page(
    request: AuthenticatedHttpRequest,
    *,
    status: int = 200,
    outcomes: list[RowOutcome] | None = None,
    errors: list[str] | None = None,
    note: str = "",
) -> HttpResponse:
    outcomes = outcomes or []
    context = _consolidation_context(request)
    titles = {r["s"].pk: r["s"] for r in context["rows"]}
    context.update(
        {
            "outcomes": [{"o": o, "s": titles.get(o.submission_id)} for o in outcomes],
            "succeeded": sum(1 for o in outcomes if o.ok),
            "failed": sum(1 for o in outcomes if not o.ok),
            "errors": errors or [],
            "note": note,
        }
    )
    return render(request, "kla/consolidation.html", context, status=status)
