"""The trail: hash chains, the append-only guard, verification online and offline."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from kla.models import Submission
from tests import factories as f
from workflows.models import GENESIS_HASH, TrailEvent, TrailStream
from workflows.trail.append import trail_append
from workflows.trail.chain import canonical
from workflows.trail.reading import verify_database

ROOT = Path(__file__).resolve().parents[2]


def _chain(submission: Submission) -> Any:
    return list(TrailEvent.objects.filter(submission=submission).order_by("seq"))


def _bypass(sql: str, params: Any = ()) -> None:
    """Tamper as the database owner would: with the guard's triggers disabled."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def _verify_fails_with(stream: str, seq: int) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("verify_trail")
    assert f"stream {stream} seq {seq}:" in str(exc.value)


@pytest.mark.django_db
class TestChain:
    def test_events_link_and_hash_their_canonical_form(self, submitted: Submission) -> None:
        events = _chain(submitted)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(events):
            assert after.prev_hash == before.hash
        head = TrailStream.objects.get(name=f"submission:{submitted.pk}")
        assert (head.seq, head.head_hash) == (events[-1].seq, events[-1].hash)
        record = events[-1]
        from workflows.trail.append import event_record

        rec = event_record(record, head.name)
        assert hashlib.sha256(canonical(rec)).hexdigest() == record.hash

    def test_verify_trail_reports_an_intact_trail(
        self, submitted: Submission, capsys: pytest.CaptureFixture[str]
    ) -> None:
        call_command("verify_trail")
        assert "trail intact" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_appending_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        trail_append(stream="system", action="x", actor=None)
    assert not TrailEvent.objects.exists()


@pytest.mark.django_db
class TestGuard:
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE workflows_trailevent SET note = 'diubah'",
            "DELETE FROM workflows_trailevent",
            "TRUNCATE workflows_trailevent CASCADE",
        ],
    )
    @pytest.mark.postgres
    def test_the_database_refuses_changes_to_the_trail(
        self, submitted: Submission, sql: str
    ) -> None:
        before = TrailEvent.objects.count()
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # fire the deferred foreign-key checks first, or TRUNCATE refuses for them
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql)
        assert TrailEvent.objects.count() == before

    def test_the_orm_cannot_change_an_event_either(self, submitted: Submission) -> None:
        event = _chain(submitted)[0]
        event.note = "diubah"
        with pytest.raises(DatabaseError), transaction.atomic():
            event.save()
        with pytest.raises(DatabaseError), transaction.atomic():
            TrailEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_flush_alone_may_empty_the_trail(operator: User) -> None:
    f.make_draft(operator)
    assert TrailEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not TrailEvent.objects.exists()
    with connection.cursor() as cursor:  # and the flag does not outlive the flush
        cursor.execute("SELECT coalesce(current_setting('kla.trail_flush', true), '')")
        assert cursor.fetchone()[0] in ("", "off")


@pytest.mark.postgres
@pytest.mark.django_db
class TestTamperingIsFound:
    def test_an_edited_event(self, submitted: Submission) -> None:
        target = _chain(submitted)[2]
        _bypass("UPDATE workflows_trailevent SET note = 'palsu' WHERE id = %s", [target.pk])
        _verify_fails_with(f"submission:{submitted.pk}", target.seq)

    def test_a_removed_event(self, submitted: Submission) -> None:
        target = _chain(submitted)[1]
        _bypass("DELETE FROM workflows_trailevent WHERE id = %s", [target.pk])
        _verify_fails_with(f"submission:{submitted.pk}", 2)

    def test_the_last_event_removed(self, submitted: Submission) -> None:
        last = _chain(submitted)[-1]
        _bypass("DELETE FROM workflows_trailevent WHERE id = %s", [last.pk])
        _verify_fails_with(f"submission:{submitted.pk}", last.seq)

    def test_reordered_events(self, submitted: Submission) -> None:
        two, three = _chain(submitted)[1:3]
        swap = "UPDATE workflows_trailevent SET seq = %s WHERE id = %s"
        _bypass(swap, [1000, two.pk])
        _bypass(swap, [2, three.pk])
        _bypass(swap, [3, two.pk])
        _verify_fails_with(f"submission:{submitted.pk}", 2)

    def test_an_inserted_event(self, submitted: Submission) -> None:
        events = _chain(submitted)
        stream = events[0].stream
        _bypass(
            "UPDATE workflows_trailevent SET seq = seq + 1000 WHERE stream_id = %s AND seq >= 2",
            [stream.pk],
        )
        _bypass(
            "UPDATE workflows_trailevent SET seq = seq - 999 WHERE stream_id = %s AND seq > 1000",
            [stream.pk],
        )
        forged = events[1]
        _bypass(
            "INSERT INTO workflows_trailevent (stream_id, seq, at, actor_name, role, action,"
            " from_state, to_state, note, files, data, algorithm, prev_hash, hash)"
            " VALUES (%s, 2, now(), 'penyusup', '', 'approve', 'draft', 'verified', '',"
            " '[]', '{}', 1, %s, %s)",
            [stream.pk, events[0].hash, "f" * 64],
        )
        _verify_fails_with(stream.name, 2)
        assert forged.seq == 2

    def test_only_the_broken_stream_is_named(self, submitted: Submission, operator: User) -> None:
        other = f.make_draft(operator)
        target = _chain(submitted)[0]
        _bypass("UPDATE workflows_trailevent SET actor_name = 'x' WHERE id = %s", [target.pk])
        _checker, breaks = verify_database()
        assert [(b.stream, b.seq) for b in breaks] == [(f"submission:{submitted.pk}", 1)]
        assert f"submission:{other.pk}" not in {b.stream for b in breaks}


