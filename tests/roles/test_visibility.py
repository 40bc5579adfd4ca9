"""Who sees which submission: drafts are private to the body until first submitted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.models import Body, Submission
from roles.models import Membership
from roles.roles import roles_of
from roles.selectors import sees, visible_to
from tests import factories as f
from workflows.services import submission_act

pytestmark = pytest.mark.django_db


def seen_by(user: User) -> Any:
    return set(visible_to(user).values_list("pk", flat=True))


def test_a_never_submitted_draft_is_private_to_its_body(
    draft: Submission, people: dict[str, Any], other_operator: User
) -> None:
    assert seen_by(people["operator"]) == {draft.pk}
    for person in ("verifier", "consolidator", "auditor"):
        assert seen_by(people[person]) == set()
    assert seen_by(other_operator) == set()


def test_once_submitted_reviewers_see_it_in_every_state(
    submitted: Submission, people: dict[str, Any]
) -> None:
    withdrawn = submission_act(
        user=people["operator"], submission_id=submitted.pk, action="withdraw"
    )
    assert withdrawn.state == "draft"
    for person in ("verifier", "consolidator", "auditor"):
        assert seen_by(people[person]) == {submitted.pk}


def test_a_scoped_verifier_sees_only_bodies_in_scope(
    operator: User, body: Body, other_body: Body
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    s = submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
    assert seen_by(scoped) == set()
    assert roles_of(scoped).verifier and not roles_of(scoped).verifier_everywhere
    dinsos = f.make_operator(other_body, "op-dinsos")
    t = submission_act(user=dinsos, submission_id=f.make_draft(dinsos).pk, action="submit")
    assert seen_by(scoped) == {t.pk}
    assert s.pk not in seen_by(scoped)


def test_a_superuser_without_roles_sees_nothing(submitted: Submission, superuser: User) -> None:
    assert seen_by(superuser) == set()
    assert roles_of(superuser).names() == []


def test_an_inactive_account_sees_nothing(submitted: Submission, verifier: User) -> None:
    verifier.is_active = False
    verifier.save()
    assert seen_by(verifier) == set()


def test_sees_agrees_with_the_visibility_filter_for_every_role_and_submission(
    people: dict[str, Any], other_operator: User, body: Body, other_body: Body, outsider: User
) -> None:
    """The action's locking read takes a row by its key and asks ``sees``: the same answer as
    the filter every list uses, for each kind of person and each kind of submission."""
    operator = people["operator"]
    never = f.make_draft(operator, title="Belum pernah diajukan")
    handed_in = f.advance(f.make_draft(operator, title="Diajukan"), "submitted", **people)
    withdrawn = f.advance(f.make_draft(operator, title="Ditarik"), "submitted", **people)
    submission_act(user=operator, submission_id=withdrawn.pk, action="withdraw")
    theirs = f.advance(
        f.make_draft(other_operator, title="Milik lain"),
        "submitted",
        **(people | {"operator": other_operator}),
    )
    kinds = [never.pk, handed_in.pk, withdrawn.pk, theirs.pk]
    submissions = list(Submission.objects.filter(pk__in=kinds))
    both = f.make_operator(other_body, "op-dua")
    Membership.objects.create(user=both, body=body)  # an operator of both bodies
    persons = [
        *people.values(),
        other_operator,
        outsider,
        both,
        f.make_scoped_verifier([body], "verifikator-dinkes"),
        f.make_scoped_verifier([other_body], "verifikator-dinsos"),
    ]
    answers = set()
    for person in persons:
        roles = roles_of(person)
        listed = set(visible_to(person, roles).values_list("pk", flat=True))
        for submission in submissions:
            answer = sees(roles, submission)
            assert answer == (submission.pk in listed), (person.username, submission.title)
            answers.add(answer)
    assert answers == {True, False}  # both answers were given
