"""Two people acting on the same submission at once: exactly one transition happens."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections, transaction

from kla.drafting import evidence_download
from kla.errors import Conflict, Forbidden
from kla.models import Submission
from roles.roles import Role
from tests import factories as f
from tests.concurrency import race
from workflows.models import TrailEvent
from workflows.services import submission_act


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_verifiers_approving_at_once_give_one_success_and_one_409(
    operator: User, verifier: User, verifier2: User
) -> None:
    assert connection.vendor == "postgresql", "the race is only meaningful on PostgreSQL"
    s = submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
    results = race(
        [
            lambda: submission_act(user=verifier, submission_id=s.pk, action="approve"),
            lambda: submission_act(user=verifier2, submission_id=s.pk, action="approve"),
        ]
    )
    successes = [r for r in results if isinstance(r, Submission)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(successes) == 1 and len(conflicts) == 1, results
    assert Submission.objects.get(pk=s.pk).state == "verified"
    assert TrailEvent.objects.filter(submission=s, action="approve").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approve_and_return_at_once_leave_one_decision(
    operator: User, verifier: User, verifier2: User
) -> None:
    s = submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
    results = race(
        [
            lambda: submission_act(user=verifier, submission_id=s.pk, action="approve"),
            lambda: submission_act(
                user=verifier2, submission_id=s.pk, action="return", note="Kurang"
            ),
        ]
    )
    assert sum(isinstance(r, Submission) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    decisions = TrailEvent.objects.filter(submission=s, action__in=["approve", "return"])
    assert decisions.count() == 1
    assert Submission.objects.get(pk=s.pk).state == decisions.get().to_state


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_who_submits_cannot_approve_it_at_the_same_moment(operator: User) -> None:
    """Four eyes is read after the row lock: an approve that waited for the same person's
    submit sees that they authored it (never the trail as it was before the wait)."""
    assert connection.vendor == "postgresql", "the race is only meaningful on PostgreSQL"
    operator.groups.add(f.group(Role.VERIFIER))
    draft = f.make_draft(operator)
    for _round in range(3):
        results = race(
            [
                lambda: submission_act(user=operator, submission_id=draft.pk, action="submit"),
                lambda: submission_act(user=operator, submission_id=draft.pk, action="approve"),
            ]
        )
        submitted, approved = results
        assert isinstance(submitted, Submission), results
        assert isinstance(approved, (Forbidden, Conflict)), results
        assert Submission.objects.get(pk=draft.pk).state == "submitted"
        submission_act(user=operator, submission_id=draft.pk, action="withdraw")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_withdraw_that_waited_for_a_reviewers_download_sees_it(
    operator: User, verifier: User
) -> None:
    """The action's read after its lock (``workflows.locked_read``) waits for the stream head
    while a reviewer's download is being written: it must then see the download (somebody has
    started on the submission) and refuse the withdraw, not decide on the trail as it was
    before the wait."""
    assert connection.vendor == "postgresql", "the race is only meaningful on PostgreSQL"
    s = submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
    evidence = s.evidence.get()
    downloading = threading.Event()

    def download() -> object:
        with transaction.atomic():
            evidence_download(user=verifier, submission_id=s.pk, evidence_id=evidence.pk)
            downloading.set()
            _until_a_lock_is_waited_for()
        return "downloaded"

    def withdraw() -> object:
        assert downloading.wait(30)
        return submission_act(user=operator, submission_id=s.pk, action="withdraw")

    downloaded, withdrawn = race([download, withdraw])
    assert downloaded == "downloaded", (downloaded, withdrawn)
    assert isinstance(withdrawn, (Forbidden, Conflict)), withdrawn
    assert Submission.objects.get(pk=s.pk).state == "submitted"
    assert not TrailEvent.objects.filter(submission=s, action="withdraw").exists()


def _until_a_lock_is_waited_for(timeout: float = 30) -> None:
    """Return once another session waits for a row lock (the other call has reached it)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            # The statistics views hold one snapshot a transaction unless it is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the other call never waited for the lock")
