"""Administrators change the calendar and the instruction in the admin; due times follow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from kla.models import Submission
from tests import factories as f
from workflows.models import CalendarDay, DueRecompute, Timer
from workflows.services import submission_act
from workflows.sla import recompute, sweep
from workflows.sla.recompute import recompute_pending
from workflows.sla.sweep import sla_sweep

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

ADD_DAY = "/admin/workflows/calendarday/add/"


def submitted(operator: User) -> Any:
    draft = f.make_draft(operator)
    return submission_act(user=operator, submission_id=draft.pk, action="submit")


def test_an_admin_added_holiday_moves_open_due_times(
    clock: Any,
    client: Client,
    superuser: User,
    operator: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    s = submitted(operator)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(ADD_DAY, {"date": "2026-03-26", "kind": "holiday", "reason": "HUT Kota"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert CalendarDay.objects.get().reason == "HUT Kota"
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 27, 23, 59)


def test_an_admin_added_working_day_moves_open_due_times(
    clock: Any,
    client: Client,
    superuser: User,
    operator: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    s = submitted(operator)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(ADD_DAY, {"date": "2026-03-24", "kind": "workday", "reason": "SKB baru"})
    assert r.status_code == 302
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 25, 23, 59)


def test_a_deadline_changed_in_the_admin_moves_open_drafts(
    clock: Any,
    client: Client,
    superuser: User,
    operator: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = f.make_draft(operator)
    instruction = draft.instruction
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/admin/kla/instruction/{instruction.pk}/change/",
            {
                "number": instruction.number,
                "year": instruction.year,
                "title": instruction.title,
                "issued_on": "2026-03-17",
                "deadline": "2026-04-08",
                "budget_verify": 2,
                "budget_revise": 2,
                "budget_consolidate": 2,
                "budget_audit": 5,
                "follow_up_days": 60,
                "years": "2024, 2025, 2026",
                "is_current": "on",
            },
        )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert Submission.objects.get(pk=draft.pk).due_at == wib(2026, 4, 8, 23, 59, 59)


def test_the_calendar_admin_is_for_administrators_only(
    client: Client, operator: User, superuser: User
) -> None:
    client.force_login(operator)
    r = client.get(ADD_DAY)
    assert r.status_code == 302 and "login" in r["Location"]
    staff = f.UserFactory(username="staf")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(ADD_DAY).status_code == 403
    client.force_login(superuser)
    assert client.get(ADD_DAY).status_code == 200


class TestInTheBackground:
    """The change commits at once; the due times follow in batches, with progress, and until
    they have, nobody is shown a due time that may be stale."""

    def test_until_the_recompute_has_run_due_times_show_as_being_recomputed(
        self, clock: Any, client: Client, superuser: User, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        s = submitted(operator)
        before = Submission.objects.get(pk=s.pk).due_at
        client.force_login(superuser)
        # The task is queued after commit: here it has not run.
        r = client.post(
            ADD_DAY, {"date": "2026-03-26", "kind": "holiday", "reason": "HUT Kota"}, follow=True
        )
        assert "sedang dihitung ulang di latar belakang" in r.content.decode()
        job = DueRecompute.objects.get()
        assert (job.total, job.done, job.finished_at) == (1, 0, None)
        assert Submission.objects.get(pk=s.pk).due_at == before
        progress = client.get("/admin/workflows/duerecompute/").content.decode()
        assert "menunggu giliran (1 timer)" in progress

        client.force_login(people["verifier"])
        page = client.get(f"/pengajuan/{s.pk}/").content.decode()
        assert "sedang dihitung ulang" in page
        listed = client.get("/pengajuan/").content.decode()
        assert "sedang dihitung ulang" in listed
        api = Client(HTTP_AUTHORIZATION=f"Token {f.api_token(people['verifier'])}")
        row = api.get(f"/api/v1/submissions/{s.pk}/").json()
        assert (row["due_at"], row["due_recomputing"]) == (None, True)
        assert recompute_pending() == 1
        job.refresh_from_db()
        assert job.finished_at is not None and job.done == 1
        assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 27, 23, 59)
        row = api.get(f"/api/v1/submissions/{s.pk}/").json()
        assert row["due_recomputing"] is False
        assert row["due_at"] == "2026-03-27T23:59:00+07:00"
        assert "sedang dihitung ulang" not in client.get(f"/pengajuan/{s.pk}/").content.decode()
        client.force_login(superuser)
        assert "selesai (1 timer)" in client.get("/admin/workflows/duerecompute/").content.decode()

    def test_many_changes_before_it_starts_are_one_recompute(
        self, clock: Any, client: Client, superuser: User, operator: User
    ) -> None:
        submitted(operator)
        client.force_login(superuser)
        for day in ("2026-03-26", "2026-03-27", "2026-03-30"):
            client.post(ADD_DAY, {"date": day, "kind": "holiday", "reason": "Libur"})
        assert DueRecompute.objects.count() == 1

    def test_it_runs_in_batches_each_its_own_transaction(
        self, clock: Any, operator: User, monkeypatch: Any
    ) -> None:
        drafts = [submitted(operator) for _ in range(5)]
        monkeypatch.setattr(recompute, "BATCH", 2)
        with transaction.atomic():
            CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind="holiday")
        assert recompute_pending(batches=1) == 2
        job = DueRecompute.objects.get()
        assert (job.done, job.total, job.finished_at) == (2, 5, None)
        assert recompute_pending() == 3
        job.refresh_from_db()
        assert job.finished_at is not None
        assert {Submission.objects.get(pk=d.pk).due_at for d in drafts} == {
            wib(2026, 3, 27, 23, 59)
        }

    def test_a_step_an_action_started_meanwhile_keeps_its_new_due_time(
        self, clock: Any, people: dict[str, Any]
    ) -> None:
        operator, verifier = people["operator"], people["verifier"]
        s = submitted(operator)
        CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind="holiday")
        # Before the recompute runs, the verifier approves: the new step's due time is
        # computed with the new calendar, and the recompute leaves the closed step alone.
        clock.set(2026, 3, 25, 9)
        approved = submission_act(user=verifier, submission_id=s.pk, action="approve")
        fresh = approved.due_at
        recompute_pending()
        assert Submission.objects.get(pk=s.pk).due_at == fresh
        closed = Timer.objects.get(submission=s, step="submitted")
        assert closed.closed_at is not None


class TestTheSweep:
    def test_it_recomputes_first_and_escalates_on_the_new_due_times(
        self, clock: Any, operator: User
    ) -> None:
        s = submitted(operator)
        assert s.due_at == wib(2026, 3, 26, 23, 59)
        CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind="holiday")
        # Past the old due time, before the new one: nothing is overdue any more.
        result = sla_sweep(now=wib(2026, 3, 27, 10), send_emails=False)
        assert (result.recomputed, result.escalations) == (1, 0)
        assert sla_sweep(now=wib(2026, 3, 28, 0, 1), send_emails=False).escalations == 1

    def test_while_another_worker_recomputes_nothing_is_escalated(
        self, clock: Any, operator: User, monkeypatch: Any
    ) -> None:
        submitted(operator)
        CalendarDay.objects.create(date=dt.date(2026, 3, 26), kind="holiday")
        # The job is another worker's (its row lock is held there): this sweep cannot run it.
        monkeypatch.setattr(sweep, "recompute_pending", lambda: 0)
        assert sla_sweep(now=wib(2026, 4, 20, 10), send_emails=False).escalations == 0
        monkeypatch.undo()
        assert sla_sweep(now=wib(2026, 4, 20, 10), send_emails=False).escalations == 1
