"""Fixity of stored files (DESIGN, "Anchored outside the database"): evidence and follow-up
files hashed again against the SHA-256 that their upload event recorded.

The reference is the trail, never the file row's ``sha256`` column (a DBA edits that with the
bytes):

- an evidence file's is the ``evidence_upload`` event of its submission whose ``data.evidence``
  is the file's id (its one ``files`` entry holds the hash);
- a follow-up file's is the ``follow_up`` event of its entry (``data.entry``, with the entry's
  ``recommendation`` and ``finding``). That event names no file ids: its ``files`` list the
  entry's files in the order they were stored. A file is the entry of that list with its
  name; when one follow-up sent several files of the same name, the n-th of them (by id) is
  the n-th such entry. Both orders are the order of storing, so the match is unambiguous.

A file with no upload event, missing from storage, or whose bytes hash otherwise fails. A
failure is an ``evidence_fixity_failed`` event on the file's own stream (the submission's;
for a follow-up file the stream its follow-up event went to) and a notice to every auditor
and administrator, written once per file and content found: a check that finds the same
failure again writes nothing, a file that changes again is a new event. Checks of one stream
take turns on its head's row lock to decide that.

Files are read in chunks outside any transaction, so nothing is locked while hashing; the
stream head is locked only to record a failure. A download (``evidence_intact``,
``follow_up_file_intact``) hashes the file first and refuses a failing one with 409 saying
why; the failure is recorded in its own transaction before the refusal, so call them outside
a transaction and before writing anything the refusal should undo.

The beat task checks a rolling share each day: the files whose id modulo 7 is the WIB day's
ordinal modulo 7, so that every file is checked within any 7 consecutive days;
``verify_trail --evidence`` checks them all (``fixity_check_all``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Mod
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kla.errors import Conflict
from kla.models import Body, Evidence, Submission
from kla.queue import publish_ids_on_commit
from kla.time import wib_date
from roles.roles import Role
from workflows.models import FollowUpFile, Notification, Recommendation, TrailEvent, TrailStream
from workflows.notifications.outbox import EMAIL_TASK
from workflows.trail.append import trail_append

FIXITY_TASK = "workflows.tasks.fixity_check_task"  # the name queued messages carry
FIXITY_FAILED = "evidence_fixity_failed"
NOTICE_KIND = "fixity_failed"
EVIDENCE = "evidence"
FOLLOW_UP = "follow_up"
# Every file is checked once in this many consecutive days.
SHARES = 7
CHUNK = 1024 * 1024
BATCH = 200

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class FixityResult:
    """What one check found for one stored file.

    ``expected`` is the SHA-256 of the upload event (``None``: no upload event records it);
    ``found`` the hash of the stored bytes (``None``: missing from storage). ``recorded``: this
    check wrote the failure event (``False`` for a pass, or a failure recorded before).
    """

    kind: str  # EVIDENCE or FOLLOW_UP
    file_id: int
    name: str
    place: str  # "submission 5" or "finding 3"
    expected: str | None
    found: str | None
    recorded: bool = False

    @property
    def ok(self) -> bool:
        return self.expected is not None and self.found == self.expected

    @property
    def reason(self) -> str:
        """``ok``, ``unrecorded`` (no upload event), ``missing`` or ``changed``."""
        if self.ok:
            return "ok"
        if self.expected is None:
            return "unrecorded"
        return "missing" if self.found is None else "changed"

    def __str__(self) -> str:
        label = "evidence" if self.kind == EVIDENCE else "follow-up file"
        what = f"{label} {self.file_id} {self.name!r} of {self.place}"
        if self.ok:
            return f"{what}: ok, sha256 {self.found}"
        expected = self.expected or "none (no upload event)"
        found = self.found or "missing"
        return f"{what}: {self.reason}: expected {expected}, found {found}"


@dataclass(frozen=True)
class _Stored:
    """A stored file with its reference from the trail, and where a failure is written."""

    kind: str
    pk: int
    name: str
    field: FieldFile
    stream: str
    submission: Submission | None
    body: Body
    place: dict[str, int]
    recommendation_id: int | None
    expected: str | None
    upload_seq: int | None

    def result(self, found: str | None) -> FixityResult:
        where = (
            f"submission {self.place['submission']}"
            if self.kind == EVIDENCE
            else f"finding {self.place['finding']}"
        )
        return FixityResult(
            kind=self.kind,
            file_id=self.pk,
            name=self.name,
            place=where,
            expected=self.expected,
            found=found,
        )


# --- hashing ---------------------------------------------------------------------------------


def stored_sha256(field: FieldFile) -> str | None:
    """The SHA-256 of a stored file, read in chunks; ``None`` when it is not in storage."""
    if not field.name:
        return None
    digest = hashlib.sha256()
    try:
        with field.storage.open(field.name, "rb") as handle:
            for chunk in handle.chunks(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


# --- the references in the trail ---------------------------------------------------------------


def _batches(queryset: QuerySet[M]) -> Iterator[list[M]]:
    """The rows by id, a batch at a time, with no cursor or transaction held in between."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _first_hash(files: Any) -> str | None:
    if isinstance(files, list) and files and isinstance(files[0], dict):
        sha = files[0].get("sha256")
        return sha if isinstance(sha, str) else None
    return None


