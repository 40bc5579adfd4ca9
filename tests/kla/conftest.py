"""Fixtures and helpers of the API tests."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kla.models import Submission
from tests import factories as f
from workflows.models import TrailEvent


def url(submission: Submission | int | str | None = None, *parts: Any) -> str:
    """``/api/v1/submissions/<id>/<parts>/``; without a submission, the list."""
    base = "/api/v1/submissions/"
    if submission is None:
        return base
    pk = submission.pk if isinstance(submission, Submission) else submission
    return base + "".join(f"{p}/" for p in (pk, *parts))


def trail_count(submission: Submission) -> int:
    return TrailEvent.objects.filter(submission=submission).count()


def snapshot(submission: Submission) -> tuple[Any, ...]:
    """What must not change when a request is refused."""
    submission.refresh_from_db()
    return (
        submission.state,
        submission.version,
        submission.title,
        submission.details,
        submission.years,
        sorted(submission.indicators.values_list("number", flat=True)),
        submission.evidence.filter(removed_at__isnull=True).count(),
        trail_count(submission),
    )


@pytest.fixture
def anon() -> APIClient:
    """A client without credentials."""
    return APIClient()


@pytest.fixture
def client_of(api: Any) -> Any:
    """``client_of(user)``: a separate authenticated client per person."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(user)}")
        return client

    return make


@pytest.fixture
def verified(submitted: Submission, people: dict[str, Any]) -> Submission:
    return f.advance(submitted, "verified", **people)


@pytest.fixture
def consolidated(submitted: Submission, people: dict[str, Any]) -> Submission:
    return f.advance(submitted, "consolidated", **people)


@pytest.fixture
def audited(submitted: Submission, people: dict[str, Any]) -> Submission:
    return f.advance(submitted, "audited", **people)


@pytest.fixture
def returned(draft: Submission, people: dict[str, Any]) -> Submission:
    return f.advance(draft, "returned", **people)
