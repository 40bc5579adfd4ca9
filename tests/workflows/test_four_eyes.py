"""Four eyes' reading of the trail for lists: the newest event of each submission that tells a
withdraw it is too late, read from the stream heads of the submissions asked about only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kla.drafting import evidence_download
from kla.models import Submission
from tests import factories as f
from workflows.four_eyes import DOWNLOAD, ActionFacts, action_facts, latest_events
from workflows.locked_read import read_locked
from workflows.models import TrailEvent
from workflows.services import submission_act

pytestmark = pytest.mark.django_db


def _locked_facts(person: User, submission: Submission) -> ActionFacts:
    with transaction.atomic():
        return read_locked(person, submission, handing_in=False).facts


def _expected(submission: Submission) -> TrailEvent:
    """The newest event, skipping the body's own operators reading its files, the slow way."""
    events = TrailEvent.objects.filter(submission=submission).order_by("-seq")
    return next(e for e in events if not (e.action == DOWNLOAD and e.role == "operator"))


def _submitted(operator: User) -> Submission:
    draft = f.make_draft(operator)
    submission_act(user=operator, submission_id=draft.pk, action="submit")
    return draft


def test_latest_events_are_the_heads_and_skip_the_bodys_own_reads(
    people: dict[str, Any],
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    draft = f.make_draft(operator)
    plain = _submitted(operator)
    read_by_owner = _submitted(operator)
    read_by_reviewer = _submitted(operator)
    evidence_download(
        user=operator,
        submission_id=read_by_owner.pk,
        evidence_id=read_by_owner.evidence.first().pk,  # type: ignore[union-attr]
    )
    evidence_download(
        user=verifier,
        submission_id=read_by_reviewer.pk,
        evidence_id=read_by_reviewer.evidence.first().pk,  # type: ignore[union-attr]
    )
    subjects = [draft, plain, read_by_owner, read_by_reviewer]
    latest = latest_events([s.pk for s in subjects])
    assert {pk: e.pk for pk, e in latest.items()} == {s.pk: _expected(s).pk for s in subjects}
    assert latest[read_by_owner.pk].action == "submit"
    assert latest[read_by_reviewer.pk].action == DOWNLOAD
    facts = action_facts(user=operator, submission_ids=[s.pk for s in subjects])
    assert [facts[s.pk].withdrawable for s in subjects] == [False, True, True, False]
    assert all(facts[s.pk].authored for s in subjects)


def test_latest_events_of_nothing_asks_nothing() -> None:
    with CaptureQueriesContext(connection) as ctx:
        assert latest_events([]) == {}
    assert len(ctx) == 0


def test_latest_events_cost_two_queries_however_many_submissions(
    people: dict[str, Any],
) -> None:
    operator = people["operator"]
    few = [_submitted(operator).pk for _ in range(2)]
    with CaptureQueriesContext(connection) as one:
        latest_events(few)
    many = few + [_submitted(operator).pk for _ in range(8)]
    with CaptureQueriesContext(connection) as other:
        assert set(latest_events(many)) == set(many)
    assert len(one) == len(other) == 2


def test_the_locking_reads_facts_are_the_lists_facts(people: dict[str, Any]) -> None:
    """The action reads four eyes in its read after the lock (``read_locked``): for every
    history and person, the same facts as the lists' ``action_facts``."""
    operator, verifier = people["operator"], people["verifier"]
    draft = f.make_draft(operator)
    plain = _submitted(operator)
    read_by_owner = _submitted(operator)
    read_by_reviewer = _submitted(operator)
    approved = _submitted(operator)
    submission_act(user=verifier, submission_id=approved.pk, action="approve")
    for subject, reader in ((read_by_owner, operator), (read_by_reviewer, verifier)):
        evidence_download(
            user=reader,
            submission_id=subject.pk,
            evidence_id=subject.evidence.first().pk,  # type: ignore[union-attr]
        )
    subjects = [draft, plain, read_by_owner, read_by_reviewer, approved]
    read: dict[int, dict[int, Any]] = {}
    for person in (operator, verifier):
        expected = action_facts(user=person, submission_ids=[s.pk for s in subjects])
        read[person.pk] = {s.pk: _locked_facts(person, s) for s in subjects}
        assert read[person.pk] == expected
    mine = read[operator.pk]
    assert [mine[s.pk].withdrawable for s in subjects] == [False, True, True, False, False]
    assert all(mine[s.pk].authored for s in subjects)
    assert not any(read[verifier.pk][s.pk].authored for s in subjects)
