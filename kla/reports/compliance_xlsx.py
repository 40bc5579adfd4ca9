"""The compliance matrix as a workbook people open in Excel (export kind ``compliance_xlsx``).

One sheet holds the matrix of the export's instruction as its requester may see it
(``workflows.sla.compliance.compliance_compute``): a row per body, and per category the least
advanced state (in Indonesian), the number of submissions, nihil, the earliest open due time
(a real date and time, WIB) and whether it is overdue. A summary sheet gives the deadline, the
working days left and the counts the page shows. The matrix is a handful of queries whatever
the number of bodies, so the workbook is built in one go.
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from kla.models import Category, Instruction, SubmissionState
from kla.reports.builders import Progress, table_sheet
from kla.time import WIB
from workflows.sla.compliance import ComplianceCell, ComplianceMatrix, compliance_compute


def _wib(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: times are written as WIB wall-clock times, as the recap's are.
    return timezone.localtime(moment, WIB).replace(tzinfo=None) if moment else None


def _yes(value: bool) -> str:
    return _("Ya") if value else _("Tidak")


def compliance_header() -> list[str]:
    header = [_("Kode perangkat"), _("Perangkat/lembaga")]
    for _code, label in Category.choices:
        header += [
            _("%(c)s: status") % {"c": label},
            _("%(c)s: jumlah") % {"c": label},
            _("%(c)s: nihil") % {"c": label},
            _("%(c)s: tenggat (WIB)") % {"c": label},
            _("%(c)s: lewat tenggat") % {"c": label},
        ]
    return header


def cell_values(cell: ComplianceCell) -> list[Any]:
    """One cell's columns: the least state's label, count, nihil, due time, overdue."""
    state = (
        str(SubmissionState(cell.least_state).label)
        if cell.least_state
        else _("Belum ada pengajuan")
    )
    return [state, cell.count, _yes(cell.nihil), _wib(cell.due_at), _yes(cell.overdue)]


def compliance_rows(matrix: ComplianceMatrix) -> list[list[Any]]:
    """The matrix sheet's rows, body by body (bodies by name, as the page orders them)."""
    return [
        [row.agency, row.name, *(v for cell in row.cells for v in cell_values(cell))]
        for row in matrix.rows
    ]


def summary_rows(matrix: ComplianceMatrix) -> list[list[Any]]:
    """What the top of the compliance page says, as label and value."""
    cells = matrix.cells()
    answered_all = sum(1 for row in matrix.rows if all(c.answered for c in row.cells))
    rows: list[list[Any]] = [
        [_("Instruksi"), str(matrix.instruction) if matrix.instruction else _("Semua")],
    ]
    if matrix.deadline is not None:
        rows += [
            [_("Batas waktu"), matrix.deadline.deadline],
            [_("Hari kerja tersisa"), matrix.deadline.working_days_left],
            [_("Batas waktu lewat"), _yes(matrix.deadline.passed)],
        ]
    rows += [
        [_("Perangkat/lembaga"), len(matrix.rows)],
        [_("Menjawab keempat kategori"), answered_all],
        [_("Sel lewat tenggat"), sum(1 for c in cells if c.overdue)],
        [
            _("Sel tanpa pengajuan maupun nihil"),
            sum(1 for c in cells if not c.count and not c.nihil),
        ],
        [_("Dibuat (WIB)"), _wib(matrix.now)],
    ]
    return rows


def build_compliance(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The compliance workbook: the matrix sheet, then the summary sheet."""
    progress(0, 1)
    matrix = compliance_compute(user=user, instruction=instruction, now=timezone.now())
    workbook = Workbook(write_only=True)
    header = compliance_header()
    table_sheet(
        workbook,
        title=_("Matriks kepatuhan"),
        header=header,
        rows=compliance_rows(matrix),
        widths=[14, 36, *([22, 9, 9, 18, 13] * len(Category.choices))],
    )
    table_sheet(
        workbook,
        title=_("Ringkasan"),
        header=[_("Keterangan"), _("Nilai")],
        rows=summary_rows(matrix),
        widths=[36, 40],
    )
    workbook.save(out)
    progress(1, 1)