def _evidence_stored(batch: Sequence[Evidence]) -> list[_Stored]:
    """Each file with the hash of its upload event (one query for the batch)."""
    uploads: dict[tuple[int, int], tuple[str, int]] = {}
    events = (
        TrailEvent.objects.filter(
            action="evidence_upload",
            submission_id__in={e.submission_id for e in batch},
            data__evidence__in=[e.pk for e in batch],
        )
        .order_by("id")
        .values_list("submission_id", "data", "files", "seq")
    )
    for submission_id, data, files, seq in events:
        pk = data.get("evidence") if isinstance(data, dict) else None
        sha = _first_hash(files)
        if submission_id is not None and isinstance(pk, int) and sha is not None:
            uploads.setdefault((submission_id, pk), (sha, seq))
    stored = []
    for evidence in batch:
        submission = evidence.submission
        upload = uploads.get((submission.pk, evidence.pk))
        stored.append(
            _Stored(
                kind=EVIDENCE,
                pk=evidence.pk,
                name=evidence.name,
                field=evidence.file,
                stream=submission.stream,
                submission=submission,
                body=submission.body,
                place={"submission": submission.pk},
                recommendation_id=None,
                expected=upload[0] if upload else None,
                upload_seq=upload[1] if upload else None,
            )
        )
    return stored


def _follow_up_stored(batch: Sequence[FollowUpFile]) -> list[_Stored]:
    """Each file with the hash its follow-up event listed for it (two queries for the batch)."""
    entry_ids = {f.entry_id for f in batch}
    siblings: dict[int, list[tuple[int, str]]] = {}
    for pk, entry_id, name in (
        FollowUpFile.objects.filter(entry_id__in=entry_ids)
        .order_by("id")
        .values_list("id", "entry_id", "name")
    ):
        siblings.setdefault(entry_id, []).append((pk, name))
    # By (entry, recommendation, finding), as the follow-up event names them.
    events: dict[tuple[Any, Any, Any], tuple[list[Any], int, str]] = {}
    for data, files, seq, stream in (
        TrailEvent.objects.filter(action="follow_up", data__entry__in=list(entry_ids))
        .order_by("id")
        .values_list("data", "files", "seq", "stream__name")
    ):
        if isinstance(data, dict) and isinstance(files, list):
            key = (data.get("entry"), data.get("recommendation"), data.get("finding"))
            events.setdefault(key, (files, seq, stream))
    stored = []
    for item in batch:
        recommendation = item.entry.recommendation
        finding = recommendation.finding
        event = events.get((item.entry_id, recommendation.pk, finding.pk))
        expected = None
        if event is not None:
            same_name = [pk for pk, name in siblings.get(item.entry_id, []) if name == item.name]
            listed = [
                f.get("sha256")
                for f in event[0]
                if isinstance(f, dict) and f.get("name") == item.name
            ]
            rank = same_name.index(item.pk) if item.pk in same_name else len(listed)
            sha = listed[rank] if rank < len(listed) else None
            expected = sha if isinstance(sha, str) else None
        stored.append(
            _Stored(
                kind=FOLLOW_UP,
                pk=item.pk,
                name=item.name,
                field=item.file,
                stream=event[2] if event is not None else finding.stream,
                submission=finding.submission,
                body=finding.body,
                place={
                    "finding": finding.pk,
                    "recommendation": recommendation.pk,
                    "entry": item.entry_id,
                },
                recommendation_id=recommendation.pk,
                expected=expected,
                upload_seq=event[1] if event is not None and expected is not None else None,
            )
        )
    return stored


