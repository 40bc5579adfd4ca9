"""The bench's world generator and its scratch databases (``bench/_world.py``, ``_scratch.py``).

The world is written with COPY, beside the ORM: these tests check it holds what was asked and
that its trail passes the project's own verification, and that a scratch database the bench
did not create is refused and left alone.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from bench import _scratch
from bench._world import BODIES_PER_CITY, World, build_world
from kla.models import Body, Evidence, Submission
from roles.roles import roles_of
from workflows.models import Timer, TrailEvent, TrailStream
from workflows.trail.verification import verify_trail_database

pytestmark = pytest.mark.postgres

SUBMISSIONS = 400


@pytest.fixture
def world(db: Any) -> World:
    return build_world(1, seed=3, submissions_per_city=SUBMISSIONS)


def _submissions(world: World) -> Any:
    return Submission.objects.filter(instruction_id__in=world.instructions)


def test_counts_are_what_was_asked(world: World) -> None:
    bodies = Body.objects.filter(code__startswith="w3-")
    assert bodies.count() == world.bodies == BODIES_PER_CITY
    assert _submissions(world).count() == world.submissions == SUBMISSIONS
    assert Evidence.objects.filter(submission__in=_submissions(world)).count() == world.evidence
    states = Counter(_submissions(world).values_list("state", flat=True))
    assert set(states) == {"draft", "submitted", "returned", "verified", "consolidated", "audited"}
    # One open timer for every submission still waiting on somebody, none for the audited.
    open_timers = Timer.objects.filter(closed_at__isnull=True, submission__in=_submissions(world))
    assert open_timers.count() == world.timers == SUBMISSIONS - states["audited"]
    assert not open_timers.filter(submission__state="audited").exists()
    # Every submission has indicators; every one but the drafts has been submitted.
    assert not _submissions(world).filter(indicators__isnull=True).exists()
    submitted = _submissions(world).exclude(state="draft")
    assert not submitted.filter(first_submitted_at__isnull=True).exists()
    # About ten events per submission, each in its own submission's stream.
    events = TrailEvent.objects.filter(submission__in=_submissions(world))
    assert events.count() == world.events
    assert 7 * SUBMISSIONS <= world.events <= 12 * SUBMISSIONS
    assert world.findings > 0 and world.notifications > world.submissions


def test_the_trail_verifies_with_the_projects_own_check(world: World) -> None:
    report = verify_trail_database()
    assert report.breaks == []
    assert report.problems == []
    assert report.checker.events == TrailEvent.objects.count()
    # The log gave every event its leaf, and each head sits on its stream's last event.
    assert report.log.unsequenced == 0
    assert report.log.size == TrailEvent.objects.count()
    streams = TrailStream.objects.filter(name__startswith="submission:")
    assert streams.count() == world.streams == world.submissions
    last = TrailEvent.objects.filter(stream_id__in=streams.values("pk"), seq=F("stream__seq"))
    assert last.filter(hash=F("stream__head_hash")).count() == world.streams
    # And the command an auditor runs says so too (it raises when anything is broken).
    out = io.StringIO()
    call_command("verify_trail", stdout=out)
    assert out.getvalue().startswith(f"trail intact: {TrailStream.objects.count()} streams, ")


def test_the_people_hold_their_roles(world: World) -> None:
    from django.contrib.auth.models import User

    people = {key: User.objects.get(pk=pk) for key, pk in world.people.items()}
    assert roles_of(people["verifier"]).verifier_everywhere
    scoped = roles_of(people["scoped_verifier"])
    assert not scoped.verifier_everywhere
    assert scoped.verifier_of == frozenset(world.scoped_bodies)
    assert roles_of(people["consolidator"]).consolidator
    assert roles_of(people["auditor"]).auditor
    sample = Submission.objects.get(pk=world.scoped_sample_submission)
    assert sample.body_id in world.scoped_bodies and sample.state == "verified"


def _exists(name: str) -> bool:
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def test_scratch_names_come_from_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_DATABASE_PREFIX", "mine_")
    assert _scratch.scratch_name("pages_city") == "mine_pages_city"
    monkeypatch.delenv("BENCH_DATABASE_PREFIX")
    assert _scratch.scratch_name("trail") == "bench_kla_trail"
    monkeypatch.setenv("BENCH_DATABASE_PREFIX", "x; DROP")
    with pytest.raises(SystemExit):
        _scratch.scratch_name("trail")


def test_a_database_this_run_did_not_create_is_refused_and_kept(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"bench_test_{uuid.uuid4().hex[:8]}_"
    monkeypatch.setenv("BENCH_DATABASE_PREFIX", prefix)
    name = f"{prefix}pages"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')  # somebody else's
    try:
        with pytest.raises(_scratch.ScratchExists, match="already exists"):
            _scratch.create_database("pages")
        with pytest.raises(_scratch.ScratchExists):
            _scratch.scratch_database("pages")
        assert _exists(name)
        # What the run creates itself it may drop.
        made = _scratch.create_database("trail")
        assert made == f"{prefix}trail" and _exists(made)
        _scratch.drop_database(made)
        assert not _exists(made)
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'DROP DATABASE IF EXISTS "{prefix}trail"')
