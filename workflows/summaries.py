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
from workflows.compiled import bind, compiled_cursor
from workflows.models import (
    COVERAGE_SHARDS,
    ComplianceCell,
    CoverageCount,
    CoverageReach,
    CoverageTotal,
    NihilDeclaration,
)

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


# Stand-ins for one body's instruction, body and category in the compiled UPDATE of ``refresh``.
INSTRUCTION_MARK, BODY_MARK = -7_700_000_001, -7_700_000_002
CATEGORY_MARK = "\x00category"


@cache
def _cells_update_sql(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE that recomputes one body's compliance rows, compiled once per process (and
    ``vendor``) from the aggregates of ``cell_aggregates`` (building the expressions anew on
    every change cost more than running them), with ``INSTRUCTION_MARK`` and ``BODY_MARK`` in
    its parameters."""
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


@cache
def _coverage_refresh_sql() -> str:
    """PostgreSQL: one body's coverage rows written again as one statement ahead of the cells'
    UPDATE (``WITH``): the counts upserted, the rows no longer counted deleted. The two touch
    different rows, and neither reads what the UPDATE writes."""
    table = CoverageCount._meta.db_table
    key = "(instruction_id, indicator_id, state, body_id)"
    return (
        f"WITH fresh {COVERAGE_COLUMNS} AS ({_coverage_select(body=True)}), "  # noqa: S608 -- names only
        f"kept AS (INSERT INTO {table} {COVERAGE_COLUMNS} SELECT * FROM fresh "
        f"ON CONFLICT {key} DO UPDATE SET submissions = EXCLUDED.submissions, "
        "evidence = EXCLUDED.evidence), "
        f"gone AS (DELETE FROM {table} c WHERE c.instruction_id = %s AND c.body_id = %s "
        "AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.indicator_id = c.indicator_id "
        "AND f.state = c.state)) "
    )


@cache
def _cell_update_one_sql(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE that recomputes one body's compliance row of one category, compiled once per
    process (and ``vendor``): the aggregates of ``cell_aggregates`` in one subquery whose row
    sets the columns together (planned in a fraction of the time of a subquery per column,
    which an action pays on every call)."""
    mine = reviewed().filter(
        instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK, category=CATEGORY_MARK
    )
    grouped: Any = mine.order_by().values("category").annotate(**cell_aggregates())
    inner, inner_params = grouped.values(
        "n", "least", "due", "beyond", "first"
    ).query.sql_with_params()
    nihil, nihil_params = (
        NihilDeclaration.objects.filter(
            instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK, category=CATEGORY_MARK
        )
        .order_by()
        .values("declared_at")
        .query.sql_with_params()
    )
    table = ComplianceCell._meta.db_table
    sql = (
        f"UPDATE {table} SET (submissions, least_rank, due_at, beyond_draft, submitted_at, "  # noqa: S608 -- names only
        "nihil_at) = (SELECT COALESCE(MIN(a.n), 0), MIN(a.least), MIN(a.due), "
        f"COALESCE(MIN(a.beyond), 0), MIN(a.first), ({nihil}) FROM ({inner}) a) "
        "WHERE instruction_id = %s AND body_id = %s AND category = %s"
    )
    return sql, (*nihil_params, *inner_params, INSTRUCTION_MARK, BODY_MARK, CATEGORY_MARK)


def _cell_update(instruction_id: int, body_id: int, category: str | None) -> tuple[str, list[Any]]:
    if category is None:
        sql, params = _cells_update_sql(connection.vendor)
    else:
        sql, params = _cell_update_one_sql(connection.vendor)
    return sql, bind(
        params, {INSTRUCTION_MARK: instruction_id, BODY_MARK: body_id, CATEGORY_MARK: category}
    )


def _lock_cells(instruction_id: int, body_id: int, categories: Iterable[str]) -> None:
    """The upsert that takes the rows' locks before anything is read (module docstring): a
    missing row is made empty, an existing one is left as it is (only the rows recomputed
    after it may change)."""
    table = ComplianceCell._meta.db_table
    # In the order of the category's name, as ``refresh_due`` locks them (``ORDER BY body_id,
    # category``): two writers taking one body's rows in two orders could deadlock.
    names = sorted(categories)
    rows = ", ".join(["(%s, %s, %s, 0, 0)"] * len(names))
    with compiled_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (instruction_id, body_id, category, submissions, "  # noqa: S608 -- names only
            f"beyond_draft) VALUES {rows} ON CONFLICT (instruction_id, body_id, category) "
            f"DO UPDATE SET submissions = {table}.submissions",
            [value for name in names for value in (instruction_id, body_id, name)],
        )


