"""Changing a submission through the pages (edit, evidence, actions): the allowed person, the
read-only person and the outsider for every POST endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kla.models import Submission
from tests import factories as f
from tests.kla.pages_support import (
    REGULATION_POST,
    action_url,
    as_,
    detail_url,
    download_url,
    edit_url,
    events,
    first_evidence,
    remove_url,
    upload_url,
)

pytestmark = pytest.mark.django_db


# --- edit -----------------------------------------------------------------------------------


def test_operator_edits_a_draft(client: Client, draft: Submission) -> None:
    as_(client, draft.created_by)
    form = client.get(edit_url(draft))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="2025-02-01"' in html
    assert 'name="version"' in html
    response = client.post(
        edit_url(draft), {**REGULATION_POST, "title": "Judul baru", "version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Judul baru"
    assert draft.trail.filter(action="edit").exists()


def test_edit_with_a_stale_version_is_409(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "title": "Lain", "version": draft.version - 1}
    )
    assert response.status_code == 409
    assert "telah berubah" in response.content.decode()
    draft.refresh_from_db()
    assert draft.title != "Lain"


def test_edit_with_a_bad_date_is_400(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "detail_enacted_on": "kemarin"}
    )
    assert response.status_code == 400


def test_verifier_on_the_edit_page_gets_403(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    as_(client, verifier)
    assert client.get(edit_url(submitted)).status_code == 403
    assert client.post(edit_url(submitted), REGULATION_POST).status_code == 403


def test_operator_cannot_edit_a_submitted_one(client: Client, submitted: Submission) -> None:
    as_(client, submitted.created_by)
    assert client.get(edit_url(submitted)).status_code == 409
    assert client.post(edit_url(submitted), REGULATION_POST).status_code == 409


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_edit_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(edit_url(draft)).status_code == 404
    assert client.post(edit_url(draft), REGULATION_POST).status_code == 404


# --- upload ---------------------------------------------------------------------------------


def test_operator_uploads_a_pdf(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        upload_url(draft), {"file": f.pdf_upload("perwali.pdf")}
    )
    assert response.status_code == 302
    assert draft.evidence.filter(name="perwali.pdf").exists()
    assert "perwali.pdf diunggah" in client.get(detail_url(draft)).content.decode()


def test_upload_of_an_unaccepted_kind_says_what_is_accepted(
    client: Client, draft: Submission
) -> None:
    upload = f.pdf_upload("catatan.pdf", b"just text, not a pdf")
    response = as_(client, draft.created_by).post(upload_url(draft), {"file": upload})
    assert response.status_code == 400
    assert "PDF, JPEG, PNG" in response.content.decode()
    assert draft.evidence.count() == 1


def test_upload_without_a_file_is_400(client: Client, draft: Submission) -> None:
    assert as_(client, draft.created_by).post(upload_url(draft), {}).status_code == 400


# 1.5 MB is refused from its Content-Length; 1034 KB only once more than 1 MB has streamed in.
@pytest.mark.parametrize("size_kb", [1536, 1034], ids=["announced", "streamed"])
def test_oversized_upload_is_413(
    client: Client, draft: Submission, settings: Any, size_kb: int
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (size_kb * 1024))
    response = as_(client, draft.created_by).post(upload_url(draft), {"file": big})
    assert response.status_code == 413
    assert "terlalu besar" in response.content.decode()
    assert draft.evidence.count() == 1


def test_oversized_upload_is_413_even_though_its_csrf_token_was_dropped(
    draft: Submission, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    client = Client(enforce_csrf_checks=True)
    client.force_login(draft.created_by)
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (1536 * 1024))
    assert client.post(upload_url(draft), {"file": big}).status_code == 413
    # A normal upload without the token is still refused by the CSRF check.
    assert client.post(upload_url(draft), {"file": f.pdf_upload()}).status_code == 403
    assert draft.evidence.count() == 1


def test_oversized_upload_by_a_reviewer_is_still_403(
    client: Client, submitted: Submission, verifier: Any, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (1536 * 1024))
    assert as_(client, verifier).post(upload_url(submitted), {"file": big}).status_code == 403


def test_upload_on_a_submitted_one_is_409(client: Client, submitted: Submission) -> None:
    response = as_(client, submitted.created_by).post(
        upload_url(submitted), {"file": f.pdf_upload()}
    )
    assert response.status_code == 409


@pytest.mark.parametrize("who", ["verifier", "auditor"])
def test_reviewers_may_not_upload(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(upload_url(submitted), {"file": f.pdf_upload()}).status_code == 403
    assert submitted.evidence.count() == 1


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_upload_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(upload_url(draft), {"file": f.pdf_upload()}).status_code == 404


# --- evidence removal -----------------------------------------------------------------------


def test_operator_removes_a_file_which_stays_in_the_trail(
    client: Client, draft: Submission
) -> None:
    evidence = first_evidence(draft)
    response = as_(client, draft.created_by).post(remove_url(draft))
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert evidence.removed_at is not None
    assert draft.trail.filter(action="evidence_remove").exists()


def test_verifier_may_not_remove_from_a_returned_one(
    client: Client, draft: Submission, people: dict[str, Any]
) -> None:
    returned = f.advance(draft, "returned", **people)
    response = as_(client, people["verifier"]).post(remove_url(returned))
    assert response.status_code == 403
    assert first_evidence(returned) is not None


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_removal_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(remove_url(draft)).status_code == 404


def test_removing_an_unknown_file_is_404(client: Client, draft: Submission) -> None:
    url = reverse("evidence-remove", args=[draft.pk, 999999])
    assert as_(client, draft.created_by).post(url).status_code == 404


# --- download -------------------------------------------------------------------------------


def test_operator_downloads_and_the_trail_records_it(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).get(download_url(draft))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.PDF_BYTES  # type: ignore[attr-defined]
    assert "attachment" in response["Content-Disposition"]
    assert draft.trail.filter(action="evidence_download", actor_name="op-dinkes").exists()


def test_read_only_auditor_may_download_a_submitted_one(
    client: Client, submitted: Submission, auditor: Any
) -> None:
    response = as_(client, auditor).get(download_url(submitted))
    assert response.status_code == 200
    assert submitted.trail.filter(action="evidence_download", actor_name="inspektorat").exists()


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_download_is_404_to_outsiders(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(download_url(submitted)).status_code == 404
    assert not submitted.trail.filter(action="evidence_download").exists()


# --- actions --------------------------------------------------------------------------------


def test_operator_submits_from_the_page(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        action_url(draft), {"action": "submit", "version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "submitted"
    page = client.get(detail_url(draft)).content.decode()
    assert "diajukan untuk verifikasi" in page
    assert "Draf &rarr; Menunggu verifikasi" in page


def test_submitting_an_incomplete_draft_lists_what_is_missing(
    client: Client, operator: Any
) -> None:
    draft = f.make_draft(operator, with_evidence=False, title="")
    response = as_(client, operator).post(action_url(draft), {"action": "submit"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Judul wajib diisi" in html
    assert "Unggah setidaknya satu berkas" in html
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_read_only_auditor_posting_an_action_gets_403(
    client: Client, submitted: Submission, auditor: Any
) -> None:
    before = events(submitted)
    response = as_(client, auditor).post(action_url(submitted), {"action": "approve"})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == "submitted"
    assert events(submitted) == before


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_actions_are_404_to_outsiders(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(action_url(submitted), {"action": "approve"}).status_code == 404


def test_return_without_a_reason_shows_the_error_and_changes_nothing(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    before = events(submitted)
    version = submitted.version
    response = as_(client, verifier).post(
        action_url(submitted), {"action": "return", "note": "   ", "version": version}
    )
    assert response.status_code == 400
    assert "wajib diisi" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == "submitted"
    assert submitted.version == version
    assert events(submitted) == before


def test_verifier_returns_with_a_reason_then_it_is_in_the_timeline(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    response = as_(client, verifier).post(
        action_url(submitted),
        {"action": "return", "note": "Lampirkan SK", "version": submitted.version},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == "returned"
    html = client.get(detail_url(submitted)).content.decode()
    assert "Lampirkan SK" in html
    assert "Menunggu verifikasi &rarr; Dikembalikan untuk perbaikan" in html


def test_an_action_on_a_stale_version_is_409(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    response = as_(client, verifier).post(
        action_url(submitted), {"action": "approve", "version": submitted.version - 1}
    )
    assert response.status_code == 409
    assert "telah berubah" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


def test_an_action_the_state_does_not_allow_is_409(
    client: Client, submitted: Submission, consolidator: Any
) -> None:
    response = as_(client, consolidator).post(action_url(submitted), {"action": "consolidate"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    "data",
    [
        {"action": "terbang"},
        {"action": ""},
        {"action": "approve", "version": "abc"},
        {"action": "return", "note": "nul\x00byte"},
    ],
)
def test_bad_action_input_is_400_never_500(
    client: Client, submitted: Submission, verifier: Any, data: dict[str, str]
) -> None:
    response = as_(client, verifier).post(action_url(submitted), data)
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


def test_nul_bytes_in_the_form_are_400_never_500(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "title": "a\x00b", "detail_number": "\x00"}
    )
    assert response.status_code == 400


def test_get_on_a_post_endpoint_is_405(client: Client, draft: Submission) -> None:
    as_(client, draft.created_by)
    assert client.get(action_url(draft)).status_code == 405
    assert client.get(upload_url(draft)).status_code == 405
    assert client.get(remove_url(draft)).status_code == 405
