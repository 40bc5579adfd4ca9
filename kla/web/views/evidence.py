"""Evidence files of a submission: upload (413 while it streams in), removal, download."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from kla.drafting import (
    evidence_add,
    evidence_download,
    evidence_remove,
)
from kla.errors import Conflict, Forbidden, Invalid, NotVisible, ServiceError, TooLarge
from kla.models import Submission
from kla.web.forms import EvidenceForm
from kla.web.views.common import refused, visible_submission
from kla.web.views.submissions import detail_page


def _upload(request: HttpRequest, submission: Submission) -> HttpResponse:
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return detail_page(request, submission, status=400, evidence_form=form)
    try:
        evidence = evidence_add(
            user=request.user,  # type: ignore[arg-type]
            submission_id=submission.pk,
            upload=form.cleaned_data.get("file"),
        )
    except NotVisible:
        raise Http404(_("Pengajuan tidak ditemukan.")) from None
    except Forbidden as exc:
        return refused(request, exc.message)
    except Invalid as exc:
        return detail_page(
            request, visible_submission(request, submission.pk), status=400, errors=exc.errors
        )
    except (Conflict, TooLarge) as exc:
        return detail_page(
            request,
            visible_submission(request, submission.pk),
            status=exc.status,
            error=exc.message,
        )
    messages.success(request, _("Berkas %(name)s diunggah.") % {"name": evidence.name})
    return redirect("submission-detail", pk=submission.pk)


@csrf_exempt
@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload one evidence file; an oversized one is refused with 413 while it streams in.

    CSRF is checked here rather than by the middleware: the size-limit handler drops the
    whole body of an oversized request, token included, and that must answer 413 (or the
    rights and state refusal that comes first), not a CSRF 403. Told ``too_large`` the
    service always refuses, so that call needs no token.
    """
    submission = visible_submission(request, pk)
    request.POST  # noqa: B018 -- parse the body now, so the handler's verdict is known
    if getattr(request, "evidence_too_large", False):
        try:
            evidence_add(
                user=request.user,  # type: ignore[arg-type]
                submission_id=submission.pk,
                upload=None,
                too_large=True,
            )
        except NotVisible:
            raise Http404(_("Pengajuan tidak ditemukan.")) from None
        except Forbidden as exc:
            return refused(request, exc.message)
        except TooLarge:
            return detail_page(
                request,
                submission,
                status=413,
                error=_("Berkas terlalu besar: paling besar %(mb)s MB per berkas.")
                % {"mb": settings.EVIDENCE_MAX_MB},
            )
        except ServiceError as exc:
            return detail_page(request, submission, status=exc.status, error=exc.message)
        return refused(request, _("Berkas terlalu besar."), 413)  # not reached: it refuses
    return csrf_protect(_upload)(request, submission)


@login_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int, eid: int) -> HttpResponse:
    """Take an evidence file out of the current set (it stays stored and in the trail)."""
    submission = visible_submission(request, pk)
    try:
        evidence = evidence_remove(
            user=request.user,  # type: ignore[arg-type]
            submission_id=submission.pk,
            evidence_id=eid,
        )
    except NotVisible:
        raise Http404(_("Berkas tidak ditemukan.")) from None
    except Forbidden as exc:
        return refused(request, exc.message)
    except ServiceError as exc:
        return detail_page(request, submission, status=exc.status, error=exc.message)
    messages.success(request, _("Berkas %(name)s dikeluarkan.") % {"name": evidence.name})
    return redirect("submission-detail", pk=submission.pk)


@login_required
@require_GET
def evidence_file(request: HttpRequest, pk: int, eid: int) -> HttpResponseBase:
    """Download an evidence file; every download is written to the trail."""
    try:
        evidence = evidence_download(
            user=request.user,  # type: ignore[arg-type]
            submission_id=pk,
            evidence_id=eid,
        )
    except NotVisible:
        raise Http404(_("Berkas tidak ditemukan.")) from None
    except ServiceError as exc:
        return refused(request, exc.message, exc.status)
    try:
        handle = evidence.file.open("rb")
    except OSError:
        raise Http404(_("Berkas tidak ditemukan di penyimpanan.")) from None
    return FileResponse(
        handle, as_attachment=True, filename=evidence.name, content_type=evidence.content_type
    )