def refresh(instruction_id: int, body_id: int) -> None:
    """Recompute one body's summary rows of one instruction (call it inside the transaction
    that changed its submissions or nihil declarations; an action calls ``refresh_action``).

    The rows' locks (an upsert), the body's coverage read, coverage and the cells recomputed
    in one statement on PostgreSQL (``_coverage_refresh_sql``; three on SQLite, which has no
    ``WITH`` of writes), the coverage read again, and its difference carried into the
    deployment's totals (``_totals_move``).
    """
    assert transaction.get_connection().in_atomic_block, "refresh runs in the change's transaction"
    # Only the rows locked here are recomputed: an UPDATE that waited for a row lock would
    # recompute it from what it read before the wait. Locking every category's row of the
    # body, as an action does, makes every change of the body's coverage queue.
    _lock_cells(instruction_id, body_id, CATEGORIES)
    cells, cells_params = _cell_update(instruction_id, body_id, None)
    before = _body_coverage(instruction_id, body_id)
    coverage = [instruction_id, body_id]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_coverage_refresh_sql() + cells, coverage * 3 + cells_params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(cells, cells_params)
        CoverageCount.objects.filter(instruction_id=instruction_id, body_id=body_id).delete()
        _coverage_insert(instruction_id, body_id)
    _totals_move(instruction_id, body_id, before, _body_coverage(instruction_id, body_id))


def _body_coverage(instruction_id: int, body_id: int) -> dict[tuple[int, str], tuple[int, int]]:
    rows = CoverageCount.objects.filter(instruction_id=instruction_id, body_id=body_id)
    return {
        (indicator, state): (n, files)
        for indicator, state, n, files in rows.values_list(
            "indicator_id", "state", "submissions", "evidence"
        )
        if n or files
    }


def _totals_move(
    instruction_id: int,
    body_id: int,
    before: dict[tuple[int, str], tuple[int, int]],
    after: dict[tuple[int, str], tuple[int, int]],
) -> None:
    """Carry one body's change of coverage rows into the deployment's totals: the difference
    per indicator and state, and per indicator whether the body came to contribute or
    stopped. At most two statements, none when nothing moved."""
    moved: list[tuple[int, str, int, int]] = []
    for key in sorted(before.keys() | after.keys()):
        n0, f0 = before.get(key, (0, 0))
        n1, f1 = after.get(key, (0, 0))
        if (n0, f0) != (n1, f1):
            moved.append((key[0], key[1], n1 - n0, f1 - f0))
    was = {indicator for indicator, _state in before}
    now = {indicator for indicator, _state in after}
    reach = sorted([(i, 1) for i in now - was] + [(i, -1) for i in was - now])
    shard = body_id % COVERAGE_SHARDS
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        if moved:
            table = CoverageTotal._meta.db_table
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(moved))
            cursor.execute(
                f"INSERT INTO {table} AS t (instruction_id, indicator_id, state, shard, "  # noqa: S608 -- names only
                f"submissions, evidence) VALUES {rows} "
                "ON CONFLICT (instruction_id, indicator_id, state, shard) DO UPDATE SET "
                f"submissions = {greatest}(t.submissions + excluded.submissions, 0), "
                f"evidence = {greatest}(t.evidence + excluded.evidence, 0)",
                [v for i, st, dn, df in moved for v in (instruction_id, i, st, shard, dn, df)],
            )
        if reach:
            table = CoverageReach._meta.db_table
            rows = ", ".join(["(%s, %s, %s, %s)"] * len(reach))
            cursor.execute(
                f"INSERT INTO {table} AS r (instruction_id, indicator_id, shard, bodies) "  # noqa: S608 -- names only
                f"VALUES {rows} ON CONFLICT (instruction_id, indicator_id, shard) DO UPDATE "
                f"SET bodies = {greatest}(r.bodies + excluded.bodies, 0)",
                [v for i, d in reach for v in (instruction_id, i, shard, d)],
            )


