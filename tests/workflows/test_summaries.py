"""The summary rows of the compliance matrix and coverage: kept by every change, rebuilt to
the same rows, never losing a count to two actions at once, and read a page at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kla.drafting import evidence_remove, submission_update
from kla.models import Body, Indicator, Instruction, Submission
from kla.reports.coverage import coverage_compute
from roles.models import Membership
from tests import factories as f
from tests.concurrency import race
from workflows import summaries
from workflows.models import CalendarDay, ComplianceCell, CoverageCount
from workflows.services import submission_act
from workflows.sla.compliance import compliance_compute, matrix_view
from workflows.sla.nihil import nihil_declare

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def rows() -> set[tuple[Any, ...]]:
    cells = ComplianceCell.objects.values_list(
        "instruction_id", "body_id", "category", *summaries.CELL_FIELDS
    )
    counts = CoverageCount.objects.values_list(
        "instruction_id", "indicator_id", "body_id", "state", "submissions", "evidence"
    )
    return {r for r in cells if r[3] or r[6] or r[8]} | set(counts)


@pytest.fixture
def world(clock: Any, people: dict[str, Any], other_operator: User) -> dict[str, Any]:
    """Every kind of change, through the services: drafts, submits, a return, an edit of a
    returned submission's indicators, a file removed, a withdraw, an audit, a nihil."""
    operator = people["operator"]
    f.advance(f.make_draft(operator), "submitted", **people)
    returned = f.advance(f.make_draft(operator, indicators=[17, 18]), "returned", **people)
    submission_update(user=operator, submission_id=returned.pk, fields={"indicators": [17, 19]})
    f.make_draft(operator, "program")
    f.advance(f.make_draft(operator, "partnership"), "audited", **people)
    nihil_declare(user=operator, category="innovation", reason="Belum ada inovasi")
    theirs = {**people, "operator": other_operator}
    withdrawn = f.advance(f.make_draft(other_operator), "submitted", **theirs)
    submission_act(user=other_operator, submission_id=withdrawn.pk, action="withdraw")
    verified = f.advance(f.make_draft(other_operator, "program"), "verified", **theirs)
    return {**people, "returned": returned, "verified": verified, "withdrawn": withdrawn}


def test_the_rows_agree_with_the_submissions_after_every_kind_of_change(
    world: dict[str, Any],
) -> None:
    assert summaries.differences() == 0
    returned = world["returned"]
    file = returned.evidence.filter(removed_at__isnull=True).first()
    evidence_remove(user=world["operator"], submission_id=returned.pk, evidence_id=file.pk)
    assert summaries.differences() == 0
    regulation = ComplianceCell.objects.get(body=returned.body, category="regulation")
    # One submitted, one returned: two seen by reviewers, the least advanced is "returned".
    assert (regulation.submissions, regulation.least_rank) == (2, 1)
    assert regulation.beyond_draft == 2 and regulation.submitted_at is not None
    # The never-submitted program draft is the body's own: reviewers' rows do not count it.
    program = ComplianceCell.objects.filter(body=returned.body, category="program").first()
    assert program is None or program.submissions == 0
    innovation = ComplianceCell.objects.get(body=returned.body, category="innovation")
    assert innovation.nihil_at is not None and innovation.submissions == 0


