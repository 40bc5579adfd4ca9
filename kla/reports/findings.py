"""The ``findings_xlsx`` export: the follow-up matrix (matriks tindak lanjut) as a workbook.

Two sheets: the matrix (one row per body, recommendations under each status, overdue ones,
bodies with no operator) and the findings, one row per recommendation with its finding, its
status's Indonesian label, its due date (a real date cell), and its follow-ups (how many and
the last note). Only the findings the requester may see (``findings_visible_to``: reviewers
see all of them), read again when the export is built. Small tables: written with
``kla.reports.builders.table_sheet``, the recap's shared helper.
"""

from __future__ import annotations

from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kla.models import Instruction
from kla.reports.builders import Progress, table_sheet
from kla.time import WIB
from roles.roles import roles_of
from workflows.models import FollowUpEntry, FollowUpKind, Recommendation, RecommendationStatus
from workflows.supervision.matrix import followup_matrix, matrix_findings

MATRIX_WIDTHS = [16, 40, 14, 10, 10, 12, 12, 12, 10, 14, 12, 10]
FINDING_WIDTHS = [10, 16, 40, 12, 40, 60, 24, 14, 12, 60]


def matrix_rows(user: User, instruction: Instruction | None) -> list[list[Any]]:
    """The summary sheet's rows, as the page and the API count them."""
    rows = followup_matrix(roles=roles_of(user), instruction=instruction)
    return [
        [
            row.agency,
            row.body_name,
            _("Ya") if row.no_operator else _("Tidak"),
            row.findings,
            row.findings_open,
            *(row.counts[status] for status in RecommendationStatus.values),
            row.overdue,
            row.recommendations,
        ]
        for row in rows
    ]


def matrix_header() -> list[str]:
    return [
        _("Kode perangkat"),
        _("Perangkat/lembaga"),
        _("Tanpa operator"),
        _("Temuan"),
        _("Temuan terbuka"),
        *(str(label) for label in RecommendationStatus.labels),
        _("Lewat batas"),
        _("Jumlah rekomendasi"),
    ]


def finding_header() -> list[str]:
    return [
        _("ID temuan"),
        _("Kode perangkat"),
        _("Judul temuan"),
        _("Pengajuan"),
        _("Kondisi"),
        _("Rekomendasi"),
        _("Status tindak lanjut"),
        _("Batas tindak lanjut"),
        _("Jumlah tindak lanjut"),
        _("Catatan tindak lanjut terakhir"),
    ]


def finding_rows(user: User, instruction: Instruction | None) -> list[list[Any]]:
    """One row per recommendation of every finding the user sees, by body then finding."""
    findings = matrix_findings(roles_of(user), instruction)
    recommendations = (
        Recommendation.objects.filter(finding__in=findings)
        .select_related("finding__body")
        .prefetch_related(
            Prefetch(
                "history",
                queryset=FollowUpEntry.objects.filter(kind=FollowUpKind.FOLLOW_UP).order_by(
                    "at", "id"
                ),
                to_attr="follow_ups",
            )
        )
        .order_by("finding__body__code", "finding_id", "id")
    )
    rows: list[list[Any]] = []
    for recommendation in recommendations:
        finding = recommendation.finding
        follow_ups: list[FollowUpEntry] = recommendation.follow_ups
        rows.append(
            [
                finding.pk,
                finding.body.code,
                finding.title,
                f"#{finding.submission_id}" if finding.submission_id else "",
                finding.condition,
                recommendation.text,
                str(RecommendationStatus(recommendation.status).label),
                # A date cell: Excel sorts and filters it; the day is WIB's.
                recommendation.due_at.astimezone(WIB).date(),
                len(follow_ups),
                follow_ups[-1].note if follow_ups else "",
            ]
        )
    return rows


def build_findings(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The follow-up matrix workbook of one instruction (every one when none is given)."""
    progress(0, 2)
    workbook = Workbook(write_only=True)
    summary = matrix_rows(user, instruction)
    table_sheet(
        workbook,
        title=_("Matriks tindak lanjut"),
        header=matrix_header(),
        rows=summary,
        widths=MATRIX_WIDTHS,
    )
    progress(1, 2)
    table_sheet(
        workbook,
        title=_("Temuan dan rekomendasi"),
        header=finding_header(),
        rows=finding_rows(user, instruction),
        widths=FINDING_WIDTHS,
    )
    progress(2, 2)
    workbook.save(out)
