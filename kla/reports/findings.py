"""The ``findings_xlsx`` export: the follow-up matrix (matriks tindak lanjut) as a workbook.

A summary sheet first (what it is, when it was made, the totals of the matrix), then two
sheets: the matrix (one row per body, recommendations under each status, overdue ones,
bodies with no operator) and the findings, one row per recommendation with its finding, its
status's Indonesian label, its due date (a real date cell), and its follow-ups (how many, the
last note and when it was written, WIB). Only the findings the requester may see
(``findings_visible_to``: reviewers see all of them), read again when the export is built.
Small tables, written with ``kla.reports.xlsx`` as every workbook is.
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.models import Instruction
from kla.reports.builders import Progress
from kla.reports.xlsx import new_workbook, opening_rows, summary_table, table, wib
from kla.time import WIB
from roles.roles import roles_of
from workflows.models import FollowUpEntry, FollowUpKind, Recommendation, RecommendationStatus
from workflows.supervision.matrix import MatrixRow, followup_matrix, matrix_findings


def matrix_rows(
    user: User, instruction: Instruction | None, now: dt.datetime | None = None
) -> list[list[Any]]:
    """The matrix sheet's rows, as the page and the API count them."""
    return _rows_of(followup_matrix(roles=roles_of(user), instruction=instruction, now=now))


def _rows_of(rows: list[MatrixRow]) -> list[list[Any]]:
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
        _("Tindak lanjut terakhir (WIB)"),
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
                wib(follow_ups[-1].at) if follow_ups else None,
            ]
        )
    return rows


def matrix_totals(rows: list[MatrixRow]) -> list[list[Any]]:
    """The counts of the summary sheet: the matrix's columns summed over the bodies."""
    return [
        [_("Perangkat/lembaga"), len(rows)],
        [_("Tanpa operator"), sum(1 for r in rows if r.no_operator)],
        [_("Temuan"), sum(r.findings for r in rows)],
        [_("Temuan terbuka"), sum(r.findings_open for r in rows)],
        [_("Jumlah rekomendasi"), sum(r.recommendations for r in rows)],
        *(
            [_("Rekomendasi %(s)s") % {"s": label}, sum(r.counts[status] for r in rows)]
            for status, label in RecommendationStatus.choices
        ),
        [_("Lewat batas"), sum(r.overdue for r in rows)],
    ]


def build_findings(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The follow-up matrix workbook of one instruction (every one when none is given)."""
    progress(0, 2)
    now = timezone.now()
    workbook = new_workbook()
    summary = summary_table(workbook)
    matrix = followup_matrix(roles=roles_of(user), instruction=instruction, now=now)
    table(
        workbook, title=_("Matriks tindak lanjut"), columns=matrix_header(), rows=_rows_of(matrix)
    )
    progress(1, 2)
    table(
        workbook,
        title=_("Temuan dan rekomendasi"),
        columns=finding_header(),
        rows=finding_rows(user, instruction),
    )
    summary.extend(
        opening_rows(
            what=_("Matriks tindak lanjut temuan dan rekomendasinya."),
            instruction=instruction,
            made_at=now,
            user=user,
            counts=matrix_totals(matrix),
        )
    )
    summary.close()
    progress(2, 2)
    workbook.save(out)