@cache
def _coverage_moves_sql(vendor: str) -> list[str]:
    """One submission's coverage moved from one state to another: its indicators' rows of the
    old state lose it and its current files (a row it was the last of goes), those of the new
    state gain them. Each statement's parameters: the submission twice, then instruction,
    body, whether it counted before and the old state (the rows it leaves), then instruction,
    body, the new state and whether it counts now (the rows it enters). One statement on
    PostgreSQL (its writes touch different rows), five on SQLite. The deployment's totals
    (``CoverageTotal``, ``CoverageReach``) move with them."""
    table = CoverageCount._meta.db_table
    link = Link._meta.db_table
    evidence = Evidence._meta.db_table
    greatest = "GREATEST" if vendor == "postgresql" else "MAX"
    common = (
        f"WITH files (n) AS (SELECT COUNT(*) FROM {evidence} e "  # noqa: S608 -- names only
        "WHERE e.submission_id = %s AND e.removed_at IS NULL), "
        f"indicators AS (SELECT l.indicator_id FROM {link} l WHERE l.submission_id = %s)"
    )
    left = (
        "instruction_id = %s AND body_id = %s AND %s AND state = %s "
        "AND indicator_id IN (SELECT indicator_id FROM indicators)"
    )
    gone = f"DELETE FROM {table} WHERE {left} AND submissions <= 1"  # noqa: S608 -- names only
    fewer = (
        f"UPDATE {table} SET submissions = submissions - 1, "  # noqa: S608 -- names only
        f"evidence = {greatest}(evidence - (SELECT n FROM files), 0) "
        f"WHERE {left} AND submissions > 1"
    )
    entered = (
        f"INSERT INTO {table} AS c {COVERAGE_COLUMNS} "  # noqa: S608 -- names only
        "SELECT %s, i.indicator_id, %s, %s, 1, (SELECT n FROM files) FROM indicators i WHERE %s "
        "ON CONFLICT (instruction_id, indicator_id, state, body_id) DO UPDATE SET "
        "submissions = c.submissions + 1, evidence = c.evidence + excluded.evidence"
    )
    # The deployment's totals, by the same difference (in the body's part), and the bodies
    # contributing to each indicator: one more where the body had no row of it before (only
    # a first submit brings a submission into coverage; none leaves it).
    totals = (
        f"INSERT INTO {CoverageTotal._meta.db_table} AS t "  # noqa: S608 -- names only
        "(instruction_id, indicator_id, state, shard, submissions, evidence) "
        "SELECT %s, i.indicator_id, m.state, %s, m.dn, m.dn * (SELECT n FROM files) "
        "FROM indicators i CROSS JOIN (SELECT %s AS state, -1 AS dn, %s AS applies "
        "UNION ALL SELECT %s, 1, %s) m WHERE m.applies ORDER BY 2, 3 "
        "ON CONFLICT (instruction_id, indicator_id, state, shard) DO UPDATE SET "
        f"submissions = {greatest}(t.submissions + excluded.submissions, 0), "
        f"evidence = {greatest}(t.evidence + excluded.evidence, 0)"
    )
    reach = (
        f"INSERT INTO {CoverageReach._meta.db_table} AS r "  # noqa: S608 -- names only
        "(instruction_id, indicator_id, shard, bodies) "
        "SELECT %s, i.indicator_id, %s, 1 FROM indicators i WHERE %s AND NOT EXISTS "
        f"(SELECT 1 FROM {table} c WHERE c.instruction_id = %s AND c.body_id = %s "
        "AND c.indicator_id = i.indicator_id) ORDER BY 2 "
        "ON CONFLICT (instruction_id, indicator_id, shard) DO UPDATE SET bodies = r.bodies + 1"
    )
    if vendor == "postgresql":
        # Ahead of the cells' UPDATE, in the same statement; every part reads the rows as
        # they were before it (the reach asks whether the body had a row of the indicator).
        return [
            f"{common}, gone AS ({gone}), fewer AS ({fewer}), entered AS ({entered}), "
            f"totals AS ({totals}), reach AS ({reach}) ",
        ]
    # SQLite runs them one after the other: the reach first, before the body's rows change.
    return [
        f"{common} {reach}",
        f"{common} {gone}",
        f"{common} {fewer}",
        f"{common} {entered}",
        f"{common} {totals}",
    ]


def refresh_action(submission: Submission, *, from_state: str, counted_before: bool) -> None:
    """The summary rows after one action moved ``submission`` from ``from_state`` (the
    reviewers saw it there when ``counted_before``) to its state, in the action's transaction.

    The body's rows are locked first, as ``refresh`` locks them, so every change of the
    body's rows queues behind this one; then its category's compliance row is recomputed, and
    coverage moves by what this one submission takes and adds (an action changes neither its
    files nor its indicators), reading no other submission, and the deployment's totals with
    it. Two statements on PostgreSQL, seven on SQLite. A row that drifted (a restore without
    ``manage.py summaries_rebuild``) never goes below zero; ``summaries_rebuild --check``
    finds it.
    """
    assert transaction.get_connection().in_atomic_block, "refresh runs in the action's transaction"
    if from_state == submission.state:
        # Every transition of the flow changes the state; a move to the same state would
        # write one coverage row twice in one statement.
        raise ValueError(f"an action left submission {submission.pk} in {from_state!r}")
    instruction_id, body_id = submission.instruction_id, submission.body_id
    _lock_cells(instruction_id, body_id, CATEGORIES)
    cells, cells_params = _cell_update(instruction_id, body_id, submission.category)
    files: list[Any] = [submission.pk, submission.pk]
    leaves: list[Any] = [instruction_id, body_id, counted_before, from_state]
    counted_now = submission.first_submitted_at is not None
    enters: list[Any] = [instruction_id, body_id, submission.state, counted_now]
    shard = body_id % COVERAGE_SHARDS
    totals: list[Any] = [
        instruction_id,
        shard,
        from_state,
        counted_before,
        submission.state,
        counted_now,
    ]
    reach: list[Any] = [
        instruction_id,
        shard,
        counted_now and not counted_before,
        instruction_id,
        body_id,
    ]
    statements = _coverage_moves_sql(connection.vendor)
    with compiled_cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                statements[0] + cells,
                files + leaves + leaves + enters + totals + reach + cells_params,
            )
            return
        reached, gone, fewer, entered, summed = statements
        cursor.execute(reached, files + reach)
        cursor.execute(gone, files + leaves)
        cursor.execute(fewer, files + leaves)
        cursor.execute(entered, files + enters)
        cursor.execute(summed, files + totals)
        cursor.execute(cells, cells_params)


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
        # Locked first, in the order an action's upsert locks one body's (``_lock_cells``): the
        # UPDATE after the lock reads what an action it waited for committed.
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
    totals_rebuild(instruction_id)
    return len(cells)


