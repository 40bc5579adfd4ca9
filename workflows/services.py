"""The action service: the one way a submission changes state.

Checks run in DESIGN's order and the first that fails answers: not visible 404; unknown
action 400; no role of the caller can ever take the action 403; the state (or a stale
``version``) does not allow it for the caller's roles 409; four eyes or the verifier's scope
403; a missing note, fields or evidence 400. All of it runs in one
transaction holding the submission's row lock, so a second actor on a stale state gets 409.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.details import missing_details
from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import Category, EvidenceKind, Submission, SubmissionState
from roles.roles import Roles, roles_of
from workflows import summaries
from workflows.compiled import compiled_cursor, sent_together
from workflows.flow import (
    ACTIONS,
    NOTE_REQUIRED,
    SubmissionFlow,
    action_of,
    needs_complete,
    note_of,
    role_of,
    transition_from,
    transitions_of,
)
from workflows.four_eyes import ActionFacts
from workflows.locked_read import LockedRead, lock_submission, read_locked
from workflows.notifications.write import notify_transition
from workflows.sla.timers import due_for, timer_start
from workflows.trail.append import trail_append

# KEEMPAT: the documents an innovation declares (``document_kinds``) and the kind of file that
# must carry each before it is submitted.
# The longest note an action may carry: a reason, a correction, an audit's remark.
NOTE_MAX = 5_000
DECLARED_DOCUMENTS = {"kak_tor": EvidenceKind.KAK_TOR, "sk": EvidenceKind.DECREE}


def _declared_documents_missing(submission: Submission, kinds: set[str]) -> str:
    """The message for an innovation whose declared KAK/TOR or SK has no file of its kind."""
    if submission.category != Category.INNOVATION:
        return ""
    declared = submission.details.get("document_kinds") or []
    missing = [
        kind for name, kind in DECLARED_DOCUMENTS.items() if name in declared and kind not in kinds
    ]
    if not missing:
        return ""
    labels = [str(kind.label) for kind in missing]
    named = labels[0]
    if len(labels) == 2:
        named = _("%(first)s dan %(second)s") % {"first": labels[0], "second": labels[1]}
    return _(
        "Inovasi ini menyatakan dokumen %(kinds)s: unggah berkasnya dengan jenis itu "
        "(atau ubah jenis berkas yang sudah diunggah)."
    ) % {"kinds": named}


def completeness_errors(
    submission: Submission, *, indicators: bool | None = None, kinds: set[str] | None = None
) -> dict[str, str]:
    """What submitting still needs, field by field; ``indicators`` (whether it has any) and
    ``kinds`` (of its current files) when the caller has read them already."""
    errors: dict[str, str] = {}
    if not submission.title.strip():
        errors["title"] = _("Judul wajib diisi.")
    if not submission.years:
        errors["years"] = _("Pilih setidaknya satu tahun.")
    if not (submission.indicators.exists() if indicators is None else indicators):
        errors["indicators"] = _("Pilih setidaknya satu indikator.")
    for name in missing_details(submission.category, submission.details):
        errors[f"details.{name}"] = _("Wajib diisi sebelum diajukan.")
    if kinds is None:
        current = submission.evidence.filter(removed_at__isnull=True)
        kinds = set(current.values_list("kind", flat=True))
    if not kinds:
        errors["evidence"] = _("Unggah setidaknya satu berkas bukti dukung.")
    elif message := _declared_documents_missing(submission, kinds):
        errors["evidence"] = message
    return errors


def allowed_actions(
    *,
    user: User,
    submission: Submission,
    roles: Roles | None = None,
    facts: ActionFacts | None = None,
) -> list[str]:
    """What the flow allows this person now: permission, state and conditions (notes and
    fields aside, which are checked when acting).

    ``facts`` (from ``workflows.four_eyes.action_facts``) saves the trail queries on lists.
    """
    flow = SubmissionFlow(submission, user=user, roles=roles, facts=facts)
    available = SubmissionFlow.state.get_available_transitions(flow, submission.state, user)
    return [action for action in ACTIONS if any(action_of(t) == action for t in available)]


def _is_late(submission: Submission, action: str, at: dt.datetime, *, returned: bool) -> bool:
    """Whether the submission is late after ``action`` taken at ``at`` (DESIGN, Submissions);
    ``returned``: whether a reviewer ever returned it.

    Late for good once marked. Only a submit from ``draft`` marks it, and only from
    ``late_from`` (00:00:00 WIB after the deadline day, so 23:59:59.9 is on time): the first
    submit and a submit after a withdraw alike, or a placeholder withdrawn and handed in again
    would dodge the mark. A submission a reviewer had returned was answered in time, whatever
    comes after; a resubmit is never late.
    """
    if submission.late:
        return True
    if action != "submit" or at < submission.instruction.late_from:
        return False
    return not returned


@cache
def _state_sql(vendor: str) -> str:
    """The submission's one UPDATE of an action: its state, version and due time, and the
    first hand-in and lateness (the values the locked row already has, unless this action
    sets them)."""
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(Submission._meta.db_table)} SET state = %s, version = version + 1, "  # noqa: S608 -- names only
        "updated_at = %s, due_at = %s, first_submitted_at = %s, late = %s WHERE id = %s"
    )


def _write_state(submission: Submission) -> None:
    """Write what the action changed on the locked row: the instance is what the row now
    holds, with nothing read back."""
    moment = connection.ops.adapt_datetimefield_value
    with compiled_cursor() as running:
        running.execute(
            _state_sql(connection.vendor),
            [
                submission.state,
                moment(submission.updated_at),
                moment(submission.due_at),
                moment(submission.first_submitted_at),
                submission.late,
                submission.pk,
            ],
        )


@transaction.atomic
def submission_act(
    *,
    user: User,
    submission_id: int,
    action: Any,
    note: Any = "",
    version: Any = None,
    roles: Roles | None = None,
) -> Submission:
    """Take one flow action on a submission, with its trail event and notifications.

    ``roles`` are the person's, when the caller has read them already (once per request).
    """
    roles = roles if roles is not None else roles_of(user)
    # The row locked (NO KEY: the rows that point at it may still be written), then everything
    # else the action reads in one more statement, after the lock (``workflows.locked_read``).
    submission = lock_submission(roles, submission_id) if isinstance(submission_id, int) else None
    if submission is None:
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    if not isinstance(action, str) or action not in ACTIONS:
        raise Invalid({"action": _("Aksi tidak dikenal; pilih dari: %s.") % ", ".join(ACTIONS)})
    # A hand-in records what was handed in; any transition that asks for completeness reads
    # the files and indicators it checks.
    handing_in = action in ("submit", "resubmit") or any(
        needs_complete(t) for t in transitions_of(action)
    )
    read = read_locked(user, submission, handing_in=handing_in)
    flow = SubmissionFlow(submission, user=user, roles=roles, facts=read.facts)
    named = transitions_of(action)
    # People read the button's words, never the API's code ("approve").
    label = str(named[0].label) if named else action
    if not any(t.has_perm(flow, user) for t in named):
        raise Forbidden(_("Peran Anda tidak dapat melakukan tindakan “%s”.") % label)

    transition = transition_from(action, submission.state)
    if transition is None or not transition.has_perm(flow, user):
        # No transition from this state, or one for another role (a verifier's return from
        # "submitted" while the submission is "verified"): the state is what stands in the way.
        raise Conflict(
            _("Tindakan “%(action)s” tidak dapat dilakukan pada pengajuan berstatus %(state)s.")
            % {"action": label, "state": submission.get_state_display()}
        )
    if version is not None and version != submission.version:
        raise Conflict(_("Pengajuan telah berubah sejak Anda membukanya; muat ulang."))
    unmet = transition.get_unmet_condition(flow)
    if unmet is not None:
        _condition, answer = unmet
        refusal = Conflict if getattr(answer, "status", 403) == 409 else Forbidden
        raise refusal(answer.message)

    if note is None:
        note = ""
    if not isinstance(note, str):
        raise Invalid({"note": _("Catatan harus berupa teks.")})
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise Invalid({"note": _("Paling banyak %(n)s karakter.") % {"n": NOTE_MAX}})
    if note_of(transition) == NOTE_REQUIRED and not note:
        raise Invalid({"note": _("Catatan (alasan) wajib diisi untuk aksi ini.")})
    if handing_in and not read.addressed:
        # Only an addressee answers an instruction: a body taken out of the addressees after
        # it drafted keeps its draft but cannot hand it in.
        raise Invalid(
            {
                "agency": _("%(body)s tidak termasuk yang dituju instruksi %(label)s.")
                % {"body": submission.body.name, "label": submission.instruction.label}
            }
        )
    if needs_complete(transition):
        errors = completeness_errors(submission, indicators=bool(read.indicators), kinds=read.kinds)
        if errors:
            raise Invalid(errors)

    from_state = submission.state
    counted_before = submission.first_submitted_at is not None
    getattr(flow, transition.func.__name__)()
    now = timezone.now()
    # The row is locked: what the UPDATE writes is what the instance holds, with no read back.
    # The next step's due time goes in the same statement.
    submission.version += 1
    submission.updated_at = now
    submission.due_at = due_for(submission, at=now, calendar=read.calendar)
    if action == "submit" and submission.first_submitted_at is None:
        submission.first_submitted_at = now
    if _is_late(submission, action, now, returned=read.returned):
        submission.late = True  # never written back to False: for good
    files, data = _recorded(submission, read, handing_in=handing_in)
    # Everything the action writes is sent together (``compiled.sent_together``), in an order
    # that leaves the statements whose answers are read (the ids of the event, the timer and
    # the notifications) to the end: one wait for the first five statements, then one each.
    with sent_together():
        _write_state(submission)
        summaries.refresh_action(submission, from_state=from_state, counted_before=counted_before)
        trail_append(
            stream=submission.stream,
            action=action,
            actor=user,
            role=role_of(transition),
            from_state=from_state,
            to_state=submission.state,
            note=note,
            files=files,
            data=data,
            submission=submission,
            body=submission.body,
            head=read.head,
        )
        timer_start(submission=submission, at=now, due=submission.due_at)
        notify_transition(submission=submission, to_state=submission.state, note=note, actor=user)
    return submission


def _recorded(
    submission: Submission, read: LockedRead, *, handing_in: bool
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The files and data the action's trail event records: the version, and for a hand-in
    what was handed in."""
    data: dict[str, Any] = {"version": submission.version}
    if not handing_in:
        return [], data
    files = [{"name": f["name"], "sha256": f["sha256"]} for f in read.files]
    data |= {
        # The trail's ``files`` hold name and SHA-256 only (its canonical form, which never
        # changes meaning): each file's kind and requirements go here, in the same order.
        "files": [
            {"evidence": f["evidence"], "kind": f["kind"], "requirements": f["requirements"]}
            for f in read.files
        ],
        "title": submission.title,
        "description": submission.description,
        "years": submission.years,
        "indicators": read.indicators,
        "details": submission.details,
        "late": submission.late,
    }
    return files, data


def state_label(state: str) -> str:
    return str(SubmissionState(state).label)
