"""Monitoring from outside: ``/api/v1/monitoring-notes/``, ``/api/v1/compliance/reminders/``,
the /monitoring/ page and the compliance matrix's "Ingatkan" button."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.models import Body, Instruction
from tests import factories as f
from tests.workflows.sla_support import Clock, clock_fixture  # noqa: F401 -- the fixture
from workflows.models import ManualReminder, MonitoringNote
from workflows.supervision.monitoring import monitoring_note_write

pytestmark = pytest.mark.django_db

NOTES = "/api/v1/monitoring-notes/"
REMIND = "/api/v1/compliance/reminders/"


@pytest.fixture
def notes(
    instruction: Instruction, body: Body, other_body: Body, verifier: User, consolidator: User
) -> list[MonitoringNote]:
    """Three notes: two to dinkes (one about indicator 17), one to dinsos."""
    return [
        monitoring_note_write(user=verifier, agency="dinkes", note="Umum"),
        monitoring_note_write(user=consolidator, agency="dinkes", indicator=17, note="KTR"),
        monitoring_note_write(user=verifier, agency="dinsos", note="Dinsos"),
    ]


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the API ---------------------------------------------------------------------------------


def test_posting_a_note_answers_201_with_its_shape(
    api: Any, instruction: Instruction, body: Body, operator: User, verifier: User
) -> None:
    response = api.as_(verifier).post(
        NOTES, {"agency": "dinkes", "indicator": 6, "note": "Forum anak"}, format="json"
    )
    assert response.status_code == 201, response.json()
    got = response.json()
    assert set(got) == {
        "id",
        "instruction",
        "agency",
        "body",
        "indicator",
        "note",
        "author",
        "role",
        "created_at",
    }
    assert (got["instruction"], got["agency"], got["body"]) == (
        instruction.pk,
        "dinkes",
        "Dinas Kesehatan",
    )
    assert (got["indicator"], got["note"], got["author"], got["role"]) == (
        6,
        "Forum anak",
        "verifikator",
        "verifier",
    )
    assert dt.datetime.fromisoformat(got["created_at"]).utcoffset() is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"agency": "nope", "note": "x"}, "agency"),
        ({"agency": "dinkes", "note": ""}, "note"),
        ({"agency": "dinkes", "note": "x", "indicator": 25}, "indicator"),
        ({"agency": "dinkes", "note": "x", "indicator": "abc"}, "indicator"),
        ({"agency": "dinkes", "note": "x", "instruction": 424242}, "instruction"),
        ({"agency": "dinkes", "note": 5}, "note"),
        ({"agency": "dinkes", "note": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_notes_are_400_by_field(
    api: Any, instruction: Instruction, body: Body, verifier: User, data: Any, field: str
) -> None:
    response = api.as_(verifier).post(NOTES, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not MonitoringNote.objects.exists()


def test_operators_and_auditors_may_not_post_notes(
    api: Any, instruction: Instruction, body: Body, operator: User, auditor: User
) -> None:
    for user in (operator, auditor):
        response = api.as_(user).post(NOTES, {"agency": "dinkes", "note": "x"}, format="json")
        assert response.status_code == 403


def test_the_list_holds_what_the_caller_may_read_newest_first(
    api: Any,
    notes: list[MonitoringNote],
    operator: User,
    other_operator: User,
    auditor: User,
    outsider: User,
) -> None:
    got = api.as_(operator).get(NOTES).json()
    assert set(got) >= {"count", "next", "previous", "results"}
    assert [n["id"] for n in got["results"]] == [notes[1].pk, notes[0].pk]
    assert [n["agency"] for n in api.as_(other_operator).get(NOTES).json()["results"]] == ["dinsos"]
    assert api.as_(auditor).get(NOTES).json()["count"] == 3
    assert api.as_(outsider).get(NOTES).status_code == 404


def test_the_list_filters_by_agency_indicator_and_instruction(
    api: Any, notes: list[MonitoringNote], instruction: Instruction, auditor: User
) -> None:
    client = api.as_(auditor)

    def ids(query: str) -> list[int]:
        response = client.get(NOTES + query)
        assert response.status_code == 200, response.json()
        return [n["id"] for n in response.json()["results"]]

    assert ids("?agency=dinsos") == [notes[2].pk]
    assert ids("?indicator=17") == [notes[1].pk]
    assert ids("?agency=dinkes&indicator=17") == [notes[1].pk]
    assert len(ids(f"?instruction={instruction.pk}")) == 3
    assert len(ids("?instruction=all")) == 3
    following = f.InstructionFactory(number=3, year=2027, is_current=False)
    assert ids(f"?instruction={following.pk}") == []
    for bad in ("?agency=nope", "?indicator=0", "?indicator=x", "?instruction=999999"):
        assert client.get(NOTES + bad).status_code == 400


def test_a_manual_reminder_answers_201_then_409_the_same_wib_day(
    api: Any, clock: Clock, instruction: Instruction, body: Body, operator: User, verifier: User
) -> None:
    client = api.as_(verifier)
    response = client.post(REMIND, {"agency": "dinkes", "note": "Segera"}, format="json")
    assert response.status_code == 201, response.json()
    got = response.json()
    assert set(got) == {"id", "agency", "sent_to", "at"}
    assert (got["agency"], got["sent_to"]) == ("dinkes", ["op-dinkes"])
    assert dt.datetime.fromisoformat(got["at"]) == clock.at
    second = client.post(REMIND, {"agency": "dinkes"}, format="json")
    assert second.status_code == 409
    assert "detail" in second.json()
    clock.set(2026, 3, 18, 8)
    client = api.as_(verifier)  # a day on: the first token died of idleness (REST_KNOX)
    assert client.post(REMIND, {"agency": "dinkes"}, format="json").status_code == 201
    assert ManualReminder.objects.count() == 2


def test_reminder_refusals(
    api: Any, clock: Clock, instruction: Instruction, body: Body, other_body: Body, auditor: User
) -> None:
    scoped = f.make_scoped_verifier([body], "verif-dinkes")
    assert api.as_(scoped).post(REMIND, {"agency": "dinsos"}, format="json").status_code == 403
    assert api.as_(auditor).post(REMIND, {"agency": "dinkes"}, format="json").status_code == 403
    bad = api.as_(scoped).post(REMIND, {"agency": "nope"}, format="json")
    assert bad.status_code == 400 and "agency" in bad.json()
    assert api.as_(scoped).post(REMIND, {"agency": "dinkes"}, format="json").status_code == 201


# --- the pages -------------------------------------------------------------------------------


def test_operators_see_their_bodys_notes_on_the_monitoring_page_without_the_form(
    client: Client, notes: list[MonitoringNote], operator: User
) -> None:
    client.force_login(operator)
    html = page_of(client, reverse("monitoring"))
    assert "KTR" in html and "Umum" in html
    assert "Dinsos" not in html
    assert 'name="note"' not in html
    refused = client.post(reverse("monitoring"), {"agency": "dinkes", "note": "x"})
    assert refused.status_code == 403


def test_a_verifier_writes_a_note_from_the_page(
    client: Client, instruction: Instruction, body: Body, operator: User, verifier: User
) -> None:
    client.force_login(verifier)
    assert 'name="note"' in page_of(client, reverse("monitoring"))
    empty = client.post(reverse("monitoring"), {"agency": "dinkes", "note": " "})
    assert empty.status_code == 400
    done = client.post(reverse("monitoring"), {"agency": "dinkes", "indicator": "17", "note": "OK"})
    assert done.status_code == 302
    note = MonitoringNote.objects.get()
    assert (note.body.code, note.indicator and note.indicator.number) == ("dinkes", 17)


def test_the_compliance_page_reminds_once_a_day_and_says_why_not_twice(
    client: Client, clock: Clock, instruction: Instruction, body: Body, operator: User,
    consolidator: User, auditor: User,
) -> None:  # fmt: skip
    client.force_login(auditor)
    assert "Ingatkan" not in page_of(client, reverse("compliance"))
    client.force_login(consolidator)
    assert "Ingatkan" in page_of(client, reverse("compliance"))
    sent = client.post(reverse("compliance-remind"), {"agency": "dinkes"}, follow=True)
    assert "Pengingat dikirim ke Dinas Kesehatan: op-dinkes" in sent.content.decode()
    again = client.post(reverse("compliance-remind"), {"agency": "dinkes"})
    assert again.status_code == 409
    assert "sudah diingatkan hari ini" in again.content.decode()
