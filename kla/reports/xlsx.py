"""Workbooks people open in Excel, the same way for every .xlsx export (DESIGN, "Interfaces").

Every workbook starts with a summary sheet ("Ringkasan": what it is, the instruction, when it
was made in WIB, the counts that matter), then its data sheets. Every sheet has its columns
fitted to their content (between ``WIDTH_MIN`` and ``WIDTH_MAX`` characters), a frozen, bold
header row and a filter over its whole data range. Text stays text (a title starting with
"=" is no formula), rupiah are numbers shown as ``"Rp" #,##0``, dates and times are real
Excel dates: WIB wall-clock times without a zone, as Excel has none, under a header that says
WIB.

Sheets are written as a stream (openpyxl's write-only workbook spools each sheet to disk):
a ``Table`` holds back only its first ``SAMPLE`` rows, to fit the widths to them, then writes
every row as it comes, so that memory stays flat however many rows the sheet gets. The filter
is set when the table is closed, once its last row is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kla.models import Instruction
from kla.time import WIB

WIDTH_MIN = 8
WIDTH_MAX = 60
# Room for the filter's drop-down button beside a header, and a little air beside values.
HEADER_PAD = 3
PAD = 2
# The rows a table holds back to fit its widths before it writes anything.
SAMPLE = 500
RUPIAH = '"Rp" #,##0'
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
# How wide a date or a time shows in the formats above.
DATE_WIDTH = len("2025-12-31")
DATETIME_WIDTH = len("2025-12-31 23:59")


class Formatted(NamedTuple):
    """One value with its own number format, for a column of mixed values (a summary's)."""

    value: Any
    number_format: str


def rupiah(amount: int) -> Formatted:
    """A whole rupiah amount as a number shown as rupiah."""
    return Formatted(amount, RUPIAH)


@dataclass(frozen=True)
class Column:
    """A table's column: its header and the number format of the numbers it holds (rupiah,
    say); dates and times get theirs whatever the column."""

    header: str
    number_format: str | None = None


def text(value: Any) -> str:
    """Text as a cell can hold it: without the control characters XML refuses."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def wib(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment as a WIB wall-clock time without a zone, as Excel takes it."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment
    return timezone.localtime(moment, WIB).replace(tzinfo=None)


def _format_of(value: Any, column: Column | None) -> tuple[Any, str | None]:
    """The value as written and its number format (``None``: Excel's general)."""
    if isinstance(value, Formatted):
        return value.value, value.number_format
    if isinstance(value, dt.datetime):
        return wib(value), DATETIME
    if isinstance(value, dt.date):
        return value, DATE
    if isinstance(value, int | float) and not isinstance(value, bool) and column is not None:
        return value, column.number_format
    return value, None


def cell(sheet: WriteOnlyWorksheet, value: Any, column: Column | None = None) -> Any:
    """A value as a cell: text always text (never a formula), numbers and dates formatted."""
    value, number_format = _format_of(value, column)
    if isinstance(value, str):
        written = WriteOnlyCell(sheet, value=text(value))
        written.data_type = "s"
        return written
    if number_format is None:
        return value
    written = WriteOnlyCell(sheet, value=value)
    written.number_format = number_format
    return written


def width_of(value: Any, column: Column | None = None) -> int:
    """How many characters a value shows as (its longest line for text)."""
    value, number_format = _format_of(value, column)
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return DATETIME_WIDTH
    if isinstance(value, dt.date):
        return DATE_WIDTH
    if number_format == RUPIAH and isinstance(value, int | float):
        return len(f"Rp {value:,.0f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def fit_widths(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> list[int]:
    """Each column's width: its header's or its longest value's, within the bounds."""
    widths = [len(c.header) + HEADER_PAD for c in columns]
    for row in rows:
        for index, (value, column) in enumerate(zip(row, columns, strict=False)):
            widths[index] = max(widths[index], width_of(value, column) + PAD)
    return [min(WIDTH_MAX, max(WIDTH_MIN, w)) for w in widths]


class Table:
    """One sheet of a write-only workbook: a header, then rows as they come.

    The sheet takes its place in the workbook when the table is made, so a summary sheet
    made first is the first sheet even when its rows are written last. ``close`` it once
    the last row is in (the workbook cannot be saved with an open table's rows held back).
    """

    def __init__(
        self,
        workbook: Workbook,
        *,
        title: str,
        columns: Sequence[Column | str],
        sample: int = SAMPLE,
    ) -> None:
        self.sheet: WriteOnlyWorksheet = workbook.create_sheet(title=title[:31])
        self.columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.rows = 0
        self._sample = max(1, sample)
        self._held: list[Sequence[Any]] | None = []
        self._closed = False

    def append(self, row: Sequence[Any]) -> None:
        self.rows += 1
        if self._held is None:
            self._write(row)
            return
        self._held.append(row)
        if len(self._held) >= self._sample:
            self._start()

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.append(row)

    def _start(self) -> None:
        """Fit the widths to the rows held back, freeze the header and write them all."""
        held, self._held = self._held or [], None
        sheet = self.sheet
        for index, width in enumerate(fit_widths(self.columns, held), 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for column in self.columns:
            written = cell(sheet, column.header)
            written.font = HEADER_FONT
            header.append(written)
        sheet.append(header)
        for row in held:
            self._write(row)

    def _write(self, row: Sequence[Any]) -> None:
        columns = self.columns
        self.sheet.append(
            [
                cell(self.sheet, v, columns[i] if i < len(columns) else None)
                for i, v in enumerate(row)
            ]
        )

    @property
    def ref(self) -> str:
        """The data range, header included: what the filter covers."""
        return f"A1:{get_column_letter(len(self.columns))}{self.rows + 1}"

    def close(self) -> None:
        if self._closed:
            return
        if self._held is not None:
            self._start()
        # Written after the rows (openpyxl writes the filter with the sheet's tail).
        self.sheet.auto_filter.ref = self.ref
        self._closed = True


def table(
    workbook: Workbook,
    *,
    title: str,
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[Any]],
) -> Table:
    """A whole sheet at once, for small tables."""
    written = Table(workbook, title=title, columns=columns)
    written.extend(rows)
    written.close()
    return written


def summary_table(workbook: Workbook) -> Table:
    """The summary sheet, made first so that it is the workbook's first sheet; fill it with
    ``opening_rows`` when the counts are known, then close it."""
    return Table(workbook, title=_("Ringkasan"), columns=[_("Keterangan"), _("Nilai")])


def requester(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def opening_rows(
    *,
    what: str,
    instruction: Instruction | None,
    made_at: dt.datetime,
    user: User | None = None,
    counts: Iterable[Sequence[Any]] = (),
) -> list[list[Any]]:
    """What a summary sheet says first: what the workbook is, of which instruction, when it
    was made and for whom; then ``counts``, as label and value."""
    rows: list[list[Any]] = [
        [_("Isi"), what],
        [_("Instruksi"), str(instruction) if instruction is not None else _("Semua")],
    ]
    if instruction is not None:
        rows.append([_("Judul instruksi"), instruction.title])
    rows.append([_("Dibuat (WIB)"), wib(made_at)])
    if user is not None:
        rows.append([_("Diminta oleh"), requester(user)])
    rows += [list(row) for row in counts]
    return rows


def new_workbook() -> Workbook:
    """A write-only workbook: each sheet spooled to disk as it is written."""
    return Workbook(write_only=True)