def _run_offline(*args: Any) -> Any:
    """manage.py with a database that does not exist: proves the bundle needs none."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody:none@127.0.0.1:1/none",
        "DJANGO_SETTINGS_MODULE": "kla.settings",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.django_db
class TestBundle:
    def test_an_exported_bundle_verifies_offline_and_finds_evidence(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        bundle = tmp_path / "trail.jsonl"
        call_command("export_trail", str(bundle))
        evidence = submitted.evidence.get()
        downloaded = tmp_path / "unduhan.pdf"
        with evidence.file.open("rb") as handle:
            downloaded.write_bytes(handle.read())
        done = _run_offline("verify_trail", "--bundle", str(bundle), "--file", str(downloaded))
        assert done.returncode == 0, done.stderr
        assert "trail intact" in done.stdout
        assert f"matches evidence {evidence.pk}" in done.stdout

    def test_a_tampered_bundle_names_the_stream_and_seq(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        bundle = tmp_path / "trail.jsonl"
        call_command("export_trail", str(bundle))
        lines = bundle.read_text().splitlines()
        stream = f"submission:{submitted.pk}"
        for i, text in enumerate(lines):
            obj = json.loads(text)
            if obj.get("stream") == stream and obj.get("seq") == 3 and obj["type"] == "event":
                obj["note"] = "diubah"
                lines[i] = json.dumps(obj)
        bundle.write_text("\n".join(lines) + "\n")
        done = _run_offline("verify_trail", "--bundle", str(bundle))
        assert done.returncode != 0
        assert f"stream {stream} seq 3" in done.stderr

    def test_a_file_not_in_the_bundle_is_reported(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        bundle = tmp_path / "trail.jsonl"
        call_command("export_trail", str(bundle))
        stranger = tmp_path / "lain.pdf"
        stranger.write_bytes(b"%PDF-1.4 lain")
        done = _run_offline("verify_trail", "--bundle", str(bundle), "--file", str(stranger))
        assert done.returncode != 0 and "is not in the bundle" in done.stderr

    def test_garbage_is_not_a_bundle(self, tmp_path: Path) -> None:
        junk = tmp_path / "junk.jsonl"
        junk.write_text("hello\n")
        done = _run_offline("verify_trail", "--bundle", str(junk))
        assert done.returncode != 0 and "not a trail bundle" in done.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_a_chain() -> None:
    threads_n, per_thread = 6, 15
    barrier = threading.Barrier(threads_n)
    errors: list[Exception] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with transaction.atomic():
                    # every thread writes to the shared stream and to one of its own
                    trail_append(stream="system", action="probe", actor=None, data={"t": i})
                    trail_append(stream=f"body:t{i % 2}", action="probe", actor=None, data={"n": n})
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    system = TrailEvent.objects.filter(stream__name="system").order_by("seq")
    assert list(system.values_list("seq", flat=True)) == list(range(1, threads_n * per_thread + 1))
    _checker, breaks = verify_database()
    assert breaks == []
