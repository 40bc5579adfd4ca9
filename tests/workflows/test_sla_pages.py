"""Due times where people see submissions: the submission page, "Tugas saya", the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kla.models import Submission
from tests import factories as f
from workflows.services import submission_act

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def submit(operator: User, **fields: Any) -> Any:
    draft = f.make_draft(operator, **fields)
    return submission_act(user=operator, submission_id=draft.pk, action="submit")


def test_the_submission_page_shows_the_due_time_in_wib(
    clock: Any, client: Client, operator: User, verifier: User
) -> None:
    s = submit(operator)
    client.force_login(verifier)
    page = client.get(f"/pengajuan/{s.pk}/").content.decode()
    assert "26 Maret 2026 23:59 WIB" in page
    assert "tag overdue" not in page


def test_an_overdue_step_is_marked_on_the_page_and_in_lists(
    clock: Any, client: Client, operator: User, verifier: User
) -> None:
    s = submit(operator)
    clock.set(2026, 3, 27, 9)
    client.force_login(verifier)
    page = client.get(f"/pengajuan/{s.pk}/").content.decode()
    assert "tag overdue" in page and "lewat tenggat" in page
    assert "tag overdue" in client.get("/tugas/").content.decode()
    assert "tag overdue" in client.get("/pengajuan/").content.decode()


def test_an_audited_submission_has_no_due_time_and_no_mark(
    clock: Any, client: Client, draft: Submission, people: dict[str, Any]
) -> None:
    s = f.advance(draft, "audited", **people)
    clock.set(2026, 6, 1, 9)
    client.force_login(people["auditor"])
    page = client.get(f"/pengajuan/{s.pk}/").content.decode()
    assert "tag overdue" not in page


def test_the_late_flag_shows_on_the_page_and_in_lists(
    clock: Any, client: Client, operator: User, verifier: User
) -> None:
    draft = f.make_draft(operator)
    clock.set(2026, 4, 2, 9)
    s = submission_act(user=operator, submission_id=draft.pk, action="submit")
    client.force_login(verifier)
    assert "tag late" in client.get(f"/pengajuan/{s.pk}/").content.decode()
    assert "tag late" in client.get("/tugas/").content.decode()


def test_tugas_saya_lists_overdue_first_then_the_soonest(
    clock: Any, client: Client, operator: User, verifier: User
) -> None:
    clock.set(2026, 3, 25, 9)
    later = submit(operator, title="Jatuh tempo 27 Maret")
    clock.set(2026, 3, 17, 10)
    overdue = submit(operator, title="Jatuh tempo 26 Maret")
    clock.set(2026, 3, 26, 9)
    latest = submit(operator, title="Jatuh tempo 30 Maret")
    clock.set(2026, 3, 27, 9)
    client.force_login(verifier)
    page = client.get("/tugas/").content.decode()
    positions = [page.index(f'href="/pengajuan/{s.pk}/"') for s in (overdue, later, latest)]
    assert positions == sorted(positions)


def test_the_api_gives_due_at_with_its_offset(
    clock: Any, api: Any, operator: User, verifier: User
) -> None:
    s = submit(operator)
    body = api.as_(verifier).get(f"/api/v1/submissions/{s.pk}/").json()
    assert body["due_at"] == "2026-03-26T23:59:00+07:00"
    assert body["late"] is False
    audited_like = api.as_(operator).get(f"/api/v1/submissions/{s.pk}/").json()
    assert audited_like["due_at"] == body["due_at"]
