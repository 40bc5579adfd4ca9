"""Fixity of stored files (DESIGN, "Anchored outside the database"): evidence and follow-up
files hashed again against their upload events, by the day's rolling share and all at once; a
failure recorded once with a notice to auditors and administrators, downloads refused."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from kla.drafting import evidence_add
from kla.errors import Conflict
from kla.models import Evidence, Submission
from kla.time import WIB
from kla.web.templatetags.kla_tags import ACTION_LABELS
from kla.web.templatetags.trail_tags import trail_action_label
from tests import factories as f
from workflows.models import Finding, FollowUpFile, Notification, TrailEvent
from workflows.supervision.files import follow_up_file_download
from workflows.supervision.findings import finding_create, follow_up_post
from workflows.tasks import fixity_check_task
from workflows.trail.fixity import (
    FIXITY_FAILED,
    NOTICE_KIND,
    SHARES,
    FixityResult,
    evidence_intact,
    fixity_check_all,
    fixity_check_share,
    share_of,
)

pytestmark = pytest.mark.django_db

CHANGED = f.PDF_BYTES + b"% changed by someone with access to the storage\n"
CHANGED_AGAIN = f.PDF_BYTES + b"% and changed once more\n"
MONDAY = dt.date(2026, 3, 16)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def overwrite(stored: Evidence | FollowUpFile, content: bytes) -> None:
    Path(stored.file.path).write_bytes(content)


def day_of(pk: int) -> dt.datetime:
    """A moment (10:00 WIB) of a day whose share holds this id."""
    day = MONDAY + dt.timedelta(days=(pk - share_of(MONDAY)) % SHARES)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=WIB)


def failures() -> list[TrailEvent]:
    return list(TrailEvent.objects.filter(action=FIXITY_FAILED).order_by("id"))


def of(results: list[FixityResult], kind: str, pk: int) -> FixityResult:
    (found,) = [r for r in results if r.kind == kind and r.file_id == pk]
    return found


@pytest.fixture
def admins(superuser: User) -> list[User]:
    """The administrators: a superuser, and staff who keep reference data."""
    staff = f.UserFactory(username="staf-admin")
    staff.is_staff = True
    staff.save()
    return [superuser, staff]


@pytest.fixture
def evidence(submitted: Submission) -> Evidence:
    return submitted.evidence.get()


@pytest.fixture
def finding(auditor: User, body: Any, instruction: Any) -> Finding:
    """A finding on a body: its stream is the body's."""
    return finding_create(
        user=auditor,
        agency=body.code,
        title="Tidak pernah melapor",
        condition="Tidak ada pengajuan",
        criteria="Instruksi Wali Kota",
        recommendations=["Ajukan laporan"],
    )


@pytest.fixture
def follow_up_files(finding: Finding, operator: User) -> list[FollowUpFile]:
    """One follow-up with three files, two of them of the same name."""
    follow_up_post(
        user=operator,
        finding_id=finding.pk,
        recommendation_id=finding.recommendations.get().pk,
        note="Terlampir",
        uploads=[
            f.pdf_upload("sk.pdf"),
            f.pdf_upload("sk.pdf", f.PDF_BYTES + b"% versi kedua\n"),
            f.pdf_upload("lampiran.pdf", f.PDF_BYTES + b"% lampiran\n"),
        ],
    )
    return list(FollowUpFile.objects.order_by("id"))


# --- what passes -------------------------------------------------------------------------------


