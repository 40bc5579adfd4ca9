"""The walk reads plain rows: the records it checks are the ones the stored events give."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f
from workflows.models import TrailEvent
from workflows.trail.append import event_record
from workflows.trail.reading import database_records, verify_database

from .sla_support import clock_fixture  # noqa: F401 -- the fixture

pytestmark = pytest.mark.django_db


def test_the_rows_read_for_the_walk_are_the_events_records(
    clock: Any, people: dict[str, Any]
) -> None:
    f.advance(f.make_draft(people["operator"]), "audited", **people)
    f.advance(f.make_draft(people["operator"], "program"), "returned", **people)
    expected = [
        event_record(e, e.stream.name)
        for e in TrailEvent.objects.select_related("stream").order_by("stream_id", "seq")
    ]
    assert len(expected) > 10
    assert list(database_records()) == expected
    checker, breaks = verify_database()
    assert breaks == [] and checker.events == len(expected)
