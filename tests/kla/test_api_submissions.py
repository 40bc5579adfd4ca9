"""The submission list, creating drafts, reading and editing one submission."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kla.models import Body, Submission
from roles.models import Membership
from tests import factories as f

from .conftest import snapshot, trail_count, url

pytestmark = pytest.mark.django_db

SHAPE = {
    "id",
    "due_recomputing",
    "instruction",
    "agency",
    "category",
    "title",
    "description",
    "state",
    "version",
    "late",
    "due_at",
    "allowed_actions",
    "indicators",
    "years",
    "details",
    "evidence",
}


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# The list ------------------------------------------------------------------------------


def test_list_is_paginated_with_the_submission_shape(
    api: Any, operator: Any, draft: Submission
) -> None:
    body = api.as_(operator).get(url()).json()
    assert set(body) == {"count", "next", "previous", "results"}
    row = body["results"][0]
    assert set(row) == SHAPE
    assert row["agency"] == "dinkes"
    assert row["indicators"] == [17]
    assert row["due_at"] is None
    assert set(row["evidence"][0]) == {
        "id",
        "name",
        "size",
        "sha256",
        "uploaded_at",
        "kind",
        "requirements",
        "duplicates",
    }
    assert row["evidence"][0]["uploaded_at"][-6:] == "+07:00"


def test_operator_lists_only_the_submissions_of_their_body(
    api: Any, operator: Any, other_operator: Any, draft: Submission
) -> None:
    theirs = f.make_draft(other_operator)
    assert ids(api.as_(operator).get(url())) == {draft.pk}
    assert ids(api.as_(other_operator).get(url())) == {theirs.pk}


def test_reviewers_list_submitted_ones_but_not_private_drafts(
    api: Any, people: dict[str, Any], submitted: Submission, operator: Any
) -> None:
    private = f.make_draft(operator)
    for role in ("verifier", "consolidator", "auditor"):
        listed = ids(api.as_(people[role]).get(url()))
        assert submitted.pk in listed
        assert private.pk not in listed


def test_withdrawn_submission_stays_visible_to_reviewers(
    api: Any, operator: Any, verifier: Any, submitted: Submission
) -> None:
    response = api.as_(operator).post(
        url(submitted, "actions"), {"action": "withdraw"}, format="json"
    )
    assert response.status_code == 200
    response = api.as_(verifier).get(url(submitted))
    assert response.status_code == 200
    assert response.json()["state"] == "draft"
    assert response.json()["allowed_actions"] == []


def test_scoped_verifier_sees_only_their_bodies(
    api: Any, operator: Any, other_operator: Any, people: dict[str, Any], body: Body
) -> None:
    ours = f.advance(f.make_draft(operator), "submitted", **people)
    theirs = f.advance(
        f.make_draft(other_operator), "submitted", **people | {"operator": other_operator}
    )
    scoped = f.make_scoped_verifier([body], "verif-dinkes")
    client = api.as_(scoped)
    assert ids(client.get(url())) == {ours.pk}
    assert client.get(url(theirs)).status_code == 404
    assert client.get(url(ours)).json()["allowed_actions"] == ["approve", "return"]
    assert ids(client.get("/api/v1/tasks/")) == {ours.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=submitted", "sub"),
        ("state=draft", "draft"),
        ("category=program", "prog"),
        ("agency=dinkes", "all"),
        ("state=", "all"),
        ("agency=dinkes&state=draft&category=regulation", "reg"),
    ],
)
def test_list_filters_by_state_agency_and_category(
    api: Any, operator: Any, people: dict[str, Any], query: str, expected: str
) -> None:
    draft = f.make_draft(operator)
    sub = f.advance(f.make_draft(operator), "submitted", **people)
    prog = f.make_draft(operator, "program")
    groups = {
        "sub": {sub.pk},
        "draft": {draft.pk, prog.pk},
        "prog": {prog.pk},
        "all": {draft.pk, sub.pk, prog.pk},
        "reg": {draft.pk},
    }
    assert ids(api.as_(operator).get(url() + "?" + query)) == groups[expected]


def test_agency_filter_of_a_body_the_caller_does_not_see_is_empty(
    api: Any, operator: Any, other_body: Body, draft: Submission
) -> None:
    assert ids(api.as_(operator).get(url() + "?agency=dinsos")) == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=open", "state"),
        ("category=sport", "category"),
        ("agency=nope", "agency"),
        ("agency=%00", "agency"),
        ("state=%F0%9F%98%80", "state"),
    ],
)
def test_unknown_filter_value_is_a_400_naming_the_filter(
    api: Any, operator: Any, draft: Submission, query: str, field: str
) -> None:
    response = api.as_(operator).get(url() + "?" + query)
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_state_message_lists_the_known_states(api: Any, operator: Any, db: Any) -> None:
    message = api.as_(operator).get(url() + "?state=open").json()["state"][0]
    assert "submitted" in message and "audited" in message


def test_list_queries_do_not_grow_with_the_number_of_submissions(
    api: Any, operator: Any, db: Any
) -> None:
    client = api.as_(operator)
    f.make_draft(operator)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url()).status_code == 200
    for _ in range(5):
        f.make_draft(operator)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url()).json()["results"]) == 6
    assert len(many) == len(few)


# Creating ------------------------------------------------------------------------------


NEW = {
    "category": "program",
    "title": "Forum Anak",
    "years": [2025, 2026],
    "indicators": [6, 3],
    "details": {"program": "PHA", "budget": "1.500.000", "year": 2025},
}


def test_operator_creates_a_draft_for_their_only_body(api: Any, operator: Any, db: Any) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    response = api.as_(operator).post(url(), NEW, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["agency"] == "dinkes"
    assert data["state"] == "draft"
    assert data["indicators"] == [3, 6]
    assert data["details"]["budget"] == 1500000
    assert data["allowed_actions"] == ["submit"]
    assert data["evidence"] == []
    submission = Submission.objects.get(pk=data["id"])
    assert submission.trail.get().action == "create"


def test_operator_of_several_bodies_must_name_the_agency(
    api: Any, operator: Any, other_body: Body, db: Any
) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    Membership.objects.create(user=operator, body=other_body)
    client = api.as_(operator)
    response = client.post(url(), NEW, format="json")
    assert response.status_code == 400
    assert "agency" in response.json()
    response = client.post(url(), NEW | {"agency": "dinsos"}, format="json")
    assert response.status_code == 201
    assert response.json()["agency"] == "dinsos"
    assert Submission.objects.count() == 1


def test_operator_cannot_create_for_a_body_they_do_not_belong_to(
    api: Any, operator: Any, other_body: Body, db: Any
) -> None:
    f.InstructionFactory()
    response = api.as_(operator).post(url(), NEW | {"agency": "dinsos"}, format="json")
    assert response.status_code == 403
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_cannot_create_drafts(api: Any, people: dict[str, Any], role: str) -> None:
    f.InstructionFactory()
    response = api.as_(people[role]).post(url(), NEW, format="json")
    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_outsider_cannot_create_drafts(api: Any, outsider: Any) -> None:
    f.InstructionFactory()
    assert api.as_(outsider).post(url(), NEW, format="json").status_code == 403
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "sport"}, "category"),
        ({"category": None}, "category"),
        ({"agency": "nope"}, "agency"),
        ({"agency": 7}, "agency"),
        ({"years": [2019]}, "years"),
        ({"years": "2025"}, "years"),
        ({"indicators": [25]}, "indicators"),
        ({"indicators": [10**30]}, "indicators"),
        ({"indicators": ["1"]}, "indicators"),
        ({"title": "x" * 301}, "title"),
        ({"title": 5}, "title"),
        ({"details": {"budget": -1}}, "details.budget"),
        ({"details": {"budget": 1.5}}, "details.budget"),
        ({"details": {"colour": "red"}}, "details.colour"),
        ({"details": []}, "details"),
        ({"status": "audited"}, "status"),
    ],
)
def test_create_with_bad_fields_is_a_400_naming_the_field(
    api: Any, operator: Any, change: dict[str, Any], field: str
) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    response = api.as_(operator).post(url(), NEW | change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Submission.objects.count() == 0


# Reading one ---------------------------------------------------------------------------


def test_everyone_who_sees_it_reads_the_same_submission(
    api: Any, people: dict[str, Any], submitted: Submission
) -> None:
    for person in people.values():
        response = api.as_(person).get(url(submitted))
        assert response.status_code == 200
        assert response.json()["id"] == submitted.pk
        assert response.json()["version"] == submitted.version


def test_removed_evidence_is_not_in_the_current_set(
    api: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(operator)
    first = draft.evidence.get()
    client.post(url(draft, "evidence"), {"file": f.pdf_upload("b.pdf")}, format="multipart")
    client.delete(url(draft, "evidence", first.pk))
    names = [e["name"] for e in client.get(url(draft)).json()["evidence"]]
    assert names == ["b.pdf"]


# Editing -------------------------------------------------------------------------------


def test_operator_edits_a_draft_and_the_version_moves(
    api: Any, operator: Any, draft: Submission
) -> None:
    version = draft.version
    response = api.as_(operator).patch(
        url(draft),
        {"title": "Perwali 5/2025", "indicators": [1, 17], "version": version},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Perwali 5/2025"
    assert response.json()["indicators"] == [1, 17]
    assert response.json()["version"] == version + 1
    assert f.first(draft.trail.order_by("-seq")).action == "edit"


def test_operator_edits_a_returned_submission(
    api: Any, operator: Any, returned: Submission
) -> None:
    response = api.as_(operator).patch(url(returned), {"title": "Diperbaiki"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Diperbaiki"


def test_patch_without_changes_keeps_the_version(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(url(draft), {}, format="json")
    assert response.status_code == 200
    assert snapshot(draft) == before


def test_stale_version_on_patch_is_409_and_changes_nothing(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(
        url(draft), {"title": "Baru", "version": draft.version - 1}, format="json"
    )
    assert response.status_code == 409
    assert snapshot(draft) == before


@pytest.mark.parametrize("state", ["submitted", "verified", "consolidated", "audited"])
def test_operator_editing_outside_draft_or_returned_gets_409(
    api: Any, operator: Any, people: dict[str, Any], draft: Submission, state: str
) -> None:
    submission = f.advance(draft, state, **people)
    before = snapshot(submission)
    response = api.as_(operator).patch(url(submission), {"title": "Baru"}, format="json")
    assert response.status_code == 409
    assert snapshot(submission) == before


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_who_see_it_get_403_on_patch(
    api: Any, people: dict[str, Any], submitted: Submission, role: str
) -> None:
    before = snapshot(submitted)
    response = api.as_(people[role]).patch(url(submitted), {"title": "Baru"}, format="json")
    assert response.status_code == 403
    assert snapshot(submitted) == before


def test_verifier_on_a_withdrawn_draft_gets_403_on_patch(
    api: Any, operator: Any, verifier: Any, submitted: Submission
) -> None:
    api.as_(operator).post(url(submitted, "actions"), {"action": "withdraw"}, format="json")
    before = snapshot(submitted)
    response = api.as_(verifier).patch(url(submitted), {"title": "Baru"}, format="json")
    assert response.status_code == 403
    assert snapshot(submitted) == before


def test_verifier_on_a_private_draft_gets_404_on_patch(
    api: Any, verifier: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    assert api.as_(verifier).patch(url(draft), {"title": "x"}, format="json").status_code == 404
    assert snapshot(draft) == before


def test_operator_of_another_body_gets_404_on_patch(
    api: Any, other_operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(other_operator).patch(url(draft), {"title": "x"}, format="json")
    assert response.status_code == 404
    assert snapshot(draft) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"details": {"enacted_on": "2025-02-30"}}, "details.enacted_on"),
        ({"details": {"enacted_on": 20250201}}, "details.enacted_on"),
        ({"details": {"kind": "undang_undang"}}, "details.kind"),
        ({"details": {"kind": ["perda"]}}, "details.kind"),
        ({"details": {"unknown": 1}}, "details.unknown"),
        ({"indicators": [0]}, "indicators"),
        ({"indicators": [True]}, "indicators"),
        ({"years": [2025, None]}, "years"),
        ({"category": "program"}, "category"),
        ({"agency": "dinsos"}, "agency"),
        ({"version": "abc"}, "version"),
        ({"version": True}, "version"),
        ({"version": [1]}, "version"),
        ({"created_by": 1}, "created_by"),
    ],
)
def test_invalid_fields_on_patch_are_400_naming_the_field_and_nothing_changes(
    api: Any, operator: Any, draft: Submission, change: dict[str, Any], field: str
) -> None:
    before = snapshot(draft)
    events = trail_count(draft)
    response = api.as_(operator).patch(url(draft), change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(draft) == before
    assert trail_count(draft) == events


def test_version_as_a_numeric_string_is_accepted(
    api: Any, operator: Any, draft: Submission
) -> None:
    response = api.as_(operator).patch(
        url(draft), {"title": "Baru", "version": str(draft.version)}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Baru"


def test_huge_version_is_stale_not_an_error(api: Any, operator: Any, draft: Submission) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(url(draft), {"title": "x", "version": 10**40}, format="json")
    assert response.status_code == 409
    assert snapshot(draft) == before


def test_a_year_too_large_for_a_float_is_a_400_not_an_error(api: Any, operator: Any) -> None:
    f.InstructionFactory()
    body = '{"category": "program", "years": [2025], "details": {"year": 1e400}}'
    response = api.as_(operator).post(url(), body, content_type="application/json")
    assert response.status_code == 400
    assert "details.year" in response.json()
    assert Submission.objects.count() == 0
