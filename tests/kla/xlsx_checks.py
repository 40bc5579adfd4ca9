"""What every .xlsx export must be when Excel opens it (DESIGN, "Exports people open in
Excel"), checked on the workbook as openpyxl reads it back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl.utils import get_column_letter

RUPIAH = '"Rp" #,##0'


def widths_of(sheet: Any) -> dict[int, float]:
    """Each column's width by its number (a ``<col>`` may span several columns)."""
    found: dict[int, float] = {}
    for dimension in sheet.column_dimensions.values():
        if dimension.width is None or dimension.min is None:
            continue
        for index in range(dimension.min, (dimension.max or dimension.min) + 1):
            found[index] = dimension.width
    return found


def shown(cell: Any) -> int:
    """How many characters a cell shows: its longest line, a date's or a time's length."""
    if cell.value is None:
        return 0
    if isinstance(cell.value, dt.datetime):
        return len("2026-12-31 23:59") if "h" in cell.number_format else len("2026-12-31")
    if cell.number_format == RUPIAH:
        return len(f"Rp {cell.value:,}")
    return max(len(line) for line in str(cell.value).splitlines() or [""])


def assert_opens_well(book: Any) -> dict[str, Any]:
    """Summary first; every sheet with a bold frozen header, a filter over all its rows,
    widths fitted to the content within 8..60, times under a header that says WIB, text as
    text. Returns the summary sheet as label -> value."""
    assert book.sheetnames[0] == "Ringkasan"
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        assert rows, sheet.title
        header = rows[0]
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(header))}{len(rows)}"
        assert all(c.font.bold for c in header), sheet.title
        widths = widths_of(sheet)
        for index, head in enumerate(header, 1):
            column = [r[index - 1] for r in rows[1:] if len(r) >= index]
            longest = max([shown(c) for c in column], default=0)
            width = widths[index]
            # At least the longest value (or the header), bounded; never much more.
            assert min(60, max(8, len(str(head.value)), longest)) <= width <= 60, (
                sheet.title,
                head.value,
                width,
            )
            assert width <= max(8, len(str(head.value)) + 3, longest + 2), (head.value, width)
            timed = [c for c in column if isinstance(c.value, dt.datetime)]
            if any("h" in c.number_format for c in timed) and sheet.title != "Ringkasan":
                assert "WIB" in str(head.value), (sheet.title, head.value)
            for c in timed:
                assert c.is_date and c.number_format in ("yyyy-mm-dd", "yyyy-mm-dd hh:mm")
            for c in column:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
    summary = book["Ringkasan"]
    for label, value in list(summary.iter_rows())[1:]:
        # A label and its value: the label says WIB where the value is a time.
        if isinstance(value.value, dt.datetime) and "h" in value.number_format:
            assert "WIB" in str(label.value), label.value
    values = list(summary.iter_rows(values_only=True))
    assert values[0] == ("Keterangan", "Nilai")
    found = dict(values[1:])
    assert found["Isi"]
    assert isinstance(found["Dibuat (WIB)"], dt.datetime)
    return found


def summary_cells(book: Any) -> dict[str, Any]:
    """The summary sheet's value cells by label (to read their number formats)."""
    return {row[0].value: row[1] for row in list(book["Ringkasan"].iter_rows())[1:]}


def rows_by_header(sheet: Any) -> list[dict[str, Any]]:
    """A data sheet's rows as header -> cell."""
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]
