"""The SLA sweep: escalations of overdue steps, reminders before the deadline, the outbox."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command

from kla.models import Body, Submission
from tests import factories as f
from workflows.models import Escalation, Notification, Reminder, TrailEvent
from workflows.services import submission_act
from workflows.sla.nihil import nihil_declare
from workflows.sla.sweep import sla_sweep
from workflows.trail.reading import verify_database

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def act(user: User, submission: Submission, action: str, note: Any = "") -> Any:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note)


def escalations(submission: Submission) -> Any:
    return TrailEvent.objects.filter(submission=submission, action="escalation")


def reminders(body: Body) -> Any:
    return TrailEvent.objects.filter(stream__name=f"body:{body.code}", action="reminder")


class TestEscalation:
    def test_a_step_past_due_is_escalated_to_its_role_and_bapperida_once(
        self, clock: Any, people: dict[str, Any], verifier2: User
    ) -> None:
        operator = people["operator"]
        s = act(operator, f.make_draft(operator), "submit")
        assert sla_sweep(now=wib(2026, 3, 26, 23, 58)).escalations == 0
        result = sla_sweep(now=wib(2026, 3, 27, 9))
        assert result.escalations == 1
        event = escalations(s).get()
        assert (event.actor_name, event.actor_id, event.from_state, event.to_state) == (
            "system",
            None,
            "submitted",
            "submitted",
        )
        assert event.stream.name == f"submission:{s.pk}"
        notified = set(
            Notification.objects.filter(kind="escalation", submission=s).values_list(
                "user__username", flat=True
            )
        )
        assert notified == {"verifikator", "verifikator2", "bapperida"}
        assert sla_sweep(now=wib(2026, 3, 30, 9)).escalations == 0
        assert Escalation.objects.count() == 1
        assert escalations(s).count() == 1
        assert verify_database()[1] == []

    def test_only_verifiers_in_scope_are_told(
        self, clock: Any, people: dict[str, Any], other_body: Body
    ) -> None:
        scoped_out = f.make_scoped_verifier([other_body], "verif-dinsos")
        operator = people["operator"]
        s = act(operator, f.make_draft(operator), "submit")
        sla_sweep(now=wib(2026, 3, 27, 9))
        notified = set(
            Notification.objects.filter(kind="escalation").values_list("user_id", flat=True)
        )
        assert scoped_out.pk not in notified
        assert people["verifier"].pk in notified
        assert escalations(s).count() == 1

    def test_a_draft_past_the_deadline_is_escalated_to_its_operators(
        self, clock: Any, operator: User, consolidator: User
    ) -> None:
        draft = f.make_draft(operator)
        assert sla_sweep(now=wib(2026, 4, 1, 23, 0)).escalations == 0
        assert sla_sweep(now=wib(2026, 4, 2, 0, 5)).escalations == 1
        notified = set(
            Notification.objects.filter(kind="escalation", submission=draft).values_list(
                "user__username", flat=True
            )
        )
        assert notified == {"op-dinkes", "bapperida"}

    def test_a_new_step_after_an_escalated_one_can_be_escalated_again(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator, verifier = people["operator"], people["verifier"]
        s = act(operator, f.make_draft(operator), "submit")
        sla_sweep(now=wib(2026, 3, 27, 9))
        clock.set(2026, 3, 27, 10)
        s = act(verifier, s, "approve")  # consolidation due 31 March
        assert sla_sweep(now=wib(2026, 3, 31, 12)).escalations == 0
        assert sla_sweep(now=wib(2026, 4, 1, 9)).escalations == 1
        assert list(escalations(s).values_list("from_state", flat=True)) == [
            "submitted",
            "verified",
        ]

    def test_a_step_done_in_time_is_never_escalated(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator, verifier = people["operator"], people["verifier"]
        s = act(operator, f.make_draft(operator), "submit")
        clock.set(2026, 3, 26, 15)
        act(verifier, s, "approve")
        assert sla_sweep(now=wib(2026, 3, 27, 9)).escalations == 0


class TestReminders:
    def sweep_daily(self, first: Any, last: Any, hours: Any = (0, 9, 16)) -> None:
        day = first
        while day <= last:
            for hour in hours:
                sla_sweep(now=wib(day.year, day.month, day.day, hour))
            day += dt.timedelta(days=1)

    def test_bodies_not_answering_are_reminded_on_25_27_31_march_and_1_april(
        self, clock: Any, body: Body, operator: User
    ) -> None:
        f.InstructionFactory()
        self.sweep_daily(dt.date(2026, 3, 17), dt.date(2026, 4, 3))
        sent = list(Reminder.objects.filter(body=body).order_by("day"))
        assert [(r.day, r.days_before) for r in sent] == [
            (dt.date(2026, 3, 25), 5),
            (dt.date(2026, 3, 27), 3),
            (dt.date(2026, 3, 31), 1),
            (dt.date(2026, 4, 1), 0),
        ]
        events = list(reminders(body).order_by("seq"))
        assert [e.data["day"] for e in events] == [
            "2026-03-25",
            "2026-03-27",
            "2026-03-31",
            "2026-04-01",
        ]
        assert {e.actor_name for e in events} == {"system"}
        assert Notification.objects.filter(user=operator, kind="reminder").count() == 4
        assert verify_database()[1] == []

    def test_a_sweep_after_missed_reminder_days_sends_only_the_latest_owed_once(
        self, clock: Any, body: Body, operator: User
    ) -> None:
        f.InstructionFactory()
        assert sla_sweep(now=wib(2026, 3, 30, 9)).reminders == 1
        assert sla_sweep(now=wib(2026, 3, 30, 15)).reminders == 0
        assert [(r.day, r.days_before) for r in Reminder.objects.all()] == [
            (dt.date(2026, 3, 27), 3)
        ]
        assert reminders(body).count() == 1

    def test_the_reminder_names_the_categories_still_unanswered(
        self, clock: Any, body: Body, operator: User
    ) -> None:
        s = act(operator, f.make_draft(operator, "regulation"), "submit")
        f.make_draft(operator, "program")  # a draft does not answer
        nihil_declare(user=operator, category="innovation", reason="Belum ada inovasi")
        sla_sweep(now=wib(2026, 3, 25, 9))
        event = reminders(s.body).get()
        assert event.data["missing"] == ["program", "partnership"]

    def test_a_body_that_answered_every_category_is_not_reminded(
        self, clock: Any, body: Body, operator: User, other_body: Body
    ) -> None:
        act(operator, f.make_draft(operator, "regulation"), "submit")
        for category in ("program", "partnership", "innovation"):
            nihil_declare(user=operator, category=category, reason="Tidak ada")
        assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 1  # only the other body
        assert not Reminder.objects.filter(body=body).exists()
        assert Reminder.objects.filter(body=other_body).exists()

    def test_no_reminder_before_the_first_day_or_after_the_deadline(
        self, clock: Any, body: Body
    ) -> None:
        f.InstructionFactory()
        assert sla_sweep(now=wib(2026, 3, 24, 23, 59)).reminders == 0
        assert sla_sweep(now=wib(2026, 4, 2, 9)).reminders == 0
        assert not Reminder.objects.exists()

    def test_inactive_bodies_are_not_reminded(self, clock: Any, body: Body) -> None:
        f.InstructionFactory()
        body.active = False
        body.save()
        assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 0

    def test_a_moved_deadline_moves_the_reminder_days(self, clock: Any, body: Body) -> None:
        instruction = f.InstructionFactory()
        instruction.deadline = dt.date(2026, 4, 10)
        instruction.save()
        assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 0
        assert sla_sweep(now=wib(2026, 4, 2, 9)).reminders == 1  # 5 days before 10 April
        assert Reminder.objects.get().day == dt.date(2026, 4, 2)


class TestOutbox:
    def test_the_sweep_emails_the_notifications_not_sent_yet(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        act(operator, f.make_draft(operator), "submit")
        pending = Notification.objects.filter(emailed_at__isnull=True)
        assert pending.exists()  # the action's email waits (its on_commit never ran here)
        result = sla_sweep(now=wib(2026, 3, 17, 11))
        assert result.emails >= 1
        assert not pending.exists()
        assert "verifikator@example.test" in [m.to[0] for m in mail.outbox]
        assert sla_sweep(now=wib(2026, 3, 17, 12)).emails == 0

    def test_escalations_and_reminders_are_emailed_by_the_same_sweep(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        act(operator, f.make_draft(operator), "submit")
        mail.outbox.clear()
        sla_sweep(now=wib(2026, 3, 27, 9))
        subjects = [m.subject for m in mail.outbox]
        assert any(s.startswith("Melewati tenggat") for s in subjects)
        assert any(s.startswith("Pengingat KLA") for s in subjects)


class TestCommand:
    def test_sla_sweep_runs_for_the_moment_given(self, clock: Any, people: dict[str, Any]) -> None:
        operator = people["operator"]
        s = act(operator, f.make_draft(operator), "submit")
        out = StringIO()
        call_command("sla_sweep", "--now", "2026-03-30T09:00+07:00", stdout=out)
        assert "escalations: 1" in out.getvalue()
        assert "reminders: 1" in out.getvalue()
        assert escalations(s).count() == 1

    def test_sla_sweep_reads_a_moment_without_offset_as_wib(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        act(operator, f.make_draft(operator), "submit")
        out = StringIO()
        call_command("sla_sweep", "--now", "2026-03-26T23:58", stdout=out)
        assert "escalations: 0" in out.getvalue()
        call_command("sla_sweep", "--now", "2026-03-27T00:00", stdout=out)
        assert "escalations: 1" in out.getvalue()

    @pytest.mark.parametrize("value", ["kemarin", "2026-13-01T09:00", "", "2026-03-30T25:00"])
    def test_sla_sweep_refuses_a_bad_moment_clearly(self, value: Any) -> None:
        with pytest.raises(CommandError, match="ISO 8601"):
            call_command("sla_sweep", "--now", value or " ", stdout=StringIO())

    def test_a_bad_moment_exits_non_zero_from_the_shell(self) -> None:
        import subprocess
        import sys

        proc = subprocess.run(
            [sys.executable, "manage.py", "sla_sweep", "--now", "besok pagi"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode != 0
        assert "ISO 8601" in proc.stderr


def test_nothing_is_owed_without_a_current_instruction(clock: Any, db: Any) -> None:
    assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 0
