"""Who gets in: tokens, the schema, 401 for anonymous, 404 for what the caller may not see."""

from __future__ import annotations

from typing import Any

import pytest

from kla.models import Submission
from tests import factories as f

from .conftest import snapshot, url

pytestmark = pytest.mark.django_db


def endpoints(s: Submission) -> list[tuple[str, str]]:
    eid = f.first(s.evidence.all()).pk
    return [
        ("get", url()),
        ("post", url()),
        ("get", url(s)),
        ("patch", url(s)),
        ("post", url(s, "evidence")),
        ("get", url(s, "evidence", eid)),
        ("delete", url(s, "evidence", eid)),
        ("post", url(s, "actions")),
        ("get", url(s, "trail")),
        ("get", "/api/v1/tasks/"),
        ("get", "/api/v1/notifications/"),
    ]


def test_token_is_issued_for_the_right_password(anon: Any, operator: Any) -> None:
    response = anon.post(
        "/api/v1/auth/token/", {"username": "op-dinkes", "password": f.PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get(url()).status_code == 200


def test_token_is_refused_for_a_wrong_password(anon: Any, operator: Any) -> None:
    response = anon.post(
        "/api/v1/auth/token/", {"username": "op-dinkes", "password": "salah"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"x"', "{", '{"username": "\\ud800"}'])
def test_token_endpoint_answers_400_for_malformed_bodies(anon: Any, raw: str, db: Any) -> None:
    response = anon.post("/api/v1/auth/token/", raw, content_type="application/json")
    assert response.status_code == 400


def test_a_bad_token_gets_401(anon: Any, draft: Submission) -> None:
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anon.get(url()).status_code == 401


def test_an_inactive_account_gets_401(api: Any, operator: Any, draft: Submission) -> None:
    client = api.as_(operator)
    operator.is_active = False
    operator.save()
    assert client.get(url(draft)).status_code == 401


def test_schema_is_openapi_and_lists_the_endpoints(anon: Any, db: Any) -> None:
    response = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/submissions/",
        "/api/v1/submissions/{submission_id}/",
        "/api/v1/submissions/{submission_id}/evidence/",
        "/api/v1/submissions/{submission_id}/evidence/{evidence_id}/",
        "/api/v1/submissions/{submission_id}/actions/",
        "/api/v1/submissions/{submission_id}/trail/",
        "/api/v1/tasks/",
        "/api/v1/notifications/",
    ):
        assert path in paths


def test_anonymous_gets_401_on_every_endpoint(anon: Any, submitted: Submission) -> None:
    before = snapshot(submitted)
    for method, path in endpoints(submitted):
        response = getattr(anon, method)(path)
        assert response.status_code == 401, (method, path)
        assert "detail" in response.json()
    assert snapshot(submitted) == before


def test_operator_of_another_body_gets_404_on_every_submission_endpoint(
    api: Any, other_operator: Any, submitted: Submission
) -> None:
    before = snapshot(submitted)
    client = api.as_(other_operator)
    for method, path in endpoints(submitted)[2:9]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
    assert snapshot(submitted) == before


def test_person_without_any_role_gets_404_and_empty_lists(
    api: Any, outsider: Any, submitted: Submission
) -> None:
    client = api.as_(outsider)
    for method, path in endpoints(submitted)[2:9]:
        assert getattr(client, method)(path, {}, format="json").status_code == 404, path
    for path in (url(), "/api/v1/tasks/", "/api/v1/notifications/"):
        assert client.get(path).json()["count"] == 0


def test_reviewers_get_404_for_a_draft_never_submitted(
    api: Any, draft: Submission, verifier: Any, consolidator: Any, auditor: Any
) -> None:
    for person in (verifier, consolidator, auditor):
        client = api.as_(person)
        assert client.get(url(draft)).status_code == 404
        assert client.get(url(draft, "trail")).status_code == 404
        evidence = f.first(draft.evidence.all())
        assert client.get(url(draft, "evidence", evidence.pk)).status_code == 404


def test_superuser_is_not_a_flow_actor_and_sees_no_drafts(
    api: Any, superuser: Any, draft: Submission
) -> None:
    client = api.as_(superuser)
    assert client.get(url(draft)).status_code == 404
    assert client.get(url()).json()["count"] == 0


@pytest.mark.parametrize("bad", ["abc", "1.5", "-1", "0", "99999999", "9" * 40, "%C3%A9", "1e3"])
def test_unknown_or_non_integer_ids_get_a_json_404(api: Any, operator: Any, bad: str) -> None:
    client = api.as_(operator)
    for path in (
        f"/api/v1/submissions/{bad}/",
        f"/api/v1/submissions/{bad}/trail/",
        f"/api/v1/submissions/{bad}/evidence/",
        f"/api/v1/submissions/{bad}/evidence/{bad}/",
    ):
        method = "post" if path.endswith("/evidence/") else "get"
        response = getattr(client, method)(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()


def test_unknown_evidence_id_of_a_visible_submission_gets_404(
    api: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(operator)
    assert client.get(url(draft, "evidence", 987654)).status_code == 404
    assert client.delete(url(draft, "evidence", "x")).status_code == 404


def test_evidence_of_another_submission_is_not_reachable_through_this_one(
    api: Any, operator: Any, other_operator: Any, draft: Submission
) -> None:
    theirs = f.make_draft(other_operator)
    eid = f.first(theirs.evidence.all()).pk
    client = api.as_(operator)
    assert client.get(url(draft, "evidence", eid)).status_code == 404
    assert client.delete(url(draft, "evidence", eid)).status_code == 404
    assert theirs.evidence.filter(removed_at__isnull=True).count() == 1


def test_errors_are_indonesian_by_default_and_english_on_request(anon: Any, db: Any) -> None:
    indonesian = anon.get(url()).json()["detail"]
    english = anon.get(url(), HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert english == "Authentication credentials were not provided."
    assert indonesian != english
