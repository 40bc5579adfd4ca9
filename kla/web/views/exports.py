"""Exports for verifiers, consolidators and auditors (403 for anyone else); a file only for its
requester (404 for anyone else).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import ExportKind, ExportState
from kla.reports.exports import export_download, export_request, exports_of, may_export
from kla.web.templatetags.kla_tags import request_roles
from kla.web.views.common import refused


def _not_for_you(request: HttpRequest) -> HttpResponse:
    return refused(request, _("Halaman ini untuk verifikator, konsolidator dan auditor."))


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
            return refused(request, " ".join(m for v in exc.errors.values() for m in v), 400)
        except Forbidden as exc:
            return refused(request, exc.message)
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
        return refused(request, exc.message)
    except Conflict as exc:
        return refused(request, exc.message, 409)
    try:
        handle = default_storage.open(export.file, "rb")
    except OSError:
        raise Http404(_("Berkas ekspor tidak ditemukan di penyimpanan.")) from None
    return FileResponse(handle, as_attachment=True, filename=export.filename)