def test_an_unchanged_file_passes_and_downloads(
    client: Client, api: Any, auditor: User, evidence: Evidence, submitted: Submission
) -> None:
    result = of(fixity_check_all(), "evidence", evidence.pk)
    assert result.ok and not result.recorded
    assert result.expected == result.found == sha(f.PDF_BYTES)
    assert str(result) == (
        f"evidence {evidence.pk} 'bukti.pdf' of submission {submitted.pk}: ok, "
        f"sha256 {sha(f.PDF_BYTES)}"
    )
    client.force_login(auditor)
    page: Any = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 200
    assert b"".join(page.streaming_content) == f.PDF_BYTES
    answer = api.as_(auditor).get(f"/api/v1/submissions/{submitted.pk}/evidence/{evidence.pk}/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == f.PDF_BYTES
    assert submitted.trail.filter(action="evidence_download").count() == 2
    assert failures() == []


def test_the_upload_event_is_the_reference_not_the_editable_column(
    client: Client, auditor: User, evidence: Evidence, submitted: Submission
) -> None:
    Evidence.objects.filter(pk=evidence.pk).update(sha256="0" * 64)
    assert of(fixity_check_all(), "evidence", evidence.pk).ok
    client.force_login(auditor)
    page = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 200
    assert failures() == []


def test_bytes_that_match_the_edited_column_but_not_the_upload_event_fail(
    evidence: Evidence,
) -> None:
    overwrite(evidence, CHANGED)
    Evidence.objects.filter(pk=evidence.pk).update(sha256=sha(CHANGED))
    result = of(fixity_check_all(), "evidence", evidence.pk)
    assert (result.reason, result.expected, result.found) == (
        "changed",
        sha(f.PDF_BYTES),
        sha(CHANGED),
    )


# --- what fails, recorded once -------------------------------------------------------------------


def test_a_changed_file_is_caught_on_its_day_and_recorded_once(
    evidence: Evidence,
    submitted: Submission,
    auditor: User,
    admins: list[User],
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    overwrite(evidence, CHANGED)
    its_day = day_of(evidence.pk)
    # Not on the other six days: the day's share is another seventh of the files.
    for offset in range(1, SHARES):
        other = fixity_check_share(now=its_day + dt.timedelta(days=offset))
        assert all(r.file_id != evidence.pk for r in other if r.kind == "evidence")
    assert failures() == []

    with django_capture_on_commit_callbacks(execute=True):
        result = of(fixity_check_share(now=its_day), "evidence", evidence.pk)
    assert (result.ok, result.reason, result.recorded) == (False, "changed", True)
    assert str(result) == (
        f"evidence {evidence.pk} 'bukti.pdf' of submission {submitted.pk}: changed: "
        f"expected {sha(f.PDF_BYTES)}, found {sha(CHANGED)}"
    )
    (event,) = failures()
    assert event.stream.name == submitted.stream and event.submission_id == submitted.pk
    assert (event.actor_name, event.from_state, event.to_state) == (
        "system",
        "submitted",
        "submitted",
    )
    upload = submitted.trail.get(action="evidence_upload")
    assert event.data == {
        "evidence": evidence.pk,
        "submission": submitted.pk,
        "name": "bukti.pdf",
        "expected_sha256": sha(f.PDF_BYTES),
        "found_sha256": sha(CHANGED),
        "reason": "changed",
        "upload_seq": upload.seq,
    }
    assert event.files == [{"name": "bukti.pdf", "sha256": sha(f.PDF_BYTES)}]
    assert sha(CHANGED) in event.note

    # Every auditor and administrator is told, in the app and by email; nobody else.
    told = set(Notification.objects.filter(kind=NOTICE_KIND).values_list("user", flat=True))
    assert told == {auditor.pk, *(a.pk for a in admins)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in (auditor, *admins))
    assert all("bukti.pdf" in m.subject for m in mail.outbox)

    # The same failure found again (by the share and by the all-files check) writes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = of(fixity_check_share(now=its_day), "evidence", evidence.pk)
        everything = of(fixity_check_all(), "evidence", evidence.pk)
    assert not again.ok and not again.recorded
    assert not everything.ok and not everything.recorded
    assert len(failures()) == 1
    assert Notification.objects.filter(kind=NOTICE_KIND).count() == 3
    assert len(mail.outbox) == 3
    assert not any(p.pk in told for p in people.values() if p != auditor)


def test_the_all_files_check_catches_a_changed_file_and_content_changed_again_is_new(
    evidence: Evidence, auditor: User
) -> None:
    overwrite(evidence, CHANGED)
    assert of(fixity_check_all(), "evidence", evidence.pk).recorded
    overwrite(evidence, CHANGED_AGAIN)
    assert of(fixity_check_all(), "evidence", evidence.pk).recorded
    assert [e.data["found_sha256"] for e in failures()] == [sha(CHANGED), sha(CHANGED_AGAIN)]
    assert Notification.objects.filter(kind=NOTICE_KIND, user=auditor).count() == 2
    # Put back as uploaded, it passes again.
    overwrite(evidence, f.PDF_BYTES)
    assert of(fixity_check_all(), "evidence", evidence.pk).ok
    assert len(failures()) == 2


def test_a_check_without_recording_writes_nothing(evidence: Evidence) -> None:
    overwrite(evidence, CHANGED)
    result = of(fixity_check_all(record=False), "evidence", evidence.pk)
    assert not result.ok and not result.recorded
    assert failures() == []


def test_a_missing_file_is_caught(evidence: Evidence, submitted: Submission) -> None:
    Path(evidence.file.path).unlink()
    result = of(fixity_check_all(), "evidence", evidence.pk)
    assert (result.reason, result.found, result.recorded) == ("missing", None, True)
    assert str(result).endswith(f"expected {sha(f.PDF_BYTES)}, found missing")
    (event,) = failures()
    assert (event.data["reason"], event.data["found_sha256"]) == ("missing", None)
    assert not of(fixity_check_all(), "evidence", evidence.pk).recorded
    assert len(failures()) == 1


def test_a_file_without_an_upload_event_fails(draft: Submission, operator: User) -> None:
    stray = Evidence(
        submission=draft,
        name="selundupan.pdf",
        size=len(f.PDF_BYTES),
        sha256=sha(f.PDF_BYTES),
        content_type="application/pdf",
        uploaded_by=operator,
    )
    stray.file.save("selundupan.pdf", ContentFile(f.PDF_BYTES), save=False)
    stray.save()
    result = of(fixity_check_all(), "evidence", stray.pk)
    assert (result.reason, result.expected, result.found) == ("unrecorded", None, sha(f.PDF_BYTES))
    assert "expected none (no upload event)" in str(result)
    (event,) = failures()
    assert (event.data["evidence"], event.data["reason"], event.files) == (
        stray.pk,
        "unrecorded",
        [],
    )
    with pytest.raises(Conflict):
        evidence_intact(stray)
    assert len(failures()) == 1


# --- downloads -----------------------------------------------------------------------------------


def test_downloads_of_a_changed_file_are_409_and_record_no_download(
    client: Client, api: Any, auditor: User, evidence: Evidence, submitted: Submission
) -> None:
    overwrite(evidence, CHANGED)
    client.force_login(auditor)
    page = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 409
    text = page.content.decode()
    assert "bukti.pdf" in text and sha(CHANGED) in text and sha(f.PDF_BYTES) in text
    answer = api.as_(auditor).get(f"/api/v1/submissions/{submitted.pk}/evidence/{evidence.pk}/")
    assert answer.status_code == 409
    assert sha(CHANGED) in answer.json()["detail"]
    assert not submitted.trail.filter(action="evidence_download").exists()
    # The refusal did not undo the failure, written once for both downloads.
    assert [e.data["found_sha256"] for e in failures()] == [sha(CHANGED)]


def test_downloading_a_missing_file_is_409_saying_so(
    client: Client, auditor: User, evidence: Evidence, submitted: Submission
) -> None:
    Path(evidence.file.path).unlink()
    client.force_login(auditor)
    page = client.get(reverse("evidence-download", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 409
    assert "tidak ada di penyimpanan" in page.content.decode()
    assert not submitted.trail.filter(action="evidence_download").exists()
    assert len(failures()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_failure_a_download_finds_is_committed_although_the_download_is_refused(
    api: Any, people: dict[str, Any]
) -> None:
    submitted = f.advance(f.make_draft(people["operator"]), "submitted", **people)
    evidence = submitted.evidence.get()
    overwrite(evidence, CHANGED)
    answer = api.as_(people["auditor"]).get(
        f"/api/v1/submissions/{submitted.pk}/evidence/{evidence.pk}/"
    )
    assert answer.status_code == 409
    assert [e.data["evidence"] for e in failures()] == [evidence.pk]
    assert not submitted.trail.filter(action="evidence_download").exists()
    assert Notification.objects.filter(kind=NOTICE_KIND, user=people["auditor"]).exists()


# --- follow-up files -----------------------------------------------------------------------------


def test_follow_up_files_pass_each_against_its_own_entry_of_the_event(
    follow_up_files: list[FollowUpFile],
) -> None:
    results = fixity_check_all()
    assert all(of(results, "follow_up", item.pk).ok for item in follow_up_files)
    assert [of(results, "follow_up", item.pk).expected for item in follow_up_files] == [
        sha(f.PDF_BYTES),
        sha(f.PDF_BYTES + b"% versi kedua\n"),
        sha(f.PDF_BYTES + b"% lampiran\n"),
    ]


def test_a_changed_follow_up_file_is_caught_on_the_findings_stream_and_downloads_are_409(
    client: Client,
    api: Any,
    auditor: User,
    admins: list[User],
    finding: Finding,
    follow_up_files: list[FollowUpFile],
) -> None:
    second = follow_up_files[1]
    overwrite(second, CHANGED)
    Path(follow_up_files[2].file.path).unlink()
    # The share of its day finds it; the other same-named file still passes.
    share = fixity_check_share(now=day_of(second.pk))
    result = of(share, "follow_up", second.pk)
    assert (result.reason, result.expected, result.found, result.recorded) == (
        "changed",
        sha(f.PDF_BYTES + b"% versi kedua\n"),
        sha(CHANGED),
        True,
    )
    assert str(result).startswith(f"follow-up file {second.pk} 'sk.pdf' of finding {finding.pk}:")
    everything = fixity_check_all()
    assert of(everything, "follow_up", follow_up_files[0].pk).ok
    assert of(everything, "follow_up", follow_up_files[2].pk).reason == "missing"
    assert not of(everything, "follow_up", second.pk).recorded

    event = TrailEvent.objects.get(action=FIXITY_FAILED, data__file=second.pk)
    follow_up = TrailEvent.objects.get(action="follow_up")
    assert event.stream.name == follow_up.stream.name == "body:dinkes"
    recommendation = finding.recommendations.get()
    assert event.data == {
        "file": second.pk,
        "finding": finding.pk,
        "recommendation": recommendation.pk,
        "entry": second.entry_id,
        "name": "sk.pdf",
        "expected_sha256": sha(f.PDF_BYTES + b"% versi kedua\n"),
        "found_sha256": sha(CHANGED),
        "reason": "changed",
        "upload_seq": follow_up.seq,
    }
    assert (event.from_state, event.to_state) == ("responded", "responded")
    assert len(failures()) == 2
    told = set(Notification.objects.filter(kind=NOTICE_KIND).values_list("user", flat=True))
    assert told == {auditor.pk, *(a.pk for a in admins)}

    client.force_login(auditor)
    page = client.get(reverse("finding-file", args=[finding.pk, second.pk]))
    assert page.status_code == 409
    answer = api.as_(auditor).get(f"/api/v1/findings/{finding.pk}/files/{second.pk}/")
    assert answer.status_code == 409
    assert sha(CHANGED) in answer.json()["detail"]
    missing = api.as_(auditor).get(f"/api/v1/findings/{finding.pk}/files/{follow_up_files[2].pk}/")
    assert missing.status_code == 409
    assert not TrailEvent.objects.filter(action="follow_up_download").exists()
    assert len(failures()) == 2

    # The unchanged one still downloads.
    fine = api.as_(auditor).get(f"/api/v1/findings/{finding.pk}/files/{follow_up_files[0].pk}/")
    assert fine.status_code == 200
    assert b"".join(fine.streaming_content) == f.PDF_BYTES
    assert TrailEvent.objects.filter(action="follow_up_download").count() == 1


def test_the_follow_up_service_refuses_before_recording_a_download(
    auditor: User, finding: Finding, follow_up_files: list[FollowUpFile]
) -> None:
    overwrite(follow_up_files[0], CHANGED)
    with pytest.raises(Conflict) as refused:
        follow_up_file_download(user=auditor, finding_id=finding.pk, file_id=follow_up_files[0].pk)
    assert "sk.pdf" in refused.value.message
    assert not TrailEvent.objects.filter(action="follow_up_download").exists()


# --- the rolling share and the beat task ---------------------------------------------------------


def test_the_rolling_share_covers_every_file_once_in_seven_days(
    operator: User, follow_up_files: list[FollowUpFile]
) -> None:
    draft = f.make_draft(operator)
    for n in range(9):
        evidence_add(user=operator, submission_id=draft.pk, upload=f.pdf_upload(f"b{n}.pdf"))
    every = {(r.kind, r.file_id) for r in fixity_check_all()}
    assert len(every) == 10 + len(follow_up_files)
    seen: list[tuple[str, int]] = []
    for offset in range(SHARES):
        day = dt.datetime.combine(MONDAY + dt.timedelta(days=offset), dt.time(1, 30), tzinfo=WIB)
        seen.extend((r.kind, r.file_id) for r in fixity_check_share(now=day))
    assert sorted(seen) == sorted(every)  # each file exactly once in any seven days


def test_the_share_is_of_the_day_in_wib(evidence: Evidence) -> None:
    # 18:00 UTC on the day before is 01:00 WIB on the file's day.
    its_day = day_of(evidence.pk)
    late_utc = dt.datetime.combine(
        its_day.date() - dt.timedelta(days=1), dt.time(18, 0), tzinfo=dt.UTC
    )
    assert any(r.file_id == evidence.pk for r in fixity_check_share(now=late_utc))


def test_the_beat_task_checks_the_days_share(evidence: Evidence) -> None:
    overwrite(evidence, CHANGED)
    its_day = day_of(evidence.pk).replace(tzinfo=None).isoformat()
    summary = fixity_check_task.delay(its_day).get()
    assert summary["failed"] == summary["recorded"] == 1
    assert summary["checked"] >= 1
    assert fixity_check_task(its_day) == summary | {"recorded": 0}
    assert len(failures()) == 1


def test_the_trail_pages_name_the_action() -> None:
    assert ACTION_LABELS["evidence_fixity_failed"]
    assert trail_action_label("evidence_fixity_failed") == "Berkas tersimpan tidak utuh"
