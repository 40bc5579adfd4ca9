"""Evidence files of a submission: upload (413 while it streams in), kind and requirements,
removal, download, and a preview in the page (images in <img>, PDFs in a same-origin frame).

Refusals other than 403 and 404 show the submission page again with the message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from kla.drafting import evidence_add, evidence_download, evidence_remove, evidence_tag
from kla.errors import Invalid, NotVisible, ServiceError, TooLarge
from kla.evidence import BATCH_MAX_FILES, download_name, preview_kind
from kla.models import Submission
from kla.web.batch_upload import BatchFile, BatchSizeLimitHandler, batch_of
from kla.web.forms import EvidenceForm, EvidenceTagForm, requirement_choices
from kla.web.requests import AuthenticatedHttpRequest, on_refusal
from kla.web.views.common import visible_submission
from kla.web.views.submissions import detail_page


def _show_refusals_on_the_submission(request: AuthenticatedHttpRequest, pk: int) -> None:
    def render(exc: ServiceError) -> HttpResponse:
        submission = visible_submission(request, pk)
        if isinstance(exc, Invalid):
            return detail_page(request, submission, status=400, errors=exc.errors)
        message = exc.message
        if isinstance(exc, TooLarge):
            message = _("Berkas terlalu besar: paling besar %(mb)s MB per berkas.") % {
                "mb": settings.EVIDENCE_MAX_MB
            }
        return detail_page(request, submission, status=exc.status, error=message)

    on_refusal(request, render)


# What a refusal of one file is about, said before its message (the file's own refusals,
# about its content or size, need no prefix).
REFUSAL_TOPICS = {"kind": _l("Jenis bukti"), "requirements": _l("Kebutuhan data dukung")}


def _reasons(exc: Invalid) -> str:
    return " ".join(
        f"{REFUSAL_TOPICS[key]}: {message}" if key in REFUSAL_TOPICS else message
        for key, messages_ in exc.errors.items()
        for message in messages_
    )


def _upload(request: AuthenticatedHttpRequest, submission: Submission) -> HttpResponse:
    """Each file of the batch goes through the service on its own (its checks, its trail
    event); a refused file does not take the others with it. Files saved stay saved and the
    page says which they are and, for each refused file, why.

    The batch's kind and requirements apply to every file; ``kind_<n>`` gives the n-th file
    its own kind. Rights and state come first: refused for the first file, nothing is saved
    and the page says so as for any refusal. The status is 413 when a file was too large,
    else 400 when one was refused.
    """
    form = EvidenceForm(request.POST, request.FILES, choices=requirement_choices(submission))
    if not form.is_valid():
        return detail_page(request, submission, status=400, evidence_form=form)
    batch = batch_of(request)
    if len(batch) > BATCH_MAX_FILES:
        form.add_error(
            "file",
            _("Paling banyak %(n)d berkas sekali unggah; tidak ada berkas yang disimpan.")
            % {"n": BATCH_MAX_FILES},
        )
        return detail_page(request, submission, status=400, evidence_form=form)
    if not batch:
        try:  # the service says what is missing, after the rights and state checks
            evidence_add(user=request.user, submission_id=submission.pk, upload=None)
        except Invalid as exc:
            form.add_error("file", _reasons(exc))
            return detail_page(request, submission, status=400, evidence_form=form)
    requirements = form.cleaned_data.get("requirements") or []
    saved: list[str] = []
    refused: list[tuple[str, str, int]] = []
    for item in batch:
        try:
            evidence = evidence_add(
                user=request.user,
                submission_id=submission.pk,
                upload=item.upload,
                too_large=item.too_large,
                kind=form.kind_of(item.index),
                requirements=requirements,
            )
        except TooLarge:
            refused.append(_too_large(item))
            continue
        except ServiceError as exc:
            if not saved and not refused and not isinstance(exc, Invalid):
                raise  # not this file's fault: refused as a whole, nothing was saved
            reason = _reasons(exc) if isinstance(exc, Invalid) else exc.message
            refused.append((item.name, reason, exc.status))
            continue
        saved.append(evidence.name)
        messages.success(request, _("Berkas %(name)s diunggah.") % {"name": evidence.name})
    if not refused:
        return redirect("submission-detail", pk=submission.pk)
    return _batch_refused(request, submission, form, saved, refused)


def _too_large(item: BatchFile) -> tuple[str, str, int]:
    return (
        item.name,
        _("Berkas terlalu besar: paling besar %(mb)s MB per berkas.")
        % {"mb": settings.EVIDENCE_MAX_MB},
        413,
    )


def _batch_refused(
    request: AuthenticatedHttpRequest,
    submission: Submission,
    form: EvidenceForm,
    saved: list[str],
    refused: list[tuple[str, str, int]],
) -> HttpResponse:
    """The page again: each refused file beside the file field with its reason, the saved
    ones named; 413 when a file was too large, else the refusal's status (400 mostly)."""
    form.batch_outcome(saved, [(name, reason) for name, reason, _status in refused])
    statuses = {status for _name, _reason, status in refused}
    status = 413 if 413 in statuses else max(statuses)
    again = visible_submission(request, submission.pk)  # its version and files, as saved
    return detail_page(
        request, again, status=status, evidence_form=form, error=_batch_message(form)
    )


def _batch_message(form: EvidenceForm) -> str:
    """The top of the page: which files were refused and which were saved, by name."""
    names = ", ".join(name for name, _reason in form.refused)
    if form.saved:
        return _(
            "Berkas ditolak: %(refused)s (alasannya di bagian unggah). "
            "Berkas yang tersimpan: %(saved)s."
        ) % {"refused": names, "saved": ", ".join(form.saved)}
    return _(
        "Berkas ditolak: %(refused)s (alasannya di bagian unggah). Tidak ada berkas yang disimpan."
    ) % {"refused": names}


