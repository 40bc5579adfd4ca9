"""The flow is the one source of who acts: viewflow's own checks tell the truth.

Every transition names its permission and its label, so ``has_perm`` and
``get_available_transitions`` answer for each person as the action service does, and the
states wait for the roles DESIGN's flow table gives them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from viewflow.fsm.base import DEFAULT

from kla.models import Submission, SubmissionState
from roles.roles import Role
from tests import factories as f
from workflows.flow import (
    ACTIONS,
    SubmissionFlow,
    action_of,
    duty_roles,
    role_of,
    transition_from,
    transitions,
)
from workflows.services import allowed_actions

pytestmark = pytest.mark.django_db
S = SubmissionState


def test_every_transition_names_its_permission_role_and_label() -> None:
    found = list(transitions())
    assert {action_of(t) for t in found} == set(ACTIONS)
    for transition in found:
        assert transition.permission not in (None, DEFAULT), action_of(transition)
        assert role_of(transition) in Role.values
        assert str(transition.label) and str(transition.label) != transition.func.__name__


def test_an_outsider_and_a_superuser_hold_no_transition(
    submitted: Submission, outsider: User, superuser: User
) -> None:
    flow = SubmissionFlow(submitted)
    for person in (outsider, superuser):
        assert not flow.approve.has_perm(person)
        assert not flow.withdraw.has_perm(person)
        assert SubmissionFlow.state.get_available_transitions(flow, submitted.state, person) == []


def test_has_perm_names_the_role_of_each_transition(
    submitted: Submission, operator: User, verifier: User, consolidator: User
) -> None:
    flow = SubmissionFlow(submitted)
    assert flow.approve.has_perm(verifier)
    assert not flow.approve.has_perm(operator)
    assert not flow.approve.has_perm(consolidator)
    assert flow.withdraw.has_perm(operator)
    assert not flow.withdraw.has_perm(verifier)


@pytest.mark.parametrize("state", ["draft", "submitted", "returned", "verified", "consolidated"])
def test_available_transitions_are_what_the_service_allows(
    state: str, operator: User, people: dict[str, Any], outsider: User
) -> None:
    submission = f.make_draft(operator)
    if state != "draft":
        submission = f.advance(submission, state, **people)
    for person in [*people.values(), outsider]:
        flow = SubmissionFlow(submission, user=person)
        available = SubmissionFlow.state.get_available_transitions(flow, submission.state, person)
        assert sorted(action_of(t) for t in available) == sorted(
            allowed_actions(user=person, submission=submission)
        ), (state, person.username)


def test_four_eyes_is_a_condition_of_the_flow(operator: User, people: dict[str, Any]) -> None:
    """A verifier who also operates the body may not approve what they submitted."""
    verifier = people["verifier"]
    f.Membership.objects.create(user=verifier, body=operator.memberships.get().body)
    submission = f.make_draft(verifier)
    submission = f.advance(submission, "submitted", **{**people, "operator": verifier})
    flow = SubmissionFlow(submission, user=verifier)
    transition = transition_from("approve", submission.state)
    assert transition is not None
    assert transition.has_perm(flow, verifier)
    assert not transition.conditions_met(flow)
    assert "approve" not in allowed_actions(user=verifier, submission=submission)


def test_each_state_waits_for_the_roles_design_gives_it() -> None:
    assert {state: duty_roles(state) for state in S.values} == {
        S.DRAFT: [Role.OPERATOR],
        S.SUBMITTED: [Role.VERIFIER],
        S.RETURNED: [Role.OPERATOR],
        S.VERIFIED: [Role.CONSOLIDATOR],
        S.CONSOLIDATED: [Role.AUDITOR],
        S.AUDITED: [],
    }
