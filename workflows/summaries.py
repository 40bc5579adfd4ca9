"""Summary rows kept current by the actions: the compliance matrix and indicator coverage read
them instead of every submission of an instruction.

Each row (``workflows.models.summaries``) holds what reviewers see of one body: verifiers in
scope, consolidators and auditors see a submission once it has been submitted, in every state
after (``roles.selectors.visibility_filter``). A scoped reviewer reads the rows of the bodies in
scope, a global one all of them: the same rows, never a scan of the submissions.

``refresh`` recomputes one body's rows of one instruction from its own submissions, inside the
transaction that changed them: every service that changes a submission's state, category,
indicators, files or due time, or a nihil declaration, calls it before it commits. It first
takes the rows' locks (an upsert), so two actions on one body's submissions recompute one
after the other and the later one reads what the earlier one committed: the counts are never
lost to a race. ``rebuild`` recomputes whole instructions, set-based, for the due times
recomputed after a calendar change and for ``manage.py summaries_rebuild``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.sql.subqueries import UpdateQuery

from kla.models import Category, Evidence, Submission, SubmissionState
from workflows.models import ComplianceCell, CoverageCount, NihilDeclaration

S = SubmissionState

# The flow's order of progress, least advanced first: ``returned`` sits behind ``submitted``
# (a returned submission waits for its body again; ``workflows.sla.compliance``).
STATE_ORDER: tuple[str, ...] = (
    S.DRAFT.value,
    S.RETURNED.value,
    S.SUBMITTED.value,
    S.VERIFIED.value,
    S.CONSOLIDATED.value,
    S.AUDITED.value,
)
STATE_RANK: dict[str, int] = {state: rank for rank, state in enumerate(STATE_ORDER)}
CATEGORIES: tuple[str, ...] = tuple(Category.values)
BATCH = 2000

Link = Submission.indicators.through


def reviewed() -> QuerySet[Submission]:
    """The submissions reviewers see: those submitted at least once."""
    return Submission.objects.filter(first_submitted_at__isnull=False)


def _rank() -> Case:
    return Case(
        *(When(state=state, then=Value(rank)) for state, rank in STATE_RANK.items()),
        output_field=IntegerField(),
    )


def cell_aggregates() -> dict[str, object]:
    """A cell's numbers as aggregates over its submissions (written once: for the row-by-row
    refresh, the set-based rebuild, and the live count of a reviewer's own bodies in
    ``workflows.sla.compliance``)."""
    open_step = ~Q(state=S.AUDITED) & Q(due_at__isnull=False)
    return {
        "n": Count("pk"),
        "least": Min(_rank()),
        "due": Min("due_at", filter=open_step),
        "beyond": Count("pk", filter=~Q(state=S.DRAFT)),
        "first": Min("first_submitted_at", filter=~Q(state=S.DRAFT)),
    }


# Stand-ins for one body's instruction and body in the compiled UPDATE of ``refresh``.
INSTRUCTION_MARK, BODY_MARK = -7_700_000_001, -7_700_000_002


@cache
def _cells_update_sql() -> tuple[str, tuple[Any, ...]]:
    """The UPDATE that recomputes one body's compliance rows, compiled once per process from
    the aggregates of ``cell_aggregates`` (building the expressions anew on every action cost
    more than running them), with ``INSTRUCTION_MARK`` and ``BODY_MARK`` in its parameters."""
    mine = reviewed().filter(instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK)
    by_category = mine.filter(category=OuterRef("category")).order_by().values("category")

    def column(name: str) -> Subquery:
        aggregate = cell_aggregates()[name]
        return Subquery(by_category.annotate(v=aggregate).values("v")[:1])

    nihil = NihilDeclaration.objects.filter(
        instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK, category=OuterRef("category")
    ).values("declared_at")[:1]
    cells = ComplianceCell.objects.filter(instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK)
    query = cells.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(
        {
            "submissions": Coalesce(column("n"), 0),
            "least_rank": column("least"),
            "due_at": column("due"),
            "beyond_draft": Coalesce(column("beyond"), 0),
            "submitted_at": column("first"),
            "nihil_at": Subquery(nihil),
        }
    )
    sql, params = query.get_compiler(cells.db).as_sql()
    assert params.count(INSTRUCTION_MARK) >= 2 and params.count(BODY_MARK) >= 2
    return sql, tuple(params)


def refresh(instruction_id: int, body_id: int) -> None:
    """Recompute one body's summary rows of one instruction (call it inside the transaction
    that changed its submissions or nihil declarations)."""
    assert transaction.get_connection().in_atomic_block, "refresh runs in the change's transaction"
    # The upsert takes the rows' locks before anything is read: see the module docstring.
    ComplianceCell.objects.bulk_create(
        [
            ComplianceCell(instruction_id=instruction_id, body_id=body_id, category=category)
            for category in CATEGORIES
        ],
        update_conflicts=True,
        unique_fields=["instruction", "body", "category"],
        update_fields=["submissions"],
    )
    sql, params = _cells_update_sql()
    marks = {INSTRUCTION_MARK: instruction_id, BODY_MARK: body_id}
    with connection.cursor() as cursor:
        cursor.execute(sql, [marks.get(p, p) if isinstance(p, int) else p for p in params])
    CoverageCount.objects.filter(instruction_id=instruction_id, body_id=body_id).delete()
    _coverage_insert(instruction_id, body_id)


def refresh_due(pairs: Iterable[tuple[int, int]]) -> None:
    """Give the compliance rows of these (instruction, body) pairs their earliest open due
    time again, from the submissions as committed (after a background recomputation)."""
    bodies: dict[int, set[int]] = defaultdict(set)
    for instruction_id, body_id in pairs:
        bodies[instruction_id].add(body_id)
    for instruction_id, ids in sorted(bodies.items()):
        earliest = (
            reviewed()
            .filter(
                instruction_id=instruction_id,
                body_id=OuterRef("body_id"),
                category=OuterRef("category"),
            )
            .order_by()
            .values("category")
            .annotate(v=cell_aggregates()["due"])
            .values("v")[:1]
        )
        cells = ComplianceCell.objects.filter(
            instruction_id=instruction_id, body_id__in=sorted(ids)
        )
        # Locked first, in the order an action's upsert locks one body's: the UPDATE after
        # the lock reads what an action it waited for committed.
        list(cells.select_for_update().order_by("body_id", "category").values_list("pk"))
        cells.update(due_at=Subquery(earliest))


def _coverage_select(*, body: bool) -> str:
    """The coverage counts of one instruction's reviewed submissions (of one body when
    ``body``), per indicator, body and state: submissions, and their current files. The one
    definition, for the refresh and the rebuild (``INSERT ... SELECT``) and the check."""
    link = Link._meta.db_table
    submission = Submission._meta.db_table
    evidence = Evidence._meta.db_table
    mine = "s.instruction_id = %s AND s.first_submitted_at IS NOT NULL"
    if body:
        mine += " AND s.body_id = %s"
    return (
        "SELECT s.instruction_id, l.indicator_id, s.body_id, s.state, COUNT(*), "  # noqa: S608 -- names only
        "COALESCE(SUM(f.n), 0) "
        f"FROM {link} l JOIN {submission} s ON s.id = l.submission_id "
        f"LEFT JOIN (SELECT e.submission_id, COUNT(*) AS n FROM {evidence} e "
        f"JOIN {submission} s ON s.id = e.submission_id "
        f"WHERE e.removed_at IS NULL AND {mine} GROUP BY e.submission_id) f "
        "ON f.submission_id = s.id "
        f"WHERE {mine} GROUP BY s.instruction_id, l.indicator_id, s.body_id, s.state"
    )


COVERAGE_COLUMNS = "(instruction_id, indicator_id, body_id, state, submissions, evidence)"


def _coverage_insert(instruction_id: int, body_id: int | None = None) -> None:
    """Write the coverage rows of one instruction (one body's) from its submissions."""
    params = [instruction_id] if body_id is None else [instruction_id, body_id]
    table = CoverageCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} {COVERAGE_COLUMNS} " + _coverage_select(body=body_id is not None),
            params * 2,
        )


