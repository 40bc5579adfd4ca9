"""The submission flow, defined once with ``viewflow.fsm``: the one source of who acts, what an
action is called and what follows.

Each transition names its permission (the role that may ever take it, scope aside), its
conditions for the acting person (the verifier's scope, four eyes, withdrawing only one's own
latest submit) and its label (the button people press). ``custom`` carries what viewflow has no
slot for: the role (for the trail and for who is waiting), whether a note is required or
allowed, whether fields and evidence must be complete, and whether the transition is a duty of
the state it leaves (withdraw is not: a submitted submission waits for the verifier).

viewflow.fsm checks neither the lock nor the note: ``workflows.services.submission_act`` takes
the row lock and asks the flow in DESIGN's order (404, 400, 403, 409, 403, 400). Completeness
and notes are the service's (400) and never hide an action from ``allowed_actions``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from viewflow import fsm, this

from kla.models import Submission, SubmissionState
from roles.roles import Role, Roles, roles_of
from workflows.four_eyes import ActionFacts, action_facts

S = SubmissionState

# The API identifiers of the actions, in the order buttons and ``allowed_actions`` list them.
ACTIONS = ("submit", "withdraw", "approve", "return", "resubmit", "consolidate", "audit")
NOTE_REQUIRED = "required"
NOTE_OPTIONAL = "optional"


class Unmet(fsm.State.CONDITION):  # type: ignore[misc]  # viewflow ships no types
    """A condition's answer: true, or false with the status and message of the refusal."""

    def __init__(self, is_true: bool, *, status: int, unmet: str) -> None:
        super().__init__(is_true, unmet)
        self.status = status


# The permission method of the flow that holds each role (scope aside).
_PERMISSION = {
    Role.OPERATOR: this.is_operator,
    Role.VERIFIER: this.is_verifier,
    Role.CONSOLIDATOR: this.is_consolidator,
    Role.AUDITOR: this.is_auditor,
}


def _by(role: Role, *, note: str = "", complete: bool = False, duty: bool = True) -> dict[str, Any]:
    """The permission and the custom data of a transition taken by ``role``."""
    return {
        "permission": _PERMISSION[role],
        "custom": {"role": role, "note": note, "complete": complete, "duty": duty},
    }


