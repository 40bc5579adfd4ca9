"""The auditor's trail pages: the filtered trail across submissions with chain status, the
log's checkpoints and verifier keys, its downloads as CSV and JSON Lines, the trail bundle, and
each event's inclusion proof.

Rights (``workflows.trail.reading``): verifiers, consolidators and auditors open the page and
see the rows they may read; operators and people without a role get 404, as if it did not exist;
downloading is the auditor's (403 for the other reviewers) and is itself a trail event; so is
requesting the bundle (an export, whose download is an event). An event's proof file
(``/jejak/bukti/<id>/``) follows the API's inclusion proof, but since it carries the event's
fields too, it is given only for the events the person may read (everybody those of the
submissions they see, operators included; auditors also the body and system streams; 404
otherwise), and is 409 while the event is in no checkpoint yet.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from kla.errors import Forbidden
from kla.listing import BAD_CURSOR, Cursor, TrailFilter, keyset_page
from kla.models import ExportKind
from kla.reports.exports import export_request
from kla.time import WIB
from kla.web.filters import page_filters
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.templatetags.kla_tags import ACTION_LABELS, role_label, state_label
from kla.web.templatetags.trail_tags import TRAIL_ACTION_LABELS, stream_label, trail_action_label
from roles.permissions import may_export_trail, may_read_every_stream, may_read_trail
from workflows.models import TrailEvent, TrailStream
from workflows.trail.append import event_record
from workflows.trail.checkpoints import checkpoint_latest, current_verifier, known_verifiers
from workflows.trail.proofs import (
    checkpoints_newest,
    events_in_tree,
    inclusion_proof,
    proof_event,
)
from workflows.trail.reading import (
    EXPORT_FORMATS,
    ChainStatus,
    TrailFilters,
    trail_chains_status,
    trail_export_record,
    trail_export_rows,
    trail_query,
)

PAGE_SIZE = 50
# The page's cursor (``kla.listing.Cursor``): the trail goes by key, newest first, never
# counted; an old page number in a bookmark is ignored.
CURSOR = "kursor"
PAGE_PARAMS = (CURSOR, "halaman")
# A stream on the page is re-walked whole when it holds at most this many events; a longer
# one (the system stream, a submission downloaded thousands of times) is left to
# ``verify_trail``, so that opening the page costs the same at any size of the trail.
CHAIN_WALK_MAX = 200
# The newest checkpoints the page lists; the API lists them all.
CHECKPOINTS_SHOWN = 5
# Dates outside this range are typing mistakes, and near the ends of ``datetime`` the shift
# between WIB and UTC would overflow.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)
BAD_DATE = _l("Tanggal tidak valid; gunakan format TTTT-BB-HH, misalnya 2025-12-31.")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); the
# note and names are typed by people, so such a cell gets a leading apostrophe in the CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


class TrailFilterForm(forms.Form):
    """The trail page's filters; a bad value is a field error, shown with the page (400)."""

    actor = forms.CharField(
        label=_l("Pelaku (nama pengguna)"),
        required=False,
        max_length=150,
        error_messages={"max_length": _l("Nama pengguna paling banyak 150 karakter.")},
    )
    date_from = forms.DateField(
        label=_l("Dari tanggal (WIB)"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": BAD_DATE},
    )
    date_to = forms.DateField(
        label=_l("Sampai tanggal (WIB)"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": BAD_DATE},
    )

    def _clean_day(self, name: str) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                _("Tanggal harus antara %(a)s dan %(b)s.")
                % {"a": EARLIEST.isoformat(), "b": LATEST.isoformat()}
            )
        return day

    def clean_date_from(self) -> dt.date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._clean_day("date_to")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        return data

    def filters(self) -> TrailFilters:
        """The valid filters; call after ``is_valid`` returned true (or on an unbound form)."""
        data = getattr(self, "cleaned_data", {})
        return TrailFilters(
            actor=(data.get("actor") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class TrailPageFilters:
    """The page's two forms as one: the actor and the WIB days (``TrailFilterForm``, read by
    the engine's ``trail_query``) and the lists' search, filters and order
    (``kla.listing.TrailFilter``: several bodies or actions, title, category, indicator)."""

    def __init__(self, request: AuthenticatedHttpRequest) -> None:
        query = request.GET.copy()
        for param in PAGE_PARAMS:
            query.pop(param, None)
        self.form = TrailFilterForm(query or None)
        actions = _known_actions(request)
        self.listing = page_filters(
            TrailFilter,
            request,
            TrailEvent.objects.none(),
            actions=[(a, trail_action_label(a)) for a in actions],
        )

    def is_valid(self) -> bool:
        form_valid = not self.form.is_bound or self.form.is_valid()
        return self.listing.is_valid() and form_valid

    def apply(self, qs: QuerySet[TrailEvent]) -> QuerySet[TrailEvent]:
        return self.listing.filter_queryset(qs)

    def as_data(self) -> dict[str, str]:
        """Every filter given, as text, for the download's trail event."""
        given = {k: v for k, v in self.listing.data.items() if k in self.listing.filters and v}
        return {**self.form.filters().as_data(), **given}


def _known_actions(request: AuthenticatedHttpRequest) -> list[str]:
    """The actions the person's rows can carry, from the known list (no pass over the
    events): every one for those who read every stream, else those of submissions."""
    known = TRAIL_ACTION_LABELS if may_read_every_stream(request_roles(request)) else ACTION_LABELS
    return sorted(known, key=lambda action: str(known[action]))


def _form(request: AuthenticatedHttpRequest) -> TrailPageFilters:
    return TrailPageFilters(request)


def _query_string(request: AuthenticatedHttpRequest) -> str:
    query = request.GET.copy()
    for param in PAGE_PARAMS:
        query.pop(param, None)
    return query.urlencode()


def _cursor(request: AuthenticatedHttpRequest) -> Cursor | None:
    """The page's cursor; ``ValueError`` for a bad one (the page is 400)."""
    given = request.GET.get(CURSOR, "")
    return Cursor.decode(given) if given else None


def _chains(names: set[str]) -> dict[str, ChainStatus | None]:
    """The chain status of each stream shown, re-walked where it is short enough (one
    query for the heads, then one pass over the short streams); ``None`` for the others."""
    sizes = dict(TrailStream.objects.filter(name__in=names).values_list("name", "seq"))
    short = {name for name in names if sizes.get(name, 0) <= CHAIN_WALK_MAX}
    walked = trail_chains_status(streams=short) if short else {}
    return {name: walked.get(name) for name in names}


def _require_readable(request: AuthenticatedHttpRequest) -> None:
    if not may_read_trail(request_roles(request)):
        raise Http404(_("Halaman tidak ditemukan."))


@login_required
@require_GET
def trail_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The trail across submissions, newest first, with the chain status of each stream shown."""
    _require_readable(request)
    roles = request_roles(request)
    filters = _form(request)
    context: dict[str, Any] = {
        "form": filters.form,
        "filters": filters.listing,
        "query": _query_string(request),
        "can_export": may_export_trail(roles),
        "page": None,
        "statuses": {},
        "cursor_error": "",
    }
    try:
        cursor = _cursor(request)
    except ValueError:
        context["cursor_error"] = BAD_CURSOR
        return render(request, "kla/trail/list.html", context, status=400)
    if not filters.is_valid():
        return render(request, "kla/trail/list.html", context, status=400)
    qs = trail_query(user=request.user, filters=filters.form.filters(), roles=roles)
    qs = filters.apply(qs.select_related("submission", "body"))
    page = keyset_page(
        qs, cursor=cursor, size=PAGE_SIZE, newest_first=filters.listing.newest_first()
    )
    chains = _chains({e.stream.name for e in page.rows})
    latest = checkpoint_latest()
    proven = events_in_tree([e.pk for e in page.rows], latest.tree_size if latest else 0)
    rows = [(event, chains[event.stream.name], event.pk in proven) for event in page.rows]
    statuses = [s for s in chains.values() if s is not None]
    current = current_verifier()
    context |= {
        "page": page,
        "cursor_param": CURSOR,
        "rows": rows,
        "statuses": sorted(statuses, key=lambda s: s.stream),
        "broken": sorted((s for s in statuses if not s.intact), key=lambda s: s.stream),
        "unwalked": sorted(name for name, s in chains.items() if s is None),
        "chain_walk_max": CHAIN_WALK_MAX,
        "checkpoints": list(checkpoints_newest()[:CHECKPOINTS_SHOWN]),
        "keys": [(key, key == current) for key in known_verifiers()],
    }
    return render(request, "kla/trail/list.html", context)


@login_required
@require_GET
def trail_proof(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One event's inclusion proof against the latest checkpoint, with the event's fields, as
    a JSON file: the API's inclusion proof plus the event as the bundle has it."""
    event = proof_event(user=request.user, event_id=pk, roles=request_roles(request), disclose=True)
    proof = inclusion_proof(event=event)  # 409 while the event is in no checkpoint
    body = {**proof.as_data(), **event_record(event, event.stream.name)}
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        content_type="application/json; charset=utf-8",
    )
    filename = f"bukti-jejak-{event.pk}-{proof.tree_size}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def trail_bundle(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Request the trail bundle (an export job) and go to the exports page to follow it."""
    _require_readable(request)
    if not may_export_trail(request_roles(request)):
        raise Forbidden(_("Hanya auditor (Inspektorat) yang dapat mengunduh bundel jejak."))
    export_request(user=request.user, kind=ExportKind.TRAIL_BUNDLE)
    messages.success(
        request,
        _(
            "Bundel jejak diminta; halaman ini diperbarui sampai selesai. Periksa berkasnya "
            "dengan: python manage.py verify_trail --bundle BERKAS --key KUNCI."
        ),
    )
    return redirect("exports")


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming ``csv``."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _files_text(files: list[dict[str, str]]) -> str:
    return ", ".join(f"{f['name']} (SHA-256 {f['sha256']})" for f in files)


def _wall_clock(at: str) -> str:
    # "2025-03-17 14:05:09": WIB without its offset, a form spreadsheets read as a date.
    return dt.datetime.fromisoformat(at).astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S")


# The CSV is for people opening it in a spreadsheet: Indonesian headers and values, ";" between
# cells as Indonesian spreadsheets expect. JSON Lines keeps the API's names and codes, exact.
CSV_COLUMNS: tuple[tuple[Any, Callable[[dict[str, Any]], Any]], ...] = (
    (_l("Alur"), lambda r: stream_label(r["stream"])),
    (_l("Nomor urut"), lambda r: r["seq"]),
    (_l("Waktu (WIB)"), lambda r: _wall_clock(r["at"])),
    (_l("Pelaku"), lambda r: r["actor"]),
    (_l("Peran"), lambda r: role_label(r["role"])),
    (_l("Aksi"), lambda r: trail_action_label(r["action"])),
    (_l("Dari status"), lambda r: state_label(r["from_state"])),
    (_l("Ke status"), lambda r: state_label(r["to_state"])),
    (_l("Catatan"), lambda r: r["note"]),
    (_l("Berkas"), lambda r: _files_text(r["files"])),
    (_l("Hash sebelumnya"), lambda r: r["prev_hash"]),
    (_l("Hash"), lambda r: r["hash"]),
)


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    # The byte-order mark makes spreadsheets read the file as UTF-8 (names, notes).
    yield "\ufeff" + writer.writerow([str(header) for header, _value in CSV_COLUMNS])
    for row in rows:
        yield writer.writerow([_cell(value(row)) for _header, value in CSV_COLUMNS])


def _jsonl_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


@login_required
@require_GET
def trail_download(
    request: AuthenticatedHttpRequest, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    """Download the filtered trail (CSV or JSON Lines), recorded first in the system stream."""
    _require_readable(request)
    if fmt not in EXPORT_FORMATS:
        raise Http404(_("Format unduhan tidak dikenal."))
    roles = request_roles(request)
    if not may_export_trail(roles):
        raise Forbidden(_("Hanya auditor (Inspektorat) yang dapat mengunduh jejak."))
    page_filters_ = _form(request)
    if not page_filters_.is_valid():
        context = {
            "form": page_filters_.form,
            "filters": page_filters_.listing,
            "query": _query_string(request),
            "can_export": True,
        }
        return render(request, "kla/trail/list.html", context, status=400)
    filters = page_filters_.form.filters()
    trail_export_record(
        user=request.user, filters=filters, fmt=fmt, roles=roles, given=page_filters_.as_data()
    )
    rows = trail_export_rows(
        page_filters_.apply(trail_query(user=request.user, filters=filters, roles=roles))
    )
    lines = _csv_lines(rows) if fmt == "csv" else _jsonl_lines(rows)
    stamp = timezone.now().astimezone(WIB).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="jejak-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
