"""What every page shares: loading a visible submission, the refusal page, list order."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kla.models import Submission
from kla.web.templatetags.kla_tags import request_roles
from roles.selectors import visible_to


def visible_submission(request: HttpRequest, pk: int) -> Submission:
    """The submission if this person may see it, else 404."""
    submission = (
        visible_to(request.user, request_roles(request))  # type: ignore[arg-type]
        .select_related("body", "instruction", "created_by")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404(_("Pengajuan tidak ditemukan."))
    return submission


def refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    """A page that says why the person may not do this."""
    titles = {
        403: _("Tidak diizinkan"),
        409: _("Tidak dapat dilakukan sekarang"),
        413: _("Berkas terlalu besar"),
        400: _("Masukan tidak valid"),
    }
    return render(
        request,
        "kla/refused.html",
        {"title": titles.get(status, _("Tidak dapat diproses")), "message": message},
        status=status,
    )


def list_rows(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    return qs.select_related("body").order_by(
        F("due_at").asc(nulls_last=True), "-updated_at", "-id"
    )
