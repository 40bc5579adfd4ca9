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

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, Count, IntegerField, Min, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.errors import NotVisible
from kla.models import Body, Category, Instruction, Submission, SubmissionState
from kla.time import wib_date
from roles.permissions import may_view_compliance, reviews_every_body
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.sla.calendar import WorkCalendar
from workflows.sla.nihil import nihil_visible_to

S = SubmissionState

# The flow's order of progress, least advanced first (see the module docstring for returned).
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
    qs = Body.objects.filter(active=True)
    if instruction is not None:
        # An inactive addressee (superseded) keeps its row while it has submissions.
        answering = Submission.objects.filter(instruction=instruction).values("body_id")
        qs = instruction.addressees.filter(Q(active=True) | Q(pk__in=answering))
    if not reviews_every_body(roles):
        qs = qs.filter(pk__in=roles.verifier_of)
    return list(qs.order_by("name", "code").only("pk", "code", "name"))


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

    _fill(cells, user=user, roles=roles, instruction=instruction, now=now)
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
    open_step = ~Q(state=S.AUDITED)
    rank = Case(
        *(When(state=state, then=Value(r)) for state, r in STATE_RANK.items()),
        output_field=IntegerField(),
    )
    grouped = (
        visible_to(user, roles)
        .filter(instruction=instruction, body_id__in=body_ids)
        .order_by()
        .values("body_id", "category")
        .annotate(
            n=Count("pk"),
            least=Min(rank),
            due=Min("due_at", filter=open_step & Q(due_at__isnull=False)),
            late_steps=Count("pk", filter=open_step & Q(due_at__lt=now)),
            beyond_draft=Count("pk", filter=~Q(state=S.DRAFT)),
        )
    )
    for entry in grouped:
        found = cells.get((entry["body_id"], entry["category"]))
        if found is None:  # a category that no longer exists: nothing to show it in
            continue
        cell = found
        cell.count = entry["n"]
        cell.least_state = STATE_ORDER[entry["least"]] if entry["least"] is not None else None
        cell.due_at = entry["due"]
        cell.overdue = entry["late_steps"] > 0
        cell.beyond_draft = entry["beyond_draft"]
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


def answered_all_at(
    matrix: ComplianceMatrix, *, user: User | AnonymousUser, roles: Roles | None = None
) -> dict[str, dt.datetime]:
    """When each body of the matrix came to have answered all four categories, by its code.

    A category counts as answered from the first submit of its earliest visible submission that
    still answers it (past the draft state: a withdrawn one does not), or from its nihil
    declaration, as the matrix counts ``answered``; a body is complete at the latest of its four
    categories. Bodies still missing a category are left out. Two set-based queries.
    """
    instruction = matrix.instruction
    codes = [row.agency for row in matrix.rows]
    if instruction is None or not codes:
        return {}
    roles = roles if roles is not None else roles_of(user)
    first: dict[tuple[str, str], dt.datetime] = {}

    def keep(code: str, category: str, at: dt.datetime | None) -> None:
        if at is not None and ((code, category) not in first or at < first[(code, category)]):
            first[(code, category)] = at

    submitted = (
        visible_to(user, roles)
        .filter(instruction=instruction, body__code__in=codes)
        .exclude(state=S.DRAFT)
        .order_by()
        .values("body__code", "category")
        .annotate(at=Min(Coalesce("first_submitted_at", "created_at")))
    )
    for entry in submitted:
        keep(entry["body__code"], entry["category"], entry["at"])
    declared = (
        nihil_visible_to(roles)
        .filter(instruction=instruction, body__code__in=codes)
        .order_by()
        .values_list("body__code", "category", "declared_at")
    )
    for code, category, at in declared:
        keep(code, category, at)
    complete: dict[str, dt.datetime] = {}
    for code in codes:
        moments = [first.get((code, category)) for category in CATEGORIES]
        if all(m is not None for m in moments):
            complete[code] = max(m for m in moments if m is not None)
    return complete
