"""The operator's home: what their body still owes, the deadline, returned work first."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.time import WIB
from tests import factories as f
from tests.workflows.sla_support import Clock, clock_fixture  # noqa: F401 (the clock fixture)
from workflows.services import submission_act
from workflows.sla.compliance import obligations_of
from workflows.sla.nihil import nihil_declare

pytestmark = pytest.mark.django_db


def _home(user: User) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("tasks"))
    assert response.status_code == 200
    return response.content.decode()


def _owed(html: str) -> dict[str, str]:
    """Category label -> the item's class (answered, owed, overdue)."""
    items = re.findall(
        r'<li class="(answered|owed|overdue)">\s*<span class="owed-category">([^<]+)</span>', html
    )
    return {label: state for state, label in items}


def test_the_operator_sees_each_category_answered_or_owed(
    operator: User, people: dict[str, Any], clock: Clock
) -> None:
    f.advance(f.make_draft(operator, title="Perwali KTR"), "submitted", **people)
    nihil_declare(user=operator, category="partnership", reason="Belum ada kemitraan")
    f.make_draft(operator, category="program", title="Forum Anak")  # a draft answers nothing
    html = _home(operator)
    assert _owed(html) == {
        "Regulasi": "answered",
        "Program dan kegiatan": "owed",
        "Kemitraan": "answered",
        "Inovasi": "owed",
    }
    assert "nihil dinyatakan" in html
    # Tuesday 17 March to Wednesday 1 April 2026: 7 working days (Nyepi, Idul Fitri and the
    # joint leave days around them are not), as `manage.py workdays` counts them.
    assert re.search(r"<strong>7</strong>\s*hari kerja tersisa", html)
    assert "1 April 2026" in html and "23:59 WIB" in html
    assert reverse("submission-new", args=["innovation"]) in html


def test_after_the_deadline_what_is_unanswered_is_marked_overdue(
    operator: User, clock: Clock
) -> None:
    f.InstructionFactory()
    clock.set(2026, 4, 2, 9)
    matrix = obligations_of(user=operator)
    assert matrix.deadline is not None and matrix.deadline.passed
    assert [c.answered for c in matrix.rows[0].cells] == [False] * 4
    html = _home(operator)
    assert set(_owed(html).values()) == {"overdue"}
    assert "belum dijawab, lewat batas waktu" in html


def test_the_working_days_left_follow_the_calendar(operator: User) -> None:
    f.InstructionFactory()
    # Monday 30 March 2026 to Wednesday 1 April: three working days, both ends included.
    matrix = obligations_of(user=operator, now=dt.datetime(2026, 3, 30, 8, tzinfo=WIB))
    assert matrix.deadline is not None and matrix.deadline.working_days_left == 3


def test_returned_submissions_come_first_with_their_reason(
    operator: User, people: dict[str, Any]
) -> None:
    f.make_draft(operator, title="Draf baru")
    submitted = f.advance(f.make_draft(operator, title="Perlu perbaikan"), "submitted", **people)
    submission_act(
        user=people["verifier"],
        submission_id=submitted.pk,
        action="return",
        note="Nomor perwali salah",
    )
    html = _home(operator)
    assert html.index("Perlu perbaikan") < html.index("Draf baru")
    assert "Nomor perwali salah" in html


def test_reviewers_and_people_without_a_body_have_no_obligations_card(
    verifier: User, outsider: User, instruction: Any
) -> None:
    assert 'class="card obligations"' not in _home(verifier)
    assert 'class="card obligations"' not in _home(outsider)


def test_an_operator_of_a_body_the_instruction_does_not_address_owes_nothing(
    operator: User, body: Any
) -> None:
    instruction = f.InstructionFactory()
    instruction.addressees.remove(body)
    assert obligations_of(user=operator).rows == []
    assert 'class="card obligations"' not in _home(operator)
