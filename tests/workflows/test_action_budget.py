"""What one action costs in statements (docs/actions.md): at most ten for any action.

Counted with ``CaptureQueriesContext`` around one ``submission_act`` whose roles the caller
read once (as the pages and the API pass them), on PostgreSQL, where the budget is measured;
the transaction's own statements (BEGIN, COMMIT, savepoints) are left out. Each action is
taken from the state it leaves, with the people of a real city: a consolidator and an auditor
told of what waits for them, the body's operator told of a return.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roles.roles import roles_of
from tests import factories as f
from workflows import summaries
from workflows.models import Notification, TrailEvent
from workflows.services import submission_act

BUDGET = 10
TRANSACTION = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")

# (the state the submission starts in, who acts, the action, its note)
ACTIONS = [
    ("draft", "operator", "submit", ""),
    ("submitted", "operator", "withdraw", ""),
    ("submitted", "verifier", "approve", ""),
    ("submitted", "verifier", "return", "Lampiran kurang"),
    ("returned", "operator", "resubmit", "Sudah diperbaiki"),
    ("verified", "consolidator", "consolidate", ""),
    ("consolidated", "auditor", "audit", ""),
]


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION)]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(("start", "who", "action", "note"), ACTIONS)
def test_an_action_is_at_most_ten_statements(
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    start: str,
    who: str,
    action: str,
    note: str,
) -> None:
    assert connection.vendor == "postgresql", "the budget is measured on PostgreSQL"
    submission = f.advance(f.make_draft(people["operator"]), start, **people)
    person = people[who]
    roles = roles_of(person)
    events = TrailEvent.objects.count()
    with CaptureQueriesContext(connection) as captured:
        acted = submission_act(
            user=person, submission_id=submission.pk, action=action, note=note, roles=roles
        )
    statements = _statements(captured)
    assert len(statements) <= BUDGET, "\n".join(s[:150] for s in statements)
    # It did the whole action: the state, the event, the summary rows as a rebuild makes them.
    assert acted.state != start
    assert TrailEvent.objects.count() == events + 1
    assert summaries.differences() == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_budget_holds_for_an_action_that_tells_people(people: dict[str, Any]) -> None:
    """An approve tells the consolidators: their rows are written within the budget."""
    f.make_role(f.Role.CONSOLIDATOR, "bapperida-2")
    submission = f.advance(f.make_draft(people["operator"]), "submitted", **people)
    roles = roles_of(people["verifier"])
    with CaptureQueriesContext(connection) as captured:
        submission_act(
            user=people["verifier"], submission_id=submission.pk, action="approve", roles=roles
        )
    assert len(_statements(captured)) <= BUDGET
    told = Notification.objects.filter(submission=submission, kind="state:verified")
    assert sorted(told.values_list("user__username", flat=True)) == ["bapperida", "bapperida-2"]