def _evidence_rows(queryset: QuerySet[Evidence]) -> QuerySet[Evidence]:
    return queryset.select_related("submission__body")


def _follow_up_rows(queryset: QuerySet[FollowUpFile]) -> QuerySet[FollowUpFile]:
    return queryset.select_related(
        "entry__recommendation__finding__body", "entry__recommendation__finding__submission"
    )


# --- recording a failure -----------------------------------------------------------------------


def _describe(stored: _Stored) -> str:
    """The file as people are told of it (in the active language)."""
    if stored.kind == EVIDENCE:
        return _("bukti dukung #%(id)s “%(name)s” pada pengajuan #%(place)s") % {
            "id": stored.pk,
            "name": stored.name,
            "place": stored.place["submission"],
        }
    return _("berkas tindak lanjut #%(id)s “%(name)s” pada temuan #%(place)s") % {
        "id": stored.pk,
        "name": stored.name,
        "place": stored.place["finding"],
    }


def _why(result: FixityResult) -> str:
    """Why a file failed (in the active language)."""
    if result.expected is None:
        return _("tidak ada peristiwa unggah di jejak yang mencatat SHA-256-nya")
    if result.found is None:
        return _("berkas tidak ada di penyimpanan (SHA-256 saat diunggah %(expected)s)") % {
            "expected": result.expected
        }
    return _(
        "isinya berbeda dari saat diunggah (SHA-256 saat diunggah %(expected)s, sekarang %(found)s)"
    ) % {"expected": result.expected, "found": result.found}


def _recorded_before(stored: _Stored, result: FixityResult) -> bool:
    """Whether this failure (this file, this content found) is in the trail already."""
    events = TrailEvent.objects.filter(stream__name=stored.stream, action=FIXITY_FAILED)
    if stored.kind == EVIDENCE:
        events = events.filter(data__evidence=stored.pk)
    else:
        events = events.filter(data__file=stored.pk)
    return any(
        isinstance(data, dict)
        and data.get("expected_sha256") == result.expected
        and data.get("found_sha256") == result.found
        for data in events.values_list("data", flat=True)
    )


def _state(stored: _Stored) -> str:
    """From and to state of the event, which changes none: the submission's, or the
    recommendation's status (as its follow-up events carry)."""
    if stored.recommendation_id is not None:
        status = Recommendation.objects.filter(pk=stored.recommendation_id).values_list(
            "status", flat=True
        )
        return str(status.first() or "")
    if stored.submission is None:
        return ""
    state = Submission.objects.filter(pk=stored.submission.pk).values_list("state", flat=True)
    return str(state.first() or "")


