"""Declaring "nihil": the service, ``POST /api/v1/nihil/`` and the /nihil/ page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kla.errors import Conflict, Forbidden, Invalid
from kla.models import Body, Instruction
from tests import factories as f
from workflows.models import NihilDeclaration, TrailEvent
from workflows.services import submission_act
from workflows.sla.nihil import nihil_declare
from workflows.trail.reading import verify_database

pytestmark = pytest.mark.django_db

URL = "/api/v1/nihil/"


@pytest.fixture
def instruction(db: Any) -> Any:
    return f.InstructionFactory()


class TestService:
    def test_an_operator_declares_nihil_with_a_trail_event_in_the_body_stream(
        self, instruction: Instruction, operator: User, body: Body
    ) -> None:
        d = nihil_declare(user=operator, category="innovation", reason="  Belum ada inovasi ")
        assert (d.body, d.category, d.reason, d.declared_by) == (
            body,
            "innovation",
            "Belum ada inovasi",
            operator,
        )
        event = TrailEvent.objects.get(action="nihil")
        assert event.stream.name == "body:dinkes"
        assert (event.actor_name, event.role, event.note) == (
            "op-dinkes",
            "operator",
            "Belum ada inovasi",
        )
        assert event.data["category"] == "innovation"
        assert verify_database()[1] == []

    def test_a_second_nihil_for_the_same_category_is_409(
        self, instruction: Instruction, operator: User
    ) -> None:
        nihil_declare(user=operator, category="innovation", reason="Tidak ada")
        with pytest.raises(Conflict):
            nihil_declare(user=operator, category="innovation", reason="Lagi")
        assert NihilDeclaration.objects.count() == 1

    def test_nihil_for_a_category_already_submitted_is_409(self, operator: User) -> None:
        submission_act(user=operator, submission_id=f.make_draft(operator).pk, action="submit")
        with pytest.raises(Conflict):
            nihil_declare(user=operator, category="regulation", reason="Tidak ada")

    def test_a_draft_does_not_stop_a_nihil(self, operator: User) -> None:
        f.make_draft(operator)
        assert nihil_declare(user=operator, category="regulation", reason="Batal")

    @pytest.mark.parametrize(
        ("category", "reason", "field"),
        [
            ("sports", "x", "category"),
            (None, "x", "category"),
            ("program", "  ", "reason"),
            ("program", 12, "reason"),
            ("program", "x" * 2001, "reason"),
        ],
    )
    def test_bad_input_is_400_field_by_field_and_changes_nothing(
        self, instruction: Instruction, operator: User, category: str, reason: Any, field: Any
    ) -> None:
        with pytest.raises(Invalid) as exc:
            nihil_declare(user=operator, category=category, reason=reason)
        assert field in exc.value.errors
        assert not NihilDeclaration.objects.exists()
        assert not TrailEvent.objects.filter(action="nihil").exists()

    def test_someone_who_operates_no_body_is_403(
        self, instruction: Instruction, verifier: User, outsider: User
    ) -> None:
        for person in (verifier, outsider):
            with pytest.raises(Forbidden):
                nihil_declare(user=person, category="program", reason="x")

    def test_an_operator_of_several_bodies_names_the_body(
        self, instruction: Instruction, operator: User, other_body: Body
    ) -> None:
        f.make_operator(other_body, operator.username)
        with pytest.raises(Invalid) as exc:
            nihil_declare(user=operator, category="program", reason="x")
        assert "agency" in exc.value.errors
        d = nihil_declare(user=operator, category="program", reason="x", agency="dinsos")
        assert d.body == other_body

    def test_naming_another_bodys_code_is_403(
        self, instruction: Instruction, operator: User, other_body: Body
    ) -> None:
        with pytest.raises(Forbidden):
            nihil_declare(user=operator, category="program", reason="x", agency="dinsos")

    def test_without_a_current_instruction_it_is_409(self, operator: User) -> None:
        with pytest.raises(Conflict):
            nihil_declare(user=operator, category="program", reason="x")


class TestApi:
    def test_the_operator_declares_and_gets_201(
        self, api: Any, instruction: Instruction, operator: User
    ) -> None:
        r = api.as_(operator).post(
            URL, {"category": "partnership", "reason": "Belum ada MoU"}, format="json"
        )
        assert r.status_code == 201, r.content
        assert r.json() | {"id": 0, "declared_at": ""} == {
            "id": 0,
            "instruction": instruction.pk,
            "agency": "dinkes",
            "category": "partnership",
            "reason": "Belum ada MoU",
            "declared_by": "op-dinkes",
            "declared_at": "",
        }
        assert r.json()["declared_at"].endswith("+07:00")

    def test_a_reviewer_may_read_but_not_declare(
        self, api: Any, instruction: Instruction, operator: User, verifier: User
    ) -> None:
        nihil_declare(user=operator, category="program", reason="x")
        client = api.as_(verifier)
        assert client.get(URL).json()["count"] == 1
        r = client.post(URL, {"category": "program", "reason": "x"}, format="json")
        assert r.status_code == 403
        assert "detail" in r.json()

    def test_an_outsider_sees_nothing_and_may_not_declare(
        self,
        api: Any,
        instruction: Instruction,
        operator: User,
        outsider: User,
        other_operator: User,
    ) -> None:
        nihil_declare(user=operator, category="program", reason="x")
        assert api.as_(outsider).get(URL).json()["count"] == 0
        assert api.as_(other_operator).get(URL).json()["count"] == 0
        r = api.as_(other_operator).post(
            URL, {"category": "program", "reason": "x", "agency": "dinkes"}, format="json"
        )
        assert r.status_code == 403
        assert not NihilDeclaration.objects.filter(body__code="dinsos").exists()

    def test_anonymous_is_401(self, api: Any, instruction: Instruction) -> None:
        assert (
            api.post(URL, {"category": "program", "reason": "x"}, format="json").status_code == 401
        )
        assert api.get(URL).status_code == 401

    @pytest.mark.parametrize(
        "payload",
        [
            {"category": "sports", "reason": "x"},
            {"reason": "x"},
            {"category": "program"},
            {"category": ["program"], "reason": "x"},
            {"category": "program", "reason": {"a": 1}},
            {"category": "program", "reason": "x", "agency": "tidak-ada"},
            [1, 2],
            "teks",
        ],
    )
    def test_bad_input_is_a_field_by_field_400(
        self, api: Any, instruction: Instruction, operator: User, payload: Any
    ) -> None:
        r = api.as_(operator).post(URL, payload, format="json")
        assert r.status_code == 400, r.content
        assert isinstance(r.json(), dict) and r.json()
        assert not NihilDeclaration.objects.exists()

    def test_broken_json_is_400(self, api: Any, instruction: Instruction, operator: User) -> None:
        r = api.as_(operator).post(URL, b'{"category": ', content_type="application/json")
        assert r.status_code == 400

    def test_a_repeated_declaration_is_409(
        self, api: Any, instruction: Instruction, operator: User
    ) -> None:
        client = api.as_(operator)
        client.post(URL, {"category": "program", "reason": "x"}, format="json")
        r = client.post(URL, {"category": "program", "reason": "y"}, format="json")
        assert r.status_code == 409


class TestPage:
    def test_the_operator_declares_on_the_page(
        self, client: Client, instruction: Instruction, operator: User
    ) -> None:
        client.force_login(operator)
        assert client.get("/nihil/").status_code == 200
        r = client.post("/nihil/", {"category": "innovation", "reason": "Belum ada inovasi"})
        assert r.status_code == 302
        page = client.get("/nihil/").content.decode()
        assert "Belum ada inovasi" in page
        assert NihilDeclaration.objects.get().category == "innovation"

    def test_a_page_post_without_reason_is_400_with_the_form(
        self, client: Client, instruction: Instruction, operator: User
    ) -> None:
        client.force_login(operator)
        r = client.post("/nihil/", {"category": "innovation", "reason": ""})
        assert r.status_code == 400
        assert not NihilDeclaration.objects.exists()

    def test_a_repeated_page_declaration_is_409(
        self, client: Client, instruction: Instruction, operator: User
    ) -> None:
        client.force_login(operator)
        client.post("/nihil/", {"category": "innovation", "reason": "x"})
        assert client.post("/nihil/", {"category": "innovation", "reason": "y"}).status_code == 409

    def test_a_reviewer_reads_the_page_but_posting_is_403(
        self, client: Client, instruction: Instruction, operator: User, consolidator: User
    ) -> None:
        nihil_declare(user=operator, category="program", reason="Tidak ada program")
        client.force_login(consolidator)
        r = client.get("/nihil/")
        assert r.status_code == 200 and "Tidak ada program" in r.content.decode()
        assert client.post("/nihil/", {"category": "program", "reason": "x"}).status_code == 403

    def test_an_outsider_gets_404(
        self, client: Client, instruction: Instruction, outsider: User
    ) -> None:
        client.force_login(outsider)
        assert client.get("/nihil/").status_code == 404
        assert client.post("/nihil/", {"category": "program", "reason": "x"}).status_code == 404

    def test_anonymous_is_sent_to_login(self, client: Client, instruction: Instruction) -> None:
        r = client.get("/nihil/")
        assert r.status_code == 302 and "/masuk/" in r["Location"]
