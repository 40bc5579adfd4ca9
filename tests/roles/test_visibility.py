"""Who sees which submission: drafts are private to the body until first submitted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.models import Body, Submission
from roles.roles import roles_of
from roles.selectors import visible_to
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
