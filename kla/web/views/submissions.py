"""The submission pages: the list, the forms of a draft, the submission page and its actions.

Views only authenticate, load through ``visible_to``, validate with a form and call one
service; the services decide. Their refusals become pages: not visible 404, forbidden 403,
a state that does not allow it 409, bad input 400 (the form again, with its errors), an
oversized file 413.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kla.details import FIELDS
from kla.drafting import (
    submission_create,
    submission_update,
)
from kla.errors import Conflict, Forbidden, Invalid, NotVisible, ServiceError
from kla.evidence import ACCEPTED_LABEL
from kla.models import Body, Category, Submission, SubmissionState
from kla.reports.duplicates import annotate_duplicates
from kla.web.forms import NOTE_ACTIONS, ActionForm, EvidenceForm, FilterForm, SubmissionForm
from kla.web.templatetags.kla_tags import request_roles, rupiah
from kla.web.views.common import list_rows, refused, visible_submission
from roles.selectors import bodies_operated_by, visible_to
from workflows.services import allowed_actions, completeness_errors, submission_act
from workflows.trail.reading import submission_chain_for

PAGE_SIZE = 50

S = SubmissionState


# The button of each action, and what a person is told once it is done.
BUTTONS: dict[str, tuple[Any, str]] = {
    "submit": (_l("Ajukan untuk verifikasi"), "primary"),
    "withdraw": (_l("Tarik kembali"), "secondary"),
    "approve": (_l("Setujui (verifikasi)"), "primary"),
    "return": (_l("Kembalikan"), "danger"),
    "resubmit": (_l("Ajukan ulang"), "primary"),
    "consolidate": (_l("Konsolidasikan"), "primary"),
    "audit": (_l("Catat audit"), "primary"),
}


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
        if value in (None, "", []):
            shown = "—"
        elif spec.kind == "choice":
            shown = str(dict(spec.choices).get(value, value))
        elif spec.kind == "choices":
            labels = dict(spec.choices)
            shown = ", ".join(str(labels.get(v, v)) for v in value)
        elif spec.kind == "money":
            shown = rupiah(value)
        elif spec.kind == "date":
            try:
                shown = date_format(dt.date.fromisoformat(value), "j F Y")
            except (TypeError, ValueError):
                shown = str(value)
        elif spec.kind == "urls":
            shown = "\n".join(str(v) for v in value)
        else:
            shown = str(value)
        rows.append((str(spec.label), shown))
    return rows


def detail_page(
    request: HttpRequest,
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
        user=request.user,  # type: ignore[arg-type]
        submission=submission,
        roles=roles,
    )
    buttons = []
    for action in actions:
        label, style = BUTTONS[action]
        if action == "return" and submission.state == S.VERIFIED:
            label = _l("Kembalikan ke verifikator")
        note_label = NOTE_LABELS.get(action, "") if action in NOTE_ACTIONS else ""
        typed = ""
        if action_form is not None and failed_action == action and action_form.is_bound:
            typed = action_form.data.get("note", "")
        buttons.append(
            {
                "action": action,
                "label": label,
                "style": style,
                "note_label": note_label,
                "note_required": action in ("return", "resubmit"),
                "typed": typed,
                "failed": failed_action == action,
            }
        )
    evidence = list(submission.evidence.select_related("uploaded_by"))
    # The same file handed in elsewhere, as far as this person can see (kla.reports.duplicates).
    annotate_duplicates(user=request.user, evidence=[e for e in evidence if e.current], roles=roles)
    context: dict[str, Any] = {
        "submission": submission,
        "details": _detail_display(submission),
        "indicators": list(submission.indicators.order_by("number")),
        "current_evidence": [e for e in evidence if e.current],
        "removed_evidence": [e for e in evidence if not e.current],
        "events": list(submission.trail.order_by("seq")),
        "chain": submission_chain_for(roles=roles, submission=submission),
        "buttons": buttons,
        "can_edit": can_edit,
        "evidence_form": evidence_form or EvidenceForm(),
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
def submission_list(request: HttpRequest) -> HttpResponse:
    """The submissions this person may see, filtered by state, category and body."""
    roles = request_roles(request)
    visible = visible_to(request.user, roles)  # type: ignore[arg-type]
    bodies = list(Body.objects.filter(submissions__in=visible).distinct().order_by("name"))
    form = FilterForm(request.GET or None, bodies=bodies)
    filters = form.filters() if request.GET else {}
    qs = visible
    if "state" in filters:
        qs = qs.filter(state=filters["state"])
    if "category" in filters:
        qs = qs.filter(category=filters["category"])
    if "agency" in filters:
        qs = qs.filter(body__code=filters["agency"])
    page = Paginator(list_rows(qs), PAGE_SIZE).get_page(request.GET.get("halaman"))
    query = request.GET.copy()
    query.pop("halaman", None)
    return render(
        request,
        "kla/submission_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "categories": Category.choices if roles.operator_of else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def submission_new(request: HttpRequest, category: str) -> HttpResponse:
    """The form of a new draft in one category, with a body choice for several bodies."""
    if category not in Category.values:
        raise Http404(_("Kategori tidak dikenal."))
    roles = request_roles(request)
    if not roles.operator_of:
        return refused(request, _("Hanya operator perangkat/lembaga yang dapat membuat pengajuan."))
    bodies = list(bodies_operated_by(request.user))  # type: ignore[arg-type]
    status = 200
    error = ""
    if request.method == "POST":
        form = SubmissionForm(request.POST, category=category, bodies=bodies)
        if form.is_valid():
            try:
                submission = submission_create(
                    user=request.user,  # type: ignore[arg-type]
                    category=category,
                    agency=form.cleaned_data.get("agency") or None,
                    fields=form.service_fields(),
                )
            except Invalid as exc:
                form.add_service_errors(exc.errors)
            except Forbidden as exc:
                return refused(request, exc.message)
            except Conflict as exc:
                error, status = exc.message, 409
            else:
                messages.success(request, _("Draf pengajuan dibuat."))
                return redirect("submission-detail", pk=submission.pk)
        if status == 200:
            status = 400
    else:
        form = SubmissionForm(category=category, bodies=bodies)
    return render(
        request,
        "kla/submission_form.html",
        {
            "form": form,
            "category_label": Category(category).label,
            "submission": None,
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The submission: fields, details, evidence, timeline and the buttons the person may press."""
    return detail_page(request, visible_submission(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def submission_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The edit form of a draft or returned submission, for the operators of its body."""
    submission = visible_submission(request, pk)
    roles = request_roles(request)
    if not roles.operates(submission.body_id):
        return refused(
            request,
            _("Hanya operator %(body)s yang dapat mengubahnya.") % {"body": submission.body.name},
        )
    if not submission.editable:
        return refused(
            request,
            _("Pengajuan berstatus %(state)s dan tidak dapat diubah.")
            % {"state": submission.get_state_display()},
            409,
        )
    status = 200
    error = ""
    if request.method == "POST":
        form = SubmissionForm(request.POST, category=submission.category, submission=submission)
        if form.is_valid():
            try:
                submission_update(
                    user=request.user,  # type: ignore[arg-type]
                    submission_id=submission.pk,
                    fields=form.service_fields(),
                    version=form.cleaned_data.get("version"),
                )
            except NotVisible:
                raise Http404(_("Pengajuan tidak ditemukan.")) from None
            except Forbidden as exc:
                return refused(request, exc.message)
            except Conflict as exc:
                error, status = exc.message, 409
            except Invalid as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, _("Perubahan disimpan."))
                return redirect("submission-detail", pk=submission.pk)
        if status == 200:
            status = 400
    else:
        form = SubmissionForm(category=submission.category, submission=submission)
    return render(
        request,
        "kla/submission_form.html",
        {
            "form": form,
            "category_label": submission.get_category_display(),
            "submission": submission,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def submission_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Take one flow action with the version the person saw and the note it may need."""
    submission = visible_submission(request, pk)
    form = ActionForm(request.POST)
    action = str(request.POST.get("action", ""))[:40]
    if not form.is_valid():
        errors = {key: [str(m) for m in msgs] for key, msgs in form.errors.items()}
        return detail_page(
            request,
            submission,
            status=400,
            errors=errors,
            failed_action=action,
            action_form=form,
        )
    try:
        submission_act(
            user=request.user,  # type: ignore[arg-type]
            submission_id=submission.pk,
            action=form.cleaned_data["action"],
            note=form.cleaned_data.get("note", ""),
            version=form.cleaned_data.get("version"),
        )
    except NotVisible:
        raise Http404(_("Pengajuan tidak ditemukan.")) from None
    except Forbidden as exc:
        return refused(request, exc.message)
    except Invalid as exc:
        return detail_page(
            request,
            visible_submission(request, pk),
            status=400,
            errors=exc.errors,
            failed_action=action,
            action_form=form,
        )
    except ServiceError as exc:
        return detail_page(
            request, visible_submission(request, pk), status=exc.status, error=exc.message
        )
    messages.success(request, str(DONE[form.cleaned_data["action"]]))
    return redirect("submission-detail", pk=pk)
