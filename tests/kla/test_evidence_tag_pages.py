"""Files know what they are, on the submission page: the upload form's kind and requirements,
each file's kind and codes, the small form that changes them, and its refusals in place."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.models import Instruction, Requirement, Submission
from tests import factories as f

from .conftest import snapshot
from .test_evidence_tags import codes, make_checklist, only_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def checklist(instruction: Instruction) -> dict[str, Requirement]:
    return make_checklist(instruction)


def page_url(name: str, *args: Any) -> str:
    return reverse(name, args=list(args))


def test_the_upload_form_offers_kinds_and_the_submissions_requirements(
    client: Client, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    client.force_login(operator)
    html = client.get(page_url("submission-detail", draft.pk)).content.decode()
    assert 'name="kind"' in html and "Surat keputusan (SK)" in html
    assert 'value="17.1"' in html and "17.1 Kebutuhan 17.1" in html
    assert 'value="2.1"' not in html  # indicator 2 is not the submission's
    assert "17. " in html  # grouped under their indicator
    response = client.post(
        page_url("evidence-upload", draft.pk),
        {"file": f.pdf_upload("sk.pdf"), "kind": "decree", "requirements": ["17.1", "17.2"]},
    )
    assert response.status_code == 302
    uploaded = f.first(draft.evidence.filter(name="sk.pdf"))
    assert (uploaded.kind, codes(uploaded)) == ("decree", ["17.1", "17.2"])
    html = client.get(page_url("submission-detail", draft.pk)).content.decode()
    assert "Surat keputusan (SK)" in html
    assert page_url("evidence-tag", draft.pk, uploaded.pk) in html
    section = html[html.index("Bukti dukung</h2>") : html.index("Riwayat</h2>")]
    assert "style=" not in section and "<script" not in section  # a strict CSP holds


def test_a_file_kind_the_requirement_refuses_is_shown_on_the_page(
    client: Client, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    client.force_login(operator)
    before = snapshot(draft)
    response = client.post(
        page_url("evidence-upload", draft.pk),
        {"file": f.pdf_upload(), "kind": "photo", "requirements": ["17.1"]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Kebutuhan data dukung" in html and "17.1" in html and "Foto kegiatan" in html
    assert snapshot(draft) == before


def test_the_page_changes_a_files_kind_and_requirements(
    client: Client, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = only_file(draft)
    client.force_login(operator)
    response = client.post(
        page_url("evidence-tag", draft.pk, evidence.pk),
        {"kind": "regulation_text", "requirements": ["17.1"], "version": draft.version},
    )
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert (evidence.kind, codes(evidence)) == ("regulation_text", ["17.1"])
    html = client.get(page_url("submission-detail", draft.pk)).content.decode()
    assert "Naskah regulasi" in html and ">17.1<" in html
    assert "Jenis/kebutuhan bukti diubah" in html  # the timeline's label, not the API code
    # unticking everything clears the set
    client.post(
        page_url("evidence-tag", draft.pk, evidence.pk),
        {"kind": "regulation_text", "version": draft.version + 1},
    )
    assert codes(evidence) == []


def test_page_refusals_of_a_tag_change_render_the_submission(
    client: Client,
    operator: User,
    people: dict[str, Any],
    checklist: dict[str, Requirement],
) -> None:
    draft = f.make_draft(operator)
    evidence = only_file(draft)
    client.force_login(operator)
    path = page_url("evidence-tag", draft.pk, evidence.pk)
    refused = client.post(path, {"kind": "other", "requirements": ["2.1"]})
    assert refused.status_code == 400
    assert "2.1" in refused.content.decode()
    stale = client.post(path, {"kind": "data", "version": draft.version - 1})
    assert stale.status_code == 409
    f.advance(draft, "submitted", **people)
    locked = client.post(path, {"kind": "data"})
    assert locked.status_code == 409
    assert "tidak dapat diubah" in locked.content.decode()
    evidence.refresh_from_db()
    assert evidence.kind == "other"
