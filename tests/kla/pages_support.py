"""URLs and helpers shared by the page tests."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from kla.models import Evidence, Submission
from tests import factories as f
from workflows.models import TrailEvent


def as_(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def detail_url(s: Submission) -> str:
    return reverse("submission-detail", args=[s.pk])


def action_url(s: Submission) -> str:
    return reverse("submission-action", args=[s.pk])


def upload_url(s: Submission) -> str:
    return reverse("evidence-upload", args=[s.pk])


def edit_url(s: Submission) -> str:
    return reverse("submission-edit", args=[s.pk])


def first_evidence(s: Submission) -> Evidence:
    return f.first(s.evidence.filter(removed_at__isnull=True))


def download_url(s: Submission) -> str:
    return reverse("evidence-download", args=[s.pk, first_evidence(s).pk])


def remove_url(s: Submission) -> str:
    return reverse("evidence-remove", args=[s.pk, first_evidence(s).pk])


def events(s: Submission) -> int:
    return TrailEvent.objects.filter(submission=s).count()


REGULATION_POST = {
    "title": "Perwali KTR",
    "description": "Salinan",
    "years": ["2025"],
    "indicators": ["17"],
    "detail_kind": "perwali",
    "detail_number": "12/2025",
    "detail_enacted_on": "2025-02-01",
}
