"""Lists cost the same number of queries for 2 submissions as for 12 (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from workflows.services import submission_act

pytestmark = pytest.mark.django_db


def _make_many(operator: User, n: int, submit: Any) -> None:
    for _ in range(n):
        draft = f.make_draft(operator)
        if submit:
            submission_act(user=operator, submission_id=draft.pk, action="submit")


def _queries(api: Any, user: User, url: str) -> Any:
    client = api.as_(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize("url", ["/api/v1/submissions/", "/api/v1/tasks/"])
@pytest.mark.parametrize("who", ["operator", "verifier"])
def test_list_queries_do_not_grow_with_the_page(
    api: Any, people: dict[str, Any], url: str, who: str
) -> None:
    operator = people["operator"]
    # an operator's tasks are drafts; a verifier's are submitted ones
    submit = not (who == "operator" and url.endswith("/tasks/"))
    _make_many(operator, 2, submit)
    few, body = _queries(api, people[who], url)
    assert body["count"] == 2
    _make_many(operator, 10, submit)
    many, body = _queries(api, people[who], url)
    assert body["count"] == 12
    assert many == few
    expected = {
        "operator": ["withdraw"] if submit else ["submit"],
        "verifier": ["approve", "return"],
    }[who]
    assert {tuple(s["allowed_actions"]) for s in body["results"]} == {tuple(expected)}
