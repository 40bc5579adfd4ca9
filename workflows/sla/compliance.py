"""The compliance matrix: every addressee body against the four categories of the instruction.

For P3AP2KB (verifiers), BAPPERIDA (consolidators) and Inspektorat (auditors). Each cell says,
for the current instruction and counting only what the viewer may see
(``roles.selectors.visible_to``; a never-submitted draft is private to its body):

* how many submissions the body has in the category and the least advanced state among them;
* whether the body declared "nihil" for it (``workflows.sla.nihil``);
* the earliest open due time and whether it is overdue: one of its submissions is past due,
  or, once the instruction's deadline has passed, the cell is still unanswered (no submission
  past the draft state and no nihil; DESIGN, ``GET /api/v1/compliance/``). The operator's home
  (``obligations_of``) keeps the first meaning only: it says "lewat" beside the deadline itself.

"Least advanced" follows the flow's order of progress: draft < returned < submitted < verified
< consolidated < audited. ``returned`` sits behind ``submitted``: a returned submission waits
for the operator again and must come back through ``submitted`` before anyone verifies it
(DESIGN, "The flow"), so a body with a returned item is further from done than one whose items
all wait for the verifier.

The matrix is computed with a fixed handful of set-based queries (the instruction, the bodies,
one grouped aggregate over the visible submissions, the nihil declarations, the calendar),
whatever the number of bodies: never a query per cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.errors import NotVisible
from kla.models import Body, Category, Instruction, SubmissionState
from kla.time import WIB, wib_date
from roles.permissions import may_view_compliance, reviews_every_body
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.models import ComplianceCell as SummaryCell
from workflows.sla.calendar import WorkCalendar
from workflows.sla.nihil import nihil_visible_to
from workflows.summaries import CATEGORIES, STATE_ORDER, cell_aggregates

S = SubmissionState


@dataclass
class ComplianceCell:
    """One body in one category, as far as the viewer can see."""

    agency: str
    body_name: str
    category: str
    count: int = 0
    least_state: str | None = None
    nihil: bool = False
    due_at: dt.datetime | None = None
    overdue: bool = False
    # Visible submissions past the draft state: with ``nihil``, what "answered" means for the
    # reminders (DESIGN, "SLA timers"); a withdrawn draft does not answer.
    beyond_draft: int = 0

    @property
    def answered(self) -> bool:
        return self.nihil or self.beyond_draft > 0

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label)


@dataclass
class ComplianceRow:
    """One body and its four cells, in the order of ``CATEGORIES``."""

    agency: str
    name: str
    cells: list[ComplianceCell] = field(default_factory=list)


@dataclass
class DeadlineStatus:
    """How much time the current instruction leaves.

    ``working_days_left`` counts the working days from today (WIB) through the deadline day,
    both included, as ``manage.py workdays`` counts them: 1 on the deadline day itself, 5 on
    the Monday before a Friday deadline in a week without holidays. Once the deadline day has
    ended (23:59:59 WIB) it is 0 and ``passed`` is true ("lewat").
    """

    deadline: dt.date
    deadline_end: dt.datetime
    working_days_left: int
    passed: bool


@dataclass
class ComplianceMatrix:
    """The whole matrix for one viewer at one moment."""

    instruction: Instruction | None
    deadline: DeadlineStatus | None
    rows: list[ComplianceRow]
    now: dt.datetime

    def cells(self) -> list[ComplianceCell]:
        """Every cell, body by body, category by category (the API's rows)."""
        return [cell for row in self.rows for cell in row.cells]


def deadline_status(
    *, instruction: Instruction, now: dt.datetime, calendar: WorkCalendar | None = None
) -> DeadlineStatus:
    """Working days left to the instruction's deadline as of ``now`` (see ``DeadlineStatus``)."""
    end = instruction.deadline_end
    passed = now >= instruction.late_from
    left = 0
    if not passed:
        calendar = calendar if calendar is not None else WorkCalendar.load()
        left = sum(1 for _ in calendar.workdays(wib_date(now), instruction.deadline))
    return DeadlineStatus(
        deadline=instruction.deadline, deadline_end=end, working_days_left=left, passed=passed
    )


def _bodies(roles: Roles, instruction: Instruction | None) -> list[Body]:
    """The rows: the instruction's addressees for reviewers (every active body without an
    instruction), those in scope for a scoped verifier."""
    return list(_bodies_qs(roles, instruction).order_by("name", "code"))


def _bodies_qs(roles: Roles, instruction: Instruction | None) -> QuerySet[Body]:
    qs = Body.objects.filter(active=True)
    if instruction is not None:
        # An inactive addressee (superseded) keeps its row while it has submissions. Asked
        # as IN, which PostgreSQL reads once into a hash and only when it meets an inactive
        # body, so the addressees are joined to their bodies in one pass instead of looking
        # each body up by its key.
        answering = SummaryCell.objects.filter(instruction=instruction).values("body_id")
        qs = instruction.addressees.filter(Q(active=True) | Q(pk__in=answering))
    if not reviews_every_body(roles):
        qs = qs.filter(pk__in=roles.verifier_of)
    return qs.only("pk", "code", "name")


def compliance_compute(
    *,
    user: User | AnonymousUser,
    roles: Roles | None = None,
    instruction: Instruction | None = None,
    now: dt.datetime | None = None,
) -> ComplianceMatrix:
    """The compliance matrix of an instruction (the current one unless given), as this person
    may see it: its addressees against the four categories.

    Raises ``NotVisible`` (404) for anyone who is not a verifier, consolidator or auditor:
    the matrix as a whole is a reviewer's page. Without a current instruction every cell is
    empty and there is no deadline.
    """
    roles = roles if roles is not None else roles_of(user)
    if not may_view_compliance(roles):
        raise NotVisible(_("Halaman tidak ditemukan."))
    now = now if now is not None else timezone.now()
    instruction = instruction if instruction is not None else Instruction.current()
    bodies = _bodies(roles, instruction)
    rows, cells = _empty_rows(bodies)
    if instruction is None or not bodies:
        deadline = (
            None if instruction is None else deadline_status(instruction=instruction, now=now)
        )
        return ComplianceMatrix(instruction=instruction, deadline=deadline, rows=rows, now=now)

    _fill_from_summaries(cells, instruction=instruction, scope=_scope(roles), now=now)
    _own_bodies_live(cells, user=user, roles=roles, instruction=instruction, now=now)
    deadline = deadline_status(instruction=instruction, now=now)
    if deadline.passed:
        # After the deadline a cell nobody answered is overdue too (DESIGN, the compliance API).
        for cell in cells.values():
            if not cell.answered:
                cell.overdue = True
    return ComplianceMatrix(instruction=instruction, deadline=deadline, rows=rows, now=now)


def _empty_rows(
    bodies: list[Body],
) -> tuple[list[ComplianceRow], dict[tuple[int, str], ComplianceCell]]:
    """A row of four empty cells per body, and the cells by (body id, category)."""
    cells: dict[tuple[int, str], ComplianceCell] = {}
    rows: list[ComplianceRow] = []
    for body in bodies:
        row = ComplianceRow(agency=body.code, name=body.name)
        for category in CATEGORIES:
            cell = ComplianceCell(agency=body.code, body_name=body.name, category=category)
            row.cells.append(cell)
            cells[(body.pk, category)] = cell
        rows.append(row)
    return rows, cells


def _scope(roles: Roles) -> frozenset[int] | None:
    """The bodies whose rows a reviewer reads: ``None`` for every body."""
    return None if reviews_every_body(roles) else frozenset(roles.verifier_of)


def _fill_from_summaries(
    cells: dict[tuple[int, str], ComplianceCell],
    *,
    instruction: Instruction,
    scope: frozenset[int] | None,
    now: dt.datetime,
    body_ids: list[int] | None = None,
) -> None:
    """Copy the summary rows (``workflows.summaries``) of these cells into them."""
    rows = SummaryCell.objects.filter(instruction=instruction)
    if body_ids is not None:
        rows = rows.filter(body_id__in=body_ids)
    if scope is not None:
        rows = rows.filter(body_id__in=scope)
    for row in rows.order_by():
        found = cells.get((row.body_id, row.category))
        if found is None:  # a body no longer in the rows, or a category that no longer exists
            continue
        found.count = row.submissions
        found.least_state = STATE_ORDER[row.least_rank] if row.least_rank is not None else None
        found.due_at = row.due_at
        found.overdue = row.due_at is not None and row.due_at < now
        found.beyond_draft = row.beyond_draft
        found.nihil = row.nihil_at is not None


def _own_bodies_live(
    cells: dict[tuple[int, str], ComplianceCell],
    *,
    user: User | AnonymousUser,
    roles: Roles,
    instruction: Instruction,
    now: dt.datetime,
) -> None:
    """A reviewer who also operates some bodies sees their drafts too: those bodies' cells
    are counted from their submissions (a handful of bodies), the rest come from the rows."""
    own = {key: cell for key, cell in cells.items() if key[0] in roles.operator_of}
    if not own:
        return
    for cell in own.values():
        cell.count, cell.least_state, cell.due_at, cell.overdue, cell.beyond_draft = (
            0,
            None,
            None,
            False,
            0,
        )
        cell.nihil = False
    _fill(own, user=user, roles=roles, instruction=instruction, now=now)


def _fill(
    cells: dict[tuple[int, str], ComplianceCell],
    *,
    user: User | AnonymousUser,
    roles: Roles,
    instruction: Instruction,
    now: dt.datetime,
) -> None:
    """Count each body's visible submissions and nihil declarations into its cells."""
    body_ids = sorted({body_id for body_id, _category in cells})
    grouped: Any = (
        visible_to(user, roles)
        .filter(instruction=instruction, body_id__in=body_ids)
        .order_by()
        .values("body_id", "category")
        .annotate(**cell_aggregates())
    )
    for entry in grouped:
        found = cells.get((entry["body_id"], entry["category"]))
        if found is None:  # a category that no longer exists: nothing to show it in
            continue
        found.count = entry["n"]
        found.least_state = STATE_ORDER[entry["least"]] if entry["least"] is not None else None
        found.due_at = entry["due"]
        # Its earliest open step past due is what makes a cell overdue.
        found.overdue = entry["due"] is not None and entry["due"] < now
        found.beyond_draft = entry["beyond"]
    declared = (
        nihil_visible_to(roles)
        .filter(instruction=instruction, body_id__in=body_ids)
        .order_by()
        .values_list("body_id", "category")
    )
    for body_id, category in declared:
        if (body_id, category) in cells:
            cells[(body_id, category)].nihil = True


def obligations_of(
    *,
    user: User,
    roles: Roles | None = None,
    instruction: Instruction | None = None,
    now: dt.datetime | None = None,
) -> ComplianceMatrix:
    """What the bodies a person operates owe an instruction (the current one unless given):
    their rows of the compliance matrix, for the operator's home. Bodies the instruction does
    not address are left out; without a current instruction there are no rows."""
    roles = roles if roles is not None else roles_of(user)
    now = now if now is not None else timezone.now()
    instruction = instruction if instruction is not None else Instruction.current()
    if instruction is None:
        return ComplianceMatrix(instruction=None, deadline=None, rows=[], now=now)
    bodies = list(
        instruction.addressees.filter(pk__in=roles.operator_of)
        .order_by("name", "code")
        .only("pk", "code", "name")
    )
    rows, cells = _empty_rows(bodies)
    if cells:
        _fill(cells, user=user, roles=roles, instruction=instruction, now=now)
    return ComplianceMatrix(
        instruction=instruction,
        deadline=deadline_status(instruction=instruction, now=now),
        rows=rows,
        now=now,
    )


# --- the matrix a page at a time, from the summary rows -------------------------------------

ORDERINGS = ("-overdue", "overdue", "name", "-name", "-answered", "answered")


@dataclass
class MatrixTotals:
    """The counts above the matrix, for every body in view (``MatrixView.totals``)."""

    bodies: int = 0
    answered_all: int = 0
    empty_cells: int = 0
    overdue_cells: int = 0
    # How many bodies came to have answered all four categories on each day (WIB); days
    # without one are left out.
    completed_on: dict[dt.date, int] = field(default_factory=dict)


@dataclass
class MatrixView:
    """The matrix of one instruction as one reviewer sees it, read from the summary rows a
    page at a time: its bodies as a queryset that filters and sorts in the database, each with
    how many of the shown categories it ``answered``, has ``unanswered`` and has ``overdue``.

    Overdue is as ``compliance_compute`` says: an open step past its due time, or, once the
    deadline has passed, a cell still unanswered (a body with no row in a category has not
    answered it).
    """

    instruction: Instruction
    deadline: DeadlineStatus
    scope: frozenset[int] | None
    bodies: QuerySet[Body]
    now: dt.datetime
    user: User | AnonymousUser
    roles: Roles

    def annotated(self, categories: tuple[str, ...] = CATEGORIES) -> QuerySet[Body]:
        # Each body joins its rows of this instruction in the shown categories only, on the
        # join itself: the rows of earlier instructions (a deployment keeps them year after
        # year) are never read, instead of being joined and then left out of every count.
        cells = FilteredRelation(
            "compliance_cells",
            condition=Q(compliance_cells__instruction=self.instruction)
            & Q(compliance_cells__category__in=list(categories)),
        )
        answered = Q(shown_cells__nihil_at__isnull=False) | Q(shown_cells__beyond_draft__gt=0)
        late = Q(shown_cells__due_at__lt=self.now)
        overdue: Any = Count("shown_cells", filter=late)
        if self.deadline.passed:
            overdue = overdue + (
                Value(len(categories)) - Count("shown_cells", filter=answered | late)
            )
        return self.bodies.annotate(shown_cells=cells).annotate(
            answered=Count("shown_cells", filter=answered),
            unanswered=Value(len(categories)) - Count("shown_cells", filter=answered),
            overdue=overdue,
            filled=Count(
                "shown_cells",
                filter=Q(shown_cells__submissions__gt=0) | Q(shown_cells__nihil_at__isnull=False),
            ),
        )

    def rows(
        self,
        *,
        search: str = "",
        categories: tuple[str, ...] = CATEGORIES,
        only: str = "",
        ordering: str = "-overdue",
    ) -> QuerySet[Body]:
        """The bodies searched (name or code), kept (``only``: ``overdue``, ``unanswered``) and
        sorted (``ORDERINGS``; by name, then code, within equal counts)."""
        qs: Any = self.annotated(categories)
        if search:
            qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search))
        if only == "overdue":
            qs = qs.filter(overdue__gt=0)
        elif only == "unanswered":
            qs = qs.filter(unanswered__gt=0)
        field = ordering.lstrip("-")
        if field == "name":
            keys: tuple[str, ...] = (
                ("-name", "-code") if ordering.startswith("-") else ("name", "code")
            )
        else:
            keys = (f"-{field}" if ordering.startswith("-") else field, "name", "code")
        ordered: QuerySet[Body] = qs.order_by(*keys)
        return ordered

    def totals(self) -> MatrixTotals:
        """For every body in view: their number, those that answered all four categories, the
        cells without a submission or nihil, the cells overdue, and how many bodies came to
        have answered all four on each day (WIB): the latest of their categories, each
        answered from its first submit or its nihil.

        One pass over the bodies' rows in the database, whatever the number of bodies: the
        per-body counts grouped by the day each body completed (a few dozen groups, one for
        the bodies not complete), added up here."""
        n = len(CATEGORIES)
        cell = "shown_cells__"
        answered_at = Case(
            When(**{f"{cell}nihil_at__isnull": True}, then=F(f"{cell}submitted_at")),
            When(**{f"{cell}submitted_at__isnull": True}, then=F(f"{cell}nihil_at")),
            When(
                **{f"{cell}submitted_at__lt": F(f"{cell}nihil_at")}, then=F(f"{cell}submitted_at")
            ),
            default=F(f"{cell}nihil_at"),
        )
        answered = Q(shown_cells__nihil_at__isnull=False) | Q(shown_cells__beyond_draft__gt=0)
        annotated: Any = self.annotated()
        per_body = (
            annotated.annotate(done_on=TruncDate(Max(answered_at, filter=answered), tzinfo=WIB))
            .values("answered", "filled", "overdue", "done_on")
            .order_by()
        )
        inner, params = per_body.query.sql_with_params()
        # ``inner`` is Django's compiled query; its values travel in ``params``. Django's
        # aggregate() cannot group these annotations (themselves aggregates) by itself.
        sql = (
            "SELECT day, COUNT(*), SUM(CASE WHEN answered = %s THEN 1 ELSE 0 END), "  # noqa: S608
            "SUM(filled), SUM(overdue) FROM (SELECT CASE WHEN answered = %s THEN done_on END "
            f"AS day, answered, filled, overdue FROM ({inner}) per_body) bodies GROUP BY day"
        )
        totals = MatrixTotals()
        filled_cells = 0
        with connections[per_body.db].cursor() as cursor:
            cursor.execute(sql, [n, n, *params])
            for day, bodies, answered_all, filled, overdue in cursor.fetchall():
                totals.bodies += bodies
                totals.answered_all += answered_all or 0
                totals.overdue_cells += overdue or 0
                filled_cells += filled or 0
                if day is not None:
                    # SQLite hands a date back as its text.
                    on = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
                    totals.completed_on[on] = bodies
        totals.empty_cells = n * totals.bodies - filled_cells
        return totals

    def cells_of(self, bodies: list[Body]) -> list[ComplianceRow]:
        """The rows of these bodies (a page), with all their cells (one query)."""
        rows, cells = _empty_rows(bodies)
        if bodies:
            _fill_from_summaries(
                cells,
                instruction=self.instruction,
                scope=self.scope,
                now=self.now,
                body_ids=[b.pk for b in bodies],
            )
            _own_bodies_live(
                cells,
                user=self.user,
                roles=self.roles,
                instruction=self.instruction,
                now=self.now,
            )
            if self.deadline.passed:
                for cell in cells.values():
                    if not cell.answered:
                        cell.overdue = True
        return rows


def matrix_view(
    *,
    user: User | AnonymousUser,
    roles: Roles | None = None,
    instruction: Instruction | None = None,
    now: dt.datetime | None = None,
) -> MatrixView | None:
    """The matrix of an instruction (the current one unless given) for a page or the API;
    ``None`` without a current instruction. 404 for anyone but a reviewer."""
    roles = roles if roles is not None else roles_of(user)
    if not may_view_compliance(roles):
        raise NotVisible(_("Halaman tidak ditemukan."))
    now = now if now is not None else timezone.now()
    instruction = instruction if instruction is not None else Instruction.current()
    if instruction is None:
        return None
    return MatrixView(
        instruction=instruction,
        deadline=deadline_status(instruction=instruction, now=now),
        scope=_scope(roles),
        bodies=_bodies_qs(roles, instruction),
        now=now,
        user=user,
        roles=roles,
    )
