"""Reminders and escalations of findings' recommendations through the SLA sweep: the body is
reminded once 5 working days before the follow-up is due, a recommendation past due is
escalated once to auditors and consolidators, and neither happens once the body has
answered (``responded``) or the recommendation is closed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from kla.models import Body, Submission
from kla.time import WIB, wib_date
from roles.roles import Role
from tests import factories as f
from tests.concurrency import race
from workflows.models import (
    Finding,
    Notification,
    Recommendation,
    RecommendationNotice,
    TrailEvent,
)
from workflows.sla.calendar import WorkCalendar
from workflows.sla.sweep import sla_sweep
from workflows.supervision.findings import finding_create, follow_up_post, recommendation_assess

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

ADDRESS = "dispar@example.test"


@pytest.fixture
def audited(people: dict[str, Any]) -> Submission:
    return f.advance(f.make_draft(people["operator"]), "audited", **people)


def record(auditor: User, submission: Submission, texts: list[str] | None = None) -> Finding:
    return finding_create(
        user=auditor,
        submission=submission.pk,
        title="Perwali belum diundangkan",
        condition="Kondisi",
        criteria="Kriteria",
        recommendations=texts or ["Undangkan perwali"],
    )


def reminder_day(finding: Finding) -> dt.date:
    """The 5th working day before the day the follow-up is due."""
    return WorkCalendar.load().workdays_before(wib_date(finding.due_at), 5)


def at(day: dt.date, hour: int = 0, minute: int = 1) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WIB)


def events(finding: Finding, action: str) -> Any:
    return TrailEvent.objects.filter(stream__name=finding.stream, action=action)


def notified(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind, user__isnull=False).values_list(
            "user__username", flat=True
        )
    )


def respond(operator: User, finding: Finding) -> None:
    follow_up_post(
        user=operator,
        finding_id=finding.pk,
        recommendation_id=f.first(finding.recommendations.all()).pk,
        note="Sudah",
    )


class TestReminder:
    def test_the_body_is_reminded_on_the_fifth_working_day_before_once(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited)
        day = reminder_day(finding)
        before = at(day - dt.timedelta(days=1), 23, 59)
        assert sla_sweep(now=before, send_emails=False).follow_up_reminders == 0
        assert sla_sweep(now=at(day), send_emails=False).follow_up_reminders == 1
        for _ in range(3):
            result = sla_sweep(now=at(day, 15), send_emails=False)
            assert (result.follow_up_reminders, result.follow_up_escalations) == (0, 0)
        assert (
            sla_sweep(now=at(day + dt.timedelta(days=2)), send_emails=False).follow_up_reminders
            == 0
        )
        assert notified("finding:reminder") == [people["operator"].username]
        event = events(finding, "follow_up_reminder").get()
        assert (event.actor_id, event.data["finding"]) == (None, finding.pk)
        assert RecommendationNotice.objects.filter(kind="reminder").count() == 1

    def test_two_recommendations_make_one_notice_per_person(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited, ["Satu", "Dua"])
        assert sla_sweep(now=at(reminder_day(finding)), send_emails=False).follow_up_reminders == 2
        assert notified("finding:reminder") == [people["operator"].username]
        assert len(events(finding, "follow_up_reminder").get().data["recommendations"]) == 2

    def test_no_reminder_once_responded(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited)
        respond(people["operator"], finding)
        assert sla_sweep(now=at(reminder_day(finding)), send_emails=False).follow_up_reminders == 0
        assert not events(finding, "follow_up_reminder").exists()

    def test_no_reminder_once_resolved(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited)
        respond(people["operator"], finding)
        recommendation_assess(
            user=people["auditor"],
            finding_id=finding.pk,
            recommendation_id=f.first(finding.recommendations.all()).pk,
            status="resolved",
        )
        result = sla_sweep(now=at(reminder_day(finding)), send_emails=False)
        assert result.follow_up_reminders == 0
        late = sla_sweep(now=finding.due_at + dt.timedelta(days=1), send_emails=False)
        assert late.follow_up_escalations == 0

    def test_a_body_without_operators_is_reminded_at_its_address(
        self, clock: Any, instruction: Any, auditor: User
    ) -> None:
        body = f.BodyFactory(code="dispar", name="Dinas Pariwisata")
        Body.objects.filter(pk=body.pk).update(email=ADDRESS)
        finding = finding_create(
            user=auditor,
            agency="dispar",
            title="Tidak menjawab instruksi",
            condition="Kondisi",
            criteria="Kriteria",
            recommendations=["Jawab instruksi"],
        )
        assert sla_sweep(now=at(reminder_day(finding)), send_emails=False).follow_up_reminders == 1
        row = Notification.objects.get(kind="finding:reminder")
        assert (row.user_id, row.email) == (None, ADDRESS)
        assert events(finding, "follow_up_reminder").get().data["email"] == ADDRESS


class TestEscalation:
    def test_past_due_is_escalated_once_to_auditors_and_consolidators(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        second_auditor = f.make_role(Role.AUDITOR, "inspektorat2")
        finding = record(people["auditor"], audited)
        assert sla_sweep(now=finding.due_at, send_emails=False).follow_up_escalations == 0
        late = finding.due_at + dt.timedelta(minutes=2)
        assert sla_sweep(now=late, send_emails=False).follow_up_escalations == 1
        for _ in range(3):
            again = sla_sweep(now=late + dt.timedelta(days=3), send_emails=False)
            assert again.follow_up_escalations == 0
        assert notified("finding:escalation") == sorted(
            [people["auditor"].username, people["consolidator"].username, second_auditor.username]
        )
        event = events(finding, "follow_up_escalation").get()
        assert people["operator"].username not in event.data["recipients"]

    def test_a_sweep_first_run_past_due_escalates_without_reminding(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited)
        result = sla_sweep(now=finding.due_at + dt.timedelta(days=1), send_emails=False)
        assert (result.follow_up_reminders, result.follow_up_escalations) == (0, 1)
        assert not events(finding, "follow_up_reminder").exists()

    def test_a_responded_recommendation_is_not_escalated_but_one_sent_back_is(
        self, clock: Any, people: dict[str, Any], audited: Submission
    ) -> None:
        finding = record(people["auditor"], audited)
        respond(people["operator"], finding)
        late = finding.due_at + dt.timedelta(days=1)
        assert sla_sweep(now=late, send_emails=False).follow_up_escalations == 0
        clock.at = late
        recommendation_assess(
            user=people["auditor"],
            finding_id=finding.pk,
            recommendation_id=f.first(finding.recommendations.all()).pk,
            status="in_progress",
            note="Belum lengkap",
        )
        assert (
            sla_sweep(now=late + dt.timedelta(hours=1), send_emails=False).follow_up_escalations
            == 1
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_remind_and_escalate_each_recommendation_once(
    clock: Any, people: dict[str, Any]
) -> None:
    assert connection.vendor == "postgresql", "the race is only meaningful on PostgreSQL"
    operator, auditor = people["operator"], people["auditor"]
    audited = f.advance(f.make_draft(operator), "audited", **people)
    due_soon = [record(auditor, audited, [f"Segera {n}"]) for n in range(6)]
    late = [record(auditor, audited, [f"Lewat {n}"]) for n in range(6)]
    moment = at(reminder_day(due_soon[0]), 9)
    Recommendation.objects.filter(finding__in=late).update(due_at=moment - dt.timedelta(days=1))

    results: list[Any] = race([lambda: sla_sweep(now=moment, send_emails=False)] * 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.follow_up_reminders for r in results) == len(due_soon)
    assert sum(r.follow_up_escalations for r in results) == len(late)
    assert RecommendationNotice.objects.count() == len(due_soon) + len(late)
    per_finding = Counter(
        TrailEvent.objects.filter(
            action__in=["follow_up_reminder", "follow_up_escalation"]
        ).values_list("data__finding", flat=True)
    )
    assert set(per_finding.values()) == {1}
    assert len(per_finding) == len(due_soon) + len(late)