def _coverage_computed(instruction_id: int) -> dict[tuple[int, int, str], tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(_coverage_select(body=False), [instruction_id] * 2)
        return {(r[1], r[2], r[3]): (r[4], r[5]) for r in cursor.fetchall()}


@transaction.atomic
def rebuild(instruction_id: int | None = None) -> int:
    """Recompute every summary row of one instruction (all of them without one), set-based;
    returns the number of compliance rows written."""
    return sum(_rebuild_one(pk) for pk in _instructions(instruction_id))


def _instructions(instruction_id: int | None) -> list[int]:
    if instruction_id is not None:
        return [instruction_id]
    return sorted(
        set(Submission.objects.values_list("instruction_id", flat=True).distinct())
        | set(NihilDeclaration.objects.values_list("instruction_id", flat=True).distinct())
        | set(ComplianceCell.objects.values_list("instruction_id", flat=True).distinct())
    )


def _computed(instruction_id: int) -> list[ComplianceCell]:
    """The compliance rows of one instruction as its submissions and declarations say now."""
    mine = reviewed().filter(instruction_id=instruction_id)
    cells: dict[tuple[int, str], ComplianceCell] = {}
    grouped: Any = mine.order_by().values("body_id", "category").annotate(**cell_aggregates())
    for entry in grouped:
        cells[(entry["body_id"], entry["category"])] = ComplianceCell(
            instruction_id=instruction_id,
            body_id=entry["body_id"],
            category=entry["category"],
            submissions=entry["n"],
            least_rank=entry["least"],
            due_at=entry["due"],
            beyond_draft=entry["beyond"],
            submitted_at=entry["first"],
        )
    declared = NihilDeclaration.objects.filter(instruction_id=instruction_id).values_list(
        "body_id", "category", "declared_at"
    )
    for body_id, category, at in declared:
        cell = cells.setdefault(
            (body_id, category),
            ComplianceCell(instruction_id=instruction_id, body_id=body_id, category=category),
        )
        cell.nihil_at = at
    return list(cells.values())


def _rebuild_one(instruction_id: int) -> int:
    cells = _computed(instruction_id)
    ComplianceCell.objects.filter(instruction_id=instruction_id).delete()
    CoverageCount.objects.filter(instruction_id=instruction_id).delete()
    ComplianceCell.objects.bulk_create(cells, batch_size=BATCH)
    _coverage_insert(instruction_id)
    return len(cells)


CELL_FIELDS = ("submissions", "least_rank", "due_at", "beyond_draft", "submitted_at", "nihil_at")


def differences(instruction_id: int | None = None) -> int:
    """How many summary rows differ from what the submissions say (missing, extra or with
    other numbers); 0 when they agree. Changes nothing."""
    differing = 0
    for pk in _instructions(instruction_id):
        cells = _computed(pk)
        want = {(c.body_id, c.category): tuple(getattr(c, f) for f in CELL_FIELDS) for c in cells}
        have = {
            (row[0], row[1]): tuple(row[2:])
            for row in ComplianceCell.objects.filter(instruction_id=pk).values_list(
                "body_id", "category", *CELL_FIELDS
            )
        }
        blank: tuple[object, ...] = (0, None, None, 0, None, None)
        for key in want.keys() | have.keys():
            # A row of zeros stands for no row: a body whose only submission left the view.
            if want.get(key, blank) != have.get(key, blank):
                differing += 1
        want_cov = _coverage_computed(pk)
        have_cov = {
            (row[0], row[1], row[2]): (row[3], row[4])
            for row in CoverageCount.objects.filter(instruction_id=pk).values_list(
                "indicator_id", "body_id", "state", "submissions", "evidence"
            )
        }
        for where in want_cov.keys() | have_cov.keys():
            if want_cov.get(where, (0, 0)) != have_cov.get(where, (0, 0)):
                differing += 1
    return differing


def backfill(*, using: str = "default", **kwargs: object) -> None:
    """After ``migrate``: build the summary rows of a database that has submissions but none
    yet (the first migrate after the rows were introduced). Cheap when there is nothing to do."""
    if ComplianceCell.objects.using(using).exists():
        return
    if reviewed().using(using).exists() or NihilDeclaration.objects.using(using).exists():
        rebuild()
