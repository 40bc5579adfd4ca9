"""Two people acting on the same submission at once: exactly one transition happens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

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
