"""The submission pages: the list, the forms of a draft, the submission page and its actions.

Views only authenticate, load through ``visible_to``, validate with a form and call one
service; the services decide. Their refusals become pages: not visible 404, forbidden 403,
a state that does not allow it 409, bad input 400 (the form again, with its errors), an
oversized file 413.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kla.details import FIELDS
from kla.drafting import (
    submission_create,
    submission_update,
)
from kla.errors import Conflict, Forbidden, Invalid, ServiceError
from kla.evidence import ACCEPTED_LABEL
from kla.instructions import instruction_get
from kla.listing import BoundedPaginator, SubmissionFilter
from kla.models import Category, Instruction, Submission, SubmissionState
from kla.reports.duplicates import annotate_duplicates
from kla.reports.resubmission import changes_since_return
from kla.web.filters import filter_query, instruction_choices, page_filters, sees_one_body
from kla.web.forms import (
    ActionForm,
    EvidenceForm,
    EvidenceTagForm,
    SubmissionForm,
    requirement_choices,
)
from kla.web.requests import AuthenticatedHttpRequest, on_refusal, request_roles
from kla.web.views.common import visible_submission
from kla.web.views.instructions import page_instruction
from roles.permissions import may_draft
from roles.selectors import bodies_operated_by, visible_to
from workflows.flow import NOTE_REQUIRED, note_of, transition_from
from workflows.services import allowed_actions, completeness_errors, submission_act
from workflows.trail.reading import submission_chain_for

PAGE_SIZE = 50

S = SubmissionState


# How each action's button looks; what it says is the flow's label (``workflows.flow``).
BUTTON_STYLES = {"return": "danger", "withdraw": "secondary"}
NOTE_LABELS = {
    "return": _l("Alasan pengembalian (wajib)"),
    "resubmit": _l("Apa yang diperbaiki (wajib)"),
    "audit": _l("Temuan audit (boleh kosong)"),
}


DONE = {
    "submit": _l("Pengajuan telah diajukan untuk verifikasi."),
    "withdraw": _l("Pengajuan ditarik kembali menjadi draf."),
    "approve": _l("Pengajuan disetujui dan terverifikasi."),
    "return": _l("Pengajuan dikembalikan."),
    "resubmit": _l("Pengajuan telah diajukan ulang."),
    "consolidate": _l("Pengajuan telah dikonsolidasi."),
    "audit": _l("Audit telah dicatat."),
}


FIELD_LABELS = {
    "title": _l("Judul"),
    "description": _l("Uraian"),
    "years": _l("Tahun"),
    "indicators": _l("Indikator"),
    "evidence": _l("Bukti dukung"),
    "file": _l("Berkas"),
    "kind": _l("Jenis bukti"),
    "requirements": _l("Kebutuhan data dukung"),
    "note": _l("Catatan"),
    "action": _l("Aksi"),
    "version": _l("Versi"),
    "agency": _l("Perangkat/lembaga"),
    "category": _l("Kategori"),
}


def _accepted_help() -> str:
    return _("Diterima: %(kinds)s, paling besar %(mb)s MB per berkas.") % {
        "kinds": ACCEPTED_LABEL,
        "mb": settings.EVIDENCE_MAX_MB,
    }


def _field_label(category: str, key: str) -> str:
    name = key.removeprefix("details.")
    for spec in FIELDS.get(category, ()):
        if spec.name == name:
            return str(spec.label)
    return str(FIELD_LABELS.get(key, key))


def _labelled_errors(category: str, errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [
        (_field_label(category, key), message)
        for key, messages_ in errors.items()
        for message in messages_
    ]


def _detail_display(submission: Submission) -> list[tuple[str, str]]:
    """The category's fields with Indonesian labels and readable values."""
    rows = []
    for spec in FIELDS[submission.category]:
        value = submission.details.get(spec.name)
        shown = "—" if value in (None, "", []) else spec.display(value)
        rows.append((str(spec.label), shown))
    return rows


