"""Changes of instructions, of the calendar and of bodies are events on the ``system`` stream,
each saying what changed, before and after (DESIGN, "Instructions, years and places")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import serializers
from django.db.models import QuerySet
from django.test import Client

from kla.models import Body, Instruction
from tests import factories as f
from workflows.models import CalendarDay, DayKind, TrailEvent
from workflows.trail.reading import verify_database
from workflows.trail.receivers import current_actor

pytestmark = pytest.mark.django_db

D = dt.date


def system(action: str | None = None) -> QuerySet[TrailEvent]:
    events = TrailEvent.objects.filter(stream__name="system").order_by("seq")
    return events.filter(action=action) if action else events


def since(seq: int) -> list[tuple[str, dict[str, Any]]]:
    """The system events appended after ``seq``: (action, data)."""
    return [(e.action, e.data) for e in system().filter(seq__gt=seq)]


def head() -> int:
    last = system().last()
    return last.seq if last is not None else 0


@pytest.fixture
def instruction(body: Body) -> Instruction:
    return f.InstructionFactory()


class TestInstructions:
    def test_creating_one_records_its_values_then_its_addressees(self, body: Body) -> None:
        mark = head()
        instruction = f.InstructionFactory()
        assert since(mark) == [
            (
                "instruction_create",
                {
                    "instruction": instruction.pk,
                    "label": "2/2026",
                    "values": {
                        "number": 2,
                        "year": 2026,
                        "title": instruction.title,
                        "issuer": "Wali Kota Metro",
                        "issued_on": "2026-03-17",
                        "effective_on": "2026-03-17",
                        "deadline": "2026-04-01",
                        "years": [2024, 2025, 2026],
                        "budget_verify": 2,
                        "budget_revise": 2,
                        "budget_consolidate": 2,
                        "budget_audit": 5,
                        "follow_up_days": 60,
                        "is_current": True,
                    },
                },
            ),
            (
                "instruction_addressees_add",
                {"instruction": instruction.pk, "label": "2/2026", "bodies": ["dinkes"]},
            ),
        ]
        event = system("instruction_create").get()
        assert (event.actor_name, event.role) == ("system", "admin")

    def test_a_moved_deadline_is_one_event_with_before_and_after(
        self, instruction: Instruction
    ) -> None:
        mark = head()
        instruction.deadline = D(2026, 4, 10)
        instruction.save()
        assert since(mark) == [
            (
                "instruction_change",
                {
                    "instruction": instruction.pk,
                    "label": "2/2026",
                    "changes": {"deadline": {"before": "2026-04-01", "after": "2026-04-10"}},
                },
            )
        ]
        assert system("instruction_change").get().note == "2/2026: deadline 2026-04-01 → 2026-04-10"

    def test_budgets_years_and_the_day_in_force_changed_together_are_one_event(
        self, instruction: Instruction
    ) -> None:
        mark = head()
        instruction.budget_verify = 3
        instruction.budget_audit = 7
        instruction.follow_up_days = 30
        instruction.years = [2026, 2025]
        instruction.effective_on = D(2026, 3, 18)
        instruction.save()
        ((action, data),) = since(mark)
        assert action == "instruction_change"
        assert data["changes"] == {
            "effective_on": {"before": "2026-03-17", "after": "2026-03-18"},
            "years": {"before": [2024, 2025, 2026], "after": [2025, 2026]},
            "budget_verify": {"before": 2, "after": 3},
            "budget_audit": {"before": 5, "after": 7},
            "follow_up_days": {"before": 60, "after": 30},
        }

    def test_a_save_that_changes_nothing_records_nothing(self, instruction: Instruction) -> None:
        mark = head()
        Instruction.objects.get(pk=instruction.pk).save()
        assert since(mark) == []

    def test_only_the_fields_saved_are_compared(self, instruction: Instruction) -> None:
        mark = head()
        instruction.title = "Tidak disimpan"
        instruction.budget_revise = 4
        instruction.save(update_fields=["budget_revise"])
        ((_action, data),) = since(mark)
        assert data["changes"] == {"budget_revise": {"before": 2, "after": 4}}

    def test_becoming_current_is_recorded_for_both_instructions(
        self, instruction: Instruction
    ) -> None:
        later = f.InstructionFactory(number=2, year=2027, deadline=D(2027, 4, 1), is_current=False)
        mark = head()
        later.is_current = True
        later.save()
        assert [(a, d["label"], d["changes"]) for a, d in since(mark)] == [
            ("instruction_change", "2/2026", {"is_current": {"before": True, "after": False}}),
            ("instruction_change", "2/2027", {"is_current": {"before": False, "after": True}}),
        ]

    def test_addressees_removed_and_added_name_the_bodies(
        self, instruction: Instruction, body: Body, other_body: Body
    ) -> None:
        kemenag = f.BodyFactory(code="kemenag", addressed_by=[])
        mark = head()
        instruction.addressees.remove(body, kemenag)  # kemenag never was one
        instruction.addressees.add(kemenag)
        kemenag.instructions.remove(instruction)  # type: ignore[attr-defined]  # the reverse side
        instruction.addressees.clear()
        label = {"instruction": instruction.pk, "label": "2/2026"}
        assert since(mark) == [
            ("instruction_addressees_remove", label | {"bodies": ["dinkes"]}),
            ("instruction_addressees_add", label | {"bodies": ["kemenag"]}),
            ("instruction_addressees_remove", label | {"bodies": ["kemenag"]}),
            ("instruction_addressees_remove", label | {"bodies": ["dinsos"]}),
        ]
        mark = head()
        instruction.addressees.remove(body)  # no longer one: nothing changes
        instruction.addressees.add()
        assert since(mark) == []

    def test_addressees_set_by_the_form_record_only_the_difference(
        self, instruction: Instruction, body: Body, other_body: Body
    ) -> None:
        mark = head()
        instruction.addressees.set([other_body])  # dinkes goes, dinsos stays
        assert [(a, d["bodies"]) for a, d in since(mark)] == [
            ("instruction_addressees_remove", ["dinkes"])
        ]


class TestCalendar:
    def test_a_calendar_day_added_changed_and_removed(self, db: Any) -> None:
        mark = head()
        day = CalendarDay.objects.create(
            date=D(2027, 3, 15), kind=DayKind.WORKDAY, reason="Cuti bersama dibatalkan"
        )
        day.kind = DayKind.HOLIDAY
        day.reason = "HUT Kota"
        day.save()
        day.delete()
        values = {"date": "2027-03-15", "kind": "holiday", "reason": "HUT Kota"}
        assert since(mark) == [
            (
                "calendar_day_add",
                {
                    "date": "2027-03-15",
                    "values": {
                        "date": "2027-03-15",
                        "kind": "workday",
                        "reason": "Cuti bersama dibatalkan",
                    },
                },
            ),
            (
                "calendar_day_change",
                {
                    "date": "2027-03-15",
                    "changes": {
                        "kind": {"before": "workday", "after": "holiday"},
                        "reason": {"before": "Cuti bersama dibatalkan", "after": "HUT Kota"},
                    },
                },
            ),
            ("calendar_day_remove", {"date": "2027-03-15", "values": values}),
        ]

    def test_a_day_added_in_the_admin_names_the_administrator(
        self, client: Client, superuser: User
    ) -> None:
        client.force_login(superuser)
        response = client.post(
            "/admin/workflows/calendarday/add/",
            {"date": "2026-03-26", "kind": "holiday", "reason": "HUT Kota"},
        )
        assert response.status_code == 302
        event = system("calendar_day_add").get()
        assert (event.actor_name, event.actor_id, event.role) == (
            "root-admin",
            superuser.pk,
            "admin",
        )
        assert event.data["values"] == {
            "date": "2026-03-26",
            "kind": "holiday",
            "reason": "HUT Kota",
        }

    def test_rows_loaded_from_a_fixture_are_not_changes(self, db: Any) -> None:
        day = CalendarDay(date=D(2027, 1, 4), kind=DayKind.HOLIDAY, reason="Fixture")
        (loaded,) = serializers.deserialize("json", serializers.serialize("json", [day]))
        mark = head()
        loaded.save()  # as loaddata saves: raw
        assert CalendarDay.objects.filter(date=D(2027, 1, 4)).exists()
        assert since(mark) == []


class TestBodies:
    def test_a_body_created_then_renamed_moved_given_an_address_and_retired(self, db: Any) -> None:
        mark = head()
        body = f.BodyFactory(code="dinkes", name="Dinas Kesehatan", addressed_by=[])
        body.name = "Dinas Kesehatan Kota"
        body.kind = "kecamatan"
        body.email = "dinkes@example.test"
        body.active = False
        body.save()
        assert since(mark) == [
            (
                "body_create",
                {
                    "body": "dinkes",
                    "values": {
                        "code": "dinkes",
                        "name": "Dinas Kesehatan",
                        "kind": "perangkat_daerah",
                        "email": "",
                        "active": True,
                    },
                },
            ),
            (
                "body_change",
                {
                    "body": "dinkes",
                    "changes": {
                        "name": {"before": "Dinas Kesehatan", "after": "Dinas Kesehatan Kota"},
                        "kind": {"before": "perangkat_daerah", "after": "kecamatan"},
                        "email": {"before": "", "after": "dinkes@example.test"},
                        "active": {"before": True, "after": False},
                    },
                },
            ),
        ]

    def test_the_seeds_own_bookkeeping_is_not_a_change(self, body: Body) -> None:
        mark = head()
        body.seeded_name = body.name
        body.save()
        assert since(mark) == []

    def test_the_person_making_the_change_is_the_actor(self, body: Body, superuser: User) -> None:
        token = current_actor.set(superuser)
        try:
            body.name = "Dinas Kesehatan dan KB"
            body.save()
        finally:
            current_actor.reset(token)
        event = system("body_change").get()
        assert (event.actor_name, event.role) == ("root-admin", "admin")


def test_every_kind_of_change_keeps_the_trail_verifiable(body: Body) -> None:
    instruction = f.InstructionFactory()
    instruction.deadline = D(2026, 4, 8)
    instruction.save()
    instruction.addressees.remove(body)
    CalendarDay.objects.create(date=D(2026, 3, 26), kind=DayKind.HOLIDAY, reason="HUT Kota")
    body.email = "dinkes@example.test"
    body.save()
    assert system().count() >= 5
    assert verify_database()[1] == []
