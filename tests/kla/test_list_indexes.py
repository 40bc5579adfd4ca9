"""The lists' orders are served by their indexes on PostgreSQL: each default order matches an
index exactly, so the planner reads it in order instead of sorting every readable row (with
sequential scans and sorts made unattractive, as they would be at scale)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from kla.listing import submissions_default_order
from kla.models import Submission
from workflows.models import Notification, TrailEvent

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        # A prefix index and an incremental sort would do too; only the whole order counts.
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_submissions_default_order_reads_its_index() -> None:
    plan = _plan(submissions_default_order(Submission.objects.all())[:50])
    assert "submission_list_order" in plan and "Sort" not in plan, plan


def test_the_trail_newest_first_reads_its_index_both_ways() -> None:
    newest = _plan(TrailEvent.objects.order_by("-at", "-id")[:50])
    assert "trail_event_newest" in newest and "Sort" not in newest, newest
    oldest = _plan(TrailEvent.objects.order_by("at", "id")[:50])
    assert "trail_event_newest" in oldest and "Backward" in oldest, oldest


def test_the_bell_counts_from_the_unread_index(operator: Any) -> None:
    unread = Notification.objects.filter(user_id=operator.pk, read_at__isnull=True)
    plan = _plan(unread.order_by())  # as the count asks it: no order
    assert "notification_unread" in plan, plan
