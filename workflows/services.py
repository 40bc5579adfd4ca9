"""The action service: the one way a submission changes state.

Checks run in DESIGN's order and the first that fails answers: not visible 404; unknown
action 400; no role of the caller can ever take the action 403; the state (or a stale
``version``) does not allow it for the caller's roles 409; four eyes or the verifier's scope
403; a missing note, fields or evidence 400. All of it runs in one
transaction holding the submission's row lock, so a second actor on a stale state gets 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.details import missing_details
from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import Submission, SubmissionState
from roles.roles import Role, Roles, roles_of
from roles.selectors import visible_to
from workflows.flow import ACTION_METHODS, SubmissionFlow, rule_of, transition_from, transitions_of
from workflows.models import TrailEvent
from workflows.notifications.write import notify_transition
from workflows.sla.timers import timer_start
from workflows.trail.append import trail_append

# Events by which a person has "created, edited or submitted" a submission (four eyes).
AUTHORING_ACTIONS = (
    "create",
    "edit",
    "evidence_upload",
    "evidence_remove",
    "submit",
    "resubmit",
    "withdraw",
)


def holds(roles: Roles, role: Role, submission: Submission) -> bool:
    """Whether these roles include ``role`` for this submission (scope aside)."""
    if role == Role.OPERATOR:
        return roles.operates(submission.body_id)
    if role == Role.VERIFIER:
        return roles.verifier
    if role == Role.CONSOLIDATOR:
        return roles.consolidator
    if role == Role.AUDITOR:
        return roles.auditor
    return False


def authored_by(user: User, submission: Submission) -> bool:
    """Four eyes: did this person create, edit or submit the submission?"""
    return TrailEvent.objects.filter(
        submission=submission, actor=user, action__in=AUTHORING_ACTIONS
    ).exists()


WITHDRAWABLE_AFTER = ("submit", "resubmit")


def _latest_events(submission_ids: list[int]) -> dict[int, TrailEvent]:
    """The newest trail event of each submission: the one at its stream head (one query)."""
    rows = TrailEvent.objects.filter(submission_id__in=submission_ids, seq=F("stream__seq")).only(
        "submission_id", "actor_id", "action"
    )
    return {row.submission_id: row for row in rows if row.submission_id is not None}


def _withdrawable_by(user: User, latest: TrailEvent | None) -> bool:
    """Withdraw only while the newest event is this person's own submit or resubmit.

    Any later event (a reviewer downloading the evidence, an escalation) means someone has
    started on it.
    """
    return (
        latest is not None and latest.actor_id == user.pk and latest.action in (WITHDRAWABLE_AFTER)
    )


def completeness_errors(submission: Submission) -> dict[str, str]:
    """What submitting still needs, field by field."""
    errors: dict[str, str] = {}
    if not submission.title.strip():
        errors["title"] = _("Judul wajib diisi.")
    if not submission.years:
        errors["years"] = _("Pilih setidaknya satu tahun.")
    if not submission.indicators.exists():
        errors["indicators"] = _("Pilih setidaknya satu indikator.")
    for name in missing_details(submission.category, submission.details):
        errors[f"details.{name}"] = _("Wajib diisi sebelum diajukan.")
    if not submission.evidence.filter(removed_at__isnull=True).exists():
        errors["evidence"] = _("Unggah setidaknya satu berkas bukti dukung.")
    return errors


@dataclass(frozen=True)
class ActionFacts:
    """What ``allowed_actions`` reads from the trail about one person and one submission."""

    authored: bool
    withdrawable: bool


def action_facts(*, user: User, submission_ids: list[int]) -> dict[int, ActionFacts]:
    """The trail facts for many submissions in two queries (for lists)."""
    authored = set(
        TrailEvent.objects.filter(
            submission_id__in=submission_ids, actor=user, action__in=AUTHORING_ACTIONS
        ).values_list("submission_id", flat=True)
    )
    latest = _latest_events(submission_ids)
    return {
        pk: ActionFacts(
            authored=pk in authored, withdrawable=_withdrawable_by(user, latest.get(pk))
        )
        for pk in submission_ids
    }


def allowed_actions(
    *,
    user: User,
    submission: Submission,
    roles: Roles | None = None,
    facts: ActionFacts | None = None,
) -> list[str]:
    """What the caller's roles, the state and four eyes allow now (notes and fields aside).

    ``facts`` (from ``action_facts``) saves the per-submission trail queries on lists.
    """
    roles = roles if roles is not None else roles_of(user)
    allowed = []
    for action in ACTION_METHODS:
        transition = transition_from(action, submission.state)
        if transition is None:
            continue
        rule = rule_of(transition)
        if not holds(roles, rule.role, submission):
            continue
        if rule.role == Role.VERIFIER and not roles.verifies(submission.body_id):
            continue
        if (rule.four_eyes or rule.own_latest) and facts is None:
            facts = action_facts(user=user, submission_ids=[submission.pk])[submission.pk]
        if rule.four_eyes and facts is not None and facts.authored:
            continue
        if rule.own_latest and facts is not None and not facts.withdrawable:
            continue
        allowed.append(action)
    return allowed


def _is_late(submission: Submission) -> bool:
    return timezone.now() > submission.instruction.deadline_end


@transaction.atomic
def submission_act(
    *,
    user: User,
    submission_id: int,
    action: Any,
    note: Any = "",
    version: Any = None,
) -> Submission:
    """Take one flow action on a submission, with its trail event and notifications."""
    roles = roles_of(user)
    submission = (
        visible_to(user, roles)
        .select_for_update(of=("self",))
        .select_related("instruction", "body")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    if not isinstance(action, str) or action not in ACTION_METHODS:
        raise Invalid(
            {"action": _("Aksi tidak dikenal; pilih dari: %s.") % ", ".join(ACTION_METHODS)}
        )
    if not any(holds(roles, rule_of(t).role, submission) for t in transitions_of(action)):
        raise Forbidden(_("Peran Anda tidak dapat melakukan aksi '%s'.") % action)

    transition = transition_from(action, submission.state)
    if transition is not None and not holds(roles, rule_of(transition).role, submission):
        # The caller's role takes this action from another state (a verifier's return from
        # "submitted" while the submission is "verified"): the state is what stands in the way.
        transition = None
    if transition is None:
        raise Conflict(
            _("Aksi '%(action)s' tidak berlaku untuk status %(state)s.")
            % {"action": action, "state": submission.get_state_display()}
        )
    if version is not None and version != submission.version:
        raise Conflict(_("Pengajuan telah berubah sejak Anda membukanya; muat ulang."))
    rule = rule_of(transition)
    latest = _latest_events([submission.pk]).get(submission.pk) if rule.own_latest else None
    if rule.own_latest and not _withdrawable_by(user, latest):
        raise Conflict(_("Pengajuan sudah ditindaklanjuti; tidak dapat ditarik kembali."))

    if rule.role == Role.VERIFIER and not roles.verifies(submission.body_id):
        raise Forbidden(_("Perangkat ini di luar cakupan verifikasi Anda."))
    if rule.four_eyes and authored_by(user, submission):
        raise Forbidden(
            _(
                "Prinsip empat mata: Anda tidak dapat memproses pengajuan yang Anda buat, "
                "ubah atau ajukan sendiri."
            )
        )

    if note is None:
        note = ""
    if not isinstance(note, str):
        raise Invalid({"note": _("Catatan harus berupa teks.")})
    note = note.strip()
    if rule.note and not note:
        raise Invalid({"note": _("Catatan (alasan) wajib diisi untuk aksi ini.")})
    if rule.complete:
        errors = completeness_errors(submission)
        if errors:
            raise Invalid(errors)

    from_state = submission.state
    getattr(SubmissionFlow(submission), ACTION_METHODS[action])()
    now = timezone.now()
    update: dict[str, Any] = {
        "state": submission.state,
        "version": F("version") + 1,
        "updated_at": now,
    }
    if action == "submit" and submission.first_submitted_at is None:
        update["first_submitted_at"] = now
        update["late"] = _is_late(submission)
    Submission.objects.filter(pk=submission.pk).update(**update)
    submission.refresh_from_db()

    files: list[dict[str, str]] = []
    data: dict[str, Any] = {"version": submission.version}
    if action in ("submit", "resubmit"):
        current = submission.evidence.filter(removed_at__isnull=True)
        files = [{"name": e.name, "sha256": e.sha256} for e in current]
        data |= {
            "title": submission.title,
            "description": submission.description,
            "years": submission.years,
            "indicators": sorted(submission.indicators.values_list("number", flat=True)),
            "details": submission.details,
            "late": submission.late,
        }
    trail_append(
        stream=submission.stream,
        action=action,
        actor=user,
        role=rule.role,
        from_state=from_state,
        to_state=submission.state,
        note=note,
        files=files,
        data=data,
        submission=submission,
        body=submission.body,
    )
    notify_transition(submission=submission, to_state=submission.state, note=note, actor=user)
    timer_start(submission=submission, at=now)
    return submission


def state_label(state: str) -> str:
    return str(SubmissionState(state).label)
