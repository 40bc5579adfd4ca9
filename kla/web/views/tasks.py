""" "Tugas saya": what waits for each of the person's roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kla.models import Category, SubmissionState
from kla.web.templatetags.kla_tags import request_roles
from kla.web.views.common import list_rows
from roles.selectors import visible_to

S = SubmissionState


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    """The "Tugas saya" inbox: what waits for each of the person's roles."""
    roles = request_roles(request)
    visible = visible_to(request.user, roles)  # type: ignore[arg-type]
    sections: list[dict[str, Any]] = []
    if roles.operator_of:
        sections.append(
            {
                "title": _("Draf dan pengembalian perangkat Anda"),
                "rows": list_rows(
                    visible.filter(body_id__in=roles.operator_of, state__in=[S.DRAFT, S.RETURNED])
                ),
            }
        )
    if roles.verifier:
        waiting = visible.filter(state=S.SUBMITTED)
        if not roles.verifier_everywhere:
            waiting = waiting.filter(body_id__in=roles.verifier_of)
        sections.append({"title": _("Menunggu verifikasi Anda"), "rows": list_rows(waiting)})
    if roles.consolidator:
        sections.append(
            {
                "title": _("Siap dikonsolidasi"),
                "rows": list_rows(visible.filter(state=S.VERIFIED)),
            }
        )
    if roles.auditor:
        sections.append(
            {
                "title": _("Siap diaudit"),
                "rows": list_rows(visible.filter(state=S.CONSOLIDATED)),
            }
        )
    return render(
        request,
        "kla/tasks.html",
        {
            "sections": sections,
            "categories": Category.choices if roles.operator_of else [],
        },
    )
