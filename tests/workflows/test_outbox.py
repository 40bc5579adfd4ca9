"""The email outbox under concurrency: each email once, with no lock held while mailing."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connections, transaction

from tests.concurrency import race
from workflows.models import Notification
from workflows.notifications.outbox import CLAIM_LEASE, notifications_email, outbox_send

from .sla_support import clock_fixture  # noqa: F401 -- the fixture

ROWS = 40


class SlowBackend(EmailBackend):
    """The in-memory backend, slow enough that two senders overlap."""

    def send_messages(self, messages: Any) -> int:
        threading.Event().wait(0.005)
        sent: int = super().send_messages(messages)
        return sent


def _owed(user: User, count: int) -> list[int]:
    rows = Notification.objects.bulk_create(
        Notification(user=user, kind="state:submitted", title=f"Menunggu verifikasi: #{i}")
        for i in range(count)
    )
    return [row.pk for row in rows]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_emailing_the_same_person_send_each_email_once(
    settings: Any, verifier: User
) -> None:
    settings.EMAIL_BACKEND = "tests.workflows.test_outbox.SlowBackend"
    ids = _owed(verifier, ROWS)
    results = race([lambda: notifications_email(ids=ids), lambda: notifications_email()])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r for r in results if isinstance(r, int)) == ROWS
    subjects = Counter(m.subject for m in mail.outbox)
    assert len(subjects) == ROWS and set(subjects.values()) == {1}
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locked_user_row_does_not_hold_the_email_back(verifier: User) -> None:
    """The sender locks only its own rows: a user row locked elsewhere changes nothing."""
    _owed(verifier, 1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_user_row() -> None:
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=verifier.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_user_row)
    holder.start()
    try:
        assert locked.wait(30)
        assert notifications_email() == 1
    finally:
        release.set()
        holder.join(30)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_mail_server_gives_the_claim_back_for_the_retry(
    monkeypatch: Any, verifier: User
) -> None:
    ids = _owed(verifier, 2)

    def down(*args: Any, **kwargs: Any) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr("workflows.notifications.outbox.send_mail", down)
    with pytest.raises(OSError):
        notifications_email(ids=ids)
    assert (
        Notification.objects.filter(claimed_at__isnull=True, emailed_at__isnull=True).count() == 2
    )
    monkeypatch.undo()
    assert notifications_email(ids=ids) == 2


@pytest.mark.django_db
def test_a_claim_whose_sender_died_is_taken_over_after_its_lease(
    clock: Any, verifier: User
) -> None:
    (pk,) = _owed(verifier, 1)
    Notification.objects.filter(pk=pk).update(claimed_at=clock.at)  # a sender that died
    assert outbox_send() == 0
    clock.at = clock.at + CLAIM_LEASE + CLAIM_LEASE / 10
    assert outbox_send() == 1
    assert [m.to for m in mail.outbox] == [[verifier.email]]