class SubmissionFlow:
    """DESIGN's flow table, bound to one submission and, for its conditions, one person."""

    state = fsm.State(SubmissionState, default=S.DRAFT)

    def __init__(
        self,
        submission: Submission,
        *,
        user: User | AnonymousUser | None = None,
        roles: Roles | None = None,
        facts: ActionFacts | None = None,
    ) -> None:
        self.submission = submission
        self.user = user
        self._roles = roles
        self._facts = facts

    @state.getter()
    def _get_state(self) -> str:
        return self.submission.state

    @state.setter()
    def _set_state(self, value: str) -> None:
        self.submission.state = value

    # --- who the acting person is -----------------------------------------------------------

    @property
    def roles(self) -> Roles:
        """The acting person's roles (read once)."""
        if self._roles is None:
            self._roles = roles_of(self.user) if self.user is not None else Roles()
        return self._roles

    @property
    def facts(self) -> ActionFacts:
        """What the trail says about the acting person and this submission (read once)."""
        if self._facts is None:
            if not isinstance(self.user, User):
                self._facts = ActionFacts(authored=False, withdrawable=False)
            else:
                pk = self.submission.pk
                self._facts = action_facts(user=self.user, submission_ids=[pk])[pk]
        return self._facts

    def _roles_of(self, user: User | AnonymousUser) -> Roles:
        if self.user is not None and user.pk == self.user.pk:
            return self.roles
        return roles_of(user)

    # --- permissions: whether a person holds the role at all, scope aside -------------------

    def is_operator(self, user: User | AnonymousUser) -> bool:
        return self._roles_of(user).operates(self.submission.body_id)

    def is_verifier(self, user: User | AnonymousUser) -> bool:
        return self._roles_of(user).verifier

    def is_consolidator(self, user: User | AnonymousUser) -> bool:
        return self._roles_of(user).consolidator

    def is_auditor(self, user: User | AnonymousUser) -> bool:
        return self._roles_of(user).auditor

    # --- conditions of the acting person, in the order their refusals come ---------------------

    def own_latest(self) -> Unmet:
        return Unmet(
            self.facts.withdrawable,
            status=409,
            unmet=_("Pengajuan sudah ditindaklanjuti; tidak dapat ditarik kembali."),
        )

    def in_scope(self) -> Unmet:
        return Unmet(
            self.roles.verifies(self.submission.body_id),
            status=403,
            unmet=_("Perangkat ini di luar cakupan verifikasi Anda."),
        )

    def four_eyes(self) -> Unmet:
        return Unmet(
            not self.facts.authored,
            status=403,
            unmet=_(
                "Prinsip empat mata: Anda tidak dapat memproses pengajuan yang Anda buat, "
                "ubah atau ajukan sendiri."
            ),
        )

    # --- the transitions ------------------------------------------------------------------------

    @state.transition(
        source=S.DRAFT,
        target=S.SUBMITTED,
        label=_l("Ajukan untuk verifikasi"),
        **_by(Role.OPERATOR, complete=True),
    )
    def submit(self) -> None:
        """The body hands the submission in for verification."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.DRAFT,
        label=_l("Tarik kembali"),
        conditions=[this.own_latest],
        **_by(Role.OPERATOR, duty=False),
    )
    def withdraw(self) -> None:
        """The operator takes back a submission nobody has acted on yet."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.VERIFIED,
        label=_l("Setujui (verifikasi)"),
        conditions=[this.in_scope, this.four_eyes],
        **_by(Role.VERIFIER),
    )
    def approve(self) -> None:
        """P3AP2KB finds the submission complete and correct."""

    @state.transition(
        source=S.SUBMITTED,
        target=S.RETURNED,
        label=_l("Kembalikan"),
        conditions=[this.in_scope],
        **_by(Role.VERIFIER, note=NOTE_REQUIRED),
    )
    @state.transition(
        source=S.VERIFIED,
        target=S.SUBMITTED,
        label=_l("Kembalikan ke verifikator"),
        **_by(Role.CONSOLIDATOR, note=NOTE_REQUIRED),
    )
    def return_(self) -> None:
        """Back one step with a reason: to the operator, or from BAPPERIDA to the verifier."""

    @state.transition(
        source=S.RETURNED,
        target=S.SUBMITTED,
        label=_l("Ajukan ulang"),
        **_by(Role.OPERATOR, note=NOTE_REQUIRED, complete=True),
    )
    def resubmit(self) -> None:
        """The operator hands the revised submission in again, saying what changed."""

    @state.transition(
        source=S.VERIFIED,
        target=S.CONSOLIDATED,
        label=_l("Konsolidasikan"),
        conditions=[this.four_eyes],
        **_by(Role.CONSOLIDATOR),
    )
    def consolidate(self) -> None:
        """BAPPERIDA takes the verified submission into the city's consolidation."""

    @state.transition(
        source=S.CONSOLIDATED,
        target=S.AUDITED,
        label=_l("Catat audit"),
        conditions=[this.four_eyes],
        **_by(Role.AUDITOR, note=NOTE_OPTIONAL),
    )
    def audit(self) -> None:
        """Inspektorat records its audit; the note holds the findings."""


# --- reading the declarations ----------------------------------------------------------------


def action_of(transition: fsm.Transition) -> str:
    """The API identifier of a transition (``return_`` is ``return``)."""
    return str(transition.func.__name__).rstrip("_")


def transitions() -> Iterator[fsm.Transition]:
    """Every transition of the flow, in the order of ``ACTIONS``."""
    found = [t for ts in SubmissionFlow.state.get_transitions().values() for t in ts]
    yield from sorted(found, key=lambda t: (ACTIONS.index(action_of(t)), str(t.source)))


def transitions_of(action: str) -> list[fsm.Transition]:
    """Every transition an action identifier names, whatever its source state."""
    return [t for t in transitions() if action_of(t) == action]


def transition_from(action: str, state: str) -> fsm.Transition | None:
    """The transition an action takes from this state, if any."""
    return next((t for t in transitions_of(action) if t.source == state), None)


def role_of(transition: fsm.Transition) -> Role:
    role: Role = transition.custom["role"]
    return role


def note_of(transition: fsm.Transition) -> str:
    """``required``, ``optional`` or empty (the action takes no note)."""
    note: str = transition.custom["note"]
    return note


def needs_complete(transition: fsm.Transition) -> bool:
    complete: bool = transition.custom["complete"]
    return complete


def duty_roles(state: str) -> list[Role]:
    """The roles a submission in this state waits for: those of the duties leaving it."""
    roles: list[Role] = []
    for transition in transitions():
        if transition.source == state and transition.custom["duty"]:
            role = role_of(transition)
            if role not in roles:
                roles.append(role)
    return roles


def waiting_states(role: Role) -> list[str]:
    """The states in which a submission waits for this role."""
    return [state for state in SubmissionState.values if role in duty_roles(state)]
