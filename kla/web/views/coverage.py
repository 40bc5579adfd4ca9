"""Indicator coverage for verifiers, consolidators and auditors: at a glance, then per indicator.

At a glance: a heat map of the 24 indicators by cluster, each coloured by the share of its
evidence requirements met (``kla.requirements``), a bar chart of the requirements met per
cluster (server-side SVG, ``kla.web.charts``), then the files per state. Colours and widths are
classes of ``kla.css``, never inline styles, so that a strict Content-Security-Policy holds.
For anyone else the pages do not exist (404).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from kla.models import Indicator, SubmissionState
from kla.reports.coverage import (
    GROUPS,
    IN_PROGRESS,
    ClusterCoverage,
    IndicatorCoverage,
    coverage_by_cluster,
    coverage_compute,
)
from kla.requirements import checklist_compute
from kla.web.charts import Bar, Chart, bar_chart
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


# The bands of the heat map: the share of an indicator's requirements met (kla.css colours).
HEAT_BANDS = (
    ("heat-none", _l("Belum ada daftar kebutuhan")),
    ("heat-0", _l("Belum ada yang terpenuhi")),
    ("heat-low", _l("Kurang dari separuh terpenuhi")),
    ("heat-mid", _l("Separuh atau lebih, belum semua")),
    ("heat-full", _l("Semua terpenuhi")),
)
# Bars are drawn in steps of this many percent, one CSS class a step (``cov-w-0`` to ``-100``).
WIDTH_STEP = 5


def heat_band(met: int, total: int) -> str:
    """The heat map's class for ``met`` of ``total`` requirements."""
    if total == 0:
        return "heat-none"
    if met == 0:
        return "heat-0"
    if met * 2 < total:
        return "heat-low"
    if met < total:
        return "heat-mid"
    return "heat-full"


def width_class(count: int, widest: int) -> str:
    """``cov-w-<percent>`` in steps; a segment that holds anything is never drawn empty."""
    steps = round(count * 100 / widest / WIDTH_STEP)
    return f"cov-w-{max(steps, 1 if count else 0) * WIDTH_STEP}"


def _heat_map(clusters: list[ClusterCoverage]) -> list[dict[str, Any]]:
    return [
        {
            "cluster": cluster,
            "cells": [
                {"row": row, "band": heat_band(row.requirements_met, row.requirements_total)}
                for row in cluster.indicators
            ],
        }
        for cluster in clusters
    ]


def _segments(row: IndicatorCoverage, widest: int) -> list[dict[str, Any]]:
    return [
        {
            "group": g,
            "label": GROUP_LABELS[g],
            "count": row.evidence[g],
            "width": width_class(row.evidence[g], widest),
        }
        for g in GROUPS
        if row.evidence[g]
    ]


def cluster_chart(clusters: list[ClusterCoverage]) -> Chart:
    """Progress per cluster: a bar per cluster, its evidence requirements met of its total."""
    met = sum(c.requirements_met for c in clusters)
    total = sum(c.requirements_total for c in clusters)
    return bar_chart(
        title=_("Kemajuan per klaster"),
        label=_(
            "Diagram batang: kebutuhan data dukung terpenuhi per klaster; "
            "seluruhnya %(met)s dari %(total)s."
        )
        % {"met": met, "total": total},
        bars=[Bar(c.label, c.requirements_met, c.requirements_total) for c in clusters],
        columns=(_("Klaster"), _("Kebutuhan terpenuhi")),
    )


@login_required
@require_GET
def coverage(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Indicator coverage at a glance: the heat map of requirements met, then per cluster each
    indicator's requirements and its bar of evidence per state."""
    roles = request_roles(request)
    if not may_view_coverage(roles):
        # A reviewers' page, like the compliance matrix and the trail: others do not see it.
        raise Http404(_("Halaman tidak ditemukan."))
    instruction = page_instruction(request)
    rows = coverage_compute(user=request.user, roles=roles, instruction=instruction)
    widest = max((r.evidence_total for r in rows), default=0) or 1
    for row in rows:
        row.segments = _segments(row, widest)  # type: ignore[attr-defined]
        row.cells = [(row.evidence[g], row.submissions[g]) for g in GROUPS]  # type: ignore[attr-defined]
    clusters = coverage_by_cluster(rows)
    return render(
        request,
        "kla/coverage.html",
        {
            "clusters": clusters,
            "heat_map": _heat_map(clusters),
            "cluster_chart": cluster_chart(clusters),
            "bands": HEAT_BANDS,
            "requirements_total": sum(c.requirements_total for c in clusters),
            "requirements_met": sum(c.requirements_met for c in clusters),
            "groups": [(g, GROUP_LABELS[g]) for g in GROUPS],
            "show_weight": any(r.weight is not None for r in rows),
            "gaps": sum(1 for r in rows if r.no_verified_evidence),
            "total": len(rows),
            "instruction": instruction,
        },
    )


@login_required
@require_GET
def coverage_indicator(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    """The drill-down of one indicator: its requirements, met or missing, with the bodies whose
    files serve them, then the visible submissions that support it."""
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
    requirements = checklist_compute(
        user=request.user, roles=roles, instruction=instruction, indicator=indicator.number
    )
    return render(
        request,
        "kla/coverage_indicator.html",
        {
            "indicator": indicator,
            "requirements": requirements,
            "requirements_met": sum(1 for r in requirements if r.met),
            "page": page,
            "can_consolidate": may_consolidate(roles),
            "instruction": instruction,
        },
    )
