"""Findings and their follow-up: the one way a finding or a recommendation changes.

Every move runs in one transaction holding the recommendation's row lock (corrections: every
recommendation of the finding), and checks in DESIGN's order, the first that fails answering:
not visible 404; unknown status 400; a role that can never make this move 403; the current
status does not allow it 409; four eyes 403 (nobody assesses a follow-up they posted; no
auditor records a finding on a body they operate); a missing note or bad fields 400. Each
move is a trail event on the submission's stream (or the body's) and owes its notices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kla.errors import Conflict, Forbidden, Invalid, NotVisible, TooLarge
from kla.evidence import accepted_message, inspect_upload, max_bytes, too_large_message
from kla.instructions import instruction_get
from kla.models import Body, Instruction, Submission
from kla.scanning import scan_upload
from kla.time import end_of_workday, wib_date
from roles.permissions import may_record_findings
from roles.roles import Role, Roles, roles_of
from roles.selectors import finding_filter, visible_to
from workflows.models import (
    Finding,
    FollowUpEntry,
    FollowUpFile,
    FollowUpKind,
    Recommendation,
    RecommendationStatus,
)
from workflows.models.supervision import FINAL_STATUSES
from workflows.notifications.write import notify_supervision
from workflows.sla.calendar import WorkCalendar
from workflows.trail.append import trail_append

# Length limits of the text a finding takes (400 naming the field past them).
TITLE_MAX = 300
TEXT_MAX = 10_000
RECOMMENDATION_MAX = 4_000
RECOMMENDATIONS_MAX = 30
NOTE_MAX = 10_000
FILES_MAX = 10
FINDING_FIELDS = ("title", "condition", "criteria", "cause", "effect")
REQUIRED_FIELDS = frozenset({"title", "condition", "criteria"})

# What an auditor's assessment may set, and from which statuses.
ASSESSMENTS: dict[str, frozenset[str]] = {
    RecommendationStatus.RESOLVED: frozenset({RecommendationStatus.RESPONDED}),
    RecommendationStatus.IN_PROGRESS: frozenset({RecommendationStatus.RESPONDED}),
    RecommendationStatus.UNRESOLVABLE: frozenset(
        {
            RecommendationStatus.OPEN,
            RecommendationStatus.RESPONDED,
            RecommendationStatus.IN_PROGRESS,
        }
    ),
}
# A follow-up answers these; on ``responded`` it adds to the answer that waits (DESIGN).
FOLLOWS_UP = frozenset(
    {RecommendationStatus.OPEN, RecommendationStatus.IN_PROGRESS, RecommendationStatus.RESPONDED}
)


# --- reading ---------------------------------------------------------------------------------


def findings_visible_to(roles: Roles) -> QuerySet[Finding]:
    """The findings these roles may see: reviewers all, operators their bodies'."""
    q = finding_filter(roles)
    return Finding.objects.none() if q is None else Finding.objects.filter(q)


def with_history(queryset: QuerySet[Finding]) -> QuerySet[Finding]:
    """What the finding's shape reads, in a fixed number of queries per page."""
    return queryset.select_related("body", "instruction", "submission").prefetch_related(
        Prefetch(
            "recommendations",
            queryset=Recommendation.objects.order_by("id").prefetch_related(
                Prefetch(
                    "history",
                    queryset=FollowUpEntry.objects.select_related("actor")
                    .prefetch_related("files")
                    .order_by("at", "id"),
                )
            ),
        )
    )


def with_status(queryset: QuerySet[Finding], status: str) -> QuerySet[Finding]:
    """Findings whose status is ``status`` (``open``: any recommendation not yet final)."""
    pending = Recommendation.objects.filter(finding=OuterRef("pk")).exclude(
        status__in=FINAL_STATUSES
    )
    return (
        queryset.filter(Exists(pending)) if status == "open" else queryset.exclude(Exists(pending))
    )


def follow_up_due(instruction: Instruction, created_at: dt.datetime) -> dt.datetime:
    """``follow_up_days`` calendar days after the finding, at the end of that day (23:59 WIB),
    moved to the next working day when that day is not one."""
    day = wib_date(created_at) + dt.timedelta(days=instruction.follow_up_days)
    calendar = WorkCalendar.load()
    if not calendar.is_workday(day):
        day = calendar.add_workdays(day, 1)
    return end_of_workday(day)


