"""The trail of a submission, the task inbox per role and the notifications."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kla.models import Body, Submission
from tests import factories as f
from workflows.models import Notification

from .conftest import url

pytestmark = pytest.mark.django_db

EVENT_SHAPE = {
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "prev_hash",
    "hash",
}


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# The trail -----------------------------------------------------------------------------


def test_trail_lists_the_events_in_order_with_their_chain(
    api: Any, operator: Any, submitted: Submission
) -> None:
    response = api.as_(operator).get(url(submitted, "trail"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    events = body["results"]
    assert [e["action"] for e in events] == ["create", "evidence_upload", "submit"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert set(events[0]) == EVENT_SHAPE
    assert events[0]["prev_hash"] == "0" * 64
    for earlier, later in itertools.pairwise(events):
        assert later["prev_hash"] == earlier["hash"]
    assert events[0]["from_state"] == "" and events[0]["to_state"] == "draft"
    assert events[2]["actor"] == "op-dinkes" and events[2]["role"] == "operator"
    assert events[2]["files"][0]["name"] == "bukti.pdf"
    assert events[2]["at"].endswith("+07:00")


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_read_the_trail_of_what_they_see(
    api: Any, people: dict[str, Any], submitted: Submission, role: str
) -> None:
    response = api.as_(people[role]).get(url(submitted, "trail"))
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_trail_is_read_only(api: Any, auditor: Any, submitted: Submission) -> None:
    client = api.as_(auditor)
    for method in ("post", "patch", "put", "delete"):
        assert getattr(client, method)(url(submitted, "trail")).status_code == 405
    assert client.get(url(submitted, "trail")).json()["count"] == 3


def test_trail_of_another_bodys_draft_is_404(
    api: Any, other_operator: Any, outsider: Any, draft: Submission
) -> None:
    for person in (other_operator, outsider):
        assert api.as_(person).get(url(draft, "trail")).status_code == 404


def test_trail_is_paginated_by_fifty(api: Any, operator: Any, draft: Submission) -> None:
    client = api.as_(operator)
    for n in range(55):
        client.patch(url(draft), {"title": f"Judul {n}"}, format="json")
    first = client.get(url(draft, "trail")).json()
    assert first["count"] == 57
    assert len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert [e["seq"] for e in second["results"]] == list(range(51, 58))


def test_a_page_past_the_end_is_404_not_an_error(
    api: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(operator)
    assert client.get(url(draft, "trail") + "?page=9").status_code == 404
    assert client.get(url(draft, "trail") + "?page=abc").status_code == 404


# Tasks ---------------------------------------------------------------------------------


def test_tasks_follow_each_role_duty(
    api: Any, operator: Any, people: dict[str, Any], db: Any
) -> None:
    made = {
        state: f.advance(f.make_draft(operator), state, **people)
        for state in ("draft", "submitted", "returned", "verified", "consolidated", "audited")
    }
    expected = {
        "operator": {"draft", "returned"},
        "verifier": {"submitted"},
        "consolidator": {"verified"},
        "auditor": {"consolidated"},
    }
    for role, states in expected.items():
        response = api.as_(people[role]).get("/api/v1/tasks/")
        assert ids(response) == {made[s].pk for s in states}, role
        row = response.json()["results"][0]
        assert "allowed_actions" in row and "evidence" in row


def test_tasks_of_an_operator_are_only_their_bodies(
    api: Any, operator: Any, other_operator: Any, draft: Submission
) -> None:
    theirs = f.make_draft(other_operator)
    assert ids(api.as_(other_operator).get("/api/v1/tasks/")) == {theirs.pk}
    assert ids(api.as_(operator).get("/api/v1/tasks/")) == {draft.pk}


def test_tasks_of_a_scoped_verifier_stay_in_scope(
    api: Any, operator: Any, other_operator: Any, people: dict[str, Any], other_body: Body
) -> None:
    f.advance(f.make_draft(operator), "submitted", **people)
    theirs = f.advance(
        f.make_draft(other_operator), "submitted", **(people | {"operator": other_operator})
    )
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    assert ids(api.as_(scoped).get("/api/v1/tasks/")) == {theirs.pk}


def test_outsider_has_no_tasks(api: Any, outsider: Any, submitted: Submission) -> None:
    assert ids(api.as_(outsider).get("/api/v1/tasks/")) == set()


# Notifications -------------------------------------------------------------------------


def test_notifications_are_the_callers_newest_first(
    api: Any,
    operator: Any,
    verifier: Any,
    submitted: Submission,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(verifier).post(
            url(submitted, "actions"), {"action": "return", "note": "Lengkapi SK"}, format="json"
        )
    assert response.status_code == 200
    body = api.as_(operator).get("/api/v1/notifications/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    row = body["results"][0]
    assert set(row) == {"id", "kind", "submission", "title", "message", "created_at", "read_at"}
    assert (row["kind"], row["submission"], row["message"]) == (
        "state:returned",
        submitted.pk,
        "Lengkapi SK",
    )
    assert row["read_at"] is None
    assert row["created_at"].endswith("+07:00")
    # The verifier's own notification (the submit) is theirs, not the operator's.
    mine = api.as_(verifier).get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in mine] == ["state:submitted"]


def test_notifications_order_newest_first(api: Any, operator: Any, draft: Submission) -> None:
    first = Notification.objects.create(user=operator, kind="x", title="lama")
    second = Notification.objects.create(user=operator, kind="x", title="baru")
    results = api.as_(operator).get("/api/v1/notifications/").json()["results"]
    assert [n["id"] for n in results] == [second.pk, first.pk]


def test_outsider_sees_no_one_elses_notifications(
    api: Any, outsider: Any, operator: Any, db: Any
) -> None:
    Notification.objects.create(user=operator, kind="x", title="pribadi")
    assert api.as_(outsider).get("/api/v1/notifications/").json()["count"] == 0


def test_notifications_are_read_only(api: Any, operator: Any, db: Any) -> None:
    response = api.as_(operator).post("/api/v1/notifications/", {}, format="json")
    assert response.status_code == 405
