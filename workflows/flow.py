"""The submission flow, defined once with ``viewflow.fsm``.

Each transition names the role that may take it and the rules it carries (``custom``):
``four_eyes`` (nobody acts on what they created, edited or submitted), ``note`` (a note is
required) and ``complete`` (fields and evidence must be complete). viewflow.fsm itself
checks no permission and takes no lock: ``workflows.services.submission_act`` does both and
reads these declarations to tell 403 from 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viewflow import fsm

from kla.models import Submission, SubmissionState
from roles.roles import Role

S = SubmissionState


@dataclass(frozen=True)
class Rule:
    """What a transition demands beyond its source state."""

    role: Role
    four_eyes: bool = False
    note: bool = False
    complete: bool = False
    own_latest: bool = False


def _rule(role: Role, **flags: bool) -> dict[str, Any]:
    return {"rule": Rule(role=role, **flags)}


class SubmissionFlow:
    """The states and actions of DESIGN's flow table, bound to one submission."""

    state = fsm.State(SubmissionState, default=S.DRAFT)

    def __init__(self, submission: Submission) -> None:
        self.submission = submission

    @state.getter()
    def _get_state(self) -> str:
        return self.submission.state

    @state.setter()
    def _set_state(self, value: str) -> None:
        self.submission.state = value

    @state.transition(
        source=S.DRAFT,
        target=S.SUBMITTED,
        permission=None,
        custom=_rule(Role.OPERATOR, complete=True),
    )
    def submit(self) -> None:
        """The body hands the submission in for verification."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.DRAFT,
        permission=None,
        custom=_rule(Role.OPERATOR, own_latest=True),
    )
    def withdraw(self) -> None:
        """The operator takes back a submission nobody has acted on yet."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.VERIFIED,
        permission=None,
        custom=_rule(Role.VERIFIER, four_eyes=True),
    )
    def approve(self) -> None:
        """P3AP2KB finds the submission complete and correct."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.RETURNED,
        permission=None,
        custom=_rule(Role.VERIFIER, note=True),
    )
    @state.transition(
        source=S.VERIFIED,
        target=S.SUBMITTED,
        permission=None,
        custom=_rule(Role.CONSOLIDATOR, note=True),
    )
    def return_(self) -> None:
        """Back one step with a reason: to the operator, or from BAPPERIDA to the verifier."""

    @state.transition(
        source=S.RETURNED,
        target=S.SUBMITTED,
        permission=None,
        custom=_rule(Role.OPERATOR, note=True, complete=True),
    )
    def resubmit(self) -> None:
        """The operator hands the revised submission in again, saying what changed."""

    @state.transition(
        source=S.VERIFIED,
        target=S.CONSOLIDATED,
        permission=None,
        custom=_rule(Role.CONSOLIDATOR, four_eyes=True),
    )
    def consolidate(self) -> None:
        """BAPPERIDA takes the verified submission into the city's consolidation."""

    @state.transition(
        source=S.CONSOLIDATED,
        target=S.AUDITED,
        permission=None,
        custom=_rule(Role.AUDITOR, four_eyes=True),
    )
    def audit(self) -> None:
        """Inspektorat records its audit; the note holds the findings."""


# API identifiers of the actions and the flow methods that carry them.
ACTION_METHODS = {
    "submit": "submit",
    "withdraw": "withdraw",
    "approve": "approve",
    "return": "return_",
    "resubmit": "resubmit",
    "consolidate": "consolidate",
    "audit": "audit",
}


def transitions_of(action: str) -> list[fsm.Transition]:
    """Every transition an action identifier names, whatever its source state."""
    method = getattr(SubmissionFlow, ACTION_METHODS[action])
    return list(method.get_transitions())


def transition_from(action: str, state: str) -> fsm.Transition | None:
    """The transition an action takes from this state, if any."""
    for transition in transitions_of(action):
        if transition.source == state:
            return transition
    return None


def rule_of(transition: fsm.Transition) -> Rule:
    rule: Rule = transition.custom["rule"]
    return rule
