"""The compliance matrix service: counts, least state, nihil, due times, visibility, queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kla.errors import NotVisible
from kla.models import Body
from roles.models import Membership
from roles.roles import roles_of
from tests import factories as f
from workflows.models import CalendarDay
from workflows.services import submission_act
from workflows.sla.calendar import WorkCalendar
from workflows.sla.compliance import compliance_compute, deadline_status
from workflows.sla.nihil import nihil_declare
from workflows.summaries import STATE_ORDER

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def cell(matrix: Any, agency: str, category: str) -> Any:
    (found,) = [c for c in matrix.cells() if c.agency == agency and c.category == category]
    return found


@pytest.fixture
def world(clock: Any, people: dict[str, Any], other_operator: User) -> Any:
    """On 17 March 2026 at 10:00 WIB, through the services:

    dinkes: regulation one submitted and one returned; program a never-submitted draft;
    partnership one audited; innovation declared nihil.
    dinsos: regulation one submitted then withdrawn (a draft again); program one verified.
    kosong: nothing at all. An inactive body is no row.
    """
    operator = people["operator"]
    f.advance(f.make_draft(operator), "submitted", **people)
    f.advance(f.make_draft(operator), "returned", **people)
    f.make_draft(operator, "program")
    f.advance(f.make_draft(operator, "partnership"), "audited", **people)
    nihil_declare(user=operator, category="innovation", reason="Belum ada inovasi")
    theirs = {**people, "operator": other_operator}
    withdrawn = f.advance(f.make_draft(other_operator), "submitted", **theirs)
    submission_act(user=other_operator, submission_id=withdrawn.pk, action="withdraw")
    f.advance(f.make_draft(other_operator, "program"), "verified", **theirs)
    f.BodyFactory(code="kosong", name="Badan Kosong")
    f.BodyFactory(code="bubar", name="Badan Bubar", active=False)
    return people


def test_the_state_order_puts_returned_behind_submitted() -> None:
    assert STATE_ORDER == ("draft", "returned", "submitted", "verified", "consolidated", "audited")


def test_every_active_body_gets_a_row_with_the_four_categories_in_order(
    world: dict[str, Any],
) -> None:
    matrix = compliance_compute(user=world["verifier"])
    assert [r.agency for r in matrix.rows] == ["kosong", "dinkes", "dinsos"]  # by name
    for row in matrix.rows:
        assert [c.category for c in row.cells] == [
            "regulation",
            "program",
            "partnership",
            "innovation",
        ]


def test_counts_and_the_least_advanced_state_per_cell(world: dict[str, Any]) -> None:
    matrix = compliance_compute(user=world["consolidator"])
    reg = cell(matrix, "dinkes", "regulation")
    assert (reg.count, reg.least_state) == (2, "returned")
    audited = cell(matrix, "dinkes", "partnership")
    assert (audited.count, audited.least_state, audited.due_at, audited.overdue) == (
        1,
        "audited",
        None,
        False,
    )
    assert (cell(matrix, "dinsos", "program").least_state) == "verified"
    empty = cell(matrix, "kosong", "regulation")
    assert (empty.count, empty.least_state, empty.nihil, empty.due_at, empty.overdue) == (
        0,
        None,
        False,
        None,
        False,
    )


def test_a_withdrawn_submission_counts_as_a_draft_and_does_not_answer(
    world: dict[str, Any],
) -> None:
    withdrawn = cell(compliance_compute(user=world["auditor"]), "dinsos", "regulation")
    assert (withdrawn.count, withdrawn.least_state, withdrawn.answered) == (1, "draft", False)
    assert withdrawn.due_at == wib(2026, 4, 1, 23, 59, 59)


def test_a_draft_beside_a_submitted_one_is_the_least_state(
    world: dict[str, Any], other_operator: User, people: dict[str, Any]
) -> None:
    f.advance(
        f.make_draft(other_operator, "program"),
        "submitted",
        **{**people, "operator": other_operator},
    )
    f.make_draft(other_operator, "program")  # never submitted: private to dinsos
    program = cell(compliance_compute(user=people["verifier"]), "dinsos", "program")
    assert (program.count, program.least_state) == (2, "submitted")
    # dinsos' own operator would see the draft, but the matrix is not theirs to open.
    with pytest.raises(NotVisible):
        compliance_compute(user=other_operator)


def test_nihil_is_marked_and_answers_the_category(world: dict[str, Any]) -> None:
    innovation = cell(compliance_compute(user=world["verifier"]), "dinkes", "innovation")
    assert (innovation.nihil, innovation.count, innovation.answered) == (True, 0, True)
    assert not cell(compliance_compute(user=world["verifier"]), "dinsos", "innovation").nihil


def test_the_earliest_open_due_time_of_the_cell(world: dict[str, Any]) -> None:
    # Submitted and returned on 17 March: both due two working days on, 26 March 23:59 WIB.
    reg = cell(compliance_compute(user=world["verifier"]), "dinkes", "regulation")
    assert reg.due_at == wib(2026, 3, 26, 23, 59)
    assert reg.overdue is False


def test_past_due_steps_are_overdue_but_an_audited_one_never_is(
    world: dict[str, Any], clock: Any
) -> None:
    clock.set(2026, 3, 27, 9)
    matrix = compliance_compute(user=world["verifier"])
    assert cell(matrix, "dinkes", "regulation").overdue is True
    assert cell(matrix, "dinsos", "program").overdue is True  # consolidation due 26 March
    assert cell(matrix, "dinsos", "regulation").overdue is False  # the draft: 1 April
    assert cell(matrix, "dinkes", "partnership").overdue is False
    clock.set(2026, 6, 1, 9)
    later = compliance_compute(user=world["verifier"])
    assert cell(later, "dinkes", "partnership").overdue is False


def test_a_never_submitted_draft_does_not_count_for_reviewers(world: dict[str, Any]) -> None:
    for who in ("verifier", "consolidator", "auditor"):
        program = cell(compliance_compute(user=world[who]), "dinkes", "program")
        assert (program.count, program.least_state, program.due_at) == (0, None, None)


def test_a_reviewer_who_operates_the_body_counts_its_own_draft(
    world: dict[str, Any], body: Body
) -> None:
    Membership.objects.create(user=world["verifier"], body=body)
    program = cell(compliance_compute(user=world["verifier"]), "dinkes", "program")
    assert (program.count, program.least_state) == (1, "draft")


def test_a_scoped_verifier_gets_only_the_bodies_in_scope(
    world: dict[str, Any], other_body: Body
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    matrix = compliance_compute(user=scoped)
    assert [r.agency for r in matrix.rows] == ["dinsos"]
    assert cell(matrix, "dinsos", "program").least_state == "verified"


def test_people_without_a_reviewer_role_may_not_see_the_matrix(
    world: dict[str, Any], outsider: User, superuser: User
) -> None:
    for person in (world["operator"], outsider, superuser):
        with pytest.raises(NotVisible):
            compliance_compute(user=person)


def test_only_the_current_instructions_submissions_count(world: dict[str, Any], clock: Any) -> None:
    instruction = f.InstructionFactory()
    instruction.is_current = False
    instruction.save()
    f.InstructionFactory(number=3, deadline=dt.date(2026, 6, 30))
    matrix = compliance_compute(user=world["verifier"])
    assert all(c.count == 0 and not c.nihil for c in matrix.cells())
    assert matrix.deadline is not None
    assert matrix.deadline.deadline == dt.date(2026, 6, 30)


def test_without_a_current_instruction_the_cells_are_empty_and_there_is_no_deadline(
    world: dict[str, Any],
) -> None:
    instruction = f.InstructionFactory()
    instruction.is_current = False
    instruction.save()
    matrix = compliance_compute(user=world["verifier"])
    assert matrix.deadline is None and matrix.instruction is None
    assert len(matrix.rows) == 3


class TestWorkingDaysLeft:
    def test_seven_working_days_from_the_day_of_the_instruction(
        self, world: dict[str, Any]
    ) -> None:
        status = compliance_compute(user=world["verifier"]).deadline
        assert status is not None
        assert (status.working_days_left, status.passed) == (7, False)

    def test_the_deadline_day_itself_is_the_last_working_day(
        self, clock: Any, world: dict[str, Any]
    ) -> None:
        clock.set(2026, 4, 1, 23, 59)
        status = compliance_compute(user=world["verifier"]).deadline
        assert status is not None
        assert (status.working_days_left, status.passed) == (1, False)

    def test_after_the_deadline_day_it_is_zero_and_passed(
        self, clock: Any, world: dict[str, Any]
    ) -> None:
        clock.set(2026, 4, 2, 0, 0, 1)
        status = compliance_compute(user=world["verifier"]).deadline
        assert status is not None
        assert (status.working_days_left, status.passed) == (0, True)

    def test_a_holiday_the_administrator_adds_is_not_a_working_day(
        self, world: dict[str, Any]
    ) -> None:
        CalendarDay.objects.create(date=dt.date(2026, 3, 30), kind="holiday", reason="Daerah")
        status = compliance_compute(user=world["verifier"]).deadline
        assert status is not None
        assert status.working_days_left == 6

    def test_from_a_weekend_count_starts_on_monday(self) -> None:
        instruction = f.InstructionFactory()
        status = deadline_status(
            instruction=instruction, now=wib(2026, 3, 28, 12), calendar=WorkCalendar()
        )
        assert status.working_days_left == 3  # 30, 31 March and 1 April


def test_the_matrix_costs_the_same_queries_whatever_the_number_of_bodies(
    world: dict[str, Any], people: dict[str, Any]
) -> None:
    roles = roles_of(people["verifier"])
    with CaptureQueriesContext(connection) as small:
        compliance_compute(user=people["verifier"], roles=roles)
    for i in range(8):
        extra = f.BodyFactory(code=f"extra-{i}", name=f"Extra {i}", kind="kecamatan")
        op = f.make_operator(extra, f"op-extra-{i}")
        f.advance(f.make_draft(op, "innovation"), "submitted", **{**people, "operator": op})
        nihil_declare(user=op, category="program", reason="Tidak ada")
    with CaptureQueriesContext(connection) as large:
        matrix = compliance_compute(user=people["verifier"], roles=roles)
    assert len(matrix.rows) == 11
    assert len(large.captured_queries) == len(small.captured_queries) <= 6
