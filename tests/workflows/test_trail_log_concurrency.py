"""The log under concurrency (PostgreSQL): one sequencer at a time, appends never wait for it,
and an event whose transaction commits late simply gets a later leaf."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from tests.concurrency import race
from workflows.models import TrailEvent, TrailLeaf
from workflows.trail.append import trail_append
from workflows.trail.log import log_root, log_sequence, log_size
from workflows.trail.merkle import root_of
from workflows.trail.note import Signer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _append(stream: str, count: int) -> None:
    for n in range(count):
        with transaction.atomic():
            trail_append(stream=stream, action="test_event", actor=None, data={"n": n})


def _leaves_are_whole() -> None:
    leaves = list(TrailLeaf.objects.order_by("index").values_list("index", "event_id", "hash"))
    assert [i for i, _, _ in leaves] == list(range(len(leaves)))
    assert len({e for _, e, _ in leaves}) == len(leaves) == TrailEvent.objects.count()
    assert log_root(len(leaves)) == root_of(bytes.fromhex(h) for _, _, h in leaves)


def _open_append(stream: str, release: threading.Event) -> threading.Thread:
    """An append to ``stream`` whose transaction stays open until ``release`` is set."""
    inserted = threading.Event()

    def slow_append() -> None:
        try:
            with transaction.atomic():
                trail_append(stream=stream, action="test_event", actor=None)
                inserted.set()
                release.wait(30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=slow_append)
    worker.start()
    assert inserted.wait(30)
    return worker


def test_sequencers_running_at_once_give_each_event_one_leaf() -> None:
    assert connection.vendor == "postgresql"
    _append("system", 30)
    results = race([lambda: log_sequence(batch=7) for _ in range(4)])
    assert all(isinstance(r, int) for r in results), results
    assert sum(r for r in results if isinstance(r, int)) == 30
    _leaves_are_whole()


def test_appends_and_sequencing_at_once_lose_nothing() -> None:
    def sequence_often() -> int:
        total = 0
        for _ in range(20):
            total += log_sequence(batch=5)
        return total

    results = race(
        [lambda: _append("a", 25), lambda: _append("b", 25), sequence_often, sequence_often]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    log_sequence()
    _leaves_are_whole()
    assert log_size() == 50


def test_an_event_committed_late_gets_a_later_leaf() -> None:
    release = threading.Event()
    worker = _open_append("slow", release)
    _append("fast", 2)  # higher ids, committed first
    assert log_sequence() == 2
    release.set()
    worker.join(30)
    assert log_sequence(sweep=False) == 0  # the minute's run looks only past the last leaf
    assert log_sequence() == 1  # the sweep (each checkpoint) finds it
    slow = TrailLeaf.objects.get(event__stream__name="slow")
    assert slow.index == 2
    assert slow.event_id < TrailLeaf.objects.get(index=0).event_id
    _leaves_are_whole()


def test_a_stream_whose_earlier_event_committed_late_keeps_its_leaves_in_seq_order(
    tmp_path: Path, settings: Any
) -> None:
    """seq 1 of a stream is open while others commit and are sequenced; then it commits and
    seq 2 follows: the minute's run leaves seq 2 for the sweep, which takes both in order."""
    _append("slow", 1)
    log_sequence()
    release = threading.Event()
    worker = _open_append("slow", release)
    _append("fast", 2)
    assert log_sequence(sweep=False) == 2
    release.set()
    worker.join(30)
    _append("slow", 1)  # seq 3, after seq 2 committed
    assert log_sequence(sweep=False) == 0  # seq 3 waits: seq 2 has no leaf yet
    assert log_sequence() == 2
    slow = list(
        TrailLeaf.objects.filter(event__stream__name="slow")
        .order_by("index")
        .values_list("event__seq", flat=True)
    )
    assert slow == [1, 2, 3]
    _leaves_are_whole()
    signer = Signer.generate(settings.TRAIL_ORIGIN)
    key = tmp_path / "key"
    key.write_text(signer.serialise())
    settings.TRAIL_SIGNING_KEY_FILE = key
    bundle = tmp_path / "b.jsonl"
    call_command("export_trail", str(bundle))
    call_command("verify_trail", "--bundle", str(bundle), "--key", str(signer.verifier))
