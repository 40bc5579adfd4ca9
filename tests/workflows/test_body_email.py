"""A body's own address hears what its operators would while it has none (DESIGN,
"Instructions, years and places"): reminders, notices and escalations, once each, through
the outbox, never on the request path and never lost when the broker is down."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import IntegrityError, transaction

from kla.models import Body, Submission
from tests import factories as f
from tests.concurrency import race
from workflows.models import Notification, TrailEvent
from workflows.notifications.inbox import notifications_of
from workflows.notifications.outbox import notifications_email, outbox_send
from workflows.services import submission_act
from workflows.sla.sweep import sla_sweep

from .sla_support import clock_fixture, wib  # noqa: F401 -- the fixture

ADDRESS = "dinkes@example.test"


def act(user: User, submission: Submission, action: str, note: Any = "") -> Submission:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note)


def to_address() -> Any:
    return Notification.objects.filter(user__isnull=True, email=ADDRESS)


def mailed_to(address: str) -> list[str]:
    return [str(m.subject) for m in mail.outbox if m.to == [address]]


@pytest.fixture
def addressed(body: Body) -> Body:
    """Dinkes with an address of its own."""
    body.email = ADDRESS
    body.save()
    return body


def operator_leaves(operator: User) -> None:
    f.Membership.objects.filter(user=operator).delete()


@pytest.mark.django_db
class TestReminders:
    def test_a_body_without_operators_is_reminded_at_its_own_address_once(
        self, clock: Any, addressed: Body
    ) -> None:
        f.InstructionFactory()
        assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 1
        row = to_address().get()
        assert (row.kind, row.submission_id) == ("reminder", None)
        assert row.emailed_at is not None  # sent by the same sweep's outbox
        assert [s.split(":")[0] for s in mailed_to(ADDRESS)] == ["Pengingat KLA 2/2026"]
        event = TrailEvent.objects.get(stream__name="body:dinkes", action="reminder")
        assert event.data["email"] == ADDRESS
        sla_sweep(now=wib(2026, 3, 25, 15))
        assert len(mailed_to(ADDRESS)) == 1
        assert to_address().count() == 1

    def test_a_body_with_an_operator_is_reminded_through_the_operator_only(
        self, clock: Any, addressed: Body, operator: User
    ) -> None:
        f.InstructionFactory()
        sla_sweep(now=wib(2026, 3, 25, 9))
        assert not to_address().exists()
        assert mailed_to(ADDRESS) == []
        assert mailed_to(operator.email) != []
        assert "email" not in TrailEvent.objects.get(action="reminder").data

    def test_an_operator_whose_account_is_disabled_does_not_count(
        self, clock: Any, addressed: Body, operator: User
    ) -> None:
        f.InstructionFactory()
        operator.is_active = False
        operator.save()
        sla_sweep(now=wib(2026, 3, 25, 9))
        assert to_address().count() == 1

    def test_a_body_with_neither_operators_nor_an_address_is_told_nothing(
        self, clock: Any, body: Body
    ) -> None:
        f.InstructionFactory()
        assert sla_sweep(now=wib(2026, 3, 25, 9)).reminders == 1  # still recorded
        assert not Notification.objects.exists()
        assert mail.outbox == []

    def test_rows_for_an_address_are_in_nobodys_inbox(
        self, clock: Any, addressed: Body, verifier: User
    ) -> None:
        f.InstructionFactory()
        sla_sweep(now=wib(2026, 3, 25, 9))
        assert to_address().exists()
        assert not notifications_of(verifier).exists()


@pytest.mark.django_db
class TestNotices:
    def test_a_return_reaches_the_address_of_a_body_whose_operator_left(
        self,
        clock: Any,
        addressed: Body,
        people: dict[str, Any],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        operator, verifier = people["operator"], people["verifier"]
        s = act(operator, f.make_draft(operator), "submit")
        operator_leaves(operator)
        with django_capture_on_commit_callbacks(execute=True):
            act(verifier, s, "return", "Lampirkan SK")
        row = to_address().get()
        assert (row.kind, row.submission_id, row.message) == (
            "state:returned",
            s.pk,
            "Lampirkan SK",
        )
        assert row.emailed_at is not None  # queued after commit, sent by the task
        (message,) = [m for m in mail.outbox if m.to == [ADDRESS]]
        assert message.subject.startswith("Dikembalikan untuk perbaikan")
        assert "Lampirkan SK" in message.body

    def test_a_return_goes_to_the_operator_when_there_is_one(
        self, clock: Any, addressed: Body, people: dict[str, Any]
    ) -> None:
        s = act(people["operator"], f.make_draft(people["operator"]), "submit")
        act(people["verifier"], s, "return", "Lampirkan SK")
        assert not to_address().exists()

    def test_notices_to_reviewers_never_go_to_the_body(
        self, clock: Any, addressed: Body, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        s = act(operator, f.make_draft(operator), "submit")
        operator_leaves(operator)
        s = act(people["verifier"], s, "approve")
        act(people["consolidator"], s, "return", "Periksa ulang")  # back to the verifier
        assert not to_address().exists()

    def test_an_escalated_draft_reaches_the_address_when_no_operator_is_left(
        self, clock: Any, addressed: Body, operator: User, consolidator: User
    ) -> None:
        draft = f.make_draft(operator)
        operator_leaves(operator)
        assert sla_sweep(now=wib(2026, 4, 2, 0, 5)).escalations == 1
        row = to_address().get(kind="escalation")
        assert row.submission_id == draft.pk
        event = TrailEvent.objects.get(submission=draft, action="escalation")
        assert (event.data["recipients"], event.data["email"]) == (["bapperida"], ADDRESS)
        assert [s for s in mailed_to(ADDRESS) if s.startswith("Melewati tenggat")] != []

    def test_a_step_waiting_for_a_reviewer_is_escalated_to_reviewers_only(
        self, clock: Any, addressed: Body, people: dict[str, Any]
    ) -> None:
        operator = people["operator"]
        act(operator, f.make_draft(operator), "submit")
        operator_leaves(operator)
        sla_sweep(now=wib(2026, 3, 27, 9))
        assert not to_address().filter(kind="escalation").exists()


@pytest.mark.django_db
def test_with_the_broker_down_the_address_is_emailed_by_the_relay(
    clock: Any,
    addressed: Body,
    people: dict[str, Any],
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    s = act(operator, f.make_draft(operator), "submit")
    operator_leaves(operator)
    monkeypatch.setattr("kla.queue.publish", lambda *args: False)  # the broker refuses
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        act(verifier, s, "return", "Lampirkan SK")
    assert callbacks
    assert to_address().get().emailed_at is None
    assert mailed_to(ADDRESS) == []
    assert outbox_send() >= 1
    assert to_address().get().emailed_at is not None
    assert len(mailed_to(ADDRESS)) == 1
    assert outbox_send() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_email_the_address_once(body: Body) -> None:
    rows = Notification.objects.bulk_create(
        Notification(user=None, email=ADDRESS, kind="reminder", title=f"Pengingat #{n}")
        for n in range(20)
    )
    ids = [row.pk for row in rows]
    results = race([lambda: notifications_email(ids=ids), lambda: notifications_email()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r for r in results if isinstance(r, int)) == 20
    assert set(Counter(m.subject for m in mail.outbox).values()) == {1}
    assert {tuple(m.to) for m in mail.outbox} == {(ADDRESS,)}


@pytest.mark.django_db
def test_a_row_must_have_exactly_one_recipient(verifier: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=None, email="", kind="reminder", title="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=verifier, email=ADDRESS, kind="reminder", title="x")
