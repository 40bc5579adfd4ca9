"""The follow-up matrix page (``/temuan/matriks/``): per body, the recommendations by
status, overdue ones and bodies with no operator, for verifiers, consolidators and auditors.

Anybody else, operators included, gets 404 (the matrix shows every body); anonymous people
the login page. Counting is ``workflows.supervision.matrix``'s.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kla.models import Instruction
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_view_followup_matrix
from workflows.models import RecommendationStatus
from workflows.supervision.matrix import followup_matrix


@login_required
@require_GET
def finding_matrix(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The matrix of one instruction (``?instruction=``), of every instruction by default:
    findings outlive the instruction they were recorded under."""
    roles = request_roles(request)
    if not may_view_followup_matrix(roles):
        raise Http404(_("Halaman tidak ditemukan."))
    scope = page_instruction(request, allow_all=True) if request.GET.get("instruction") else None
    rows = followup_matrix(roles=roles, instruction=scope)
    statuses = RecommendationStatus.choices
    lines = [
        {"row": row, "cells": [(value, row.counts[value]) for value, _label in statuses]}
        for row in rows
    ]
    totals = {value: sum(row.counts[value] for row in rows) for value, _label in statuses}
    return render(
        request,
        "kla/finding_matrix.html",
        {
            "lines": lines,
            "statuses": statuses,
            "totals": [totals[value] for value, _label in statuses],
            "overdue_total": sum(row.overdue for row in rows),
            "scope": scope,
            "instructions": Instruction.objects.order_by("-year", "-number"),
        },
    )
