"""The compliance matrix page (/kepatuhan/): bodies against the four categories.

For verifiers (P3AP2KB), consolidators (BAPPERIDA) and auditors (Inspektorat); verifiers and
consolidators may also remind a body by hand from its row (``kla.web.views.monitoring``).
For anyone else it does not exist (404): the matrix as a whole is a reviewer's page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kla.models import Category, SubmissionState
from kla.web.requests import AuthenticatedHttpRequest, request_roles
from kla.web.views.instructions import page_instruction
from roles.permissions import may_monitor
from workflows.sla.compliance import STATE_ORDER, compliance_compute


@login_required
@require_GET
def compliance(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each body's cells coloured by their least advanced state, with nihil and overdue marks."""
    return compliance_page(request)


def compliance_page(
    request: AuthenticatedHttpRequest, *, status: int = 200, error: str = ""
) -> HttpResponse:
    """The matrix, with an "Ingatkan" button on the rows the person may remind (and the
    refusal of the last reminder, if any, with its status)."""
    roles = request_roles(request)
    matrix = compliance_compute(
        user=request.user, roles=roles, instruction=page_instruction(request)
    )
    cells = matrix.cells()
    answered_all = sum(1 for row in matrix.rows if all(c.answered for c in row.cells))
    return render(
        request,
        "kla/compliance.html",
        {
            "matrix": matrix,
            "categories": Category.choices,
            "states": [(s, SubmissionState(s).label) for s in STATE_ORDER],
            "overdue_cells": sum(1 for c in cells if c.overdue),
            "empty_cells": sum(1 for c in cells if c.count == 0 and not c.nihil),
            "answered_all": answered_all,
            # A scoped verifier's matrix holds their own bodies only: every row it shows is
            # one they may remind.
            "may_remind": may_monitor(roles),
            "error": error,
        },
        status=status,
    )
