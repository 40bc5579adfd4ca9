"""The OpenAPI document says what the API answers: every error status an operation can give
with its body's shape, the fixed codes as enums, the fields always present as required."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kla.models import Category, EvidenceKind, ExportKind, ExportState, SubmissionState
from workflows.flow import ACTIONS
from workflows.models import FindingStatus, FollowUpKind, RecommendationStatus

pytestmark = pytest.mark.django_db

WRITES = {"post", "put", "patch", "delete"}
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in WRITES | {"get"}
    ]


def schema_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"][name]
    return result


def refs(answer: dict[str, Any]) -> set[str]:
    """The components an answer's JSON body may be."""
    schema = answer["content"]["application/json"]["schema"]
    options = schema.get("anyOf", [schema])
    return {option["$ref"].rsplit("/", 1)[-1] for option in options}


def enum_of(document: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    """The values a property (an enum, or a reference to one, nullable or not) takes."""
    for option in [prop, *prop.get("allOf", []), *prop.get("oneOf", [])]:
        if "$ref" in option:
            name = option["$ref"].rsplit("/", 1)[-1]
            if name != "NullEnum":
                values: list[Any] = schema_of(document, name)["enum"]
                return values
        if "enum" in option:
            return list(option["enum"])
    raise AssertionError(f"not an enum: {prop}")


def test_the_error_bodies_are_components(document: dict[str, Any]) -> None:
    field_errors = schema_of(document, "FieldErrors")
    assert field_errors["type"] == "object"
    messages = field_errors["additionalProperties"]["anyOf"][0]
    assert messages == {"type": "array", "items": {"type": "string"}}
    detail = schema_of(document, "Detail")
    assert detail["properties"] == {"detail": {"type": "string"}}
    assert detail["required"] == ["detail"]


def test_every_operation_lists_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    found = operations(document)
    assert len(found) > 40
    for method, path, operation in found:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        expected = {"503", "429" if path == TOKEN else "401"}
        expected |= {"400", "403", "404", "409", "413"} if method in WRITES else {"404"}
        assert expected <= set(responses), (where, sorted(responses))
        for code in expected:
            assert refs(responses[code]) == (
                {"FieldErrors", "Detail"} if code == "400" else {"Detail"}
            ), (where, code)
    # The sign-in is open to anyone: no 401 there, the lockout's 429 instead.
    assert "401" not in document["paths"][TOKEN]["post"]["responses"]


def test_reads_with_filters_list_400_and_uploads_413(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "400" in paths["/api/v1/submissions/"]["get"]["responses"]
    assert "400" in paths["/api/v1/findings/"]["get"]["responses"]
    assert "400" not in paths["/api/v1/submissions/{submission_id}/"]["get"]["responses"]
    upload = paths["/api/v1/submissions/{submission_id}/evidence/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "413" in upload["responses"]
    # An export not done yet is a state that does not allow the download.
    assert "409" in paths["/api/v1/exports/{export_id}/download/"]["get"]["responses"]


def test_an_operations_own_words_are_kept(document: dict[str, Any]) -> None:
    inclusion = document["paths"]["/api/v1/trail/proof/inclusion/"]["get"]["responses"]
    assert "not yet in that tree" in inclusion["409"]["description"]
    assert refs(inclusion["409"]) == {"Detail"}


def test_every_post_takes_an_idempotency_key(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if method == "post" and not path.startswith("/api/v1/auth/"):
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "Idempotency-Key" in names, path


def test_codes_are_enums(document: dict[str, Any]) -> None:
    def prop(component: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = schema_of(document, component)["properties"][name]
        return result

    assert enum_of(document, prop("Action", "action")) == list(ACTIONS)
    assert enum_of(document, prop("SubmissionCreate", "category")) == Category.values
    assert enum_of(document, prop("NihilInput", "category")) == Category.values
    assert enum_of(document, prop("PatchedEvidenceTag", "kind")) == EvidenceKind.values
    assert enum_of(document, prop("ExportRequest", "kind")) == ExportKind.values
    assert enum_of(document, prop("Assessment", "status")) == [
        "resolved",
        "in_progress",
        "unresolvable",
    ]
    # And in what the API answers.
    assert enum_of(document, prop("Submission", "state")) == SubmissionState.values
    assert enum_of(document, prop("ComplianceCell", "least_state")) == SubmissionState.values
    assert enum_of(document, prop("ComplianceCell", "category")) == Category.values
    assert enum_of(document, prop("ExportCreated", "state")) == ExportState.values
    assert enum_of(document, prop("Finding", "status")) == FindingStatus.values
    assert enum_of(document, prop("Recommendation", "status")) == RecommendationStatus.values
    assert enum_of(document, prop("History", "kind")) == FollowUpKind.values
    assert enum_of(document, prop("MonitoringNote", "role")) == ["verifier", "consolidator"]
    assert enum_of(document, prop("Submission", "allowed_actions")["items"]) == list(ACTIONS)
    upload = document["paths"]["/api/v1/submissions/{submission_id}/evidence/"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["kind"]["enum"] == EvidenceKind.values


SUBMISSION = (
    "id instruction agency category title description state version late due_at "
    "allowed_actions indicators years details evidence"
)
FINDING = (
    "id instruction agency submission title condition criteria cause effect created_at due_at "
    "status recommendations"
)


@pytest.mark.parametrize(
    ("component", "fields"),
    [
        ("Submission", SUBMISSION),
        ("Evidence", "id name size sha256 uploaded_at kind requirements"),
        ("TrailEvent", "seq at actor role action from_state to_state note files prev_hash hash"),
        ("Finding", FINDING),
        ("Recommendation", "id text status due_at history"),
        ("History", "kind at actor status note files"),
        ("ExportCreated", "id state progress"),
        ("Export", "id kind instruction state progress download"),
        ("Instruction", "id number year title issuer issued_on effective_on deadline years"),
        ("Requirement", "id code indicator label description evidence_kinds met files"),
    ],
)
def test_fields_always_present_are_required(
    document: dict[str, Any], component: str, fields: str
) -> None:
    assert set(fields.split()) <= set(schema_of(document, component)["required"])


def test_lists_are_described_as_pages(document: dict[str, Any]) -> None:
    """Each list answers ``{count, next, previous, results}``, the instructions' too."""
    for path in ("/api/v1/instructions/", "/api/v1/submissions/", "/api/v1/findings/"):
        answer = document["paths"][path]["get"]["responses"]["200"]
        ref = answer["content"]["application/json"]["schema"]["$ref"]
        page = schema_of(document, ref.rsplit("/", 1)[-1])
        assert {"count", "results"} <= set(page["required"]), path
