"""The .xlsx exports open well in Excel: a summary sheet first, fitted widths, a frozen
header, filters, rupiah as numbers in a rupiah format, real dates and WIB times; the recap
written as a stream in batches (``kla.reports.builders``), and the shared helpers
(``kla.reports.xlsx``)."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from kla.models import Instruction, Submission
from kla.reports import builders, xlsx
from kla.reports.builders import build_rekap
from kla.reports.compliance_xlsx import build_compliance
from kla.time import WIB
from roles.roles import roles_of
from roles.selectors import visible_to
from workflows.sla.compliance import compliance_compute

from .world import make
from .xlsx_checks import RUPIAH, assert_opens_well, rows_by_header, summary_cells, widths_of

pytestmark = pytest.mark.django_db

LONG_TITLE = "Peraturan Wali Kota tentang Kota Layak Anak " * 4


def now_wib() -> dt.datetime:
    return timezone.now().astimezone(WIB).replace(tzinfo=None)


def rekap_of(user: User, instruction: Instruction | None = None) -> Any:
    out = io.BytesIO()
    build_rekap(user=user, out=out, progress=lambda done, total: None, instruction=instruction)
    out.seek(0)
    return load_workbook(out)


@pytest.fixture
def submissions(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Any]:
    return {
        "program": make(
            operator,
            "verified",
            people,
            category="program",
            title="Forum Anak",
            details={
                "program": "Pemenuhan Hak Anak",
                "activity": "Forum Anak",
                "sub_activity": "Pelatihan",
                "funding_source": "APBD",
                "budget": 1500000,
                "realization": 1250000,
                "year": 2025,
            },
        ),
        "cheap": make(
            other_operator,
            "consolidated",
            people,
            category="program",
            title="Sosialisasi",
            details={
                "program": "P",
                "activity": "K",
                "sub_activity": "S",
                "funding_source": "APBN",
                "budget": 250000,
                "year": 2025,
            },
        ),
        "regulation": make(operator, "submitted", people, title=LONG_TITLE.strip()),
        "formula": make(other_operator, "verified", people, title="=HYPERLINK(1)"),
    }


# --- the recap -----------------------------------------------------------------------------


def test_the_recap_opens_well_with_rupiah_and_real_dates(
    submissions: dict[str, Any], consolidator: User
) -> None:
    before = now_wib()
    book = rekap_of(consolidator, submissions["program"].instruction)
    summary = assert_opens_well(book)
    assert book.sheetnames == [
        "Ringkasan",
        "Regulasi",
        "Program dan kegiatan",
        "Kemitraan",
        "Inovasi",
    ]
    program = {r["ID"].value: r for r in rows_by_header(book["Program dan kegiatan"])}
    budget = program[submissions["program"].pk]["Anggaran (Rp)"]
    assert budget.value == 1500000
    assert budget.data_type == "n"
    assert budget.number_format == RUPIAH
    realization = program[submissions["program"].pk]["Realisasi (Rp)"]
    assert (realization.value, realization.number_format) == (1250000, RUPIAH)
    assert program[submissions["cheap"].pk]["Realisasi (Rp)"].value is None
    # The budget year is a plain number, not rupiah.
    assert program[submissions["program"].pk]["Tahun anggaran"].number_format != RUPIAH
    submitted = program[submissions["program"].pk]["Pertama diajukan (WIB)"]
    assert isinstance(submitted.value, dt.datetime)
    assert submitted.number_format == "yyyy-mm-dd hh:mm"
    first = submissions["program"].first_submitted_at.astimezone(WIB).replace(tzinfo=None)
    assert abs(submitted.value - first) < dt.timedelta(seconds=1)
    regulation = {r["ID"].value: r for r in rows_by_header(book["Regulasi"])}
    enacted = regulation[submissions["regulation"].pk]["Tanggal ditetapkan"]
    assert enacted.value == dt.datetime(2025, 2, 1)  # a date cell, read back as a datetime
    assert enacted.is_date and enacted.number_format == "yyyy-mm-dd"
    formula = regulation[submissions["formula"].pk]["Judul"]
    assert (formula.value, formula.data_type) == ("=HYPERLINK(1)", "s")
    # Widths follow the content: the long title is capped, the short ids stay narrow.
    widths = widths_of(book["Regulasi"])
    assert widths[4] == 60
    assert widths[1] == 8
    assert widths_of(book["Program dan kegiatan"])[4] == len("Sosialisasi") + 2
    # The summary: what it is, when, and the counts of what the sheets hold.
    assert summary["Instruksi"] == str(submissions["program"].instruction)
    assert summary["Judul instruksi"] == submissions["program"].instruction.title
    assert before - dt.timedelta(minutes=1) <= summary["Dibuat (WIB)"] <= now_wib()
    assert summary["Diminta oleh"] == (consolidator.get_full_name() or consolidator.username)
    visible = visible_to(consolidator, roles_of(consolidator))
    assert summary["Jumlah pengajuan"] == visible.count() == 4
    assert summary["Kategori Program dan kegiatan"] == 2
    assert summary["Kategori Regulasi"] == 2
    states = Counter(visible.values_list("state", flat=True))
    assert summary["Status Terverifikasi"] == states["verified"] == 2
    assert summary["Status Terkonsolidasi"] == states["consolidated"] == 1
    assert summary["Status Menunggu verifikasi"] == states["submitted"] == 1
    assert summary["Status Draf"] == 0
    assert summary["Terlambat"] == visible.filter(late=True).count()
    cells = summary_cells(book)
    assert cells["Jumlah Anggaran (Rp)"].value == 1500000 + 250000
    assert cells["Jumlah Anggaran (Rp)"].number_format == RUPIAH
    assert cells["Jumlah Realisasi (Rp)"].value == 1250000


def test_the_recap_summary_counts_only_what_the_requester_sees(
    submissions: dict[str, Any], other_body: Any
) -> None:
    from tests import factories as f

    scoped = f.make_scoped_verifier([other_body], "verifikator-xlsx")
    summary = assert_opens_well(rekap_of(scoped))
    assert summary["Jumlah pengajuan"] == 2  # dinsos' two
    assert summary["Jumlah Anggaran (Rp)"] == 250000


def test_the_recap_writes_every_row_once_in_order_across_batches(
    operator: Any, other_operator: Any, people: dict[str, Any], consolidator: User, monkeypatch: Any
) -> None:
    """Batches of two rows: body codes repeat across a batch's edge, and no row is lost or
    written twice; progress counts every row."""
    made = [make(operator if n % 3 else other_operator, "submitted", people) for n in range(7)]
    monkeypatch.setattr(builders, "ROWS_BATCH", 2)
    monkeypatch.setattr(builders, "WIDTH_SAMPLE", 1)
    seen: list[tuple[int, int]] = []
    out = io.BytesIO()
    build_rekap(user=consolidator, out=out, progress=lambda done, total: seen.append((done, total)))
    book = load_workbook(io.BytesIO(out.getvalue()))
    rows = list(book["Regulasi"].iter_rows(values_only=True))[1:]
    expected = sorted(made, key=lambda s: (s.body.code, s.pk))
    assert [r[0] for r in rows] == [s.pk for s in expected]
    last = get_column_letter(len(builders.rekap_header("regulation")))
    assert book["Regulasi"].auto_filter.ref == f"A1:{last}{len(made) + 1}"
    assert seen[-1] == (7, 7)
    assert [d for d, _total in seen] == sorted(d for d, _total in seen)


def test_the_recap_of_nothing_still_has_its_headers_and_summary(consolidator: User) -> None:
    book = rekap_of(consolidator)
    summary = assert_opens_well(book)
    assert summary["Jumlah pengajuan"] == 0
    assert summary["Instruksi"] == "Semua"
    assert book["Inovasi"].auto_filter.ref.endswith("1")
    assert book["Inovasi"].max_row == 1


# --- the compliance workbook ---------------------------------------------------------------


def test_the_compliance_workbook_opens_well_and_counts_cells_by_state(
    submissions: dict[str, Any], consolidator: User
) -> None:
    out = io.BytesIO()
    build_compliance(user=consolidator, out=out, progress=lambda done, total: None)
    book = load_workbook(io.BytesIO(out.getvalue()))
    summary = assert_opens_well(book)
    matrix = compliance_compute(user=consolidator)
    cells = matrix.cells()
    by_state = {k: v for k, v in summary.items() if str(k).startswith("Sel berstatus ")}
    assert sum(by_state.values()) == len(cells)
    assert summary["Sel berstatus Menunggu verifikasi"] == sum(
        1 for c in cells if c.least_state == "submitted"
    )
    assert summary["Sel berstatus Belum ada pengajuan"] == sum(
        1 for c in cells if not c.least_state
    )
    dinkes = next(
        r
        for r in rows_by_header(book["Matriks kepatuhan"])
        if r["Kode perangkat"].value == "dinkes"
    )
    due = dinkes["Regulasi: tenggat (WIB)"]
    assert isinstance(due.value, dt.datetime)
    assert due.number_format == "yyyy-mm-dd hh:mm"


# --- the helpers ---------------------------------------------------------------------------


def test_a_table_fits_its_widths_to_the_rows_held_back_and_filters_all_rows() -> None:
    workbook = Workbook(write_only=True)
    table = xlsx.Table(
        workbook,
        title="Uji",
        columns=[xlsx.Column("Nama"), xlsx.Column("Anggaran", xlsx.RUPIAH)],
        sample=2,
    )
    table.extend([["abc", 1000], ["abcdefghijklmnop", 2500000], ["x" * 200, 10**12]])
    table.close()
    out = io.BytesIO()
    workbook.save(out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["Uji"]
    widths = widths_of(sheet)
    # Fitted to the two rows held back (the third, longer one comes after the widths).
    assert widths[1] == len("abcdefghijklmnop") + 2
    assert widths[2] == len("Rp 2,500,000") + 2
    assert sheet.auto_filter.ref == "A1:B4"
    assert sheet.freeze_panes == "A2"
    assert [c.number_format for c in sheet["B"][1:]] == [xlsx.RUPIAH] * 3


def test_times_are_written_as_wib_wall_clock_times() -> None:
    moment = dt.datetime(2026, 3, 17, 1, 30, tzinfo=dt.UTC)
    assert xlsx.wib(moment) == dt.datetime(2026, 3, 17, 8, 30)
    assert xlsx.wib(None) is None
    workbook = Workbook(write_only=True)
    xlsx.table(
        workbook, title="Waktu", columns=["Pada (WIB)"], rows=[[moment], [dt.date(2026, 1, 2)]]
    )
    out = io.BytesIO()
    workbook.save(out)
    cells = load_workbook(io.BytesIO(out.getvalue()))["Waktu"]["A"]
    assert cells[1].value == dt.datetime(2026, 3, 17, 8, 30)
    assert cells[1].number_format == "yyyy-mm-dd hh:mm"
    assert cells[2].value == dt.datetime(2026, 1, 2)
    assert cells[2].number_format == "yyyy-mm-dd"


def test_widths_stay_within_bounds() -> None:
    columns = [xlsx.Column("A"), xlsx.Column("Judul yang sangat panjang sekali " * 3)]
    assert xlsx.fit_widths(columns, [["", "x"]]) == [xlsx.WIDTH_MIN, xlsx.WIDTH_MAX]
    assert (
        xlsx.fit_widths(columns, [["baris satu\nbaris kedua yang lebih panjang", ""]])[0]
        == len("baris kedua yang lebih panjang") + 2
    )


def test_a_submission_money_kept_as_text_is_written_as_a_number(
    submissions: dict[str, Any], consolidator: User
) -> None:
    Submission.objects.filter(pk=submissions["cheap"].pk).update(
        details={**submissions["cheap"].details, "budget": "Rp 2.750.000"}
    )
    book = rekap_of(consolidator)
    program = {r["ID"].value: r for r in rows_by_header(book["Program dan kegiatan"])}
    budget = program[submissions["cheap"].pk]["Anggaran (Rp)"]
    assert (budget.value, budget.data_type, budget.number_format) == (2750000, "n", RUPIAH)
