"""The recap workbook, written into a temporary file on disk, streamed, never held in memory.

The builder reads the database in chunks (a server-side cursor) and writes as it reads:
openpyxl's write-only workbook spools each sheet to disk. The evidence package, the other
streamed export, is ``kla.reports.package``; it shares ``answering`` and ``write_table``.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Sequence
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kla.details import FIELDS, Field
from kla.models import Category, Indicator, Instruction, Submission
from kla.time import WIB
from roles.roles import roles_of
from roles.selectors import visible_to

Progress = Callable[[int, int], None]
BATCH = 500


# --- the recap workbook --------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: times are written as WIB wall-clock times.
    return timezone.localtime(moment, WIB).replace(tzinfo=None) if moment else None


def _detail_value(spec: Field, value: Any) -> Any:
    """A detail as a typed cell value: rupiah as numbers, dates as dates, labels for codes."""
    if value in (None, "", []):
        return None
    cell = spec.cell(value)
    return _text(cell) if isinstance(cell, str) else cell


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """A cell whose text is always text: a title starting with "=" is not a formula."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def rekap_rows(submission: Submission) -> list[Any]:
    """One submission's row: body, title, indicators, years, details, state, dates."""
    details = [
        _detail_value(spec, submission.details.get(spec.name))
        for spec in FIELDS[submission.category]
    ]
    return [
        submission.pk,
        _text(submission.body.code),
        _text(submission.body.name),
        _text(submission.title),
        ", ".join(str(i.number) for i in sorted(submission.indicators.all(), key=_number)),
        ", ".join(str(y) for y in submission.years),
        *details,
        _text(submission.get_state_display()),
        _("Ya") if submission.late else _("Tidak"),
        _local(submission.first_submitted_at),
        _local(submission.updated_at),
    ]


def _number(indicator: Indicator) -> int:
    return indicator.number


def rekap_header(category: str) -> list[str]:
    return [
        _("ID"),
        _("Kode perangkat"),
        _("Perangkat/lembaga"),
        _("Judul"),
        _("Indikator"),
        _("Tahun"),
        *[str(spec.label) for spec in FIELDS[category]],
        _("Status"),
        _("Terlambat"),
        _("Pertama diajukan (WIB)"),
        _("Terakhir diperbarui (WIB)"),
    ]


def answering(user: User, instruction: Instruction | None) -> QuerySet[Submission]:
    """What the user sees of one instruction (of every one when none is given)."""
    visible = visible_to(user, roles_of(user))
    return visible if instruction is None else visible.filter(instruction=instruction)


def build_rekap(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The recap workbook: one sheet per category, one row per submission the user sees."""
    visible = answering(user, instruction)
    total = visible.count()
    done = 0
    progress(done, total)
    workbook = Workbook(write_only=True)
    for category, label in Category.choices:
        sheet = workbook.create_sheet(title=str(label)[:31])
        sheet.append([_cell(sheet, h) for h in rekap_header(category)])
        rows: QuerySet[Submission] = (
            visible.filter(category=category)
            .select_related("body")
            .prefetch_related("indicators")
            .order_by("body__code", "id")
        )
        for submission in rows.iterator(chunk_size=BATCH):
            sheet.append([_cell(sheet, v) for v in rekap_rows(submission)])
            done += 1
            progress(done, total)
            if done % BATCH == 0:
                gc.collect()  # prefetch caches form cycles; see kla.reports.package
    workbook.save(out)


def write_table(
    out: IO[bytes],
    *,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int],
) -> None:
    """A one-sheet workbook people open in Excel: column widths, a frozen header and filters.

    For small tables (a summary of 24 indicators); each text stays text, never a formula.
    """
    workbook = Workbook(write_only=True)
    table_sheet(workbook, title=title, header=header, rows=rows, widths=widths)
    workbook.save(out)


def table_sheet(
    workbook: Workbook,
    *,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int],
) -> WriteOnlyWorksheet:
    """One more sheet of ``write_table``'s kind in a write-only workbook, for workbooks of
    several tables (the follow-up matrix and its findings)."""
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    sheet.append([_cell(sheet, h) for h in header])
    for row in rows:
        sheet.append([_cell(sheet, _text(v) if isinstance(v, str) else v) for v in row])
    return sheet