def detail_page(
    request: AuthenticatedHttpRequest,
    submission: Submission,
    *,
    status: int = 200,
    error: str = "",
    errors: dict[str, list[str]] | None = None,
    failed_action: str = "",
    action_form: ActionForm | None = None,
    evidence_form: EvidenceForm | None = None,
) -> HttpResponse:
    """The submission page; also re-rendered with the errors of a refused action or upload."""
    roles = request_roles(request)
    operates = roles.operates(submission.body_id)
    can_edit = operates and submission.editable
    actions = allowed_actions(
        user=request.user,
        submission=submission,
        roles=roles,
    )
    buttons = []
    for action in actions:
        transition = transition_from(action, submission.state)
        if transition is None:  # allowed_actions names transitions from this state only
            continue
        note = note_of(transition)
        typed = ""
        if action_form is not None and failed_action == action and action_form.is_bound:
            typed = action_form.data.get("note", "")
        buttons.append(
            {
                "action": action,
                "label": transition.label,
                "style": BUTTON_STYLES.get(action, "primary"),
                "note_label": NOTE_LABELS.get(action, "") if note else "",
                "note_required": note == NOTE_REQUIRED,
                "typed": typed,
                "failed": failed_action == action,
            }
        )
    evidence = list(
        submission.evidence.select_related("uploaded_by").prefetch_related("requirements")
    )
    current = [e for e in evidence if e.current]
    events = list(submission.trail.order_by("seq"))
    # The same file handed in elsewhere, as far as this person can see (kla.reports.duplicates).
    annotate_duplicates(user=request.user, evidence=current, roles=roles)
    choices = requirement_choices(submission) if can_edit else []
    # While editable, each file has a small form to change its kind and requirements.
    files = [
        (
            e,
            EvidenceTagForm(
                initial={
                    "kind": e.kind,
                    "requirements": [r.code for r in e.requirements.all()],
                    "version": submission.version,
                },
                choices=choices,
                auto_id=f"id_tag{e.pk}_%s",
            )
            if can_edit
            else None,
        )
        for e in current
    ]
    context: dict[str, Any] = {
        "submission": submission,
        "details": _detail_display(submission),
        "indicators": list(submission.indicators.order_by("number")),
        "current_evidence": current,
        "current_files": files,
        "removed_evidence": [e for e in evidence if not e.current],
        "events": events,
        # The latest return's reason (at the top until a resubmit answers it) and what has
        # changed since the version it returned, from the trail.
        "resubmission": changes_since_return(submission, events, current),
        "chain": submission_chain_for(roles=roles, submission=submission),
        "buttons": buttons,
        "can_edit": can_edit,
        "evidence_form": evidence_form or EvidenceForm(choices=choices),
        "accepted": _accepted_help(),
        "missing": _labelled_errors(
            submission.category, {k: [v] for k, v in completeness_errors(submission).items()}
        )
        if can_edit
        else [],
        "error": error,
        "errors": _labelled_errors(submission.category, errors or {}),
        "failed_action": failed_action,
    }
    return render(request, "kla/submission_detail.html", context, status=status)


@login_required
@require_GET
def submission_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The submissions this person may see: searched, filtered and sorted from the URL."""
    roles = request_roles(request)
    visible = visible_to(request.user, roles)
    qs = visible.select_related("body")
    shown = page_instruction(request, allow_all=True)
    if shown is not None:
        qs = qs.filter(instruction=shown)
    filters = page_filters(SubmissionFilter, request, qs, one_body=sees_one_body(roles))
    valid = filters.is_valid()
    rows = filters.qs if valid else Submission.objects.none()
    page = BoundedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("halaman"))
    return render(
        request,
        "kla/submission_list.html",
        {
            "filters": filters,
            "instructions": instruction_choices(),
            "instruction": request.GET.get("instruction", ""),
            "page": page,
            "query": filter_query(request),
            "categories": Category.choices if may_draft(roles) else [],
        },
        status=200 if valid else 400,
    )


def _form_page(
    request: AuthenticatedHttpRequest,
    form: SubmissionForm,
    *,
    category_label: Any,
    submission: Submission | None,
    instruction: Instruction,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    return render(
        request,
        "kla/submission_form.html",
        {
            "form": form,
            "category_label": category_label,
            "submission": submission,
            "instruction": instruction,
            "error": error,
        },
        status=status,
    )


def _show_refusals_on_the_form(
    request: AuthenticatedHttpRequest, form: SubmissionForm, **page: Any
) -> None:
    """Bad input puts the service's errors beside their fields; a conflict is said above."""

    def render_form(exc: ServiceError) -> HttpResponse:
        if isinstance(exc, Invalid):
            form.add_service_errors(exc.errors)
            return _form_page(request, form, status=400, **page)
        return _form_page(request, form, status=exc.status, error=exc.message, **page)

    on_refusal(request, render_form)