def fixity_recipients() -> QuerySet[User]:
    """Everyone told of a failure: every active auditor and administrator (staff)."""
    return (
        get_user_model()
        .objects.filter(
            Q(groups__name=Role.AUDITOR) | Q(is_staff=True) | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _notify(stored: _Stored, title: str, message: str) -> None:
    rows = [
        Notification(
            user=person,
            kind=NOTICE_KIND,
            submission=stored.submission,
            title=title[:300],
            message=message,
        )
        for person in fixity_recipients()
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        publish_ids_on_commit(EMAIL_TASK, ids)


def _record(stored: _Stored, result: FixityResult) -> bool:
    """Write the failure's event and notices, unless it is recorded already (its own
    transaction; the stream head's lock makes concurrent checks take turns)."""
    with transaction.atomic():
        list(TrailStream.objects.select_for_update().filter(name=stored.stream))
        if _recorded_before(stored, result):
            return False
        # Stored text is read later by other people: in the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            what = _describe(stored)
            title = _("Berkas tersimpan tidak utuh: %s") % what
            note = f"{what}: {_why(result)}"
        # The file's id under the key its other events use (``evidence``, ``file``).
        data: dict[str, Any] = {"evidence" if stored.kind == EVIDENCE else "file": stored.pk}
        data |= stored.place | {
            "name": stored.name,
            "expected_sha256": result.expected,
            "found_sha256": result.found,
            "reason": result.reason,
            "upload_seq": stored.upload_seq,
        }
        state = _state(stored)
        trail_append(
            stream=stored.stream,
            action=FIXITY_FAILED,
            actor=None,
            from_state=state,
            to_state=state,
            note=note,
            files=(
                [{"name": stored.name, "sha256": result.expected}]
                if result.expected is not None
                else []
            ),
            data=data,
            submission=stored.submission,
            body=stored.body,
        )
        _notify(stored, title, note)
    return True


# --- checking ----------------------------------------------------------------------------------


def _check(stored: _Stored, *, record: bool) -> FixityResult:
    result = stored.result(stored_sha256(stored.field))
    if result.ok or not record:
        return result
    return replace(result, recorded=_record(stored, result))


def fixity_check(
    *,
    evidence: QuerySet[Evidence] | None = None,
    follow_up_files: QuerySet[FollowUpFile] | None = None,
    record: bool = True,
) -> list[FixityResult]:
    """Check these evidence and follow-up files (by id, a batch at a time), recording each
    failure not recorded yet when ``record``; ``None`` checks none of that kind."""
    results: list[FixityResult] = []
    if evidence is not None:
        for batch in _batches(_evidence_rows(evidence)):
            results.extend(_check(s, record=record) for s in _evidence_stored(batch))
    if follow_up_files is not None:
        for files in _batches(_follow_up_rows(follow_up_files)):
            results.extend(_check(s, record=record) for s in _follow_up_stored(files))
    return results


def fixity_check_all(*, record: bool = True) -> list[FixityResult]:
    """Every stored evidence file (removed ones too: they stay stored and downloadable) and
    every follow-up file, for ``verify_trail --evidence``."""
    return fixity_check(
        evidence=Evidence.objects.all(),
        follow_up_files=FollowUpFile.objects.all(),
        record=record,
    )


def share_of(day: dt.date) -> int:
    """The share of the files a day checks: ids with this remainder modulo ``SHARES``."""
    return day.toordinal() % SHARES


def fixity_check_share(
    *, now: dt.datetime | None = None, record: bool = True
) -> list[FixityResult]:
    """The day's share (the day of ``now`` in WIB): every file is checked within 7 days."""
    share = share_of(wib_date(now or timezone.now()))
    return fixity_check(
        evidence=Evidence.objects.alias(share=Mod("id", SHARES)).filter(share=share),
        follow_up_files=FollowUpFile.objects.alias(share=Mod("id", SHARES)).filter(share=share),
        record=record,
    )


def fixity_summary(results: Iterable[FixityResult]) -> dict[str, int]:
    """How many files were checked, failed, and had their failure recorded by this check."""
    checked = failed = recorded = 0
    for result in results:
        checked += 1
        failed += not result.ok
        recorded += result.recorded
    return {"checked": checked, "failed": failed, "recorded": recorded}


# --- before a download -------------------------------------------------------------------------


def _refuse_unless_intact(stored: _Stored) -> None:
    result = _check(stored, record=True)
    if not result.ok:
        raise Conflict(
            _("%(file)s tidak dapat diunduh: %(why)s. Auditor dan administrator telah diberi tahu.")
            % {"file": capfirst(_describe(stored)), "why": _why(result)}
        )


def evidence_intact(evidence: Evidence) -> None:
    """Hash an evidence file before it is served; 409 saying why when it differs from its
    upload event, is missing or has none (the failure recorded first, once)."""
    rows = _evidence_rows(Evidence.objects.filter(pk=evidence.pk))
    _refuse_unless_intact(_evidence_stored(list(rows))[0])


def follow_up_file_intact(file: FollowUpFile) -> None:
    """As ``evidence_intact``, for a file a body sent with a follow-up."""
    rows = _follow_up_rows(FollowUpFile.objects.filter(pk=file.pk))
    _refuse_unless_intact(_follow_up_stored(list(rows))[0])