def totals_rebuild(instruction_id: int) -> None:
    """The deployment's coverage totals of one instruction, from its coverage rows."""
    CoverageTotal.objects.filter(instruction_id=instruction_id).delete()
    CoverageReach.objects.filter(instruction_id=instruction_id).delete()
    counts = CoverageCount._meta.db_table
    shard = f"(body_id %% {COVERAGE_SHARDS})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CoverageTotal._meta.db_table} (instruction_id, indicator_id, "  # noqa: S608 -- names only
            f"state, shard, submissions, evidence) SELECT instruction_id, indicator_id, state, "
            f"{shard}, SUM(submissions), SUM(evidence) FROM {counts} WHERE instruction_id = %s "
            f"GROUP BY instruction_id, indicator_id, state, {shard}",
            [instruction_id],
        )
        cursor.execute(
            f"INSERT INTO {CoverageReach._meta.db_table} (instruction_id, indicator_id, "  # noqa: S608 -- names only
            f"shard, bodies) SELECT instruction_id, indicator_id, {shard}, "
            f"COUNT(DISTINCT body_id) FROM {counts} WHERE instruction_id = %s "
            f"AND (submissions > 0 OR evidence > 0) GROUP BY instruction_id, indicator_id, {shard}",
            [instruction_id],
        )


def _totals_computed(
    want_cov: dict[tuple[int, int, str], tuple[int, int]],
) -> tuple[dict[tuple[int, str, int], tuple[int, int]], dict[tuple[int, int], int]]:
    """What the totals should hold, from the coverage rows as the submissions say."""
    totals: dict[tuple[int, str, int], tuple[int, int]] = {}
    reached: dict[tuple[int, int], set[int]] = defaultdict(set)
    for (indicator, body, state), (n, files) in want_cov.items():
        if not (n or files):
            continue
        key = (indicator, state, body % COVERAGE_SHARDS)
        had = totals.get(key, (0, 0))
        totals[key] = (had[0] + n, had[1] + files)
        reached[(indicator, body % COVERAGE_SHARDS)].add(body)
    return totals, {key: len(bodies) for key, bodies in reached.items()}


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
        want_totals, want_reach = _totals_computed(want_cov)
        have_totals = {
            (row[0], row[1], row[2]): (row[3], row[4])
            for row in CoverageTotal.objects.filter(instruction_id=pk).values_list(
                "indicator_id", "state", "shard", "submissions", "evidence"
            )
        }
        for part in want_totals.keys() | have_totals.keys():
            if want_totals.get(part, (0, 0)) != have_totals.get(part, (0, 0)):
                differing += 1
        have_reach = dict(
            ((row[0], row[1]), row[2])
            for row in CoverageReach.objects.filter(instruction_id=pk).values_list(
                "indicator_id", "shard", "bodies"
            )
        )
        for reached in want_reach.keys() | have_reach.keys():
            if want_reach.get(reached, 0) != have_reach.get(reached, 0):
                differing += 1
    return differing


def backfill(*, using: str = "default", **kwargs: object) -> None:
    """After ``migrate``: build the summary rows of a database that has submissions but none
    yet (the first migrate after the rows were introduced). Cheap when there is nothing to do."""
    if ComplianceCell.objects.using(using).exists():
        # The first migrate after the deployment's totals arrived: each instruction with
        # coverage rows and no totals gets them from its rows.
        counted = set(CoverageCount.objects.values_list("instruction_id", flat=True).distinct())
        totalled = set(CoverageTotal.objects.values_list("instruction_id", flat=True).distinct())
        if counted - totalled:
            with transaction.atomic():
                for pk in sorted(counted - totalled):
                    totals_rebuild(pk)
        return
    if reviewed().using(using).exists() or NihilDeclaration.objects.using(using).exists():
        rebuild()
