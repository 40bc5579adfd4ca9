""" "Tugas saya": what waits for each of the person's roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Case, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET

from kla.listing import BoundedPaginator, SubmissionFilter, submissions_default_order
from kla.models import Category, Instruction, Submission, SubmissionState
from kla.web.filters import instruction_choices, page_filters, sees_one_body
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import holds, may_draft
from roles.roles import Role
from workflows.duties import DUTY_ROLES, waiting_for
from workflows.models import TrailEvent
from workflows.sla.compliance import obligations_of
from workflows.supervision.matrix import recommendations_waiting

# The heading of each role's section, in the order of ``workflows.duties.DUTY_ROLES``.
SECTION_TITLES = {
    Role.OPERATOR: _l("Draf dan pengembalian perangkat Anda"),
    Role.VERIFIER: _l("Menunggu verifikasi Anda"),
    Role.CONSOLIDATOR: _l("Siap dikonsolidasi"),
    Role.AUDITOR: _l("Siap diaudit"),
}
# The findings' recommendations waiting for the person (DESIGN, "Supervision").
FOLLOW_UP_TITLES = {
    Role.OPERATOR: _l("Rekomendasi temuan yang perlu ditindaklanjuti"),
    Role.AUDITOR: _l("Tindak lanjut menunggu penilaian Anda"),
}
FOLLOW_UP_ROWS = 100
# Rows of each role's section on one page; the rest are a page away.
PAGE_SIZE = 50


def _within(qs: QuerySet[Submission], scope: Instruction | None) -> QuerySet[Submission]:
    return qs if scope is None else qs.filter(instruction=scope)


@login_required
@require_GET
def tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The "Tugas saya" inbox: what waits for each of the person's roles (the flow says which)."""
    roles = request_roles(request)
    # Work outlives its instruction: every instruction unless the page names one.
    scope = page_instruction(request, allow_all=True) if request.GET.get("instruction") else None
    filters = page_filters(
        SubmissionFilter, request, Submission.objects.none(), one_body=sees_one_body(roles)
    )
    valid = filters.is_valid()
    sorted_by_person = bool(valid and filters.form.cleaned_data.get("ordering"))

    def section(role: Role) -> dict[str, Any]:
        """One role's rows, a page at a time (its own ``halaman-<role>`` in the URL)."""
        param = f"halaman-{role}"
        query = request.GET.copy()
        query.pop(param, None)
        waiting = _within(waiting_for(request.user, roles, role=role), scope)
        found = (
            filters.filter_queryset(waiting.select_related("body"))
            if valid
            else Submission.objects.none()
        )
        if role == Role.OPERATOR and not sorted_by_person:
            found = _returned_first(found)
        page = BoundedPaginator(found, PAGE_SIZE).get_page(request.GET.get(param))
        rows = list(page.object_list)
        if role == Role.OPERATOR:
            _with_return_notes(rows)
        return {
            "title": SECTION_TITLES[role],
            "rows": rows,
            "page": page,
            "param": param,
            "query": query.urlencode(),
        }

    sections = [section(role) for role in DUTY_ROLES if holds(roles, role)]
    follow_ups = [
        {
            "title": FOLLOW_UP_TITLES[role],
            "role": role,
            "rows": list(
                (qs if scope is None else qs.filter(finding__instruction=scope))[:FOLLOW_UP_ROWS]
            ),
        }
        for role, qs in recommendations_waiting(roles).items()
    ]
    return render(
        request,
        "kla/tasks.html",
        {
            "sections": sections,
            "follow_ups": follow_ups,
            "now": timezone.now(),
            "filters": filters,
            "instructions": instruction_choices(),
            "instruction": request.GET.get("instruction", ""),
            "categories": Category.choices if may_draft(roles) else [],
            # The operator's home: what their bodies still owe the current instruction.
            "obligations": obligations_of(user=request.user, roles=roles)
            if may_draft(roles)
            else None,
        },
        status=200 if valid else 400,
    )


def _returned_first(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    """Returned submissions before drafts, then the lists' own order."""
    first = Case(When(state=SubmissionState.RETURNED, then=Value(0)), default=Value(1))
    return submissions_default_order(qs.alias(returned_first=first), "returned_first")


def _with_return_notes(rows: list[Submission]) -> None:
    """Each returned row of a page with the reason it was last returned for."""
    returned = [s.pk for s in rows if s.state == SubmissionState.RETURNED]
    reasons = dict(
        TrailEvent.objects.filter(submission_id__in=returned, action="return")
        .order_by("submission_id", "seq")
        .values_list("submission_id", "note")
    )
    for row in rows:
        row.return_note = reasons.get(row.pk, "")  # type: ignore[attr-defined]
