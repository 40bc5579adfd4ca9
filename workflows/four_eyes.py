"""Four eyes, read from the trail: nobody approves, consolidates or audits what they authored.

"Authored" means created, edited or submitted, as the trail records it (uploads, removals,
changes of a file's kind or requirements, submits, withdrawals included). The same facts say
whether an operator may still withdraw: only while the newest event of the submission is
their own submit or resubmit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import F

from workflows.models import TrailEvent

# Events by which a person has "created, edited or submitted" a submission.
AUTHORING_ACTIONS = (
    "create",
    "edit",
    "evidence_upload",
    "evidence_remove",
    "evidence_tag",
    "submit",
    "resubmit",
    "withdraw",
)
# A withdraw is possible while the newest event is the operator's own one of these.
WITHDRAWABLE_AFTER = ("submit", "resubmit")


@dataclass(frozen=True)
class ActionFacts:
    """What the flow's conditions read from the trail about one person and one submission."""

    authored: bool
    withdrawable: bool


def authored_among(user: User, submission_ids: Sequence[int]) -> set[int]:
    """Which of these submissions the person created, edited or submitted (one query)."""
    return set(
        TrailEvent.objects.filter(
            submission_id__in=list(submission_ids), actor_id=user.pk, action__in=AUTHORING_ACTIONS
        ).values_list("submission_id", flat=True)
    )


def latest_events(submission_ids: Sequence[int]) -> dict[int, TrailEvent]:
    """The newest trail event of each submission: the one at its stream head (one query)."""
    rows = TrailEvent.objects.filter(
        submission_id__in=list(submission_ids), seq=F("stream__seq")
    ).only("submission_id", "actor_id", "action")
    return {row.submission_id: row for row in rows if row.submission_id is not None}


def withdrawable_by(user: User, latest: TrailEvent | None) -> bool:
    """Whether the newest event is this person's own submit or resubmit.

    Any later event (a reviewer downloading the evidence, an escalation) means someone has
    started on it.
    """
    return latest is not None and latest.actor_id == user.pk and latest.action in WITHDRAWABLE_AFTER


def action_facts(*, user: User, submission_ids: Sequence[int]) -> dict[int, ActionFacts]:
    """The trail facts for many submissions in two queries (for lists)."""
    authored = authored_among(user, submission_ids)
    latest = latest_events(submission_ids)
    return {
        pk: ActionFacts(authored=pk in authored, withdrawable=withdrawable_by(user, latest.get(pk)))
        for pk in submission_ids
    }
