"""Indicator coverage for verifiers, consolidators and auditors: at a glance, then per indicator.

For anyone else the pages do not exist (404).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from kla.models import Indicator, SubmissionState
from kla.reports.coverage import GROUPS, IN_PROGRESS, coverage_by_cluster, coverage_compute
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.common import list_rows
from kla.web.views.instructions import page_instruction
from roles.permissions import may_consolidate, may_view_coverage
from roles.selectors import visible_to

S = SubmissionState


PAGE_SIZE = 100


GROUP_LABELS = {
    IN_PROGRESS: _l("Dalam proses"),
    S.VERIFIED.value: _l("Terverifikasi"),
    S.CONSOLIDATED.value: _l("Terkonsolidasi"),
    S.AUDITED.value: _l("Selesai diaudit"),
}


# The colours of the states' badges (kla.css), so a bar reads like the badges beside it.
GROUP_COLOURS = {
    IN_PROGRESS: "#b8c2cf",
    S.VERIFIED.value: "#6cc29a",
    S.CONSOLIDATED.value: "#8b6fd6",
    S.AUDITED.value: "#0b6e4f",
}


@login_required
@require_GET
def coverage(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Indicator coverage at a glance, grouped by cluster, with a bar of evidence per state."""
    roles = request_roles(request)
    if not may_view_coverage(roles):
        # A reviewers' page, like the compliance matrix and the trail: others do not see it.
        raise Http404(_("Halaman tidak ditemukan."))
    instruction = page_instruction(request)
    rows = coverage_compute(user=request.user, roles=roles, instruction=instruction)
    widest = max((r.evidence_total for r in rows), default=0) or 1
    for row in rows:
        row.segments = [  # type: ignore[attr-defined]
            {
                "group": g,
                "label": GROUP_LABELS[g],
                "count": row.evidence[g],
                "width": round(row.evidence[g] * 100 / widest, 2),
                "colour": GROUP_COLOURS[g],
            }
            for g in GROUPS
            if row.evidence[g]
        ]
        row.cells = [(row.evidence[g], row.submissions[g]) for g in GROUPS]  # type: ignore[attr-defined]
    clusters = coverage_by_cluster(rows)
    return render(
        request,
        "kla/coverage.html",
        {
            "clusters": clusters,
            "groups": [(g, GROUP_LABELS[g], GROUP_COLOURS[g]) for g in GROUPS],
            "show_weight": any(r.weight is not None for r in rows),
            "gaps": sum(1 for r in rows if r.no_verified_evidence),
            "total": len(rows),
            "instruction": instruction,
        },
    )


@login_required
@require_GET
def coverage_indicator(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    """The drill-down of one indicator: the visible submissions that support it."""
    roles = request_roles(request)
    if not may_view_coverage(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    indicator = Indicator.objects.filter(number=number).first()
    if indicator is None:
        raise Http404(_("Indikator tidak ditemukan."))
    qs = visible_to(request.user, roles).filter(indicators=indicator)
    instruction = page_instruction(request)
    if instruction is not None:
        qs = qs.filter(instruction=instruction)
    page = Paginator(list_rows(qs), PAGE_SIZE).get_page(request.GET.get("halaman"))
    return render(
        request,
        "kla/coverage_indicator.html",
        {
            "indicator": indicator,
            "page": page,
            "can_consolidate": may_consolidate(roles),
            "instruction": instruction,
        },
    )
