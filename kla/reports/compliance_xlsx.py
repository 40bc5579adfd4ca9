"""The compliance matrix as a workbook people open in Excel (export kind ``compliance_xlsx``).

A summary sheet first gives what the workbook is, when it was made, the deadline, the working
days left and the counts the page shows (cells per least advanced state among them). Then
the matrix of the export's instruction as its requester may see it
(``workflows.sla.compliance.compliance_compute``): a row per body, and per category the least
advanced state (in Indonesian), the number of submissions, nihil, the earliest open due time
(a real date and time, WIB) and whether it is overdue. The matrix is a handful of queries
whatever the number of bodies, so the workbook is built in one go (``kla.reports.xlsx``).
"""

from __future__ import annotations

from collections import Counter
from typing import IO, Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.models import Category, Instruction, SubmissionState
from kla.reports.builders import Progress
from kla.reports.xlsx import new_workbook, opening_rows, summary_table, table, wib
from workflows.sla.compliance import ComplianceCell, ComplianceMatrix, compliance_compute


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
    return [_state(cell), cell.count, _yes(cell.nihil), wib(cell.due_at), _yes(cell.overdue)]


def _state(cell: ComplianceCell) -> str:
    if cell.least_state:
        return str(SubmissionState(cell.least_state).label)
    return _("Belum ada pengajuan")


def compliance_rows(matrix: ComplianceMatrix) -> list[list[Any]]:
    """The matrix sheet's rows, body by body (bodies by name, as the page orders them)."""
    return [
        [row.agency, row.name, *(v for cell in row.cells for v in cell_values(cell))]
        for row in matrix.rows
    ]


def summary_rows(matrix: ComplianceMatrix, user: User | None = None) -> list[list[Any]]:
    """What the top of the compliance page says, as label and value."""
    cells = matrix.cells()
    answered_all = sum(1 for row in matrix.rows if all(c.answered for c in row.cells))
    counts: list[list[Any]] = []
    if matrix.deadline is not None:
        counts += [
            [_("Batas waktu"), matrix.deadline.deadline],
            [_("Hari kerja tersisa"), matrix.deadline.working_days_left],
            [_("Batas waktu lewat"), _yes(matrix.deadline.passed)],
        ]
    counts += [
        [_("Perangkat/lembaga"), len(matrix.rows)],
        [_("Menjawab keempat kategori"), answered_all],
        [_("Sel lewat tenggat"), sum(1 for c in cells if c.overdue)],
        [
            _("Sel tanpa pengajuan maupun nihil"),
            sum(1 for c in cells if not c.count and not c.nihil),
        ],
    ]
    # Cells by their least advanced state, in the flow's order.
    states = Counter(_state(c) for c in cells)
    labels = [_("Belum ada pengajuan"), *(str(s.label) for s in SubmissionState)]
    counts += [[_("Sel berstatus %(s)s") % {"s": label}, states[label]] for label in labels]
    return opening_rows(
        what=_("Matriks kepatuhan: satu baris per perangkat/lembaga, per kategori."),
        instruction=matrix.instruction,
        made_at=matrix.now,
        user=user,
        counts=counts,
    )


def build_compliance(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The compliance workbook: the summary sheet, then the matrix sheet."""
    progress(0, 1)
    matrix = compliance_compute(user=user, instruction=instruction, now=timezone.now())
    workbook = new_workbook()
    summary = summary_table(workbook)
    summary.extend(summary_rows(matrix, user))
    summary.close()
    table(
        workbook,
        title=_("Matriks kepatuhan"),
        columns=compliance_header(),
        rows=compliance_rows(matrix),
    )
    workbook.save(out)
    progress(1, 1)