def test_a_calendar_change_moves_the_due_times_in_the_rows_too(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    before = ComplianceCell.objects.get(body=world["returned"].body, category="regulation").due_at
    # A Saturday declared a working day brings every step's due time a day closer.
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(
            date=wib(2026, 3, 21).date(), kind="workday", reason="Ganti hari"
        )
    after = ComplianceCell.objects.get(body=world["returned"].body, category="regulation").due_at
    assert before is not None and after is not None and after < before
    assert summaries.differences() == 0


def test_rebuilding_gives_the_rows_the_actions_kept(world: dict[str, Any]) -> None:
    kept = rows()
    assert kept
    written = summaries.rebuild()
    assert written > 0
    assert rows() == kept


def test_a_row_that_drifted_is_found_by_the_check_and_mended_by_a_rebuild(
    world: dict[str, Any],
) -> None:
    call_command("summaries_rebuild", "--check")
    ComplianceCell.objects.filter(category="regulation").update(submissions=99)
    CoverageCount.objects.filter(state="verified").delete()
    assert summaries.differences() >= 2
    with pytest.raises(CommandError, match="differ"):
        call_command("summaries_rebuild", "--check")
    call_command("summaries_rebuild")
    assert summaries.differences() == 0


def test_the_first_migrate_after_the_rows_arrived_builds_them(world: dict[str, Any]) -> None:
    kept = rows()
    ComplianceCell.objects.all().delete()
    CoverageCount.objects.all().delete()
    summaries.backfill()
    assert rows() == kept
    # With rows present it does nothing: it never overwrites what the actions keep.
    ComplianceCell.objects.filter(category="regulation").update(submissions=99)
    summaries.backfill()
    assert summaries.differences() > 0


def test_a_reviewer_sees_the_same_matrix_from_the_rows_as_from_the_submissions(
    world: dict[str, Any],
) -> None:
    matrix = compliance_compute(user=world["consolidator"])
    view = matrix_view(user=world["consolidator"])
    assert view is not None
    bodies = list(view.rows(ordering="name"))
    paged = [cell for row in view.cells_of(bodies) for cell in row.cells]
    assert [vars(c) for c in paged] == [vars(c) for c in matrix.cells()]
    by_code: dict[str, Any] = {b.code: b for b in bodies}
    for row in matrix.rows:
        assert by_code[row.agency].answered == sum(1 for c in row.cells if c.answered)
        assert by_code[row.agency].overdue == sum(1 for c in row.cells if c.overdue)


def test_the_counts_above_the_matrix_agree_with_the_whole_matrix(
    world: dict[str, Any], clock: Any
) -> None:
    """``MatrixView.totals`` counts in one grouped pass what the whole matrix says cell by
    cell, before and after the deadline (when every unanswered cell is overdue too)."""
    for moment in (None, dt.datetime(2031, 1, 1, tzinfo=dt.UTC)):
        matrix = compliance_compute(user=world["consolidator"], now=moment)
        view = matrix_view(user=world["consolidator"], now=moment)
        assert view is not None
        totals = view.totals()
        cells = matrix.cells()
        assert totals.bodies == len(matrix.rows) > 0
        assert totals.answered_all == sum(all(c.answered for c in r.cells) for r in matrix.rows)
        assert totals.empty_cells == sum(1 for c in cells if c.count == 0 and not c.nihil) > 0
        assert totals.overdue_cells == sum(1 for c in cells if c.overdue)
    assert totals.overdue_cells > 0  # after the deadline


def test_the_matrix_shows_how_many_rows_a_search_keeps(
    clock: Any, consolidator: User, client: Client
) -> None:
    """Without a search every body is a row and the count above is theirs; a search counts
    the rows it keeps, page by page."""
    f.InstructionFactory()
    instruction = Instruction.current()
    assert instruction is not None
    made = Body.objects.bulk_create(
        Body(code=f"s{i:03}", name=f"{'Dinas' if i % 2 else 'Badan'} {i:03}") for i in range(104)
    )
    instruction.addressees.add(*made)
    client.force_login(consolidator)
    whole = client.get("/kepatuhan/").content.decode()
    assert "Semua perangkat/lembaga: 104." in whole and "Halaman 1 dari 3" in whole
    found = client.get("/kepatuhan/?search=dinas").content.decode()
    assert "Menampilkan 52 dari 104 perangkat/lembaga." in found
    assert "Halaman 1 dari 2" in found


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_in_one_cell_both_count(
    people: dict[str, Any], operator: User, body: Body
) -> None:
    """Each action recomputes its body's rows after taking their locks: the later one reads
    what the earlier one committed, so neither count is lost."""
    first, second = f.make_draft(operator), f.make_draft(operator)
    results = race(
        [
            lambda: submission_act(user=operator, submission_id=first.pk, action="submit"),
            lambda: submission_act(user=operator, submission_id=second.pk, action="submit"),
        ]
    )
    assert all(isinstance(r, Submission) for r in results), results
    cell = ComplianceCell.objects.get(body=body, category="regulation")
    assert (cell.submissions, cell.beyond_draft) == (2, 2)
    assert summaries.differences() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_actions_at_once_in_two_categories_of_one_body_move_coverage_by_both(
    people: dict[str, Any], operator: User, body: Body
) -> None:
    """Coverage moves by difference, and the rows of one indicator are shared by the body's
    categories: the body's rows are locked first, so two approvals at once, of a regulation
    and a program on the same indicator, both move it and empty nothing by mistake."""
    regulation = f.advance(f.make_draft(operator), "submitted", **people)
    program = f.advance(f.make_draft(operator, "program"), "submitted", **people)
    verifier = people["verifier"]
    for _round in range(3):
        results = race(
            [
                lambda: submission_act(
                    user=verifier, submission_id=regulation.pk, action="return", note="Kurang"
                ),
                lambda: submission_act(
                    user=verifier, submission_id=program.pk, action="return", note="Kurang"
                ),
            ]
        )
        assert all(isinstance(r, Submission) for r in results), results
        assert summaries.differences() == 0
        for s in (regulation, program):
            submission_act(user=operator, submission_id=s.pk, action="resubmit", note="Sudah")
    counts = CoverageCount.objects.filter(body=body, indicator__number=17)
    assert dict(counts.values_list("state", "submissions")) == {"submitted": 2}


def test_an_action_on_rows_that_drifted_succeeds_and_the_check_finds_them(
    people: dict[str, Any],
) -> None:
    """A restore that left coverage behind (no ``summaries_rebuild``): an approval still
    succeeds, no count goes below zero, and the check reports the rows until a rebuild."""
    first, second = (
        f.advance(f.make_draft(people["operator"]), "submitted", **people) for _ in range(2)
    )
    # Two submitted on indicator 17 with a file each; the row lost its files' count.
    drifted = CoverageCount.objects.filter(state="submitted", indicator__number=17)
    assert drifted.get().submissions == 2
    drifted.update(evidence=0)
    submission_act(user=people["verifier"], submission_id=first.pk, action="approve")
    assert (drifted.get().submissions, drifted.get().evidence) == (1, 0)
    assert not CoverageCount.objects.filter(evidence__lt=0).exists()
    assert second.state == "submitted" and summaries.differences() > 0
    call_command("summaries_rebuild")
    assert summaries.differences() == 0


def test_the_matrix_page_shows_fifty_bodies_a_page_in_the_same_queries(
    clock: Any, consolidator: User, client: Client
) -> None:
    f.InstructionFactory()
    instruction = Instruction.current()
    assert instruction is not None

    def bodies(n: int, start: int) -> None:
        made = Body.objects.bulk_create(
            Body(code=f"b{i:03}", name=f"Badan {i:03}") for i in range(start, start + n)
        )
        instruction.addressees.add(*made)

    client.force_login(consolidator)
    client.get("/kepatuhan/")  # the session is saved once, on the first request
    bodies(5, 0)
    with CaptureQueriesContext(connection) as few:
        small = client.get("/kepatuhan/?ordering=name")
    bodies(55, 5)
    with CaptureQueriesContext(connection) as many:
        first = client.get("/kepatuhan/?ordering=name")
    assert small.status_code == first.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    page = first.content.decode()
    assert page.count('<tr data-agency="') == 50
    assert 'data-agency="b049"' in page and 'data-agency="b050"' not in page
    second = client.get("/kepatuhan/?ordering=name&halaman=2").content.decode()
    assert second.count('<tr data-agency="') == 10
    assert 'data-agency="b059"' in second
    assert "Halaman 2 dari 2" in second


def test_the_api_reads_a_page_of_cells_across_bodies(
    clock: Any, consolidator: User, operator: User, body: Body
) -> None:
    f.make_draft(operator)
    instruction = Instruction.current()
    assert instruction is not None
    made = Body.objects.bulk_create(Body(code=f"x{i:02}", name=f"Xbadan {i:02}") for i in range(13))
    instruction.addressees.add(*made)
    client = Client(HTTP_AUTHORIZATION=f"Token {f.api_token(consolidator)}")
    full = compliance_compute(user=consolidator).cells()
    one = client.get("/api/v1/compliance/").json()
    two = client.get("/api/v1/compliance/?page=2").json()
    assert one["count"] == len(full) == 14 * 4
    assert len(one["results"]) == 50 and len(two["results"]) == 6
    got = [(c["agency"], c["category"]) for c in one["results"] + two["results"]]
    assert got == [(c.agency, c.category) for c in full]


def test_coverage_names_fifty_bodies_and_counts_them_all(
    clock: Any, consolidator: User, operator: User, body: Body
) -> None:
    f.make_draft(operator)
    instruction = Instruction.current()
    assert instruction is not None
    made = Body.objects.bulk_create(Body(code=f"c{i:02}", name=f"Cbadan {i:02}") for i in range(55))
    CoverageCount.objects.bulk_create(
        CoverageCount(
            instruction=instruction,
            indicator=Indicator.objects.get(number=17),
            body=b,
            state="verified",
            submissions=1,
            evidence=2,
        )
        for b in made
    )
    summaries.totals_rebuild(instruction.pk)  # rows written by hand: their totals as well
    client = Client(HTTP_AUTHORIZATION=f"Token {f.api_token(consolidator)}")
    rows = client.get("/api/v1/coverage/").json()["results"]
    (seventeen,) = [r for r in rows if r["number"] == 17]
    assert seventeen["agencies_count"] == 55
    assert seventeen["agencies"] == sorted(b.code for b in made)[:50]
    assert seventeen["submissions"]["verified"] == 55
    assert seventeen["evidence"]["verified"] == 110


def test_coverage_counts_a_body_in_several_states_once(
    clock: Any, consolidator: User, operator: User, body: Body
) -> None:
    """A body with submissions in two states of one indicator contributes once: counted
    once and named once, its submissions counted in each state."""
    f.make_draft(operator)
    instruction = Instruction.current()
    assert instruction is not None
    made = Body.objects.bulk_create(Body(code=f"d{i:02}", name=f"Dbadan {i:02}") for i in range(3))
    seventeen = Indicator.objects.get(number=17)
    CoverageCount.objects.bulk_create(
        CoverageCount(
            instruction=instruction,
            indicator=seventeen,
            body=b,
            state=state,
            submissions=1,
            evidence=3,
        )
        for b in made
        for state in ("submitted", "verified")
    )
    summaries.totals_rebuild(instruction.pk)  # rows written by hand: their totals as well
    client = Client(HTTP_AUTHORIZATION=f"Token {f.api_token(consolidator)}")
    rows = client.get("/api/v1/coverage/").json()["results"]
    (row,) = [r for r in rows if r["number"] == 17]
    assert row["agencies_count"] == 3
    assert row["agencies"] == ["d00", "d01", "d02"]
    assert (row["submissions"]["submitted"], row["submissions"]["verified"]) == (3, 3)
    assert (row["submissions"]["in_progress"], row["submissions"]["total"]) == (3, 6)
    assert (row["evidence"]["verified"], row["evidence"]["total"]) == (9, 18)


def test_an_operator_of_a_body_who_reviews_sees_its_drafts_on_the_page(
    world: dict[str, Any], body: Body
) -> None:
    Membership.objects.create(user=world["verifier"], body=body)
    view = matrix_view(user=world["verifier"])
    assert view is not None
    (row,) = view.cells_of([body])
    program = next(c for c in row.cells if c.category == "program")
    assert (program.count, program.least_state) == (1, "draft")


def test_the_deployments_totals_say_what_every_bodys_rows_say(world: dict[str, Any]) -> None:
    """A reviewer of every body reads coverage from the deployment's totals, a scoped one
    from the bodies' rows: a verifier scoped to every body sees the very numbers the
    consolidator does, after every kind of change."""
    everyone = f.make_scoped_verifier(list(Body.objects.all()), "verifikator-semua")

    def seen(user: User) -> list[tuple[Any, ...]]:
        return [
            (r.number, r.bodies_count, r.submissions_by_state, r.evidence_by_state, r.bodies)
            for r in coverage_compute(user=user)
        ]

    assert seen(world["consolidator"]) == seen(everyone)
    assert any(count for _n, count, *_rest in seen(world["consolidator"]))


def test_every_writer_takes_a_bodys_rows_in_the_order_of_their_categories(
    people: dict[str, Any], body: Body
) -> None:
    """An action, an edit and a nihil lock one body's compliance rows by an upsert, the due
    times' recompute by ``ORDER BY body_id, category``: the same order, or two of them at once
    could each hold a row the other waits for."""
    instruction = Instruction.current() or f.InstructionFactory()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        summaries.refresh(instruction.pk, body.pk)
    cells = f"INSERT INTO {ComplianceCell._meta.db_table} "
    (upsert,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(cells)]
    named = sorted(summaries.CATEGORIES, key=lambda c: upsert.index(f"'{c}'"))
    assert named == sorted(summaries.CATEGORIES)