@login_required
@require_http_methods(["GET", "POST"])
def submission_new(request: AuthenticatedHttpRequest, category: str) -> HttpResponse:
    """The form of a new draft in one category, with a body choice for several bodies."""
    if category not in Category.values:
        raise Http404(_("Kategori tidak dikenal."))
    if not may_draft(request_roles(request)):
        raise Forbidden(_("Hanya operator perangkat/lembaga yang dapat membuat pengajuan."))
    bodies = list(bodies_operated_by(request.user))
    # A new draft goes to the instruction the form names (the one the page was opened for),
    # else the current one.
    instruction = instruction_get(request.POST.get("instruction") or request.GET.get("instruction"))
    page: dict[str, Any] = {
        "category_label": Category(category).label,
        "submission": None,
        "instruction": instruction,
    }
    if request.method != "POST":
        form = SubmissionForm(category=category, instruction=instruction, bodies=bodies)
        return _form_page(request, form, **page)
    form = SubmissionForm(request.POST, category=category, instruction=instruction, bodies=bodies)
    if not form.is_valid():
        return _form_page(request, form, status=400, **page)
    _show_refusals_on_the_form(request, form, **page)
    submission = submission_create(
        user=request.user,
        category=category,
        agency=form.cleaned_data.get("agency") or None,
        instruction=instruction.pk,
        fields=form.service_fields(),
    )
    messages.success(request, _("Draf pengajuan dibuat."))
    return redirect("submission-detail", pk=submission.pk)


@login_required
@require_GET
def submission_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The submission: fields, details, evidence, timeline and the buttons the person may press."""
    return detail_page(request, visible_submission(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The edit form of a draft or returned submission, for the operators of its body."""
    submission = visible_submission(request, pk)
    if not request_roles(request).operates(submission.body_id):
        raise Forbidden(
            _("Hanya operator %(body)s yang dapat mengubahnya.") % {"body": submission.body.name}
        )
    if not submission.editable:
        raise Conflict(
            _("Pengajuan berstatus %(state)s dan tidak dapat diubah.")
            % {"state": submission.get_state_display()}
        )
    page: dict[str, Any] = {
        "category_label": submission.get_category_display(),
        "submission": submission,
        "instruction": submission.instruction,
    }
    answered = submission.instruction
    if request.method != "POST":
        form = SubmissionForm(
            category=submission.category, instruction=answered, submission=submission
        )
        return _form_page(request, form, **page)
    form = SubmissionForm(
        request.POST, category=submission.category, instruction=answered, submission=submission
    )
    if not form.is_valid():
        return _form_page(request, form, status=400, **page)
    _show_refusals_on_the_form(request, form, **page)
    submission_update(
        user=request.user,
        submission_id=submission.pk,
        fields=form.service_fields(),
        version=form.cleaned_data.get("version"),
    )
    messages.success(request, _("Perubahan disimpan."))
    return redirect("submission-detail", pk=submission.pk)


@login_required
@require_POST
def submission_action(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Take one flow action with the version the person saw and the note it may need."""
    submission = visible_submission(request, pk)
    form = ActionForm(request.POST)
    action = str(request.POST.get("action", ""))[:40]
    if not form.is_valid():
        errors = {key: [str(m) for m in msgs] for key, msgs in form.errors.items()}
        return detail_page(
            request, submission, status=400, errors=errors, failed_action=action, action_form=form
        )

    def render_refusal(exc: ServiceError) -> HttpResponse:
        again = visible_submission(request, pk)
        if isinstance(exc, Invalid):
            return detail_page(
                request,
                again,
                status=400,
                errors=exc.errors,
                failed_action=action,
                action_form=form,
            )
        return detail_page(request, again, status=exc.status, error=exc.message)

    on_refusal(request, render_refusal)
    submission_act(
        user=request.user,
        submission_id=submission.pk,
        action=form.cleaned_data["action"],
        note=form.cleaned_data.get("note", ""),
        version=form.cleaned_data.get("version"),
        roles=request_roles(request),
    )
    messages.success(request, str(DONE[form.cleaned_data["action"]]))
    return redirect("submission-detail", pk=pk)