# --- checking input --------------------------------------------------------------------------


def _text(value: Any, field: str, *, limit: int, required: bool, errors: dict[str, str]) -> str:
    """Clean one text field, collecting its error rather than raising (all fields at once)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = _("Harus berupa teks.")
        return ""
    text: str = value.strip()
    if required and not text:
        errors[field] = _("Wajib diisi.")
    elif len(text) > limit:
        errors[field] = _("Paling banyak %(n)s karakter.") % {"n": limit}
    return text


def _recommendation_texts(value: Any, errors: dict[str, str], *, at_least_one: bool) -> list[str]:
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        errors["recommendations"] = _("Rekomendasi harus daftar teks.")
        return []
    texts = [t.strip() for t in value]
    if at_least_one and not any(texts):
        errors["recommendations"] = _("Tuliskan setidaknya satu rekomendasi.")
    elif any(not t for t in texts):
        errors["recommendations"] = _("Rekomendasi tidak boleh kosong.")
    elif len(texts) > RECOMMENDATIONS_MAX:
        errors["recommendations"] = _("Paling banyak %(n)s rekomendasi.") % {
            "n": RECOMMENDATIONS_MAX
        }
    elif any(len(t) > RECOMMENDATION_MAX for t in texts):
        errors["recommendations"] = _("Setiap rekomendasi paling banyak %(n)s karakter.") % {
            "n": RECOMMENDATION_MAX
        }
    return texts


def _note(value: Any, *, required: bool, errors: dict[str, str]) -> str:
    note = _text(value, "note", limit=NOTE_MAX, required=False, errors=errors)
    if required and not note and "note" not in errors:
        errors["note"] = _("Catatan wajib diisi.")
    return note


# --- notices and the trail -------------------------------------------------------------------


def _notify(
    finding: Finding, *, to_body: bool, kind: str, title: str, note: str, actor: User
) -> None:
    notify_supervision(
        body=finding.body,
        to_body=to_body,
        kind=kind,
        title=title,
        message=note,
        submission=finding.submission,
        actor=actor,
    )


def _finding_record(finding: Finding, texts: Sequence[str] = ()) -> dict[str, Any]:
    record: dict[str, Any] = {"finding": finding.pk}
    record |= {name: getattr(finding, name) for name in FINDING_FIELDS}
    if texts:
        record["recommendations"] = list(texts)
    return record


def _append(
    finding: Finding,
    *,
    action: str,
    actor: User,
    role: str,
    note: str = "",
    from_state: str = "",
    to_state: str = "",
    files: Sequence[Mapping[str, str]] = (),
    data: Mapping[str, Any],
) -> None:
    trail_append(
        stream=finding.stream,
        action=action,
        actor=actor,
        role=role,
        from_state=from_state,
        to_state=to_state,
        note=note,
        files=files,
        data=data,
        submission=finding.submission,
        body=finding.body,
    )


# --- recording and correcting a finding ------------------------------------------------------


def _finding_place(
    *, user: User, roles: Roles, submission: Any, agency: Any, instruction: Any
) -> tuple[Body, Submission | None, Instruction]:
    """The body, submission and instruction a new finding is about (exactly one of
    ``submission`` and ``agency``)."""
    if (submission is None) == (agency in (None, "")):
        message = _("Sebutkan tepat satu: pengajuan atau perangkat/lembaga.")
        raise Invalid({"submission": message, "agency": message})
    if submission is not None:
        target = (
            visible_to(user, roles)
            .select_related("body", "instruction")
            .filter(pk=submission)
            .first()
            if isinstance(submission, int) and not isinstance(submission, bool)
            else None
        )
        if target is None:
            raise NotVisible(_("Pengajuan tidak ditemukan."))
        if instruction not in (None, "") and instruction != target.instruction_id:
            raise Invalid({"instruction": _("Pengajuan ini milik instruksi lain.")})
        return target.body, target, target.instruction
    body = Body.objects.filter(code=agency).first() if isinstance(agency, str) else None
    if body is None:
        raise Invalid({"agency": _("Kode perangkat tidak dikenal.")})
    return body, None, instruction_get(instruction)


@transaction.atomic
def finding_create(
    *,
    user: User,
    submission: int | None = None,
    agency: str | None = None,
    instruction: int | None = None,
    title: Any,
    condition: Any,
    criteria: Any,
    cause: Any = "",
    effect: Any = "",
    recommendations: Any,
) -> Finding:
    """Record a finding with its recommendations, each due ``follow_up_days`` later."""
    roles = roles_of(user)
    if submission is not None and not (
        isinstance(submission, int)
        and not isinstance(submission, bool)
        and visible_to(user, roles).filter(pk=submission).exists()
    ):
        raise NotVisible(_("Pengajuan tidak ditemukan."))
    if not may_record_findings(roles):
        raise Forbidden(_("Hanya Inspektorat yang dapat mencatat temuan."))
    body, target, scope = _finding_place(
        user=user, roles=roles, submission=submission, agency=agency, instruction=instruction
    )
    if roles.operates(body.pk):
        raise Forbidden(_("Anda operator perangkat ini: temuan atasnya dicatat auditor lain."))
    errors: dict[str, str] = {}
    values = {
        name: _text(
            raw,
            name,
            limit=TITLE_MAX if name == "title" else TEXT_MAX,
            required=name in REQUIRED_FIELDS,
            errors=errors,
        )
        for name, raw in zip(
            FINDING_FIELDS, (title, condition, criteria, cause, effect), strict=True
        )
    }
    texts = _recommendation_texts(recommendations, errors, at_least_one=True)
    if errors:
        raise Invalid(errors)
    now = timezone.now()
    finding = Finding.objects.create(
        instruction=scope,
        body=body,
        submission=target,
        created_by=user,
        created_at=now,
        due_at=follow_up_due(scope, now),
        **values,
    )
    Recommendation.objects.bulk_create(
        Recommendation(finding=finding, text=text, due_at=finding.due_at) for text in texts
    )
    _append(
        finding,
        action="finding_create",
        actor=user,
        role=Role.AUDITOR,
        data=_finding_record(finding, texts),
    )
    with translation.override(settings.LANGUAGE_CODE):
        title_text = _("Temuan baru: %s") % finding.title
    _notify(finding, to_body=True, kind="finding:new", title=title_text, note="", actor=user)
    return finding


@transaction.atomic
def finding_correct(
    *,
    user: User,
    finding_id: int,
    fields: Mapping[str, Any] | None = None,
    add_recommendations: Any = None,
) -> Finding:
    """Correct a finding's fields or add recommendations, by its own auditor, while every
    recommendation is still ``open``; a trail event with what was before and after."""
    roles = roles_of(user)
    finding = (
        findings_visible_to(roles)
        .select_for_update(of=("self",))
        .select_related("body", "submission")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        raise NotVisible(_("Temuan tidak ditemukan."))
    if not may_record_findings(roles):
        raise Forbidden(_("Hanya Inspektorat yang dapat mengoreksi temuan."))
    locked = list(finding.recommendations.select_for_update(of=("self",)).order_by("id"))
    if any(r.status != RecommendationStatus.OPEN for r in locked):
        raise Conflict(_("Temuan sudah ditindaklanjuti: tidak dapat dikoreksi lagi."))
    if finding.created_by_id != user.pk:
        raise Forbidden(_("Hanya auditor yang mencatat temuan ini yang dapat mengoreksinya."))
    errors: dict[str, str] = {}
    fields = dict(fields or {})
    for key in fields:
        if key not in FINDING_FIELDS:
            errors[key] = _("Kolom tidak dikenal.")
    changed: dict[str, Any] = {}
    for name in FINDING_FIELDS:
        if name in fields:
            value = _text(
                fields[name],
                name,
                limit=TITLE_MAX if name == "title" else TEXT_MAX,
                required=name in REQUIRED_FIELDS,
                errors=errors,
            )
            if value != getattr(finding, name):
                changed[name] = {"before": getattr(finding, name), "after": value}
    texts = _recommendation_texts(add_recommendations, errors, at_least_one=False)
    if len(locked) + len(texts) > RECOMMENDATIONS_MAX:
        errors["recommendations"] = _("Paling banyak %(n)s rekomendasi.") % {
            "n": RECOMMENDATIONS_MAX
        }
    if errors:
        raise Invalid(errors)
    if not changed and not texts:
        return finding
    for name, change in changed.items():
        setattr(finding, name, change["after"])
    if changed:
        finding.save(update_fields=list(changed))
    Recommendation.objects.bulk_create(
        Recommendation(finding=finding, text=text, due_at=finding.due_at) for text in texts
    )
    _append(
        finding,
        action="finding_correct",
        actor=user,
        role=Role.AUDITOR,
        data={"finding": finding.pk, "changed": changed, "recommendations_added": texts},
    )
    return finding


# --- following up and assessing --------------------------------------------------------------


def _keep_open(finding_id: int) -> None:
    """Write whether the finding still has a recommendation that is not final."""
    still_open = Recommendation.objects.filter(finding_id=finding_id).exclude(
        status__in=FINAL_STATUSES
    )
    Finding.objects.filter(pk=finding_id).update(is_open=Exists(still_open))


def _locked_recommendation(
    roles: Roles, finding_id: int, recommendation_id: int
) -> tuple[Finding, Recommendation]:
    """The recommendation under its row lock, if the caller may see its finding (else 404).

    The finding is locked first (as ``finding_correct`` locks it before its recommendations):
    two recommendations of one finding made final at once queue, so the second one's
    ``_keep_open`` sees the first one's status.
    """
    finding = (
        findings_visible_to(roles)
        .select_for_update(of=("self",), no_key=True)
        .select_related("body", "submission")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        raise NotVisible(_("Temuan tidak ditemukan."))
    recommendation = (
        Recommendation.objects.select_for_update(of=("self",))
        .filter(pk=recommendation_id, finding=finding)
        .first()
    )
    if recommendation is None:
        raise NotVisible(_("Rekomendasi tidak ditemukan."))
    return finding, recommendation


def _stored_files(
    uploads: Sequence[UploadedFile[Any]], errors: dict[str, str]
) -> list[tuple[UploadedFile[Any], Any]]:
    """Each upload with what it turned out to be; refused like evidence (400 on ``file``)."""
    if len(uploads) > FILES_MAX:
        errors["file"] = _("Paling banyak %(n)s berkas sekaligus.") % {"n": FILES_MAX}
        return []
    accepted = []
    for upload in uploads:
        if upload.size is not None and upload.size > max_bytes():
            raise TooLarge(too_large_message())
        inspected = inspect_upload(upload)
        if inspected is None:
            errors["file"] = accepted_message()
        elif inspected.size == 0:
            errors["file"] = _("Berkas kosong.")
        else:
            accepted.append((upload, inspected))
    return accepted


def _status_label(status: str) -> str:
    return str(RecommendationStatus(status).label)


@transaction.atomic
def follow_up_post(
    *,
    user: User,
    finding_id: int,
    recommendation_id: int,
    note: Any,
    uploads: Sequence[UploadedFile[Any]] = (),
    too_large: bool = False,
) -> Finding:
    """An operator of the body answers a recommendation with a note and files.

    ``too_large``: the upload handler dropped an oversized file while it streamed in (413,
    after the rights and status checks).
    """
    roles = roles_of(user)
    finding, recommendation = _locked_recommendation(roles, finding_id, recommendation_id)
    if not roles.operates(finding.body_id):
        raise Forbidden(_("Hanya operator perangkat ini yang dapat menindaklanjuti."))
    if recommendation.status not in FOLLOWS_UP:
        raise Conflict(
            _("Rekomendasi berstatus %s: tidak dapat ditindaklanjuti lagi.")
            % _status_label(recommendation.status)
        )
    if too_large:
        raise TooLarge(too_large_message())
    errors: dict[str, str] = {}
    text = _note(note, required=True, errors=errors)
    accepted = _stored_files(list(uploads), errors)
    if errors:
        raise Invalid(errors)
    for upload, _inspected in accepted:
        scan_upload(upload, user_id=user.pk, about={"finding": finding.pk})
    now = timezone.now()
    before = recommendation.status
    entry = FollowUpEntry.objects.create(
        recommendation=recommendation,
        kind=FollowUpKind.FOLLOW_UP,
        at=now,
        actor=user,
        status=RecommendationStatus.RESPONDED,
        note=text,
    )
    files: list[dict[str, str]] = []
    for upload, inspected in accepted:
        name = (upload.name or "berkas").replace("/", "_").replace("\\", "_")[-255:]
        stored = FollowUpFile(
            entry=entry,
            name=name,
            size=inspected.size,
            sha256=inspected.sha256,
            content_type=inspected.content_type,
        )
        stored.file.save(name, upload, save=False)
        stored.save()
        files.append({"name": name, "sha256": inspected.sha256})
    recommendation.status = RecommendationStatus.RESPONDED
    recommendation.save(update_fields=["status"])
    _keep_open(recommendation.finding_id)
    _append(
        finding,
        action="follow_up",
        actor=user,
        role=Role.OPERATOR,
        note=text,
        from_state=before,
        to_state=recommendation.status,
        files=files,
        data={"finding": finding.pk, "recommendation": recommendation.pk, "entry": entry.pk},
    )
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Tindak lanjut menunggu penilaian: %s") % finding.title
    _notify(finding, to_body=False, kind="finding:responded", title=title, note=text, actor=user)
    return finding


@transaction.atomic
def recommendation_assess(
    *,
    user: User,
    finding_id: int,
    recommendation_id: int,
    status: Any,
    note: Any = "",
) -> Finding:
    """An auditor assesses a recommendation's follow-up: ``resolved`` (note optional),
    ``in_progress`` (note required), or ``unresolvable`` (a reason required)."""
    roles = roles_of(user)
    finding, recommendation = _locked_recommendation(roles, finding_id, recommendation_id)
    if not isinstance(status, str) or status not in ASSESSMENTS:
        raise Invalid(
            {"status": _("Status tidak dikenal; pilih dari: %s.") % ", ".join(ASSESSMENTS)}
        )
    if not may_record_findings(roles):
        raise Forbidden(_("Hanya Inspektorat yang dapat menilai tindak lanjut."))
    if recommendation.status not in ASSESSMENTS[status]:
        raise Conflict(
            _("Rekomendasi berstatus %(now)s: tidak dapat dinilai %(to)s.")
            % {"now": _status_label(recommendation.status), "to": _status_label(status)}
        )
    last_follow_up = (
        recommendation.history.filter(kind=FollowUpKind.FOLLOW_UP).order_by("-at", "-id").first()
    )
    if (
        recommendation.status == RecommendationStatus.RESPONDED
        and last_follow_up is not None
        and last_follow_up.actor_id == user.pk
    ):
        raise Forbidden(_("Anda menindaklanjuti rekomendasi ini: penilaiannya oleh auditor lain."))
    errors: dict[str, str] = {}
    text = _note(note, required=status != RecommendationStatus.RESOLVED, errors=errors)
    if errors:
        raise Invalid(errors)
    before = recommendation.status
    entry = FollowUpEntry.objects.create(
        recommendation=recommendation,
        kind=FollowUpKind.ASSESSMENT,
        at=timezone.now(),
        actor=user,
        status=status,
        note=text,
    )
    recommendation.status = status
    recommendation.save(update_fields=["status"])
    _keep_open(recommendation.finding_id)
    _append(
        finding,
        action="assessment",
        actor=user,
        role=Role.AUDITOR,
        note=text,
        from_state=before,
        to_state=status,
        data={"finding": finding.pk, "recommendation": recommendation.pk, "entry": entry.pk},
    )
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Tindak lanjut dinilai %(status)s: %(title)s") % {
            "status": _status_label(status),
            "title": finding.title,
        }
    _notify(finding, to_body=True, kind="finding:assessed", title=title, note=text, actor=user)
    return finding
