"""Findings and their follow-up, through the services: DESIGN's check order, four eyes both
ways, corrections while every recommendation is open, due dates, trail events, notices."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections

from kla.errors import Conflict, Forbidden, Invalid, NotVisible, TooLarge
from kla.models import Submission
from kla.time import WIB
from roles.roles import Role
from tests import factories as f
from tests.concurrency import race
from workflows.models import (
    CalendarDay,
    DayKind,
    Finding,
    FollowUpFile,
    Notification,
    RecommendationStatus,
    TrailEvent,
)
from workflows.supervision.findings import (
    finding_correct,
    finding_create,
    follow_up_due,
    follow_up_post,
    recommendation_assess,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(people: dict[str, Any]) -> Submission:
    return f.advance(f.make_draft(people["operator"]), "audited", **people)


def record(auditor: User, submission: Submission, **overrides: Any) -> Finding:
    values: dict[str, Any] = {
        "title": "Perwali belum diundangkan",
        "condition": "Salinan belum bernomor",
        "criteria": "Permen PPPA 12/2022",
        "recommendations": ["Undangkan perwali", "Unggah salinan resmi"],
    } | overrides
    return finding_create(user=auditor, submission=submission.pk, **values)


def recs(finding: Finding) -> list[Any]:
    return list(finding.recommendations.order_by("id"))


def respond(operator: User, finding: Finding, index: int = 0, **kwargs: Any) -> Finding:
    kwargs.setdefault("note", "Sudah diundangkan")
    return follow_up_post(
        user=operator, finding_id=finding.pk, recommendation_id=recs(finding)[index].pk, **kwargs
    )


def assess(auditor: User, finding: Finding, status: Any, note: Any = "", index: int = 0) -> Any:
    return recommendation_assess(
        user=auditor,
        finding_id=finding.pk,
        recommendation_id=recs(finding)[index].pk,
        status=status,
        note=note,
    )


# --- recording -------------------------------------------------------------------------------


def test_a_finding_on_a_submission_takes_its_body_and_instruction(
    auditor: User, audited: Submission
) -> None:
    finding = record(auditor, audited)
    assert (finding.body_id, finding.instruction_id) == (audited.body_id, audited.instruction_id)
    assert finding.status == "open"
    assert [r.status for r in recs(finding)] == ["open", "open"]
    assert all(r.due_at == finding.due_at for r in recs(finding))
    event = TrailEvent.objects.get(stream__name=audited.stream, action="finding_create")
    assert event.data["recommendations"] == ["Undangkan perwali", "Unggah salinan resmi"]


def test_a_finding_on_a_body_goes_to_the_body_stream(
    auditor: User, body: Any, instruction: Any
) -> None:
    finding = finding_create(
        user=auditor,
        agency="dinkes",
        title="Tidak pernah melapor",
        condition="Tidak ada pengajuan",
        criteria="Instruksi Wali Kota",
        recommendations=["Ajukan laporan"],
    )
    assert finding.submission is None and finding.instruction == instruction
    assert TrailEvent.objects.filter(stream__name="body:dinkes", action="finding_create").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recommendations": []}, "recommendations"),
        ({"recommendations": ["  "]}, "recommendations"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"condition": "x" * 10_001}, "condition"),
        ({"recommendations": ["x" * 4_001]}, "recommendations"),
        ({"instruction": 999_999}, "instruction"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_records_nothing(
    auditor: User, audited: Submission, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        record(auditor, audited, **overrides)
    assert field in refused.value.errors
    assert not Finding.objects.exists()


def test_exactly_one_of_submission_and_agency(auditor: User, audited: Submission) -> None:
    with pytest.raises(Invalid) as both:
        record(auditor, audited, agency="dinkes")
    assert "agency" in both.value.errors
    with pytest.raises(Invalid):
        finding_create(user=auditor, title="T", condition="K", criteria="R", recommendations=["x"])


def test_recording_checks_visibility_then_role_then_four_eyes(
    auditor: User, operator: User, other_operator: User, verifier: User, audited: Submission
) -> None:
    with pytest.raises(NotVisible):
        record(other_operator, audited, title="")  # 404 before the 400 of the title
    with pytest.raises(Forbidden):
        record(verifier, audited, title="")  # 403 before the 400
    both = f.make_operator(audited.body, "auditor-op")
    both.groups.add(f.group(Role.AUDITOR))
    with pytest.raises(Forbidden, match="operator"):
        record(both, audited)


def test_due_is_follow_up_days_later_at_23_59_moved_to_a_working_day(instruction: Any) -> None:
    instruction.follow_up_days = 60
    # 2026-03-02 + 60 days = Friday 2026-05-01 (Labour Day) -> Monday 2026-05-04.
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
    assert follow_up_due(instruction, at) == dt.datetime(2026, 5, 4, 23, 59, tzinfo=WIB)
    CalendarDay.objects.create(date=dt.date(2026, 5, 4), kind=DayKind.HOLIDAY)
    assert follow_up_due(instruction, at).date() == dt.date(2026, 5, 5)


# --- following up and assessing --------------------------------------------------------------


def test_the_whole_cycle_with_trail_events_files_and_notices(
    auditor: User, operator: User, audited: Submission, django_capture_on_commit_callbacks: Any
) -> None:
    finding = record(auditor, audited)
    assert Notification.objects.filter(user=operator, kind="finding:new").count() == 1

    upload = f.pdf_upload("salinan.pdf")
    respond(operator, finding, uploads=[upload])
    assert recs(finding)[0].status == RecommendationStatus.RESPONDED
    stored = FollowUpFile.objects.get()
    assert stored.sha256 == hashlib.sha256(f.PDF_BYTES).hexdigest()
    assert not str(stored.file.name).endswith("salinan.pdf")  # a random name, as evidence
    event = TrailEvent.objects.get(stream__name=audited.stream, action="follow_up")
    assert event.files == [{"name": "salinan.pdf", "sha256": stored.sha256}]
    assert (event.note, event.from_state, event.to_state) == (
        "Sudah diundangkan",
        "open",
        "responded",
    )
    assert Notification.objects.filter(user=auditor, kind="finding:responded").count() == 1

    assess(auditor, finding, "in_progress", "Belum bernomor")
    assert recs(finding)[0].status == RecommendationStatus.IN_PROGRESS
    respond(operator, finding, note="Sudah bernomor")
    assess(auditor, finding, "resolved")
    assess(auditor, finding, "unresolvable", "Perwali dicabut", index=1)
    assert Finding.objects.get(pk=finding.pk).status == "closed"
    assessed = TrailEvent.objects.filter(stream__name=audited.stream, action="assessment")
    assert [(e.to_state, e.note) for e in assessed.order_by("seq")] == [
        ("in_progress", "Belum bernomor"),
        ("resolved", ""),
        ("unresolvable", "Perwali dicabut"),
    ]
    assert Notification.objects.filter(user=operator, kind="finding:assessed").count() == 3
    history = recs(finding)[0].history.order_by("at", "id")
    assert [(h.kind, h.status) for h in history] == [
        ("follow_up", "responded"),
        ("assessment", "in_progress"),
        ("follow_up", "responded"),
        ("assessment", "resolved"),
    ]


def test_a_body_without_operators_is_told_at_its_address(auditor: User, instruction: Any) -> None:
    f.BodyFactory(code="kosong", name="Badan Kosong", email="kosong@metro.go.id")
    finding_create(
        user=auditor,
        agency="kosong",
        title="T",
        condition="K",
        criteria="R",
        recommendations=["x"],
    )
    assert Notification.objects.filter(user=None, email="kosong@metro.go.id").count() == 1


def test_follow_up_checks_in_design_order(
    auditor: User, operator: User, other_operator: User, verifier: User, audited: Submission
) -> None:
    finding = record(auditor, audited)
    with pytest.raises(NotVisible):
        respond(other_operator, finding, note="")
    with pytest.raises(Forbidden):
        respond(verifier, finding, note="")
    with pytest.raises(Invalid) as missing:
        respond(operator, finding, note=" ")
    assert "note" in missing.value.errors
    with pytest.raises(Invalid) as bad_file:
        respond(operator, finding, uploads=[f.pdf_upload("x.pdf", b"just text")])
    assert "file" in bad_file.value.errors
    with pytest.raises(TooLarge):
        respond(operator, finding, too_large=True)
    assert recs(finding)[0].status == "open"
    respond(operator, finding)
    respond(operator, finding, uploads=[f.pdf_upload()])  # adds files while it waits
    assert recs(finding)[0].status == "responded"
    assess(auditor, finding, "resolved")
    with pytest.raises(Conflict):
        respond(operator, finding, note="")  # 409 before the note's 400


def test_assessment_checks_in_design_order(
    auditor: User, operator: User, other_operator: User, consolidator: User, audited: Submission
) -> None:
    finding = record(auditor, audited)
    with pytest.raises(NotVisible):
        assess(other_operator, finding, "bogus")
    with pytest.raises(Invalid) as unknown:
        assess(consolidator, finding, "bogus")
    assert "status" in unknown.value.errors
    with pytest.raises(Forbidden):
        assess(consolidator, finding, "resolved")
    with pytest.raises(Conflict):
        assess(auditor, finding, "resolved")  # nothing answered yet
    with pytest.raises(Invalid) as reason:
        assess(auditor, finding, "unresolvable", "")
    assert "note" in reason.value.errors
    respond(operator, finding)
    with pytest.raises(Invalid):
        assess(auditor, finding, "in_progress", " ")
    assess(auditor, finding, "unresolvable", "Tidak relevan lagi")
    with pytest.raises(Conflict):
        assess(auditor, finding, "unresolvable", "lagi")


def test_nobody_assesses_a_follow_up_they_posted(
    auditor: User, people: dict[str, Any], audited: Submission
) -> None:
    finding = record(auditor, audited)
    both = f.make_operator(audited.body, "auditor-op")
    both.groups.add(f.group(Role.AUDITOR))
    respond(both, finding)
    with pytest.raises(Forbidden):
        assess(both, finding, "resolved", note="")
    assess(auditor, finding, "resolved")


# --- corrections -----------------------------------------------------------------------------


def test_its_auditor_corrects_while_all_are_open_then_409(
    auditor: User, operator: User, audited: Submission
) -> None:
    finding = record(auditor, audited)
    other = f.make_role(Role.AUDITOR, "inspektorat2")
    with pytest.raises(Forbidden):
        finding_correct(user=other, finding_id=finding.pk, fields={"title": "Lain"})
    with pytest.raises(Forbidden):
        finding_correct(user=operator, finding_id=finding.pk, fields={"title": "Lain"})
    with pytest.raises(Invalid) as bad:
        finding_correct(user=auditor, finding_id=finding.pk, fields={"title": "", "warna": 1})
    assert set(bad.value.errors) == {"title", "warna"}
    finding_correct(
        user=auditor,
        finding_id=finding.pk,
        fields={"title": "Perwali belum bernomor"},
        add_recommendations=["Laporkan ke BAPPERIDA"],
    )
    finding.refresh_from_db()
    assert finding.title == "Perwali belum bernomor"
    assert len(recs(finding)) == 3
    event = TrailEvent.objects.get(stream__name=audited.stream, action="finding_correct")
    assert event.data["changed"]["title"] == {
        "before": "Perwali belum diundangkan",
        "after": "Perwali belum bernomor",
    }
    assert event.data["recommendations_added"] == ["Laporkan ke BAPPERIDA"]
    respond(operator, finding)
    with pytest.raises(Conflict):
        finding_correct(user=auditor, finding_id=finding.pk, fields={"title": "Lagi"})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_auditors_assessing_at_once_one_wins_one_is_409(people: dict[str, Any]) -> None:
    auditor, operator = people["auditor"], people["operator"]
    audited = f.advance(f.make_draft(operator), "audited", **people)
    second = f.make_role(Role.AUDITOR, "inspektorat2")
    finding = record(auditor, audited)
    respond(operator, finding)
    rid = recs(finding)[0].pk
    connections.close_all()
    results = race(
        [
            lambda: recommendation_assess(
                user=auditor, finding_id=finding.pk, recommendation_id=rid, status="resolved"
            ),
            lambda: recommendation_assess(
                user=second,
                finding_id=finding.pk,
                recommendation_id=rid,
                status="in_progress",
                note="Kurang",
            ),
        ]
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Finding"]
    assert TrailEvent.objects.filter(action="assessment").count() == 1


def test_a_finding_is_open_until_every_recommendation_is_final_in_its_stored_flag(
    auditor: User, operator: User, audited: Submission
) -> None:
    """``is_open`` (the lists' order) follows the recommendations as they are assessed, as
    the computed status does."""
    finding = record(auditor, audited)
    assert Finding.objects.get(pk=finding.pk).is_open
    respond(operator, finding)
    assess(auditor, finding, "resolved")
    kept = Finding.objects.get(pk=finding.pk)
    assert kept.is_open and kept.status == "open"
    respond(operator, finding, index=1)
    assess(auditor, finding, "unresolvable", "Perwali dicabut", index=1)
    closed = Finding.objects.get(pk=finding.pk)
    assert not closed.is_open and closed.status == "closed"
