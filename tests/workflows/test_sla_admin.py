"""Administrators change the calendar and the instruction in the admin; due times follow."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kla.models import Submission
from tests import factories as f
from workflows.models import CalendarDay
from workflows.services import submission_act

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db

ADD_DAY = "/admin/workflows/calendarday/add/"


def submitted(operator: User) -> Any:
    draft = f.make_draft(operator)
    return submission_act(user=operator, submission_id=draft.pk, action="submit")


def test_an_admin_added_holiday_moves_open_due_times(
    clock: Any, client: Client, superuser: User, operator: User
) -> None:
    s = submitted(operator)
    client.force_login(superuser)
    r = client.post(ADD_DAY, {"date": "2026-03-26", "kind": "holiday", "reason": "HUT Kota"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert CalendarDay.objects.get().reason == "HUT Kota"
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 27, 23, 59)


def test_an_admin_added_working_day_moves_open_due_times(
    clock: Any, client: Client, superuser: User, operator: User
) -> None:
    s = submitted(operator)
    client.force_login(superuser)
    r = client.post(ADD_DAY, {"date": "2026-03-24", "kind": "workday", "reason": "SKB baru"})
    assert r.status_code == 302
    assert Submission.objects.get(pk=s.pk).due_at == wib(2026, 3, 25, 23, 59)


def test_a_deadline_changed_in_the_admin_moves_open_drafts(
    clock: Any, client: Client, superuser: User, operator: User
) -> None:
    draft = f.make_draft(operator)
    instruction = draft.instruction
    client.force_login(superuser)
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
