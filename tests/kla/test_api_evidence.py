"""Evidence through the API: uploading, the size limit, refusing by content, download, removal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kla.models import Evidence, Submission
from tests import factories as f
from workflows.models import TrailEvent

from .conftest import snapshot, url

pytestmark = pytest.mark.django_db


def stored_files(settings: Any) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# Uploading -----------------------------------------------------------------------------


def test_operator_uploads_a_png_and_gets_its_hash(
    api: Any, operator: Any, draft: Submission
) -> None:
    version = draft.version
    upload = SimpleUploadedFile("foto.png", f.PNG_BYTES, content_type="image/png")
    response = api.as_(operator).post(url(draft, "evidence"), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {
        "id",
        "name",
        "size",
        "sha256",
        "uploaded_at",
        "kind",
        "requirements",
        "duplicates",
    }
    assert (data["kind"], data["requirements"]) == ("other", [])
    assert data["duplicates"] == []
    assert data["name"] == "foto.png"
    assert data["size"] == len(f.PNG_BYTES)
    evidence = Evidence.objects.get(pk=data["id"])
    assert evidence.content_type == "image/png"
    assert data["sha256"] == evidence.sha256
    draft.refresh_from_db()
    assert draft.version == version + 1
    event = f.first(draft.trail.order_by("-seq"))
    assert event.action == "evidence_upload"
    assert event.files == [{"name": "foto.png", "sha256": data["sha256"]}]


def test_operator_uploads_to_a_returned_submission(
    api: Any, operator: Any, returned: Submission
) -> None:
    response = api.as_(operator).post(
        url(returned, "evidence"), {"file": f.pdf_upload("revisi.pdf")}, format="multipart"
    )
    assert response.status_code == 201
    assert returned.evidence.filter(name="revisi.pdf").exists()


def test_unicode_file_name_is_kept(api: Any, operator: Any, draft: Submission) -> None:
    name = "laporan-anak-ü-✓-日本.pdf"
    response = api.as_(operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload(name)}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["name"] == name


def test_text_file_renamed_pdf_is_refused_with_the_accepted_types(
    api: Any, operator: Any, draft: Submission, settings: Any
) -> None:
    before = snapshot(draft)
    files = stored_files(settings)
    upload = SimpleUploadedFile(
        "bukti.pdf", b"just some text\n" * 10, content_type="application/pdf"
    )
    response = api.as_(operator).post(url(draft, "evidence"), {"file": upload}, format="multipart")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "PDF" in message and "DOCX" in message and "ODS" in message
    assert snapshot(draft) == before
    assert stored_files(settings) == files


def test_empty_multipart_is_a_400_naming_the_file_field(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).post(url(draft, "evidence"), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    assert snapshot(draft) == before


def test_file_sent_as_a_plain_form_value_is_a_400(
    api: Any, operator: Any, draft: Submission
) -> None:
    response = api.as_(operator).post(
        url(draft, "evidence"), {"file": "%PDF-1.4"}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()


def test_a_json_post_to_evidence_is_a_400_not_an_error(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).post(url(draft, "evidence"), {"file": "x"}, format="json")
    assert response.status_code == 400
    assert "file" in response.json()
    assert snapshot(draft) == before


def test_malformed_multipart_is_a_400(api: Any, operator: Any, draft: Submission) -> None:
    response = api.as_(operator).post(
        url(draft, "evidence"), b"garbage", content_type="multipart/form-data"
    )
    assert response.status_code == 400


def test_empty_file_is_refused(api: Any, operator: Any, draft: Submission) -> None:
    upload = SimpleUploadedFile("kosong.pdf", b"", content_type="application/pdf")
    response = api.as_(operator).post(url(draft, "evidence"), {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize("size_kb", [1536, 1024 + 8])
def test_oversized_upload_is_413_and_nothing_is_stored(
    api: Any, operator: Any, draft: Submission, settings: Any, size_kb: int
) -> None:
    # 1.5 MB is refused by its announced length; 1 MB + 8 KB while it streams in.
    settings.EVIDENCE_MAX_MB = 1
    before = snapshot(draft)
    files = stored_files(settings)
    content = f.PDF_BYTES + b"0" * (size_kb * 1024)
    response = api.as_(operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload("besar.pdf", content)}, format="multipart"
    )
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert snapshot(draft) == before
    assert stored_files(settings) == files
    assert not Evidence.objects.filter(name="besar.pdf").exists()


def test_oversized_upload_by_someone_who_may_not_upload_is_still_403(
    api: Any, consolidator: Any, submitted: Submission, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    content = f.PDF_BYTES + b"0" * (1536 * 1024)
    response = api.as_(consolidator).post(
        url(submitted, "evidence"), {"file": f.pdf_upload("besar.pdf", content)}, format="multipart"
    )
    assert response.status_code == 403


def test_file_just_under_the_limit_is_accepted(
    api: Any, operator: Any, draft: Submission, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    content = f.PDF_BYTES + b"0" * (1024 * 1024 - len(f.PDF_BYTES) - 10)
    response = api.as_(operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload("pas.pdf", content)}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["size"] == len(content)


@pytest.mark.parametrize("state", ["submitted", "verified", "consolidated", "audited"])
def test_operator_uploading_after_submitting_gets_409(
    api: Any, operator: Any, people: dict[str, Any], draft: Submission, state: str
) -> None:
    submission = f.advance(draft, state, **people)
    before = snapshot(submission)
    response = api.as_(operator).post(
        url(submission, "evidence"), {"file": f.pdf_upload()}, format="multipart"
    )
    assert response.status_code == 409
    assert snapshot(submission) == before


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_who_see_it_get_403_on_upload(
    api: Any, people: dict[str, Any], submitted: Submission, role: str
) -> None:
    before = snapshot(submitted)
    response = api.as_(people[role]).post(
        url(submitted, "evidence"), {"file": f.pdf_upload()}, format="multipart"
    )
    assert response.status_code == 403
    assert snapshot(submitted) == before


def test_operator_of_another_body_gets_404_on_upload(
    api: Any, other_operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(other_operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload()}, format="multipart"
    )
    assert response.status_code == 404
    assert snapshot(draft) == before


# Downloading ---------------------------------------------------------------------------


def test_download_is_an_attachment_with_the_original_name_and_a_trail_event(
    api: Any, operator: Any, draft: Submission
) -> None:
    evidence = draft.evidence.get()
    response = api.as_(operator).get(url(draft, "evidence", evidence.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'attachment; filename="bukti.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == f.PDF_BYTES
    event = f.first(draft.trail.order_by("-seq"))
    assert event.action == "evidence_download"
    assert event.actor_name == "op-dinkes"
    assert event.role == "operator"
    assert event.files == [{"name": "bukti.pdf", "sha256": evidence.sha256}]


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_download_and_the_trail_names_them(
    api: Any, people: dict[str, Any], submitted: Submission, role: str
) -> None:
    evidence = submitted.evidence.get()
    response = api.as_(people[role]).get(url(submitted, "evidence", evidence.pk))
    assert response.status_code == 200
    event = f.first(TrailEvent.objects.filter(submission=submitted).order_by("-seq"))
    assert (event.action, event.actor_name, event.role) == (
        "evidence_download",
        people[role].username,
        role,
    )


def test_download_by_an_outsider_is_404_and_leaves_no_trail(
    api: Any, other_operator: Any, outsider: Any, draft: Submission
) -> None:
    evidence = draft.evidence.get()
    before = snapshot(draft)
    for person in (other_operator, outsider):
        assert api.as_(person).get(url(draft, "evidence", evidence.pk)).status_code == 404
    assert snapshot(draft) == before


def test_non_ascii_file_name_downloads_with_an_encoded_disposition(
    api: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(operator)
    eid = client.post(
        url(draft, "evidence"), {"file": f.pdf_upload("bukti-ü.pdf")}, format="multipart"
    ).json()["id"]
    response = client.get(url(draft, "evidence", eid))
    assert response.status_code == 200
    assert "filename*=utf-8''bukti-%C3%BC.pdf" in response["Content-Disposition"]


# Removing ------------------------------------------------------------------------------


def test_operator_removes_a_file_and_it_stays_stored_and_in_the_trail(
    api: Any, operator: Any, draft: Submission
) -> None:
    evidence = draft.evidence.get()
    version = draft.version
    response = api.as_(operator).delete(url(draft, "evidence", evidence.pk))
    assert response.status_code == 204
    evidence.refresh_from_db()
    assert evidence.removed_at is not None
    assert evidence.file.storage.exists(str(evidence.file.name))
    draft.refresh_from_db()
    assert draft.version == version + 1
    assert f.first(draft.trail.order_by("-seq")).action == "evidence_remove"
    # Taken out once: a second removal finds nothing current.
    assert api.as_(operator).delete(url(draft, "evidence", evidence.pk)).status_code == 404


def test_operator_removing_after_submitting_gets_409(
    api: Any, operator: Any, submitted: Submission
) -> None:
    before = snapshot(submitted)
    evidence = submitted.evidence.get()
    assert api.as_(operator).delete(url(submitted, "evidence", evidence.pk)).status_code == 409
    assert snapshot(submitted) == before


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_who_see_it_get_403_on_removal(
    api: Any, people: dict[str, Any], submitted: Submission, role: str
) -> None:
    before = snapshot(submitted)
    evidence = submitted.evidence.get()
    response = api.as_(people[role]).delete(url(submitted, "evidence", evidence.pk))
    assert response.status_code == 403
    assert snapshot(submitted) == before


def test_operator_of_another_body_gets_404_on_removal(
    api: Any, other_operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    evidence = draft.evidence.get()
    assert api.as_(other_operator).delete(url(draft, "evidence", evidence.pk)).status_code == 404
    assert snapshot(draft) == before
