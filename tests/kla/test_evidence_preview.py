"""A file shown in the page: on demand, with the headers that keep it inert, and in the trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kla.drafting import evidence_add
from kla.models import Evidence, Submission
from tests import factories as f
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reads(submission: Submission) -> list[dict[str, Any]]:
    events = TrailEvent.objects.filter(submission=submission, action="evidence_download")
    return [e.data for e in events.order_by("seq")]


def test_a_pdf_is_served_inline_with_its_type_and_a_policy_of_its_own(
    submitted: Submission, verifier: User
) -> None:
    evidence = f.first(submitted.evidence.all())
    response = _client(verifier).get(reverse("evidence-inline", args=[submitted.pk, evidence.pk]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = response.headers["Content-Security-Policy"]
    assert sorted(p.strip() for p in policy.split(";")) == [
        "default-src 'none'",
        "frame-ancestors 'self'",
    ]
    assert b"".join(response.streaming_content) == f.PDF_BYTES  # type: ignore[attr-defined]
    assert _reads(submitted) == [{"evidence": evidence.pk, "preview": True}]


def test_opening_the_preview_is_not_yet_reading_the_file(
    submitted: Submission, verifier: User
) -> None:
    evidence = f.first(submitted.evidence.all())
    client = _client(verifier)
    page = client.get(reverse("evidence-view", args=[submitted.pk, evidence.pk]))
    assert page.status_code == 200
    inline = reverse("evidence-inline", args=[submitted.pk, evidence.pk])
    assert f'<iframe src="{inline}"'.encode() in page.content
    assert b"<html" in page.content
    panel = client.get(
        reverse("evidence-view", args=[submitted.pk, evidence.pk]), HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in panel.content and b"evidence-preview" in panel.content
    assert "HX-Request" in panel.headers["Vary"]
    assert _reads(submitted) == []


def test_an_image_is_shown_in_an_img_and_a_heic_is_downloaded(
    draft: Submission, operator: User, verifier: User
) -> None:
    png = evidence_add(
        user=operator,
        submission_id=draft.pk,
        upload=SimpleUploadedFile("foto.png", f.PNG_BYTES, content_type="image/png"),
    )
    client = _client(operator)
    page = client.get(reverse("evidence-view", args=[draft.pk, png.pk]))
    assert f'<img src="{reverse("evidence-inline", args=[draft.pk, png.pk])}"'.encode() in (
        page.content
    )
    heic = Evidence.objects.filter(pk=png.pk)
    heic.update(content_type="image/heic")
    shown = client.get(reverse("evidence-view", args=[draft.pk, png.pk]))
    assert b"<img" not in shown.content and b"unduh untuk membukanya" in shown.content
    response = client.get(reverse("evidence-inline", args=[draft.pk, png.pk]))
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_the_submission_page_offers_a_preview_only_of_what_a_browser_shows(
    submitted: Submission, verifier: User
) -> None:
    evidence = f.first(submitted.evidence.all())
    page = _client(verifier).get(reverse("submission-detail", args=[submitted.pk]))
    view = reverse("evidence-view", args=[submitted.pk, evidence.pk])
    assert f'hx-get="{view}"'.encode() in page.content
    assert b'id="evidence-panel"' in page.content
    Evidence.objects.filter(pk=evidence.pk).update(content_type="application/msword")
    page = _client(verifier).get(reverse("submission-detail", args=[submitted.pk]))
    assert view.encode() not in page.content


def test_an_outsider_gets_404_for_the_preview_and_the_bytes(
    submitted: Submission, other_operator: User
) -> None:
    evidence = f.first(submitted.evidence.all())
    client = _client(other_operator)
    for name in ("evidence-view", "evidence-inline"):
        assert client.get(reverse(name, args=[submitted.pk, evidence.pk])).status_code == 404
    assert client.get(reverse("evidence-view", args=[submitted.pk, 10**9])).status_code == 404
    assert _reads(submitted) == []
