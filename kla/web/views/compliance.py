"""The compliance matrix page (/kepatuhan/): bodies against the four categories.

For verifiers (P3AP2KB), consolidators (BAPPERIDA) and auditors (Inspektorat); verifiers and
consolidators may also remind a body by hand from its row (``kla.web.views.monitoring``).
For anyone else it does not exist (404): the matrix as a whole is a reviewer's page.

Filtered and sorted through GET parameters, so a view can be bookmarked, with a plain form
(no JavaScript): ``search`` (in the body's name or code), ``category`` (only that column),
``only`` (``overdue``: rows with an overdue cell; ``unanswered``: rows with a cell neither
submitted nor nihil) and ``ordering`` (``name``, ``answered``, ``overdue``, each with ``-`` for
descending; by default the most overdue first, then by name). A bad value is ignored, with its
error beside the field, never an error page. Above the matrix, a chart of the bodies that had
answered every category, day by day (``kla.web.charts``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from kla.models import Category, SubmissionState
from kla.time import long_date, wib_date
from kla.web.charts import Chart, step_chart
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_monitor
from roles.roles import Roles
from workflows.sla.compliance import (
    ComplianceCell,
    ComplianceRow,
    MatrixView,
    matrix_view,
)
from workflows.summaries import STATE_ORDER

DEFAULT_ORDERING = "-overdue"
ORDERINGS = (
    ("-overdue", _l("Paling banyak lewat tenggat")),
    ("overdue", _l("Paling sedikit lewat tenggat")),
    ("name", _l("Nama (A-Z)")),
    ("-name", _l("Nama (Z-A)")),
    ("-answered", _l("Paling banyak dijawab")),
    ("answered", _l("Paling sedikit dijawab")),
)
ONLY = (
    ("", _l("Semua baris")),
    ("overdue", _l("Ada yang lewat tenggat")),
    ("unanswered", _l("Ada yang belum dijawab")),
)
SEARCH_MAX = 100
PAGE_SIZE = 50


class ComplianceFilterForm(forms.Form):
    """The matrix's filters and order; an invalid value is ignored and its error shown."""

    search = forms.CharField(
        label=_l("Cari perangkat/lembaga"), required=False, max_length=SEARCH_MAX
    )
    category = forms.ChoiceField(
        label=_l("Kategori"), required=False, choices=[("", _l("Semua")), *Category.choices]
    )
    only = forms.ChoiceField(label=_l("Tampilkan"), required=False, choices=ONLY)
    ordering = forms.ChoiceField(
        label=_l("Urutkan"), required=False, choices=ORDERINGS, initial=DEFAULT_ORDERING
    )

    def settings(self) -> dict[str, str]:
        """The valid values given (an invalid one counts as not given), with the defaults;
        each field with an error points to it (``aria-describedby``)."""
        self.is_valid()
        data: dict[str, Any] = getattr(self, "cleaned_data", {})
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{name}-error"
        return {
            "search": data.get("search") or "",
            "category": data.get("category") or "",
            "only": data.get("only") or "",
            "ordering": data.get("ordering") or DEFAULT_ORDERING,
        }


class CountedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator told its number of rows, for a list whose rows were counted already."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@dataclass
class MatrixRow:
    """A row as the page shows it: the cells of the shown categories and their counts."""

    row: ComplianceRow
    cells: list[ComplianceCell]
    answered: int
    overdue: int
    unanswered: int


def matrix_rows(view: MatrixView, bodies: list[Any], settings: dict[str, str]) -> list[MatrixRow]:
    """The page's rows: each body (annotated by ``MatrixView.rows``) with its cells of the
    shown categories."""
    shown = [row for row in view.cells_of(bodies)]
    out: list[MatrixRow] = []
    for body, row in zip(bodies, shown, strict=True):
        cells = [c for c in row.cells if settings["category"] in ("", c.category)]
        out.append(
            MatrixRow(
                row=row,
                cells=cells,
                answered=body.answered,
                overdue=body.overdue,
                unanswered=body.unanswered,
            )
        )
    return out


def _query(request: AuthenticatedHttpRequest, drop: Iterable[str], **changes: str) -> str:
    query: QueryDict = request.GET.copy()
    for name in drop:
        query.pop(name, None)
    for name, value in changes.items():
        query[name] = value
    return query.urlencode()


