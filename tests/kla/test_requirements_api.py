"""``GET /api/v1/requirements/``: the checklist, ``met`` for the whole instruction, files as
the caller sees them, its filters and who may read it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kla.models import Instruction, Requirement, Submission, SubmissionState
from tests import factories as f
from workflows.services import submission_act

from .test_checklist import requirement, tag
from .world import make

pytestmark = pytest.mark.django_db
API = "/api/v1/requirements/"
ZERO = dict.fromkeys([*SubmissionState.values, "total"], 0)


def rows(client: Any, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get(API, params)
    assert response.status_code == 200, response.content
    return {row["code"]: row for row in response.json()["results"]}


def file_of(submission: Submission) -> Any:
    return f.first(submission.evidence.filter(removed_at__isnull=True))


@pytest.fixture
def checklist(instruction: Instruction) -> dict[str, Requirement]:
    return {
        "17.1": requirement(instruction, "17.1", 17, description="Salinan Perwali"),
        "17.2": requirement(instruction, "17.2", 17, evidence_kinds=[]),
        "13.1": requirement(instruction, "13.1", 13, evidence_kinds=["photo", "activity_report"]),
    }


def test_each_requirement_with_its_fields_met_and_files_by_state(
    api: Any, operator: User, checklist: dict[str, Requirement]
) -> None:
    response = api.as_(operator).get(API)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [r["code"] for r in body["results"]] == ["13.1", "17.1", "17.2"]
    first = body["results"][1]
    assert first == {
        "id": checklist["17.1"].pk,
        "code": "17.1",
        "indicator": 17,
        "label": "Perwali KTR",
        "description": "Salinan Perwali",
        "evidence_kinds": ["regulation_text"],
        "met": False,
        "files": ZERO,
        "agencies": [],
    }
    assert body["results"][0]["evidence_kinds"] == ["photo", "activity_report"]


def test_filters_by_indicator(api: Any, verifier: User, checklist: Any) -> None:
    assert list(rows(api.as_(verifier), indicator=17)) == ["17.1", "17.2"]
    assert list(rows(api.as_(verifier), indicator="13")) == ["13.1"]
    assert rows(api.as_(verifier), indicator=1) == {}


@pytest.mark.parametrize("value", ["0", "25", "-1", "tujuh", "1.5", "9" * 40, "²", "\u0661\u0667"])
def test_an_indicator_outside_1_to_24_is_400(
    api: Any, verifier: User, checklist: Any, value: str
) -> None:
    response = api.as_(verifier).get(API, {"indicator": value})
    assert response.status_code == 400
    assert response.json() == {"indicator": ["Indikator harus nomor 1 sampai 24."]}


def test_the_instruction_named_else_the_current_one(
    api: Any, verifier: User, checklist: Any, editor_of_next_year: Instruction
) -> None:
    assert list(rows(api.as_(verifier))) == ["13.1", "17.1", "17.2"]
    assert list(rows(api.as_(verifier), instruction=editor_of_next_year.pk)) == ["9.1"]


@pytest.fixture
def editor_of_next_year(instruction: Instruction) -> Instruction:
    other = f.InstructionFactory(number=3, year=2027, is_current=False)
    requirement(other, "9.1", 9)
    return other


@pytest.mark.parametrize("value", ["9999", "abc", "all", "²"])
def test_an_unknown_instruction_is_400(
    api: Any, verifier: User, checklist: Any, value: str
) -> None:
    response = api.as_(verifier).get(API, {"instruction": value})
    assert response.status_code == 400
    assert "instruction" in response.json()


def test_people_without_a_role_get_404_and_anonymous_callers_401(
    api: Any, anon: Any, outsider: User, checklist: Any
) -> None:
    assert api.as_(outsider).get(API).status_code == 404
    assert anon.get(API).status_code == 401


@pytest.mark.parametrize("who", ["operator", "verifier", "consolidator", "auditor"])
def test_reviewers_and_operators_alike_read_it(
    api: Any, people: dict[str, User], checklist: Any, who: str
) -> None:
    assert len(rows(api.as_(people[who]))) == 3


def test_an_administrator_reads_it(api: Any, superuser: User, checklist: Any) -> None:
    assert len(rows(api.as_(superuser))) == 3


# --- met moves with the flow --------------------------------------------------------------------


def test_met_moves_with_the_flow(
    api: Any, operator: User, people: dict[str, User], checklist: dict[str, Requirement]
) -> None:
    """Met while a tagged file's submission is verified or beyond; returned, it stops counting."""
    draft = f.make_draft(operator)
    tag(file_of(draft), checklist["17.1"], kind="regulation_text")
    client = api.as_(people["consolidator"])

    def met() -> bool:
        return bool(rows(client)["17.1"]["met"])

    assert not met()
    submitted = f.advance(draft, "submitted", **people)
    assert not met()
    verified = f.advance(submitted, "verified", **people)
    assert met()
    assert rows(client)["17.1"]["files"] == ZERO | {"verified": 1, "total": 1}
    # BAPPERIDA sends it back to the verifier: its files no longer count.
    back = submission_act(
        user=people["consolidator"], submission_id=verified.pk, action="return", note="Kurang"
    )
    assert back.state == "submitted"
    assert not met()
    returned = submission_act(
        user=people["verifier"], submission_id=back.pk, action="return", note="Perbaiki"
    )
    assert returned.state == "returned"
    assert not met()
    assert rows(client)["17.1"]["files"] == ZERO | {"returned": 1, "total": 1}
    resubmitted = f.advance(returned, "submitted", **people)
    f.advance(resubmitted, "audited", **people)
    assert met()
    assert rows(client)["17.1"]["files"] == ZERO | {"audited": 1, "total": 1}
    assert not rows(client)["17.2"]["met"]


