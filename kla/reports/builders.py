"""The recap workbook, written into a temporary file on disk, streamed, never held in memory.

The builder reads the database in keyset batches and writes as it reads:
openpyxl's write-only workbook spools each sheet to disk (``kla.reports.xlsx``: fitted
widths, a frozen header, filters, rupiah and dates as Excel's own). A summary sheet comes
first, its counts written once the last row is. The evidence package, the other streamed
export, is ``kla.reports.package``; it shares ``answering``.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.details import FIELDS, Field, parse_money
from kla.models import Category, Indicator, Instruction, Submission, SubmissionState
from kla.reports.xlsx import (
    RUPIAH,
    Column,
    Table,
    new_workbook,
    opening_rows,
    rupiah,
    summary_table,
    text,
    wib,
)
from roles.roles import roles_of
from roles.selectors import visible_to

Progress = Callable[[int, int], None]
BATCH = 500
# The recap's rows read at a time, and the rows a sheet holds back to fit its widths: both
# bound its memory, whatever the number of submissions.
ROWS_BATCH = 200
WIDTH_SAMPLE = 100


# --- the recap workbook --------------------------------------------------------------------


def _detail_value(spec: Field, value: Any) -> Any:
    """A detail as a typed cell value: rupiah as numbers, dates as dates, labels for codes."""
    if value in (None, "", []):
        return None
    if spec.kind == "money" and isinstance(value, str):
        try:
            return parse_money(value)  # a rupiah amount kept as text ("1.500.000")
        except ValueError:
            return text(value)
    cell = spec.cell(value)
    return text(cell) if isinstance(cell, str) else cell


def rekap_rows(submission: Submission) -> list[Any]:
    """One submission's row: body, title, indicators, years, details, state, dates."""
    details = [
        _detail_value(spec, submission.details.get(spec.name))
        for spec in FIELDS[submission.category]
    ]
    return [
        submission.pk,
        submission.body.code,
        submission.body.name,
        submission.title,
        ", ".join(str(i.number) for i in sorted(submission.indicators.all(), key=_number)),
        ", ".join(str(y) for y in submission.years),
        *details,
        submission.get_state_display(),
        _("Ya") if submission.late else _("Tidak"),
        wib(submission.first_submitted_at),
        wib(submission.updated_at),
    ]


def _number(indicator: Indicator) -> int:
    return indicator.number


def rekap_columns(category: str) -> list[Column]:
    """The columns of a category's sheet; rupiah fields shown as rupiah."""
    return [
        Column(_("ID")),
        Column(_("Kode perangkat")),
        Column(_("Perangkat/lembaga")),
        Column(_("Judul")),
        Column(_("Indikator")),
        Column(_("Tahun")),
        *[
            Column(str(spec.label), RUPIAH if spec.kind == "money" else None)
            for spec in FIELDS[category]
        ],
        Column(_("Status")),
        Column(_("Terlambat")),
        Column(_("Pertama diajukan (WIB)")),
        Column(_("Terakhir diperbarui (WIB)")),
    ]


def rekap_header(category: str) -> list[str]:
    return [column.header for column in rekap_columns(category)]


def answering(user: User, instruction: Instruction | None) -> QuerySet[Submission]:
    """What the user sees of one instruction (of every one when none is given)."""
    visible = visible_to(user, roles_of(user))
    return visible if instruction is None else visible.filter(instruction=instruction)


def _batch(rows: QuerySet[Submission], after: tuple[str, int] | None) -> list[Submission]:
    """The next keyset batch in the sheet's order (body code, then id): a short query each."""
    if after is not None:
        code, pk = after
        rows = rows.filter(Q(body__code__gt=code) | Q(body__code=code, pk__gt=pk))
    return list(rows[:ROWS_BATCH])


def build_rekap(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The recap workbook: the summary, then one sheet per category, one row per submission
    the user sees; written row by row, memory flat however many there are."""
    made_at = timezone.now()
    visible = answering(user, instruction)
    total = visible.count()
    done = 0
    progress(done, total)
    workbook = new_workbook()
    summary = summary_table(workbook)  # first in the workbook, filled in last
    per_category: list[tuple[str, int]] = []
    states: Counter[str] = Counter()
    late = 0
    sums: list[tuple[str, int]] = []
    for category, label in Category.choices:
        columns = rekap_columns(category)
        sheet = Table(workbook, title=str(label), columns=columns, sample=WIDTH_SAMPLE)
        money = [(i, c.header) for i, c in enumerate(columns) if c.number_format == RUPIAH]
        totals = [0] * len(money)
        rows: QuerySet[Submission] = (
            visible.filter(category=category)
            .select_related("body")
            .prefetch_related("indicators")
            .order_by("body__code", "id")
        )
        after: tuple[str, int] | None = None
        # One batch of instances alive at a time: the last one is let go (and its cycles
        # collected) before the next is read. The ORM's ``iterator`` would hold two.
        while batch := _batch(rows, after):
            for submission in batch:
                row = rekap_rows(submission)
                sheet.append(row)
                for n, (index, _header) in enumerate(money):
                    if isinstance(row[index], int):
                        totals[n] += row[index]
                states[submission.state] += 1
                late += submission.late
                done += 1
                progress(done, total)
            after = (batch[-1].body.code, batch[-1].pk)
            # Prefetch caches form cycles: without a collection here each batch's instances
            # wait for a rarer one and memory grows with the sheet (see kla.reports.package).
            del batch, submission
            gc.collect()
        sheet.close()
        per_category.append((str(label), sheet.rows))
        sums += [(header, amount) for (_i, header), amount in zip(money, totals, strict=True)]
    summary.extend(
        opening_rows(
            what=_("Rekap pengajuan KLA: satu lembar per kategori, satu baris per pengajuan."),
            instruction=instruction,
            made_at=made_at,
            user=user,
            counts=[
                [_("Jumlah pengajuan"), done],
                *([_("Kategori %(c)s") % {"c": label}, n] for label, n in per_category),
                *(
                    [_("Status %(s)s") % {"s": state.label}, states[state.value]]
                    for state in SubmissionState
                ),
                [_("Terlambat"), late],
                *([_("Jumlah %(f)s") % {"f": label}, rupiah(amount)] for label, amount in sums),
            ],
        )
    )
    summary.close()
    workbook.save(out)
