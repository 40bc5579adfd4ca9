"""A returned submission's page: the reason on top until answered, and what changed since."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.drafting import evidence_add, evidence_remove, evidence_tag, submission_update
from kla.models import Submission
from tests import factories as f
from workflows.services import submission_act

pytestmark = pytest.mark.django_db


def _page(user: User, submission: Submission) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("submission-detail", args=[submission.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str, css: str) -> str:
    found = re.search(rf'<section class="card {css}".*?</section>', html, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def returned(operator: User, people: dict[str, Any]) -> Submission:
    draft = f.make_draft(operator, title="Perwali KTR")
    submitted = f.advance(draft, "submitted", **people)
    return submission_act(
        user=people["verifier"],
        submission_id=submitted.pk,
        action="return",
        note="Lampirkan salinan bertanda tangan",
    )


def _revise(operator: User, returned: Submission) -> None:
    old = f.first(returned.evidence.all())
    submission_update(
        user=operator,
        submission_id=returned.pk,
        fields={
            "title": "Perwali Kawasan Tanpa Rokok",
            "details": {**f.COMPLETE_DETAILS["regulation"], "number": "12 Tahun 2025"},
        },
    )
    evidence_add(
        user=operator, submission_id=returned.pk, upload=f.pdf_upload("ttd.pdf", b"%PDF-1.4 ttd")
    )
    evidence_remove(user=operator, submission_id=returned.pk, evidence_id=old.pk)


def test_the_reason_is_at_the_top_of_a_returned_submission(
    returned: Submission, operator: User
) -> None:
    html = _page(operator, returned)
    reason = _section(html, "return-reason")
    assert "Lampirkan salinan bertanda tangan" in reason
    assert "WIB" in reason
    assert html.index("return-reason") < html.index("Data pengajuan")
    # Nothing changed yet: no list of changes.
    assert _section(html, "changes") == ""


def test_the_operator_sees_what_they_changed_so_far(returned: Submission, operator: User) -> None:
    _revise(operator, returned)
    changes = _section(_page(operator, returned), "changes")
    assert "Perubahan sejauh ini" in changes
    assert "Perwali KTR" in changes and "Perwali Kawasan Tanpa Rokok" in changes
    assert "12/2025" in changes and "12 Tahun 2025" in changes
    assert "Ditambahkan: ttd.pdf" in changes
    assert "Dikeluarkan: bukti.pdf" in changes


def test_after_the_resubmit_the_verifier_sees_the_changes_and_no_open_reason(
    returned: Submission, operator: User, verifier: User
) -> None:
    _revise(operator, returned)
    kept = returned.evidence.get(removed_at__isnull=True)
    evidence_tag(user=operator, submission_id=returned.pk, evidence_id=kept.pk, kind="decree")
    submission_act(user=operator, submission_id=returned.pk, action="resubmit", note="Sudah")
    html = _page(verifier, returned)
    assert _section(html, "return-reason") == ""
    changes = _section(html, "changes")
    assert "Perubahan sejak dikembalikan" in changes
    assert "Lampirkan salinan bertanda tangan" in changes
    assert "Perwali Kawasan Tanpa Rokok" in changes
    assert "Ditambahkan: ttd.pdf" in changes and "Dikeluarkan: bukti.pdf" in changes


def test_a_resubmission_without_changes_says_so(returned: Submission, operator: User) -> None:
    submission_act(user=operator, submission_id=returned.pk, action="resubmit", note="Cek lagi")
    changes = _section(_page(operator, returned), "changes")
    assert "Tidak ada data atau berkas yang berubah." in changes


def test_a_submission_never_returned_shows_neither(submitted: Submission, verifier: User) -> None:
    html = _page(verifier, submitted)
    assert _section(html, "return-reason") == "" and _section(html, "changes") == ""
