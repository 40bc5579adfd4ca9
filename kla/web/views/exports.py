"""Exports for verifiers, consolidators and auditors (403 for anyone else); a file only for its
requester (404 for anyone else). The trail bundle is offered to auditors alone and is of no
instruction (the trail page requests it too).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kla.errors import Forbidden
from kla.models import ExportKind, ExportState
from kla.reports.exports import export_download, export_request, exports_of
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.instructions import chosen_instruction
from roles.permissions import may_export, may_export_trail


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person's exports with their progress; a button requests a new one of each kind."""
    roles = request_roles(request)
    if not may_export(roles):
        raise Forbidden(_("Halaman ini untuk verifikator, konsolidator dan auditor."))
    if request.method == "POST":
        # Of the instruction the person is looking at (the header's switch); the trail
        # bundle spans the whole trail.
        kind = request.POST.get("kind")
        shown = None if kind == ExportKind.TRAIL_BUNDLE else chosen_instruction(request)
        export = export_request(
            user=request.user,
            kind=kind,
            instruction=shown.pk if shown is not None else None,
        )
        messages.success(
            request,
            _("Ekspor %(kind)s (%(instruction)s) diminta; halaman ini diperbarui sampai selesai.")
            % {"kind": export.get_kind_display(), "instruction": export.instruction or "-"},
        )
        return redirect("exports")
    mine = list(exports_of(request.user).select_related("instruction")[:20])
    running = any(e.state in (ExportState.PENDING, ExportState.RUNNING) for e in mine)
    if request.htmx:
        # The list polling itself while an export runs (htmx): the list alone, which stops
        # polling once nothing runs.
        response = render(request, "kla/_export_list.html", {"exports": mine, "running": running})
    else:
        kinds = [
            (code, label)
            for code, label in ExportKind.choices
            if code != ExportKind.TRAIL_BUNDLE or may_export_trail(roles)
        ]
        response = render(
            request,
            "kla/exports.html",
            {"exports": mine, "kinds": kinds, "running": running},
        )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def export_file(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """Download a finished export; only its requester may, and the trail records it."""
    export = export_download(user=request.user, export_id=pk)
    try:
        handle = default_storage.open(export.file, "rb")
    except OSError:
        raise Http404(_("Berkas ekspor tidak ditemukan di penyimpanan.")) from None
    return FileResponse(handle, as_attachment=True, filename=export.filename)