@csrf_exempt
@login_required
@require_POST
def evidence_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Upload evidence files, several at once; an oversized one is refused (413) while it
    streams in, the others of its batch kept (``kla.web.batch_upload``).

    CSRF is checked here rather than by the middleware: the size-limit handler drops the
    whole body of a request announced too large, token included, and that must answer 413
    (or the rights and state refusal that comes first), not a CSRF 403. Told ``too_large``
    the service always refuses, so that call needs no token.
    """
    request.upload_handlers = [BatchSizeLimitHandler(request)]
    submission = visible_submission(request, pk)
    _show_refusals_on_the_submission(request, pk)
    request.POST  # noqa: B018 -- parse the body now, so the handler's verdict is known
    if getattr(request, "evidence_too_large", False):
        evidence_add(user=request.user, submission_id=submission.pk, upload=None, too_large=True)
        raise TooLarge(_("Berkas terlalu besar."))  # not reached: the service refuses
    batch = batch_of(request)
    if batch and all(item.too_large for item in batch):
        # Nothing to store: refused (413, after the rights and state checks) whatever the
        # token, which may have been cut off with the file.
        try:
            evidence_add(
                user=request.user, submission_id=submission.pk, upload=None, too_large=True
            )
        except TooLarge:
            form = EvidenceForm(request.POST, choices=requirement_choices(submission))
            form.is_valid()
            return _batch_refused(request, submission, form, [], [_too_large(i) for i in batch])
    response: HttpResponse = csrf_protect(_upload)(request, submission)
    return response


@login_required
@require_POST
def evidence_delete(request: AuthenticatedHttpRequest, pk: int, eid: int) -> HttpResponse:
    """Take an evidence file out of the current set (it stays stored and in the trail)."""
    submission = visible_submission(request, pk)
    _show_refusals_on_the_submission(request, pk)
    evidence = evidence_remove(user=request.user, submission_id=submission.pk, evidence_id=eid)
    messages.success(request, _("Berkas %(name)s dikeluarkan.") % {"name": evidence.name})
    return redirect("submission-detail", pk=submission.pk)


@login_required
@require_POST
def evidence_tag_change(request: AuthenticatedHttpRequest, pk: int, eid: int) -> HttpResponse:
    """Change a current file's kind and the requirements it serves (the ticked ones replace
    the set), with the version the page showed."""
    submission = visible_submission(request, pk)
    _show_refusals_on_the_submission(request, pk)
    form = EvidenceTagForm(request.POST)
    if not form.is_valid():
        errors = {key: [str(m) for m in msgs] for key, msgs in form.errors.items()}
        return detail_page(request, submission, status=400, errors=errors)
    evidence = evidence_tag(
        user=request.user,
        submission_id=submission.pk,
        evidence_id=eid,
        kind=form.cleaned_data.get("kind") or None,
        requirements=form.cleaned_data.get("requirements") or [],
        version=form.cleaned_data.get("version"),
    )
    messages.success(
        request, _("Jenis dan kebutuhan berkas %(name)s disimpan.") % {"name": evidence.name}
    )
    return redirect("submission-detail", pk=submission.pk)


@login_required
@require_GET
def evidence_file(request: AuthenticatedHttpRequest, pk: int, eid: int) -> HttpResponseBase:
    """Download an evidence file; every download is written to the trail."""
    evidence = evidence_download(user=request.user, submission_id=pk, evidence_id=eid)
    try:
        handle = evidence.file.open("rb")
    except OSError:
        raise Http404(_("Berkas tidak ditemukan di penyimpanan.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(evidence.name, evidence.content_type),
        content_type=evidence.content_type,
    )


INLINE_POLICY = "default-src 'none'; frame-ancestors 'self'"


@login_required
@require_GET
def evidence_view(request: AuthenticatedHttpRequest, pk: int, eid: int) -> HttpResponse:
    """A file shown in the page: its own page, or (htmx) the panel the submission page opens.

    Showing it is not yet reading it: the browser's request for the bytes (``evidence_inline``)
    is, and that one is written to the trail.
    """
    submission = visible_submission(request, pk)
    evidence = submission.evidence.filter(pk=eid).first()
    if evidence is None:
        raise NotVisible(_("Berkas tidak ditemukan."))
    context = {
        "submission": submission,
        "e": evidence,
        "preview": preview_kind(evidence.content_type),
    }
    template = "kla/_evidence_preview.html" if request.htmx else "kla/evidence_preview.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
@xframe_options_sameorigin
def evidence_inline(request: AuthenticatedHttpRequest, pk: int, eid: int) -> HttpResponseBase:
    """The bytes of a file to show in the page, with the type detected at upload; a download
    for the trail like any other. A file no browser shows (HEIC, office) is downloaded."""
    evidence = evidence_download(user=request.user, submission_id=pk, evidence_id=eid, preview=True)
    try:
        handle = evidence.file.open("rb")
    except OSError:
        raise Http404(_("Berkas tidak ditemukan di penyimpanan.")) from None
    response = FileResponse(
        handle,
        as_attachment=preview_kind(evidence.content_type) is None,
        filename=download_name(evidence.name, evidence.content_type),
        content_type=evidence.content_type,
    )
    # The file's own policy, in place of the pages' (django-csp leaves a header already set):
    # nothing in it may load or run, and only our pages may frame it.
    response["Content-Security-Policy"] = INLINE_POLICY
    return response
