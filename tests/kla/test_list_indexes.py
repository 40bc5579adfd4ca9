"""The lists' orders are served by their indexes on PostgreSQL: each default order matches an
index exactly, so the planner reads it in order instead of sorting every readable row (with
sequential scans and sorts made unattractive, as they would be at scale)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kla.listing import (
    BoundedPaginator,
    Cursor,
    TrailFilter,
    findings_default_order,
    keyset_page,
    submissions_default_order,
)
from kla.models import Submission
from roles.selectors import visible_to
from tests import factories as f
from workflows.four_eyes import latest_events
from workflows.models import Finding, Notification, TrailEvent
from workflows.services import submission_act
from workflows.trail.reading import TrailFilters, trail_query

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    return _explain(sql, params)


def _explain(sql: str, params: Any = None, *, lookups: bool = False) -> str:
    with connection.cursor() as cursor:
        if lookups:
            # At scale the few rows of a page are each looked up by key; on a database this
            # small, reading a whole table into memory looks cheaper unless made unattractive.
            for method in ("hashjoin", "mergejoin", "material", "bitmapscan"):
                cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # A prefix index and an incremental sort would do too; only the whole order counts.
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_submissions_default_order_reads_its_index() -> None:
    plan = _plan(submissions_default_order(Submission.objects.all())[:50])
    assert "submission_list_order" in plan and "Sort" not in plan, plan


def test_the_findings_default_order_reads_its_index() -> None:
    plan = _plan(findings_default_order(Finding.objects.all())[:50])
    assert "finding_default_order" in plan and "Sort" not in plan, plan


def test_the_trail_newest_first_reads_its_index_both_ways() -> None:
    newest = _plan(TrailEvent.objects.order_by("-at", "-id")[:50])
    assert "trail_event_newest" in newest and "Sort" not in newest, newest
    oldest = _plan(TrailEvent.objects.order_by("at", "id")[:50])
    assert "trail_event_newest" in oldest and "Backward" in oldest, oldest


def test_the_bell_counts_from_the_unread_index(operator: Any) -> None:
    unread = Notification.objects.filter(user_id=operator.pk, read_at__isnull=True)
    plan = _plan(unread.order_by())  # as the count asks it: no order
    assert "notification_unread" in plan, plan


def _queries_of(run: Any) -> list[str]:
    """The SQL that ``run()`` sends, each with its parameters in place."""
    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("who", ["auditor", "verifier"])
@pytest.mark.parametrize("paged", [False, True], ids=["first", "older"])
def test_the_trail_page_reads_its_index_and_each_submission_by_key(
    people: dict[str, Any], submitted: Submission, who: str, paged: bool
) -> None:
    """The page's query as it runs: newest first on ``trail_event_newest`` from the cursor on,
    who may read each event asked of its submission, joined by its key (no subquery that
    PostgreSQL could answer by hashing every visible submission, no sort, no count)."""
    user = people[who]
    event = TrailEvent.objects.filter(submission=submitted).order_by("-at", "-id").first()
    assert event is not None
    cursor = Cursor(newer=False, at=event.at, pk=event.pk) if paged else None
    listing = TrailFilter({}, queryset=trail_query(user=user, filters=TrailFilters()))
    assert listing.is_valid()
    (sql,) = _queries_of(lambda: keyset_page(listing.qs, cursor=cursor, size=50))
    plan = _explain(sql, lookups=True)
    assert "trail_event_newest" in plan and "Sort" not in plan, plan
    assert "Seq Scan" not in plan and "Materialize" not in plan, plan
    # Each event's submission by its key, the visibility rule read on that row: with an
    # EXISTS PostgreSQL hashed every visible submission first once there were 50,000 of
    # them (13 ms of the page's 22); joined, a page costs the same at any size.
    assert "kla_submission_pkey" in plan, plan
    assert "(id = workflows_trailevent.submission_id)" in plan, plan
    assert "SubPlan" not in plan, plan
    assert sql.upper().count("SELECT") == 1, sql  # no subquery at all
    assert "COUNT(" not in sql.upper() and "DISTINCT" not in sql.upper()
    if paged:
        assert "Index Cond: (at <=" in plan, plan  # the range starts at the cursor


def test_latest_events_read_the_stream_heads_by_key(people: dict[str, Any]) -> None:
    operator = people["operator"]
    ids = []
    for actions in ([], ["submit"], ["submit", "withdraw"]):  # heads at different seqs
        draft = f.make_draft(operator)
        for action in actions:
            submission_act(user=operator, submission_id=draft.pk, action=action)
        ids.append(draft.pk)
    streams, events = _queries_of(lambda: latest_events(ids))
    # The heads by their names (the unique index, or its twin for LIKE) ...
    plan = _explain(streams)
    assert re.search(r"Index \w* ?Scan on workflows_trailstream_name_\w+", plan), plan
    assert "Seq Scan" not in plan, plan
    # ... then each event at its head's ``(stream, seq)``, looked up by its stream.
    plan = _explain(events)
    assert re.search(r"Index Cond: \(\(?stream_id = \d+", plan) and "Seq Scan" not in plan, plan


def test_a_bounded_count_stops_at_its_cap(people: dict[str, Any], submitted: Submission) -> None:
    visible = submissions_default_order(visible_to(people["auditor"]))
    (sql,) = _queries_of(lambda: BoundedPaginator(visible, 50).count)
    plan = _explain(sql)
    assert f"LIMIT {BoundedPaginator.cap + 1}" in sql and "Limit" in plan, plan
    assert "submission_list_order" in plan and "Sort" not in plan, plan
