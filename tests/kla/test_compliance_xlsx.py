"""The ``compliance_xlsx`` export: the compliance matrix of the export's instruction as a
workbook, a row per body as the matrix has it, real dates, a frozen header, a summary."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from openpyxl import load_workbook

from kla.models import Body, Export, Instruction, Submission
from kla.reports.compliance_xlsx import build_compliance
from kla.reports.exports import export_request, export_run
from kla.time import WIB
from workflows.sla.compliance import compliance_compute

pytestmark = pytest.mark.django_db


def workbook_of(user: User, instruction: Instruction | None = None) -> Any:
    out = io.BytesIO()
    build_compliance(user=user, out=out, progress=lambda done, total: None, instruction=instruction)
    out.seek(0)
    return load_workbook(out)


def test_the_sheet_rows_are_the_matrix(
    submitted: Submission, other_body: Body, consolidator: User
) -> None:
    book = workbook_of(consolidator)
    assert book.sheetnames == ["Ringkasan", "Matriks kepatuhan"]
    sheet = book["Matriks kepatuhan"]
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    header, body_rows = rows[0], rows[1:]
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(rows)}"
    matrix = compliance_compute(user=consolidator)
    assert [r[0] for r in body_rows] == [row.agency for row in matrix.rows]
    dinkes = dict(zip(header, next(r for r in body_rows if r[0] == "dinkes"), strict=True))
    assert dinkes["Perangkat/lembaga"] == "Dinas Kesehatan"
    assert dinkes["Regulasi: status"] == "Menunggu verifikasi"
    assert dinkes["Regulasi: jumlah"] == 1
    assert dinkes["Regulasi: nihil"] == "Tidak"
    assert dinkes["Program dan kegiatan: status"] == "Belum ada pengajuan"
    assert dinkes["Program dan kegiatan: tenggat (WIB)"] is None
    due = dinkes["Regulasi: tenggat (WIB)"]
    assert isinstance(due, dt.datetime)  # a real date and time, in WIB wall-clock time
    assert submitted.due_at is not None
    assert due == submitted.due_at.astimezone(WIB).replace(tzinfo=None, second=0, microsecond=0)
    assert dinkes["Regulasi: lewat tenggat"] == "Tidak"


def test_the_summary_sheet_says_what_the_page_says(
    submitted: Submission, other_body: Body, verifier: User
) -> None:
    summary = dict(list(workbook_of(verifier)["Ringkasan"].iter_rows(values_only=True))[1:])
    matrix = compliance_compute(user=verifier)
    assert matrix.deadline is not None
    assert summary["Batas waktu"] == dt.datetime.combine(matrix.deadline.deadline, dt.time())
    assert summary["Hari kerja tersisa"] == matrix.deadline.working_days_left
    assert summary["Perangkat/lembaga"] == len(matrix.rows)
    assert summary["Menjawab keempat kategori"] == 0
    assert summary["Sel lewat tenggat"] == sum(1 for c in matrix.cells() if c.overdue)
    assert isinstance(summary["Dibuat (WIB)"], dt.datetime)


def test_the_export_runs_and_names_its_file_after_the_instruction(
    submitted: Submission, consolidator: User, django_capture_on_commit_callbacks: Any
) -> None:
    export = export_request(user=consolidator, kind="compliance_xlsx")
    assert export_run(export_id=export.pk) == "done"
    done = Export.objects.get(pk=export.pk)
    label = f"{submitted.instruction.number}-{submitted.instruction.year}"
    assert done.filename.startswith(f"matriks-kepatuhan-{label}-")
    assert done.filename.endswith(".xlsx")
    with default_storage.open(done.file) as handle:
        assert load_workbook(io.BytesIO(handle.read())).sheetnames[1] == "Matriks kepatuhan"
