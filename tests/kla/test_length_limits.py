"""Every text a person types has a length limit (OWASP ASVS 5.1): 400 naming the field and
the limit, nothing changed, on the API and on the pages alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kla.details import LINKS_MAX, TEXT_MAX, URL_MAX
from kla.drafting import DESCRIPTION_MAX, TITLE_MAX
from kla.models import Submission
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import NOTE_MAX

from .conftest import url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("payload", "field", "limit"),
    [
        ({"title": "j" * (TITLE_MAX + 1)}, "title", TITLE_MAX),
        ({"description": "u" * (DESCRIPTION_MAX + 1)}, "description", DESCRIPTION_MAX),
        ({"details": {"number": "9" * (TEXT_MAX + 1)}}, "details.number", TEXT_MAX),
    ],
)
def test_a_too_long_field_is_400_naming_its_limit_and_changes_nothing(
    api: Any, operator: Any, draft: Submission, payload: dict[str, Any], field: str, limit: int
) -> None:
    events = TrailEvent.objects.filter(submission=draft).count()
    response = api.as_(operator).patch(url(draft), payload, format="json")
    assert response.status_code == 400
    assert f"{limit}" in " ".join(response.json()[field])
    fresh = Submission.objects.get(pk=draft.pk)
    assert (fresh.title, fresh.description, fresh.details, fresh.version) == (
        draft.title,
        draft.description,
        draft.details,
        draft.version,
    )
    assert TrailEvent.objects.filter(submission=draft).count() == events


def test_links_are_bounded_in_number_and_length(operator: Any, api: Any) -> None:
    draft = f.make_draft(operator, "partnership")
    many = [f"https://berita.example/{i}" for i in range(LINKS_MAX + 1)]
    response = api.as_(operator).patch(url(draft), {"details": {"links": many}}, format="json")
    assert response.status_code == 400 and str(LINKS_MAX) in str(response.json())
    long = ["https://berita.example/" + "a" * URL_MAX]
    response = api.as_(operator).patch(url(draft), {"details": {"links": long}}, format="json")
    assert response.status_code == 400 and str(URL_MAX) in str(response.json())


def test_an_action_note_is_bounded_and_the_action_not_taken(
    api: Any, verifier: Any, submitted: Submission
) -> None:
    response = api.as_(verifier).post(
        url(submitted, "actions"), {"action": "return", "note": "n" * (NOTE_MAX + 1)}, format="json"
    )
    assert response.status_code == 400
    assert str(NOTE_MAX) in " ".join(response.json()["note"])
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


def test_the_page_form_refuses_a_too_long_description_beside_the_field(
    client: Client, operator: Any, draft: Submission
) -> None:
    client.force_login(operator)
    response = client.post(
        reverse("submission-edit", args=[draft.pk]),
        {"title": draft.title, "description": "u" * (DESCRIPTION_MAX + 1)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert str(DESCRIPTION_MAX) in page.replace(".", "")
    assert Submission.objects.get(pk=draft.pk).description == draft.description
