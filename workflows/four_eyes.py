"""Four eyes, read from the trail: nobody approves, consolidates or audits what they authored.

"Authored" means created, edited or submitted, as the trail records it (uploads, removals,
changes of a file's kind or requirements, submits, withdrawals included). The same facts say
whether an operator may still withdraw: only while the newest event of the submission is
their own submit or resubmit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, Max, OuterRef, Q, Subquery

from kla.models import Submission
from roles.roles import Role
from workflows.models import TrailEvent, TrailStream

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
# A withdraw is possible while the newest event is the operator's own one of these ...
WITHDRAWABLE_AFTER = ("submit", "resubmit")
# ... not counting the body's own operators reading its files (downloads and previews).
DOWNLOAD = "evidence_download"


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
    """The newest trail event of each submission that tells a withdraw it is too late.

    That is the event at the stream head, unless the head is a download (or a preview) by the
    body's own operators: reading one's own files starts nobody's work (DESIGN, "Submission
    page"). Then it is the newest other event (two more queries).

    The heads are read by the streams' names, then each event at its ``(stream, seq)``: two
    queries on unique indexes, reading as many rows as there are submissions asked about,
    however many streams the trail holds.
    """
    ids = list(submission_ids)
    if not ids:
        return {}
    names = [Submission(pk=pk).stream for pk in ids]
    heads = Q(pk__in=[])
    streams = TrailStream.objects.filter(name__in=names).order_by()
    stream_ids = []
    for stream_id, seq in streams.values_list("pk", "seq"):
        heads |= Q(stream_id=stream_id, seq=seq)
        stream_ids.append(stream_id)
    rows = list(
        TrailEvent.objects.filter(heads)
        .order_by()
        .only("submission_id", "actor_id", "action", "role")
    )
    latest = {row.submission_id: row for row in rows if row.submission_id is not None}
    own_reads = [pk for pk, row in latest.items() if _own_read(row)]
    if own_reads:
        # On the submissions' own streams: a finding's events name the submission too, on a
        # stream of their own whose numbers are not this one's.
        newest = (
            TrailEvent.objects.filter(submission_id__in=own_reads, stream_id__in=stream_ids)
            .exclude(action=DOWNLOAD, role=Role.OPERATOR)
            .values("stream_id")
            .annotate(last=Max("seq"))
        )
        wanted = Q(pk__in=[])
        for row in newest:
            wanted |= Q(stream_id=row["stream_id"], seq=row["last"])
        for pk in own_reads:
            del latest[pk]
        for event in TrailEvent.objects.filter(wanted).only("submission_id", "actor_id", "action"):
            if event.submission_id is not None:
                latest[event.submission_id] = event
    return latest


def _own_read(event: TrailEvent) -> bool:
    return event.action == DOWNLOAD and event.role == Role.OPERATOR


def withdrawable_by(user: User, latest: TrailEvent | None) -> bool:
    """Whether the newest event is this person's own submit or resubmit.

    Any later event (a reviewer downloading or previewing the evidence, an escalation) means
    someone has started on it; the body's own operators reading its files do not.
    """
    return latest is not None and latest.actor_id == user.pk and latest.action in WITHDRAWABLE_AFTER


def action_facts(*, user: User, submission_ids: Sequence[int]) -> dict[int, ActionFacts]:
    """The trail facts for many submissions in three queries (for lists)."""
    authored = authored_among(user, submission_ids)
    latest = latest_events(submission_ids)
    return {
        pk: ActionFacts(authored=pk in authored, withdrawable=withdrawable_by(user, latest.get(pk)))
        for pk in submission_ids
    }


def facts_annotations(user: User, submission_id: int) -> dict[str, Any]:
    """``action_facts`` for one person and one submission as annotations of a query of its
    stream head (``TrailStream``), so the action's read after its lock brings them along
    (``workflows.locked_read``): whether the person authored it, and the actor and action of
    its newest event that is not its body's own operators reading their files
    (``latest_events``' rule, on the submission's own stream)."""
    authored = TrailEvent.objects.filter(
        submission_id=submission_id, actor_id=user.pk, action__in=AUTHORING_ACTIONS
    )
    newest = (
        TrailEvent.objects.filter(stream_id=OuterRef("pk"))
        .exclude(action=DOWNLOAD, role=Role.OPERATOR)
        .order_by("-seq")
    )
    return {
        "facts_authored": Exists(authored),
        "facts_last_actor": Subquery(newest.values("actor_id")[:1]),
        "facts_last_action": Subquery(newest.values("action")[:1]),
    }


def facts_of(user: User, row: Any) -> ActionFacts:
    """The facts from a row (or instance) carrying ``facts_annotations``."""
    authored, actor, action = (
        (row[k] if isinstance(row, dict) else getattr(row, k))
        for k in ("facts_authored", "facts_last_actor", "facts_last_action")
    )
    return ActionFacts(
        authored=bool(authored),
        withdrawable=actor == user.pk and action in WITHDRAWABLE_AFTER,
    )
