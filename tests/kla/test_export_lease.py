"""A worker that dies mid-export: its lease of a few heartbeats runs out and the next worker
finishes the export; a worker that comes back late throws its file away."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.utils import timezone

from kla.models import ExportState
from kla.reports import exports
from kla.reports.exports import (
    HEARTBEAT,
    RUNNING_STALE,
    export_request,
    export_run,
    exports_requeue_stale,
)
from kla.reports.tasks import run_export

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.at = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    c = Clock()
    monkeypatch.setattr(timezone, "now", c)
    return c


def test_the_lease_is_a_few_heartbeats() -> None:
    assert 2 * HEARTBEAT <= RUNNING_STALE <= 6 * HEARTBEAT


def test_the_task_is_given_back_when_its_worker_dies() -> None:
    assert run_export.acks_late and run_export.reject_on_worker_lost


def test_a_killed_worker_s_export_is_finished_by_the_next_one_after_the_lease(
    consolidator: User, clock: Clock
) -> None:
    export = export_request(user=consolidator, kind="rekap_xlsx")
    # The first worker claims it and is killed before it writes a thing.
    claimed = exports._claim(export.pk)
    assert claimed is not None and claimed[1] == 1
    # While its lease runs, nobody takes it over: not a redelivery, not the relay.
    clock.at += RUNNING_STALE / 2
    assert export_run(export_id=export.pk) == "skipped"
    assert exports_requeue_stale() == []
    # The lease has run out: the relay queues it, and the next worker finishes it.
    clock.at += RUNNING_STALE
    assert exports_requeue_stale() == [export.pk]  # eager here: the next worker ran it
    export.refresh_from_db()
    assert (export.state, export.progress, export.attempt) == (ExportState.DONE, 100, 2)
    assert default_storage.exists(export.file)


def test_a_worker_that_comes_back_after_its_lease_throws_its_file_away(
    consolidator: User, clock: Clock, monkeypatch: Any
) -> None:
    export = export_request(user=consolidator, kind="rekap_xlsx")
    real_claim = exports._claim
    late: dict[str, Any] = {}

    def stalled_claim(export_id: int) -> Any:
        # The first worker stalls right after claiming; meanwhile the lease runs out and
        # the next worker finishes the export.
        claimed = real_claim(export_id)
        if not late:
            late["claimed"] = claimed
            clock.at += 2 * RUNNING_STALE
            monkeypatch.setattr(exports, "_claim", real_claim)
            assert export_run(export_id=export_id) == "done"
        return claimed

    monkeypatch.setattr(exports, "_claim", stalled_claim)
    assert export_run(export_id=export.pk) == "skipped"
    export.refresh_from_db()
    assert (export.state, export.attempt) == (ExportState.DONE, 2)
    stored = default_storage.listdir(f"exports/{export.pk}")[1]
    assert stored == [export.file.rsplit("/", 1)[-1]]