def test_files_count_what_the_caller_sees_while_met_is_the_whole_instruction(
    api: Any,
    operator: User,
    other_operator: User,
    other_body: Any,
    people: dict[str, User],
    checklist: dict[str, Requirement],
) -> None:
    dinkes = make(operator, "verified", people, indicators=[17])
    dinsos = make(other_operator, "submitted", people, indicators=[17])
    dinsos_draft = make(other_operator, "draft", people, indicators=[17])
    for submission in (dinkes, dinsos, dinsos_draft):
        tag(file_of(submission), checklist["17.1"])
    scoped = f.make_scoped_verifier([other_body], "verifikator-dinsos")

    # Only Dinsos's submitted file is the scoped verifier's; met comes from Dinkes's.
    seen = rows(api.as_(scoped))["17.1"]
    assert seen["met"] is True
    assert seen["files"] == ZERO | {"submitted": 1, "total": 1}
    assert seen["agencies"] == ["dinsos"]

    # Dinsos's operator sees their draft too, not Dinkes's file; met all the same.
    own = rows(api.as_(other_operator))["17.1"]
    assert own["met"] is True
    assert own["files"] == ZERO | {"draft": 1, "submitted": 1, "total": 2}

    # A consolidator sees every submitted file, never another body's unsubmitted draft.
    every = rows(api.as_(people["consolidator"]))["17.1"]
    assert every["files"] == ZERO | {"submitted": 1, "verified": 1, "total": 2}
    assert every["agencies"] == ["dinkes", "dinsos"]


def test_removed_files_never_count(
    api: Any, operator: User, people: dict[str, User], checklist: dict[str, Requirement]
) -> None:
    from django.utils import timezone

    verified = make(operator, "verified", people, indicators=[17])
    evidence = tag(file_of(verified), checklist["17.1"])
    evidence.removed_at = timezone.now()
    evidence.save()
    row = rows(api.as_(people["consolidator"]))["17.1"]
    assert row["met"] is False
    assert row["files"] == ZERO


# --- size ----------------------------------------------------------------------------------------


def _queries(client: Any) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(API)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


def test_queries_do_not_grow_with_the_checklist_or_the_files(
    api: Any, operator: User, people: dict[str, User], instruction: Instruction
) -> None:
    first = requirement(instruction, "1.1", 1)
    client = api.as_(people["consolidator"])
    few, body = _queries(client)
    assert body["count"] == 1
    for n in range(2, 25):
        for k in (1, 2):
            requirement(instruction, f"{n}.{k}", n)
    for state in ("submitted", "verified", "audited"):
        submission = make(operator, state, people, indicators=[1, 2])
        tag(file_of(submission), first, *Requirement.objects.filter(code__startswith="2."))
    many, body = _queries(client)
    assert body["count"] == 47
    assert many == few


def test_it_is_paginated_like_the_other_lists(
    api: Any, verifier: User, instruction: Instruction
) -> None:
    for n in range(1, 25):
        for k in (1, 2, 3):
            requirement(instruction, f"{n}.{k}", n)
    body = api.as_(verifier).get(API).json()
    assert body["count"] == 72
    assert len(body["results"]) == 50
    assert body["next"] is not None and body["previous"] is None
    rest = api.as_(verifier).get(body["next"]).json()
    assert len(rest["results"]) == 22


def test_without_a_current_instruction_the_list_is_empty(
    api: Any, verifier: User, checklist: Any, instruction: Instruction
) -> None:
    Instruction.objects.filter(pk=instruction.pk).update(is_current=False)
    assert api.as_(verifier).get(API).json()["count"] == 0


def test_the_schema_documents_the_endpoint(anon: Any, db: Any) -> None:
    schema = anon.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/requirements/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"instruction", "indicator", "page"}
