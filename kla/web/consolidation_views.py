"""BAPPERIDA's pages: indicator coverage, the consolidation screen and exports.

Like ``kla.web.views``, these only authenticate, load through the visibility querysets,
validate and call one service. Who sees what:

* coverage (/cakupan/) and exports (/ekspor/): verifiers, consolidators and auditors; anyone
  else is told the page is not for them (403);
* consolidation (/konsolidasi/): consolidators act; verifiers and auditors may look (their
  POST is 403); for anyone else the page does not exist (404);
* an export's file: only its requester; for anyone else it does not exist (404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods

from kla.consolidation import (
    RowOutcome,
    authored_among,
    consolidation_apply,
    consolidation_queue,
    may_view_consolidation,
)
from kla.coverage import GROUPS, IN_PROGRESS, coverage_by_cluster, coverage_compute
from kla.coverage import may_view_coverage as _may_view_coverage
from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.exports import export_download, export_request, exports_of, may_export
from kla.models import Body, Category, ExportKind, ExportState, Indicator, SubmissionState
from kla.templatetags.kla_tags import request_roles
from roles.visibility import visible_to

from .views import _list_rows, _refused

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


def _not_for_you(request: HttpRequest) -> HttpResponse:
    return _refused(request, _("Halaman ini untuk verifikator, konsolidator dan auditor."))


# --- coverage ------------------------------------------------------------------------------


@login_required
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """Indicator coverage at a glance, grouped by cluster, with a bar of evidence per state."""
    roles = request_roles(request)
    if not _may_view_coverage(roles):
        # A reviewers' page, like the compliance matrix and the trail: others do not see it.
        raise Http404(_("Halaman tidak ditemukan."))
    rows = coverage_compute(user=request.user, roles=roles)
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
        },
    )


@login_required
@require_GET
def coverage_indicator(request: HttpRequest, number: int) -> HttpResponse:
    """The drill-down of one indicator: the visible submissions that support it."""
    roles = request_roles(request)
    if not _may_view_coverage(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    indicator = Indicator.objects.filter(number=number).first()
    if indicator is None:
        raise Http404(_("Indikator tidak ditemukan."))
    qs = visible_to(request.user, roles).filter(indicators=indicator)  # type: ignore[arg-type]
    page = Paginator(_list_rows(qs), PAGE_SIZE).get_page(request.GET.get("halaman"))
    return render(
        request,
        "kla/coverage_indicator.html",
        {"indicator": indicator, "page": page, "can_consolidate": roles.consolidator},
    )


# --- consolidation -------------------------------------------------------------------------


class QueueFilter(forms.Form):
    """Filters of the consolidation screen; a bad value counts as not given."""

    agency = forms.ChoiceField(label=_l("Perangkat/lembaga"), required=False)
    category = forms.ChoiceField(
        label=_l("Kategori"), required=False, choices=[("", _l("Semua")), *Category.choices]
    )
    indicator = forms.TypedChoiceField(
        label=_l("Indikator"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, bodies: list[Body], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [  # type: ignore[attr-defined]
            ("", _l("Semua")),
            *[(b.code, b.name) for b in bodies],
        ]
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


def _consolidation_context(request: HttpRequest) -> dict[str, Any]:
    roles = request_roles(request)
    everything = consolidation_queue(user=request.user, roles=roles)
    bodies = list(Body.objects.filter(submissions__in=everything).distinct().order_by("name"))
    form = QueueFilter(request.GET or None, bodies=bodies)
    filters = form.filters() if request.GET else {}
    qs = consolidation_queue(user=request.user, roles=roles, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("halaman"))
    rows = list(page.object_list)
    authored = authored_among(request.user, [s.pk for s in rows]) if roles.consolidator else set()  # type: ignore[arg-type]
    query = request.GET.copy()
    query.pop("halaman", None)
    return {
        "form": form,
        "page": page,
        "rows": [{"s": s, "authored": s.pk in authored} for s in rows],
        "can_act": roles.consolidator,
        "query": query.urlencode(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def consolidation(request: HttpRequest) -> HttpResponse:
    """The verified submissions; consolidators consolidate many at once or return one."""
    roles = request_roles(request)
    if not may_view_consolidation(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    status = 200
    outcomes: list[RowOutcome] = []
    errors: list[str] = []
    note = ""
    if request.method == "POST":
        if not roles.consolidator:
            return _refused(request, _("Hanya konsolidator (BAPPERIDA) yang dapat melakukan ini."))
        note = str(request.POST.get("note", ""))[:5000]
        items = _selected(request.POST.getlist("pilih"))
        try:
            if items is None:
                raise Invalid({"pilih": _("Pilihan tidak valid.")})
            outcomes = consolidation_apply(
                user=request.user,  # type: ignore[arg-type]
                action=request.POST.get("action"),
                items=items,
                note=note,
            )
        except Invalid as exc:
            status = 400
            errors = [m for msgs in exc.errors.values() for m in msgs]
        except Forbidden as exc:
            return _refused(request, exc.message)
        else:
            note = ""
    context = _consolidation_context(request)
    titles = {r["s"].pk: r["s"] for r in context["rows"]}
    context.update(
        {
            "outcomes": [{"o": o, "s": titles.get(o.submission_id)} for o in outcomes],
            "succeeded": sum(1 for o in outcomes if o.ok),
            "failed": sum(1 for o in outcomes if not o.ok),
            "errors": errors,
            "note": note,
        }
    )
    return render(request, "kla/consolidation.html", context, status=status)


# --- exports -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    """The person's exports with their progress; a button requests a new one of each kind."""
    roles = request_roles(request)
    if not may_export(roles):
        return _not_for_you(request)
    if request.method == "POST":
        try:
            export = export_request(
                user=request.user,  # type: ignore[arg-type]
                kind=request.POST.get("kind"),
            )
        except Invalid as exc:
            return _refused(request, " ".join(m for v in exc.errors.values() for m in v), 400)
        except Forbidden as exc:
            return _refused(request, exc.message)
        messages.success(
            request,
            _("Ekspor %(kind)s diminta; halaman ini diperbarui sampai selesai.")
            % {"kind": export.get_kind_display()},
        )
        return redirect("exports")
    mine = list(exports_of(request.user)[:20])  # type: ignore[arg-type]
    return render(
        request,
        "kla/exports.html",
        {
            "exports": mine,
            "kinds": ExportKind.choices,
            "running": any(e.state in (ExportState.PENDING, ExportState.RUNNING) for e in mine),
        },
    )


@login_required
@require_GET
def export_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Download a finished export; only its requester may, and the trail records it."""
    try:
        export = export_download(user=request.user, export_id=pk)  # type: ignore[arg-type]
    except NotVisible:
        raise Http404(_("Ekspor tidak ditemukan.")) from None
    except Forbidden as exc:
        return _refused(request, exc.message)
    except Conflict as exc:
        return _refused(request, exc.message, 409)
    try:
        handle = default_storage.open(export.file, "rb")
    except OSError:
        raise Http404(_("Berkas ekspor tidak ditemukan di penyimpanan.")) from None
    return FileResponse(handle, as_attachment=True, filename=export.filename)
