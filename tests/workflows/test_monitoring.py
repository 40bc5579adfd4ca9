"""Monitoring (Diktum KELIMA) through the services: notes to a body and reminders by hand.

Who may write (verifiers, a scoped one within their bodies, and consolidators), each field's
400, the trail event on the body's stream, the notice to the body's operators or its own
address, who reads the notes, and one manual reminder a body a WIB day and instruction.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.errors import Conflict, Forbidden, Invalid
from kla.models import Body, Instruction
from roles.roles import roles_of
from tests import factories as f
from tests.workflows.sla_support import Clock, clock_fixture  # noqa: F401 -- the fixture
from workflows.models import ManualReminder, MonitoringNote, Notification, TrailEvent
from workflows.supervision.monitoring import (
    NOTE_MAX,
    compliance_remind,
    monitoring_note_write,
    monitoring_notes_visible_to,
)

pytestmark = pytest.mark.django_db


def body_events(body: Body, action: str) -> Any:
    return TrailEvent.objects.filter(stream__name=f"body:{body.code}", action=action)


# --- notes -----------------------------------------------------------------------------------


def test_a_verifier_writes_a_note_the_body_is_told_and_the_trail_records_it(
    instruction: Instruction, body: Body, operator: User, verifier: User
) -> None:
    note = monitoring_note_write(
        user=verifier, agency="dinkes", indicator=17, note="  Lengkapi SK gugus tugas  "
    )
    assert note.instruction == instruction  # the current one by default
    assert note.indicator is not None and note.indicator.number == 17
    assert (note.note, note.role, note.author) == ("Lengkapi SK gugus tugas", "verifier", verifier)
    event = body_events(body, "monitoring_note").get()
    assert (event.actor, event.role, event.note) == (verifier, "verifier", note.note)
    assert event.data == {
        "monitoring_note": note.pk,
        "instruction": instruction.pk,
        "indicator": 17,
    }
    notice = Notification.objects.get(kind="monitoring_note")
    assert notice.user == operator
    assert notice.message == "Lengkapi SK gugus tugas"
    assert "indikator 17" in notice.title


def test_a_consolidator_writes_for_a_named_instruction_without_an_indicator(
    instruction: Instruction, body: Body, operator: User, consolidator: User
) -> None:
    note = monitoring_note_write(
        user=consolidator, agency="dinkes", instruction=str(instruction.pk), note="Baik"
    )
    assert (note.role, note.indicator) == ("consolidator", None)


def test_a_body_without_operators_is_told_at_its_own_address(
    instruction: Instruction, verifier: User
) -> None:
    f.BodyFactory(code="bpbd", name="BPBD", email="bpbd@example.go.id")
    monitoring_note_write(user=verifier, agency="bpbd", note="Belum ada pengajuan")
    notice = Notification.objects.get(kind="monitoring_note")
    assert (notice.user, notice.email) == (None, "bpbd@example.go.id")


@pytest.mark.parametrize("who", ["operator", "auditor", "outsider"])
def test_operators_auditors_and_people_without_a_role_may_not_write(
    who: str, request: Any, instruction: Instruction, body: Body
) -> None:
    user = request.getfixturevalue(who)
    with pytest.raises(Forbidden):
        monitoring_note_write(user=user, agency="dinkes", note="Catatan")
    assert not MonitoringNote.objects.exists()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"agency": "tidak-ada"}, {"agency"}),
        ({"agency": ""}, {"agency"}),
        ({"instruction": 999_999}, {"instruction"}),
        ({"instruction": "x"}, {"instruction"}),
        ({"indicator": 0}, {"indicator"}),
        ({"indicator": 25}, {"indicator"}),
        ({"indicator": "17a"}, {"indicator"}),
        ({"indicator": True}, {"indicator"}),
        ({"note": "   "}, {"note"}),
        ({"note": "x" * (NOTE_MAX + 1)}, {"note"}),
        ({"note": 5}, {"note"}),
        ({"agency": "tidak-ada", "indicator": 30, "note": ""}, {"agency", "indicator", "note"}),
    ],
)
def test_bad_fields_are_refused_each_by_name_and_nothing_changes(
    fields: dict[str, Any],
    errors: set[str],
    instruction: Instruction,
    body: Body,
    operator: User,
    verifier: User,
) -> None:
    values = {"agency": "dinkes", "note": "Catatan"} | fields
    with pytest.raises(Invalid) as refused:
        monitoring_note_write(user=verifier, **values)
    assert set(refused.value.errors) == errors
    assert not MonitoringNote.objects.exists()
    assert not Notification.objects.filter(kind="monitoring_note").exists()
    assert not body_events(body, "monitoring_note").exists()


def test_a_scoped_verifier_writes_only_within_their_bodies(
    instruction: Instruction, body: Body, other_body: Body
) -> None:
    scoped = f.make_scoped_verifier([body], "verif-dinkes")
    assert monitoring_note_write(user=scoped, agency="dinkes", note="Di dalam").role == "verifier"
    with pytest.raises(Forbidden):
        monitoring_note_write(user=scoped, agency="dinsos", note="Di luar")
    assert MonitoringNote.objects.count() == 1


def test_operators_read_their_bodies_notes_and_reviewers_all(
    instruction: Instruction,
    body: Body,
    other_body: Body,
    operator: User,
    other_operator: User,
    verifier: User,
    auditor: User,
    outsider: User,
) -> None:
    mine = monitoring_note_write(user=verifier, agency="dinkes", note="Untuk dinkes")
    theirs = monitoring_note_write(user=verifier, agency="dinsos", note="Untuk dinsos")
    assert list(monitoring_notes_visible_to(roles_of(operator))) == [mine]
    assert list(monitoring_notes_visible_to(roles_of(other_operator))) == [theirs]
    assert set(monitoring_notes_visible_to(roles_of(auditor))) == {mine, theirs}
    assert not monitoring_notes_visible_to(roles_of(outsider)).exists()


# --- manual reminders ------------------------------------------------------------------------


def test_a_manual_reminder_goes_to_the_operators_once_a_wib_day(
    clock: Clock,
    instruction: Instruction,
    body: Body,
    operator: User,
    consolidator: User,
    verifier: User,
) -> None:
    reminder = compliance_remind(user=consolidator, agency="dinkes", note="Segera lengkapi")
    assert reminder.sent_to == ["op-dinkes"]
    assert reminder.day.isoformat() == "2026-03-17"
    assert (reminder.instruction, reminder.sent_at) == (instruction, clock.at)
    notice = Notification.objects.get(kind="manual_reminder")
    assert (notice.user, notice.message) == (operator, "Segera lengkapi")
    event = body_events(body, "manual_reminder").get()
    assert (event.actor, event.role) == (consolidator, "consolidator")
    assert event.data["sent_to"] == ["op-dinkes"]
    assert event.data["day"] == "2026-03-17"

    clock.set(2026, 3, 17, 23, 59)  # still the same WIB day, and by anybody else
    with pytest.raises(Conflict):
        compliance_remind(user=verifier, agency="dinkes")
    assert ManualReminder.objects.count() == 1
    assert body_events(body, "manual_reminder").count() == 1

    clock.set(2026, 3, 18, 0, 0)  # the next WIB day (17:00 UTC)
    again = compliance_remind(user=consolidator, agency="dinkes")
    assert again.day.isoformat() == "2026-03-18"
    latest = Notification.objects.filter(kind="manual_reminder").order_by("id").last()
    assert latest is not None and "batas waktu" in latest.message


def test_a_body_without_operators_is_reminded_at_its_own_address(
    clock: Clock, instruction: Instruction, verifier: User
) -> None:
    f.BodyFactory(code="bpbd", name="BPBD", email="bpbd@example.go.id")
    reminder = compliance_remind(user=verifier, agency="bpbd")
    assert reminder.sent_to == ["bpbd@example.go.id"]
    notice = Notification.objects.get(kind="manual_reminder")
    assert (notice.user, notice.email) == (None, "bpbd@example.go.id")


def test_manual_reminders_are_apart_from_the_sweeps(
    clock: Clock, instruction: Instruction, body: Body, operator: User, verifier: User
) -> None:
    from workflows.models import Reminder

    Reminder.objects.create(
        instruction=instruction, body=body, day=clock.at.date(), days_before=5, sent_at=clock.at
    )
    assert compliance_remind(user=verifier, agency="dinkes").pk is not None


def test_a_scoped_verifier_reminds_only_within_their_bodies(
    clock: Clock, instruction: Instruction, body: Body, other_body: Body
) -> None:
    scoped = f.make_scoped_verifier([body], "verif-dinkes")
    compliance_remind(user=scoped, agency="dinkes")
    with pytest.raises(Forbidden):
        compliance_remind(user=scoped, agency="dinsos")
    assert ManualReminder.objects.count() == 1


@pytest.mark.parametrize("who", ["operator", "auditor", "outsider"])
def test_only_verifiers_and_consolidators_remind(
    who: str, request: Any, clock: Clock, instruction: Instruction, body: Body
) -> None:
    with pytest.raises(Forbidden):
        compliance_remind(user=request.getfixturevalue(who), agency="dinkes")
    assert not ManualReminder.objects.exists()


def test_a_reminder_with_bad_fields_changes_nothing(
    clock: Clock, instruction: Instruction, body: Body, verifier: User
) -> None:
    with pytest.raises(Invalid) as refused:
        compliance_remind(user=verifier, agency="nope", note="x" * 3000, instruction=123456)
    assert set(refused.value.errors) == {"agency", "note", "instruction"}
    assert not ManualReminder.objects.exists()
