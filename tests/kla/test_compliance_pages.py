"""The compliance matrix page (/kepatuhan/) and ``GET /api/v1/compliance/``: rights and content."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from kla.models import Body
from tests import factories as f
from tests.workflows.sla_support import clock_fixture  # noqa: F401 -- the fixture
from workflows.sla.nihil import nihil_declare

from .world import logged_in

pytestmark = pytest.mark.django_db

PAGE = "/kepatuhan/"
API = "/api/v1/compliance/"


@pytest.fixture
def world(clock: Any, people: dict[str, Any]) -> Any:
    """dinkes: a returned regulation, a never-submitted program draft, innovation nihil."""
    operator = people["operator"]
    returned = f.advance(f.make_draft(operator, title="Perwali KTR"), "returned", **people)
    f.make_draft(operator, "program", title="Draf rahasia")
    nihil_declare(user=operator, category="innovation", reason="Belum ada")
    return {**people, "returned": returned}


def api_of(user: User) -> Any:

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(user)}")
    return client


def row(results: Any, agency: str, category: str) -> Any:
    (found,) = [r for r in results if r["agency"] == agency and r["category"] == category]
    return found


class TestPage:
    @pytest.mark.parametrize("who", ["verifier", "consolidator", "auditor"])
    def test_reviewers_see_the_matrix_with_the_working_days_left(
        self, world: dict[str, Any], who: str
    ) -> None:
        response = logged_in(world[who]).get(PAGE)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="working-days-left"' in page
        assert "<strong>7</strong>" in page
        assert "Dinas Kesehatan" in page
        assert 'href="/kepatuhan/"' in page  # the navigation link

    def test_cells_are_coloured_by_state_with_nihil_and_due_time_in_wib(
        self, world: dict[str, Any]
    ) -> None:
        page = logged_in(world["verifier"]).get(PAGE).content.decode()
        assert 'class="cell state-returned" data-agency="dinkes"' in page
        assert "26 Maret 2026 23:59 WIB" in page
        assert 'class="tag nihil"' in page
        # The never-submitted draft is dinkes' own: the program cell is empty for reviewers.
        assert (
            'class="cell state-none unanswered" data-agency="dinkes" data-category="program"'
            in page
        )

    def test_an_overdue_cell_is_marked(self, world: dict[str, Any], clock: Any) -> None:
        clock.set(2026, 3, 27, 9)
        page = logged_in(world["verifier"]).get(PAGE).content.decode()
        assert 'class="cell state-returned is-overdue" data-agency="dinkes"' in page

    def test_after_the_deadline_it_shows_zero_and_lewat(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        clock.set(2026, 4, 2, 9)
        page = logged_in(world["auditor"]).get(PAGE).content.decode()
        assert 'class="cmp-days passed"' in page and "<strong>0</strong>" in page
        assert ">lewat</span>" in page

    def test_the_page_only_reads_a_post_is_405(self, world: dict[str, Any]) -> None:
        assert logged_in(world["consolidator"]).post(PAGE).status_code == 405

    @pytest.mark.parametrize("who", ["operator", "outsider", "superuser"])
    def test_people_without_a_reviewer_role_get_404_and_no_link(
        self, world: dict[str, Any], outsider: User, superuser: User, who: str
    ) -> None:
        person = {"operator": world["operator"], "outsider": outsider, "superuser": superuser}[who]
        client = logged_in(person)
        assert client.get(PAGE).status_code == 404
        assert 'href="/kepatuhan/"' not in client.get("/tugas/").content.decode()

    def test_anonymous_visitors_are_sent_to_the_login(
        self, world: dict[str, Any], client: Client
    ) -> None:
        response = client.get(PAGE)
        assert response.status_code == 302 and response["Location"].startswith("/masuk/")


class TestAPI:
    @pytest.mark.parametrize("who", ["verifier", "consolidator", "auditor"])
    def test_reviewers_get_a_row_per_body_and_category(
        self, world: dict[str, Any], who: str
    ) -> None:
        response = api_of(world[who]).get(API)
        assert response.status_code == 200
        data = response.json()
        assert set(data) == {"count", "next", "previous", "results", "deadline"}
        assert data["count"] == 4  # one body with four categories
        assert data["deadline"] == {
            "deadline": "2026-04-01",
            "deadline_end": "2026-04-01T23:59:59+07:00",
            "working_days_left": 7,
            "passed": False,
        }
        assert row(data["results"], "dinkes", "regulation") == {
            "agency": "dinkes",
            "body": "Dinas Kesehatan",
            "category": "regulation",
            "count": 1,
            "least_state": "returned",
            "nihil": False,
            "answered": True,
            "due_at": "2026-03-26T23:59:00+07:00",
            "overdue": False,
        }

    def test_nihil_visibility_and_empty_cells(self, world: dict[str, Any]) -> None:
        results = api_of(world["verifier"]).get(API).json()["results"]
        innovation = row(results, "dinkes", "innovation")
        assert (innovation["nihil"], innovation["count"], innovation["least_state"]) == (
            True,
            0,
            None,
        )
        program = row(results, "dinkes", "program")  # the never-submitted draft is not counted
        assert (program["count"], program["least_state"], program["due_at"]) == (0, None, None)

    def test_overdue_after_the_due_time(self, world: dict[str, Any], clock: Any) -> None:
        clock.set(2026, 3, 27, 9)
        results = api_of(world["verifier"]).get(API).json()["results"]
        assert row(results, "dinkes", "regulation")["overdue"] is True

    def test_the_list_is_paginated_with_the_deadline_on_every_page(
        self, world: dict[str, Any]
    ) -> None:
        for i in range(12):
            f.BodyFactory(code=f"kec-{i:02}", name=f"Kecamatan {i:02}")
        client = api_of(world["consolidator"])
        first = client.get(API).json()
        assert first["count"] == 52 and len(first["results"]) == 50
        assert first["next"] and first["previous"] is None
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 2
        assert second["deadline"] == first["deadline"]

    def test_a_scoped_verifier_gets_only_the_bodies_in_scope(
        self, world: dict[str, Any], other_body: Body, body: Body
    ) -> None:
        scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
        results = api_of(scoped).get(API).json()["results"]
        assert {r["agency"] for r in results} == {"dinsos"}

    def test_the_endpoint_only_reads_a_post_is_405(self, world: dict[str, Any]) -> None:
        assert api_of(world["verifier"]).post(API, {}, format="json").status_code == 405

    @pytest.mark.parametrize("who", ["operator", "outsider", "superuser"])
    def test_people_without_a_reviewer_role_get_404(
        self, world: dict[str, Any], outsider: User, superuser: User, who: str
    ) -> None:
        person = {"operator": world["operator"], "outsider": outsider, "superuser": superuser}[who]
        response = api_of(person).get(API)
        assert response.status_code == 404
        assert "detail" in response.json()

    def test_anonymous_callers_get_401(self, world: dict[str, Any]) -> None:
        assert APIClient().get(API).status_code == 401

    def test_the_schema_documents_the_endpoint(self, world: dict[str, Any]) -> None:
        schema = api_of(world["verifier"]).get("/api/v1/schema/?format=json")
        assert schema.status_code == 200
        assert "/api/v1/compliance/" in schema.json()["paths"]