def sort_headers(
    request: AuthenticatedHttpRequest, ordering: str, *, invalid: Iterable[str] = ()
) -> dict[str, dict[str, str]]:
    """Per sortable column: the link that sorts by it (the other way round when it is the
    current order) and its ``aria-sort``. Names sort A-Z first, counts the most first. The
    links keep the other parameters, less those with an invalid value."""
    invalid = list(invalid)
    headers = {}
    for name, first in (("name", "name"), ("answered", "-answered"), ("overdue", "-overdue")):
        active = ordering.lstrip("-") == name
        descending = ordering.startswith("-")
        target = (name if descending else f"-{name}") if active else first
        headers[name] = {
            "href": "?" + _query(request, invalid, ordering=target),
            "sort": ("descending" if descending else "ascending") if active else "",
            "arrow": ("▼" if descending else "▲") if active else "",
        }
    return headers


def answered_all_chart(view: MatrixView, per_day: dict[dt.date, int], total: int) -> Chart:
    """The bodies that had answered every category, day by day from the first day to today,
    with the deadline marked (``per_day``: how many came to have done so on each day)."""
    instruction = view.instruction
    steps: list[tuple[dt.date, int]] = []
    reached = 0
    for day in sorted(per_day):
        reached += per_day[day]
        steps.append((day, reached))
    today = wib_date(view.now)
    title = _("Perangkat/lembaga yang sudah menjawab keempat kategori")
    label = _(
        "Grafik garis: %(n)s dari %(total)s perangkat/lembaga sudah menjawab keempat kategori "
        "per hari ini; batas waktu %(deadline)s."
    ) % {
        "n": reached,
        "total": total,
        "deadline": long_date(instruction.deadline),
    }
    return step_chart(
        title=title,
        label=label,
        steps=steps,
        total=total,
        start=instruction.issued_on,
        today=today,
        deadline=instruction.deadline,
        deadline_label=_("Batas waktu"),
        total_label=_("Semua (%(total)s)") % {"total": total},
        columns=(_("Tanggal"), _("Perangkat/lembaga yang sudah menjawab semua")),
    )


@login_required
@require_GET
def compliance(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each body's cells coloured by their least advanced state, with nihil and overdue marks."""
    return compliance_page(request)


def compliance_page(
    request: AuthenticatedHttpRequest, *, status: int = 200, error: str = ""
) -> HttpResponse:
    """The matrix a page of bodies at a time, with an "Ingatkan" button on the rows the
    person may remind (and the refusal of the last reminder, if any, with its status)."""
    roles: Roles = request_roles(request)
    view = matrix_view(user=request.user, roles=roles, instruction=page_instruction(request))
    form = ComplianceFilterForm(request.GET or None)
    settings = form.settings()
    categories = [
        (code, label) for code, label in Category.choices if settings["category"] in ("", code)
    ]
    may_remind = may_monitor(roles)
    filtered = bool(settings["search"] or settings["category"] or settings["only"])
    context: dict[str, Any] = {
        "matrix": view,
        "form": form,
        "settings": settings,
        "filtered": filtered,
        "sort": sort_headers(request, settings["ordering"], invalid=form.errors),
        "categories": categories,
        "columns": 3 + len(categories) + (1 if may_remind else 0),
        "states": [(s, SubmissionState(s).label) for s in STATE_ORDER],
        # A scoped verifier's matrix holds their own bodies only: every row it shows is
        # one they may remind.
        "may_remind": may_remind,
        "error": error,
        "rows": [],
        "total": 0,
        "answered_all": 0,
        "empty_cells": 0,
        "overdue_cells": 0,
        "chart": None,
    }
    if view is not None:
        totals = view.totals()
        queryset = view.rows(
            search=settings["search"],
            categories=tuple(code for code, _label in categories),
            only=settings["only"],
            ordering=settings["ordering"],
        )
        # Without a search or a kept subset every body in view is a row (a category shown
        # alone narrows the columns, not the rows): their number is already counted.
        kept = bool(settings["search"] or settings["only"])
        paginator = (
            Paginator(queryset, PAGE_SIZE)
            if kept
            else CountedPaginator(queryset, PAGE_SIZE, count=totals.bodies)
        )
        page = paginator.get_page(request.GET.get("halaman"))
        query = request.GET.copy()
        query.pop("halaman", None)
        context |= {
            "rows": matrix_rows(view, list(page.object_list), settings),
            "page": page,
            "shown": page.paginator.count,
            "query": query.urlencode(),
            "total": totals.bodies,
            "answered_all": totals.answered_all,
            "empty_cells": totals.empty_cells,
            "overdue_cells": totals.overdue_cells,
            "chart": answered_all_chart(view, totals.completed_on, totals.bodies),
        }
    return render(request, "kla/compliance.html", context, status=status)
