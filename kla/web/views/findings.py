"""Inspektorat's findings as pages: the list, recording one, a finding with the follow-up form
for its body's operators and the assessment form for auditors.

Operators see their own body's findings, reviewers all of them; anybody else gets 404. The
services (``workflows.supervision.findings``) decide every move; refusals other than 403 and
404 show the page again with the message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kla.errors import Forbidden, Invalid, ServiceError, TooLarge
from kla.evidence import download_name
from kla.listing import BodyCode, FindingFilter
from kla.models import Submission
from kla.web.filters import (
    BodyPicker,
    filter_query,
    instruction_choices,
    page_filters,
    sees_one_body,
)
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_record_findings, may_view_findings, may_view_followup_matrix
from roles.selectors import visible_to
from workflows.models import Finding, RecommendationStatus
from workflows.supervision.files import follow_up_file_download
from workflows.supervision.findings import (
    NOTE_MAX,
    RECOMMENDATION_MAX,
    TEXT_MAX,
    TITLE_MAX,
    finding_create,
    findings_visible_to,
    follow_up_post,
    recommendation_assess,
    with_history,
)

PAGE_SIZE = 25
# How many recommendation boxes the new-finding form offers; more are added by correcting.
RECOMMENDATION_BOXES = 3
ASSESSMENT_CHOICES = [
    (RecommendationStatus.RESOLVED, RecommendationStatus.RESOLVED.label),
    (RecommendationStatus.IN_PROGRESS, RecommendationStatus.IN_PROGRESS.label),
    (RecommendationStatus.UNRESOLVABLE, RecommendationStatus.UNRESOLVABLE.label),
]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class FindingForm(forms.Form):
    """A finding's fields; the recommendations are the repeated ``recommendations`` boxes."""

    agency = BodyCode(
        label=_l("Perangkat/lembaga"),
        required=False,
        active_only=True,
        widget=BodyPicker(many=False),
    )
    title = forms.CharField(label=_l("Judul temuan"), max_length=TITLE_MAX)
    condition = forms.CharField(label=_l("Kondisi"), max_length=TEXT_MAX, widget=_textarea())
    criteria = forms.CharField(label=_l("Kriteria"), max_length=TEXT_MAX, widget=_textarea())
    cause = forms.CharField(
        label=_l("Sebab"), max_length=TEXT_MAX, required=False, widget=_textarea(2)
    )
    effect = forms.CharField(
        label=_l("Akibat"), max_length=TEXT_MAX, required=False, widget=_textarea(2)
    )

    def __init__(self, *args: Any, submission: Submission | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if submission is None:
            self.fields["agency"].required = True
        else:
            del self.fields["agency"]


class FollowUpForm(forms.Form):
    note = forms.CharField(
        label=_l("Uraian tindak lanjut"), max_length=NOTE_MAX, widget=_textarea()
    )


class AssessmentForm(forms.Form):
    status = forms.ChoiceField(label=_l("Hasil penilaian"), choices=ASSESSMENT_CHOICES)
    note = forms.CharField(
        label=_l("Catatan penilaian"),
        max_length=NOTE_MAX,
        required=False,
        widget=_textarea(2),
        help_text=_l("Wajib untuk Belum sesuai dan Tidak dapat ditindaklanjuti."),
    )


def _visible_findings(request: AuthenticatedHttpRequest) -> Any:
    roles = request_roles(request)
    if not may_view_findings(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    return findings_visible_to(roles)


def _finding(request: AuthenticatedHttpRequest, pk: int) -> Finding:
    finding = with_history(_visible_findings(request)).filter(pk=pk).first()
    if finding is None:
        raise Http404(_("Temuan tidak ditemukan."))
    return finding


@login_required
@require_GET
def finding_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The findings this person may see, searched, filtered and sorted from the URL; open
    ones past their follow-up time first."""
    queryset = with_history(_visible_findings(request))
    # Findings outlive their instruction: every instruction unless the page names one.
    if request.GET.get("instruction"):
        scope = page_instruction(request, allow_all=True)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
    filters = page_filters(
        FindingFilter, request, queryset, one_body=sees_one_body(request_roles(request))
    )
    valid = filters.is_valid()
    rows = filters.qs if valid else queryset.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    return render(
        request,
        "kla/findings.html",
        {
            "page": page,
            "filters": filters,
            "query": filter_query(request),
            "instructions": instruction_choices(),
            "instruction": request.GET.get("instruction", ""),
            "now": timezone.now(),
            "may_record": may_record_findings(request_roles(request)),
            "may_see_matrix": may_view_followup_matrix(request_roles(request)),
        },
        status=200 if valid else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Inspektorat records a finding, on a submission (``?pengajuan=``) or on a body."""
    roles = request_roles(request)
    _visible_findings(request)
    raw = request.GET.get("pengajuan", "")
    submission = None
    if raw:
        submission = (
            visible_to(request.user, roles).select_related("body").filter(pk=raw).first()
            if raw.isdigit() and len(raw) < 12
            else None
        )
        if submission is None:
            raise Http404(_("Pengajuan tidak ditemukan."))
    if not may_record_findings(roles):
        raise Forbidden(_("Hanya Inspektorat yang dapat mencatat temuan."))
    form = FindingForm(request.POST or None, submission=submission)
    texts = request.POST.getlist("recommendations") if request.method == "POST" else []

    def again(status: int = 200, error: str = "") -> HttpResponse:
        return _form_page(
            request, form=form, submission=submission, texts=texts, status=status, error=error
        )

    if request.method != "POST":
        return again()
    if not form.is_valid():
        return again(400)

    def render_refusal(exc: ServiceError) -> HttpResponse:
        if isinstance(exc, Invalid):
            for key, errors in exc.errors.items():
                for message in errors:
                    form.add_error(key if key in form.fields else None, message)
            return again(400)
        return again(exc.status, exc.message)

    on_refusal(request, render_refusal)
    data = form.cleaned_data
    finding = finding_create(
        user=request.user,
        submission=submission.pk if submission is not None else None,
        agency=None if submission is not None else data["agency"],
        title=data["title"],
        condition=data["condition"],
        criteria=data["criteria"],
        cause=data["cause"],
        effect=data["effect"],
        recommendations=[t for t in texts if t.strip()],
    )
    messages.success(request, _("Temuan dicatat."))
    return redirect("finding-detail", pk=finding.pk)


def _form_page(
    request: AuthenticatedHttpRequest,
    *,
    form: FindingForm,
    submission: Submission | None,
    texts: list[str],
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    boxes = [*texts, *[""] * max(0, RECOMMENDATION_BOXES - len(texts))]
    return render(
        request,
        "kla/finding_form.html",
        {
            "form": form,
            "submission": submission,
            "boxes": boxes,
            "recommendation_max": RECOMMENDATION_MAX,
            "error": error,
        },
        status=status,
    )


def detail_page(
    request: AuthenticatedHttpRequest,
    finding: Finding,
    *,
    status: int = 200,
    error: str = "",
    failed: int | None = None,
) -> HttpResponse:
    """The finding with each recommendation's history and the forms the person may use."""
    roles = request_roles(request)
    operates = roles.operates(finding.body_id)
    auditor = may_record_findings(roles)
    rows = []
    for recommendation in finding.recommendations.all():
        final = recommendation.status in (
            RecommendationStatus.RESOLVED,
            RecommendationStatus.UNRESOLVABLE,
        )
        prefix = f"r{recommendation.pk}"
        rows.append(
            {
                "recommendation": recommendation,
                "follow_up": FollowUpForm(prefix=prefix) if operates and not final else None,
                "assessment": AssessmentForm(prefix=prefix) if auditor and not final else None,
                "failed": failed == recommendation.pk,
            }
        )
    return render(
        request,
        "kla/finding_detail.html",
        {"finding": finding, "rows": rows, "error": error},
        status=status,
    )


@login_required
@require_GET
def finding_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return detail_page(request, _finding(request, pk))


def _show_refusals_on_the_finding(request: AuthenticatedHttpRequest, pk: int, rid: int) -> None:
    def render_refusal(exc: ServiceError) -> HttpResponse:
        message = exc.message
        if isinstance(exc, Invalid):
            message = " ".join(m for messages in exc.errors.values() for m in messages)
        if isinstance(exc, TooLarge):
            message = _("Berkas terlalu besar: paling besar %(mb)s MB per berkas.") % {
                "mb": settings.EVIDENCE_MAX_MB
            }
        return detail_page(
            request, _finding(request, pk), status=exc.status, error=message, failed=rid
        )

    on_refusal(request, render_refusal)


def _follow_up(request: AuthenticatedHttpRequest, finding: Finding, rid: int) -> HttpResponse:
    follow_up_post(
        user=request.user,
        finding_id=finding.pk,
        recommendation_id=rid,
        note=request.POST.get(f"r{rid}-note", ""),
        uploads=request.FILES.getlist(f"r{rid}-file"),
    )
    messages.success(request, _("Tindak lanjut dikirim."))
    return redirect("finding-detail", pk=finding.pk)


@csrf_exempt
@login_required
@require_POST
def finding_follow_up(request: AuthenticatedHttpRequest, pk: int, rid: int) -> HttpResponse:
    """The body's follow-up: a note and files. CSRF is checked here, after the size limit,
    for the reason ``kla.web.views.evidence.evidence_upload`` gives."""
    finding = _finding(request, pk)
    _show_refusals_on_the_finding(request, pk, rid)
    request.POST  # noqa: B018 -- parse the body now, so the handler's verdict is known
    if getattr(request, "evidence_too_large", False):
        follow_up_post(
            user=request.user,
            finding_id=finding.pk,
            recommendation_id=rid,
            note="",
            too_large=True,
        )
        raise TooLarge(_("Berkas terlalu besar."))  # not reached: the service refuses
    response: HttpResponse = csrf_protect(_follow_up)(request, finding, rid)
    return response


@login_required
@require_POST
def finding_assess(request: AuthenticatedHttpRequest, pk: int, rid: int) -> HttpResponse:
    """Inspektorat's assessment of a recommendation's follow-up."""
    finding = _finding(request, pk)
    _show_refusals_on_the_finding(request, pk, rid)
    recommendation_assess(
        user=request.user,
        finding_id=finding.pk,
        recommendation_id=rid,
        status=request.POST.get(f"r{rid}-status", ""),
        note=request.POST.get(f"r{rid}-note", ""),
    )
    messages.success(request, _("Penilaian dicatat."))
    return redirect("finding-detail", pk=finding.pk)


@login_required
@require_GET
def finding_file(request: AuthenticatedHttpRequest, pk: int, fid: int) -> HttpResponseBase:
    """Download a follow-up's file; every download is written to the trail."""
    found = follow_up_file_download(user=request.user, finding_id=pk, file_id=fid)
    try:
        handle = found.file.open("rb")
    except OSError:
        raise Http404(_("Berkas tidak ditemukan di penyimpanan.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(found.name, found.content_type),
        content_type=found.content_type,
    )
