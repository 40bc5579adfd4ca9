"""The trail as a transparency log: leaves, signed checkpoints, proofs, and what they catch.

The proofs are checked by a verifier written here from RFC 9162 alone, and the signatures by
``cryptography`` directly, never by the code under test; the tampering is done as a database
owner would, with the guard's triggers switched off.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from kla.models import Submission
from kla.time import WIB
from roles.roles import Role
from tests import factories as f
from workflows.models import (
    CheckpointMail,
    Notification,
    TrailCheckpoint,
    TrailEvent,
    TrailKey,
    TrailLeaf,
    TrailStream,
)
from workflows.trail import guard
from workflows.trail.append import event_record, trail_append
from workflows.trail.chain import canonical
from workflows.trail.checkpoints import (
    checkpoint_cut,
    checkpoint_run,
    checkpoints_mail,
    known_verifiers,
)
from workflows.trail.export import bundle_export
from workflows.trail.log import log_consistency, log_inclusion, log_root, log_sequence, log_size
from workflows.trail.note import Signer

pytestmark = pytest.mark.django_db


# --- RFC 9162, written from the RFC alone ----------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(leaves: list[bytes]) -> bytes:
    """MTH over leaf *inputs* (RFC 9162 2.1.1): the events' 32 hash bytes."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _rfc_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _rfc_consistency(m: int, n: int, first: bytes, second: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2 (equal sizes: an empty proof and equal roots)."""
    if m == n:
        return not proof and first == second
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, first)
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _h(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first and sr == second


def _events_in_leaf_order() -> list[TrailEvent]:
    return [leaf.event for leaf in TrailLeaf.objects.select_related("event").order_by("index")]


def _grow(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            trail_append(stream="system", action="test_event", actor=None, data={"n": n})


# --- the log ---------------------------------------------------------------------------------


class TestLog:
    def test_every_committed_event_becomes_a_leaf_in_id_order(self, submitted: Submission) -> None:
        events = list(TrailEvent.objects.order_by("id"))
        assert log_sequence() == len(events)
        assert log_sequence() == 0  # nothing new: nothing done
        leaves = list(TrailLeaf.objects.order_by("index"))
        assert [leaf.index for leaf in leaves] == list(range(len(events)))
        assert [leaf.event_id for leaf in leaves] == [e.pk for e in events]
        for leaf, event in zip(leaves, events, strict=True):
            assert leaf.hash == _h(b"\x00" + bytes.fromhex(event.hash)).hex()

    def test_the_minutes_run_takes_the_new_events_a_window_at_a_time(
        self, submitted: Submission
    ) -> None:
        assert log_sequence(batch=4, sweep=False) == TrailEvent.objects.count()
        _grow(11)
        assert log_sequence(batch=4, sweep=False) == 11
        assert log_sequence(batch=4, sweep=False) == 0
        inputs = [bytes.fromhex(e.hash) for e in _events_in_leaf_order()]
        assert [e.pk for e in _events_in_leaf_order()] == sorted(
            TrailEvent.objects.values_list("pk", flat=True)
        )
        assert log_root(len(inputs)) == _mth(inputs)

    def test_the_root_of_every_size_is_rfc_9162s(self, submitted: Submission) -> None:
        _grow(9)
        log_sequence(batch=3)
        inputs = [bytes.fromhex(e.hash) for e in _events_in_leaf_order()]
        for size in range(0, len(inputs) + 1):
            assert log_root(size) == _mth(inputs[:size]), size

    def test_later_events_extend_the_tree(self, submitted: Submission) -> None:
        log_sequence()
        before = log_size()
        _grow(3)
        assert log_sequence() == 3
        assert log_size() == before + 3

    def test_inclusion_proofs_verify_by_the_rfc_alone(self, submitted: Submission) -> None:
        _grow(10)
        log_sequence()
        inputs = [bytes.fromhex(e.hash) for e in _events_in_leaf_order()]
        size = len(inputs)
        for tree in (1, 2, 5, 8, size):
            root = _mth(inputs[:tree])
            for index in range(tree):
                path = log_inclusion(index, tree)
                leaf = _h(b"\x00" + inputs[index])
                assert _rfc_inclusion(index, tree, leaf, path, root), (index, tree)
        wrong = log_inclusion(0, size)
        wrong[0] = _h(b"forged")
        assert not _rfc_inclusion(0, size, _h(b"\x00" + inputs[0]), wrong, _mth(inputs))

    def test_consistency_proofs_verify_by_the_rfc_alone(self, submitted: Submission) -> None:
        _grow(10)
        log_sequence()
        inputs = [bytes.fromhex(e.hash) for e in _events_in_leaf_order()]
        size = len(inputs)
        for first in range(1, size + 1):
            proof = log_consistency(first, size)
            assert _rfc_consistency(first, size, _mth(inputs[:first]), _mth(inputs), proof)
        assert log_consistency(size, size) == []
        assert not _rfc_consistency(3, size, _h(b"other"), _mth(inputs), log_consistency(3, size))


# --- checkpoints -----------------------------------------------------------------------------


def _parse_signed(note: str) -> tuple[str, str, bytes]:
    text, _, signature = note.partition("\n\n")
    assert signature.startswith("\u2014 ") and signature.endswith("\n")
    name, _, b64 = signature[2:-1].partition(" ")
    return text + "\n", name, base64.b64decode(b64)


class TestCheckpoints:
    def test_a_checkpoint_is_a_signed_c2sp_note_of_the_tree(
        self, submitted: Submission, settings: Any, trail_key_file: Path
    ) -> None:
        checkpoint = checkpoint_cut()
        assert checkpoint is not None
        text, name, raw = _parse_signed(checkpoint.note)
        origin, size, root, end = text.split("\n")
        assert (origin, end) == (settings.TRAIL_ORIGIN, "")
        assert int(size) == checkpoint.tree_size == TrailEvent.objects.count()
        inputs = [bytes.fromhex(e.hash) for e in _events_in_leaf_order()]
        assert base64.b64decode(root) == _mth(inputs)
        # The signature, checked with cryptography directly against the key file's public key.
        signer = Signer.parse(trail_key_file.read_text())
        public = signer.verifier.public
        key_id = _h(name.encode() + b"\n\x01" + public)[:4]
        assert name == settings.TRAIL_ORIGIN
        assert raw[:4] == key_id
        Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
        # The published verifier key: name+hex id+base64(0x01 || key)
        vkey = str(signer.verifier)
        encoded = base64.b64encode(b"\x01" + public).decode()
        assert vkey == f"{name}+{key_id.hex()}+{encoded}"
        assert TrailKey.objects.filter(verifier_key=vkey).exists()

    def test_kept_as_a_file_written_once(self, submitted: Submission, settings: Any) -> None:
        checkpoint = checkpoint_cut()
        assert checkpoint is not None
        files = list(Path(settings.TRAIL_CHECKPOINT_DIR).iterdir())
        assert [p.read_text() for p in files] == [checkpoint.note]

    def test_a_tree_that_did_not_grow_gets_no_new_checkpoint(self, submitted: Submission) -> None:
        first = checkpoint_cut()
        assert checkpoint_cut() == first
        _grow(1)
        second = checkpoint_cut()
        assert second is not None and first is not None
        assert second.tree_size == first.tree_size + 1
        assert TrailCheckpoint.objects.count() == 2

    def test_the_command_prints_the_signed_note(
        self, submitted: Submission, capsys: pytest.CaptureFixture[str]
    ) -> None:
        call_command("trail_checkpoint")
        out = capsys.readouterr().out
        assert out == TrailCheckpoint.objects.get().note

    def test_without_a_key_no_checkpoint_and_a_clear_error(
        self, submitted: Submission, settings: Any, tmp_path: Path
    ) -> None:
        settings.TRAIL_SIGNING_KEY_FILE = tmp_path / "none.key"
        with pytest.raises(CommandError, match="trail_keygen"):
            call_command("trail_checkpoint")
        assert not TrailCheckpoint.objects.exists()

    def test_keygen_writes_a_private_key_once(
        self, db: Any, settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings.TRAIL_SIGNING_KEY_FILE = tmp_path / "var" / "trail.key"
        call_command("trail_keygen")
        path = Path(settings.TRAIL_SIGNING_KEY_FILE)
        text = path.read_text()
        assert text.startswith(f"PRIVATE+KEY+{settings.TRAIL_ORIGIN}+")
        assert path.stat().st_mode & 0o077 == 0
        call_command("trail_keygen")
        assert path.read_text() == text
        assert "kept" in capsys.readouterr().out

    def test_past_keys_stay_known_after_a_rotation(
        self, submitted: Submission, settings: Any, tmp_path: Path
    ) -> None:
        old = checkpoint_cut()
        assert old is not None
        rotated = tmp_path / "new.key"
        rotated.write_text(Signer.generate(settings.TRAIL_ORIGIN).serialise())
        settings.TRAIL_SIGNING_KEY_FILE = rotated
        _grow(1)
        checkpoint_cut()
        ids = {v.key_id_hex for v in known_verifiers()}
        assert len(ids) == 2 and old.key_id in ids
        held = tmp_path / "old-checkpoint.txt"
        held.write_text(old.note)
        call_command("verify_trail", "--checkpoint", str(held))

    def test_each_days_last_checkpoint_is_mailed_to_every_auditor_once(
        self, submitted: Submission, auditor: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        f.make_role(Role.AUDITOR, "inspektorat2")
        first = checkpoint_cut()
        _grow(1)
        last = checkpoint_cut()
        assert first is not None and last is not None
        tomorrow = dt.datetime.now(WIB) + dt.timedelta(days=1)
        with django_capture_on_commit_callbacks(execute=True):
            days = checkpoints_mail(now=tomorrow)
        assert days == [dt.datetime.now(WIB).date()]
        rows = Notification.objects.filter(kind="trail_checkpoint")
        assert {r.user.username for r in rows if r.user} == {"inspektorat", "inspektorat2"}
        assert all(last.note in r.message for r in rows)
        assert any(last.note in m.body for m in mail.outbox)
        assert checkpoints_mail(now=tomorrow) == []
        assert CheckpointMail.objects.get().checkpoint == last


# --- verify_trail --checkpoint ---------------------------------------------------------------


def _held(tmp_path: Path) -> Path:
    """A checkpoint copied outside the database, as Inspektorat keeps it."""
    checkpoint = checkpoint_cut()
    assert checkpoint is not None
    path = tmp_path / f"checkpoint-{checkpoint.tree_size}.txt"
    path.write_text(checkpoint.note)
    return path


def _as_dba(*statements: tuple[str, list[Any]]) -> None:
    """As the database owner would: past the guard (PostgreSQL's replica role switches
    triggers off; on SQLite the owner drops them and puts them back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            guard.remove(connection)
            try:
                for sql, params in statements:
                    cursor.execute(sql, params)
            finally:
                guard.install(connection)
            return
        cursor.execute("SET session_replication_role = replica")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def _rewrite_consistently(stream: str, note: str) -> None:
    """Change every event of a stream, re-hash its chain, move its head, rebuild the log."""
    head = TrailStream.objects.get(name=stream)
    prev = "0" * 64
    statements: list[tuple[str, list[Any]]] = []
    for event in TrailEvent.objects.filter(stream=head).order_by("seq"):
        record = event_record(event, stream) | {"note": note, "prev_hash": prev}
        digest = hashlib.sha256(canonical(record)).hexdigest()
        statements.append(
            (
                "UPDATE workflows_trailevent SET note = %s, prev_hash = %s, hash = %s"
                " WHERE id = %s",
                [note, prev, digest, event.pk],
            )
        )
        prev = digest
    statements.append(
        ("UPDATE workflows_trailstream SET head_hash = %s WHERE id = %s", [prev, head.pk])
    )
    statements += [
        ("DELETE FROM workflows_checkpointmail", []),
        ("DELETE FROM workflows_trailcheckpoint", []),
        ("DELETE FROM workflows_trailnode", []),
        ("DELETE FROM workflows_trailleaf", []),
    ]
    _as_dba(*statements)
    log_sequence()


def _fails(*args: str) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("verify_trail", *args)
    return str(exc.value)


class TestVerifyCheckpoint:
    def test_an_intact_log_extends_the_checkpoint(
        self, submitted: Submission, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        held = _held(tmp_path)
        _grow(4)
        log_sequence()
        call_command("verify_trail", "--checkpoint", str(held))
        assert "the log extends it" in capsys.readouterr().out

    def test_a_note_no_key_of_the_log_signed_is_refused(
        self, submitted: Submission, tmp_path: Path, settings: Any
    ) -> None:
        held = _held(tmp_path)
        forged = tmp_path / "forged.txt"
        text = held.read_text().partition("\n\n")[0] + "\n"
        forged.write_text(Signer.generate(settings.TRAIL_ORIGIN).sign(text))
        assert "refused" in _fails("--checkpoint", str(forged))
        edited = tmp_path / "edited.txt"
        lines = held.read_text().split("\n")
        lines[1] = str(int(lines[1]) - 1)
        edited.write_text("\n".join(lines))
        assert "refused" in _fails("--checkpoint", str(edited))

    def test_a_consistent_rewrite_by_the_dba_is_caught(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        held = _held(tmp_path)
        _rewrite_consistently(f"submission:{submitted.pk}", "ditulis ulang")
        call_command("verify_trail")  # the chains alone cannot tell
        message = _fails("--checkpoint", str(held))
        assert "root at that size differs" in message

    def test_a_cut_tail_with_its_head_lowered_is_caught(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        held = _held(tmp_path)
        stream = TrailStream.objects.get(name=f"submission:{submitted.pk}")
        last = TrailEvent.objects.filter(stream=stream).order_by("-seq").first()
        assert last is not None
        _as_dba(
            ("DELETE FROM workflows_checkpointmail", []),
            ("DELETE FROM workflows_trailcheckpoint", []),
            ("DELETE FROM workflows_trailleaf WHERE event_id = %s", [last.pk]),
            ("DELETE FROM workflows_trailnode", []),
            ("DELETE FROM workflows_trailevent WHERE id = %s", [last.pk]),
            (
                "UPDATE workflows_trailstream SET seq = seq - 1, head_hash = %s WHERE id = %s",
                [last.prev_hash, stream.pk],
            ),
        )
        call_command("verify_trail")  # a consistent shorter chain
        assert "the log's tree is smaller" in _fails("--checkpoint", str(held))

    def test_an_emptied_trail_is_caught(self, submitted: Submission, tmp_path: Path) -> None:
        held = _held(tmp_path)
        _as_dba(
            ("DELETE FROM workflows_checkpointmail", []),
            ("DELETE FROM workflows_trailcheckpoint", []),
            ("DELETE FROM workflows_trailkey", []),
            ("DELETE FROM workflows_trailleaf", []),
            ("DELETE FROM workflows_trailnode", []),
            ("DELETE FROM workflows_trailevent", []),
            ("DELETE FROM workflows_trailstream", []),
        )
        call_command("verify_trail")
        assert "tree is smaller, 0 leaves" in _fails("--checkpoint", str(held))

    def test_a_stored_checkpoint_catches_a_rewrite_without_the_file(
        self, submitted: Submission
    ) -> None:
        checkpoint_cut()
        target = TrailEvent.objects.filter(submission=submitted).order_by("seq").first()
        assert target is not None
        record = event_record(target, target.stream.name) | {"note": "x"}
        # Only the content and its own hash: the chain breaks at the next event.
        _as_dba(
            (
                "UPDATE workflows_trailevent SET note = 'x', hash = %s WHERE id = %s",
                [hashlib.sha256(canonical(record)).hexdigest(), target.pk],
            )
        )
        message = _fails()
        assert f"stream submission:{submitted.pk} seq 2" in message

    def test_a_leaf_that_does_not_match_its_event_is_named(self, submitted: Submission) -> None:
        log_sequence()
        _as_dba(('UPDATE workflows_trailleaf SET hash = %s WHERE "index" = 1', ["ab" * 32]))
        message = _fails()
        assert "leaf 1 (stream " in message and "does not match its event" in message


# --- guards ----------------------------------------------------------------------------------


class TestGuards:
    def test_a_head_moves_only_forward_to_its_next_event(self, submitted: Submission) -> None:
        head = TrailStream.objects.get(name=f"submission:{submitted.pk}")
        events = list(TrailEvent.objects.filter(stream=head).order_by("seq"))
        attempts: list[dict[str, Any]] = [
            {"seq": head.seq - 1, "head_hash": events[-2].hash},  # lowered
            {"seq": head.seq + 1, "head_hash": "f" * 64},  # to no event
            {"seq": head.seq + 2, "head_hash": head.head_hash},  # skipping
            {"name": "other"},  # renamed
        ]
        for change in attempts:
            with pytest.raises(DatabaseError), transaction.atomic():
                TrailStream.objects.filter(pk=head.pk).update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            TrailStream.objects.filter(pk=head.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            TrailStream.objects.create(name="forged", seq=3, head_hash="a" * 64)
        head.refresh_from_db()
        assert head.seq == events[-1].seq

    def test_the_log_tables_are_append_only(self, submitted: Submission) -> None:
        checkpoint_cut()
        for model in (TrailLeaf, TrailCheckpoint, TrailKey):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                model.objects.all().delete()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            TrailLeaf.objects.filter(index=0).update(hash="0" * 64)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            TrailCheckpoint.objects.update(note="x")

    def test_flush_refuses_without_trail_flush_allowed(
        self, submitted: Submission, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("TRAIL_FLUSH_ALLOWED", raising=False)
        with pytest.raises(CommandError, match="TRAIL_FLUSH_ALLOWED"):
            call_command("flush", interactive=False, verbosity=0)
        assert TrailEvent.objects.exists()


# --- bundles ---------------------------------------------------------------------------------


def _export(tmp_path: Path, name: str = "bundle.jsonl") -> Path:
    path = tmp_path / name
    call_command("export_trail", str(path))
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))


def _rehash(lines: list[dict[str, Any]], stream: str, **changes: Any) -> None:
    """Change every event line of a stream and re-hash its chain and head, consistently."""
    prev = "0" * 64
    for line in lines:
        if line.get("type") == "event" and line["stream"] == stream:
            line.update(changes, prev_hash=prev)
            body = {k: v for k, v in line.items() if k not in ("type", "leaf_index", "hash")}
            line["hash"] = prev = hashlib.sha256(canonical(body)).hexdigest()
    for line in lines:
        if line.get("type") == "head" and line["stream"] == stream:
            line["hash"] = prev


def _vkey() -> str:
    return str(known_verifiers()[0])


class TestBundle:
    def test_version_2_holds_the_tree_its_signed_checkpoint_and_the_heads(
        self, submitted: Submission, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        header = lines[0]
        assert header["format"] == "kla-trail-bundle" and header["version"] == 2
        assert set(header) == {
            "format",
            "version",
            "exported_at",
            "origin",
            "tree_size",
            "checkpoint",
            "verifier_key",
        }
        events = [x for x in lines if x.get("type") == "event"]
        heads = [x for x in lines if x.get("type") == "head"]
        assert {x["type"] for x in lines[1:]} == {"event", "head"}
        assert [e["leaf_index"] for e in events] == list(range(header["tree_size"]))
        inputs = [bytes.fromhex(e["hash"]) for e in events]
        assert header["checkpoint"].split("\n")[2] == base64.b64encode(_mth(inputs)).decode()
        assert {h["stream"] for h in heads} == {e["stream"] for e in events}
        capsys.readouterr()
        call_command("verify_trail", "--bundle", str(path), "--key", _vkey())
        assert "trail intact" in capsys.readouterr().out

    def test_an_edited_event_line_is_named(self, submitted: Submission, tmp_path: Path) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        target = next(x for x in lines if x.get("type") == "event" and x["seq"] == 2)
        target["note"] = "palsu"
        _write(path, lines)
        message = _fails("--bundle", str(path), "--key", _vkey())
        assert f"stream {target['stream']} seq 2" in message

    def test_a_consistently_rewritten_bundle_fails_its_signed_root(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        stream = f"submission:{submitted.pk}"
        _rehash(lines, stream, note="ditulis ulang")
        _write(path, lines)
        assert "differs from its signed checkpoint" in _fails(
            "--bundle", str(path), "--key", _vkey()
        )

    def test_a_bundle_signed_by_another_key_is_refused_with_the_logs_key(
        self, submitted: Submission, tmp_path: Path, settings: Any
    ) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        other = Signer.generate(settings.TRAIL_ORIGIN)
        text = lines[0]["checkpoint"].partition("\n\n")[0] + "\n"
        lines[0]["checkpoint"] = other.sign(text)
        lines[0]["verifier_key"] = str(other.verifier)
        _write(path, lines)
        assert "no key of this log signed" in _fails("--bundle", str(path), "--key", _vkey())

    def test_an_older_checkpoint_must_be_consistent_with_the_bundle(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        held = _held(tmp_path)
        _grow(3)
        path = _export(tmp_path)
        call_command(
            "verify_trail", "--bundle", str(path), "--key", _vkey(), "--checkpoint", str(held)
        )
        lines = _lines(path)
        stream = lines[1]["stream"]
        # Rewrite the first stream in the bundle and re-sign nothing: its old root differs.
        _rehash(lines, stream, actor="orang lain")
        _write(path, lines)
        message = _fails("--bundle", str(path), "--key", _vkey(), "--checkpoint", str(held))
        assert "checkpoint of size" in message and "root at that size differs" in message

    def test_an_earlier_bundle_names_the_first_leaf_the_log_rewrote(
        self, submitted: Submission, tmp_path: Path, settings: Any
    ) -> None:
        old = _export(tmp_path, "old.jsonl")
        _rewrite_consistently(f"submission:{submitted.pk}", "ditulis ulang")
        newer = checkpoint_cut()  # the server signs whatever its database holds
        assert newer is not None
        held = tmp_path / "new.txt"
        held.write_text(newer.note)
        message = _fails("--bundle", str(old), "--key", _vkey(), "--checkpoint", str(held))
        first = min(
            e["leaf_index"]
            for e in _lines(old)
            if e.get("type") == "event" and e["stream"] == f"submission:{submitted.pk}"
        )
        assert f"leaf {first} of the bundle differs" in message

    def test_a_file_counts_only_where_a_chained_upload_names_it(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        evidence = submitted.evidence.first()
        assert evidence is not None
        genuine = tmp_path / "bukti.pdf"
        with evidence.file.open("rb") as handle:
            genuine.write_bytes(handle.read())
        path = _export(tmp_path)
        call_command(
            "verify_trail", "--bundle", str(path), "--key", _vkey(), "--file", str(genuine)
        )
        forged = tmp_path / "palsu.pdf"
        forged.write_bytes(b"%PDF-1.4 forged")
        assert "no chained upload event names it" in _fails(
            "--bundle", str(path), "--key", _vkey(), "--file", str(forged)
        )
        # Naming the forged file's hash in an event line breaks that event's hash.
        lines = _lines(path)
        upload = next(x for x in lines if x.get("action") == "evidence_upload")
        upload["files"][0]["sha256"] = hashlib.sha256(forged.read_bytes()).hexdigest()
        _write(path, lines)
        _fails("--bundle", str(path), "--key", _vkey(), "--file", str(forged))

    def test_without_a_key_the_bundles_own_is_trusted_with_a_warning(
        self, submitted: Submission, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = _export(tmp_path)
        call_command("verify_trail", "--bundle", str(path))
        assert "--key" in capsys.readouterr().err

    def test_a_version_1_bundle_still_verifies_unsigned_not_anchored(
        self, submitted: Submission, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "v1.jsonl"
        rows = [{"format": "kla-trail-bundle", "version": 1, "exported_at": "2026-03-01"}]
        heads: dict[str, tuple[int, str]] = {}
        for event in TrailEvent.objects.select_related("stream").order_by("stream__name", "seq"):
            rows.append({"type": "event", **event_record(event, event.stream.name)})
            heads[event.stream.name] = (event.seq, event.hash)
        rows += [{"type": "head", "stream": s, "seq": q, "hash": h} for s, (q, h) in heads.items()]
        _write(path, rows)
        call_command("verify_trail", "--bundle", str(path))
        assert "unsigned, not anchored" in capsys.readouterr().err


class TestVerifyEvidence:
    def test_every_stored_file_is_rehashed_against_its_upload_event(
        self, submitted: Submission, capsys: pytest.CaptureFixture[str]
    ) -> None:
        call_command("verify_trail", "--evidence")
        assert "stored files intact: 1 match" in capsys.readouterr().out
        evidence = submitted.evidence.get()
        Path(evidence.file.path).write_bytes(b"%PDF-1.4 changed on disk")
        message = _fails("--evidence")
        assert f"evidence {evidence.pk}" in message and "changed" in message
        failed = TrailEvent.objects.filter(action="evidence_fixity_failed")
        assert failed.count() == 1
        assert failed.get().stream.name == f"submission:{submitted.pk}"


class TestAlgorithms:
    def test_new_events_use_rfc_8785_and_algorithm_1_events_keep_verifying(
        self, submitted: Submission, capsys: pytest.CaptureFixture[str]
    ) -> None:
        latest = TrailEvent.objects.order_by("-id").first()
        assert latest is not None and latest.algorithm == 2
        record = event_record(latest, latest.stream.name)
        body = {k: v for k, v in record.items() if k != "hash"}
        assert hashlib.sha256(rfc8785.dumps(body)).hexdigest() == latest.hash
        # An event written before algorithm 2, continuing the system stream.
        with transaction.atomic():
            head = TrailStream.objects.select_for_update().get(name="system")
            old: dict[str, Any] = {
                "algorithm": 1,
                "stream": "system",
                "seq": head.seq + 1,
                "at": "2026-01-05T01:02:03.000004Z",
                "actor": "admin",
                "role": "admin",
                "action": "calendar_change",
                "from_state": "",
                "to_state": "",
                "note": "libur",
                "files": [],
                "data": {"day": "2026-01-05"},
                "prev_hash": head.head_hash,
            }
            digest = hashlib.sha256(
                json.dumps(
                    {
                        "v": 1,
                        "stream": "system",
                        "seq": old["seq"],
                        "at": old["at"],
                        "actor": "admin",
                        "role": "admin",
                        "action": "calendar_change",
                        "from": "",
                        "to": "",
                        "note": "libur",
                        "files": [],
                        "data": {"day": "2026-01-05"},
                        "prev": head.head_hash,
                    },
                    sort_keys=True,
                    separators=(",", ":"),
                    ensure_ascii=False,
                ).encode()
            ).hexdigest()
            TrailEvent.objects.create(
                stream=head,
                seq=old["seq"],
                at=dt.datetime(2026, 1, 5, 1, 2, 3, 4, tzinfo=dt.UTC),
                actor_name="admin",
                role="admin",
                action="calendar_change",
                note="libur",
                data={"day": "2026-01-05"},
                algorithm=1,
                prev_hash=head.head_hash,
                hash=digest,
            )
            TrailStream.objects.filter(pk=head.pk).update(seq=old["seq"], head_hash=digest)
        trail_append_in_atomic()
        call_command("verify_trail")
        assert "trail intact" in capsys.readouterr().out


def trail_append_in_atomic() -> None:
    with transaction.atomic():
        trail_append(stream="system", action="test_event", actor=None)


class TestCheckpointRun:
    def test_beat_cuts_and_writes_a_file_it_could_not_write_before(
        self, submitted: Submission, settings: Any, tmp_path: Path
    ) -> None:
        blocked = tmp_path / "blocked"
        blocked.write_text("not a folder")
        settings.TRAIL_CHECKPOINT_DIR = blocked / "checkpoints"
        first = checkpoint_cut()  # the folder cannot be made: kept in the table alone
        assert first is not None and not (blocked / "checkpoints").exists()
        settings.TRAIL_CHECKPOINT_DIR = tmp_path / "checkpoints"
        _grow(1)
        assert checkpoint_run() == first.tree_size + 1
        names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
        assert names == [
            f"checkpoint-{first.tree_size:012d}.txt",
            f"checkpoint-{first.tree_size + 1:012d}.txt",
        ]

    def test_without_a_key_beat_logs_and_cuts_nothing(
        self, submitted: Submission, settings: Any, tmp_path: Path
    ) -> None:
        settings.TRAIL_SIGNING_KEY_FILE = tmp_path / "missing.key"
        assert checkpoint_run() is None
        assert not TrailCheckpoint.objects.exists()
        assert log_size() == 0  # the sequencer needs no key, but the cut did not run it


class TestStrictness:
    def test_a_bundle_holds_nothing_else(self, submitted: Submission, tmp_path: Path) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        lines[1]["comment"] = "not hashed"
        _write(path, lines)
        assert "other fields" in _fails("--bundle", str(path), "--key", _vkey())
        lines[1].pop("comment")
        lines.append(dict(lines[1]))  # an event after the heads
        _write(path, lines)
        assert "after the head lines" in _fails("--bundle", str(path), "--key", _vkey())

    def test_a_renamed_origin_needs_a_key_of_its_own_and_old_checkpoints_verify(
        self, submitted: Submission, settings: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        old = checkpoint_cut()
        assert old is not None
        settings.TRAIL_ORIGIN = "kla.example.go.id/kla-trail"
        _grow(1)
        with pytest.raises(CommandError, match="key name is the origin"):
            call_command("trail_checkpoint")
        call_command("verify_trail")
        assert "1 stored checkpoints verified" in capsys.readouterr().out


class TestReviewCases:
    def test_a_version_1_bundle_cannot_vouch_for_a_file_or_a_key(
        self, submitted: Submission, tmp_path: Path
    ) -> None:
        path = _export(tmp_path)
        lines = _lines(path)
        lines[0] = {"format": "kla-trail-bundle", "version": 1, "exported_at": "x"}
        lines = [x for x in lines if "leaf_index" not in x or x.pop("leaf_index") is not None]
        _write(path, lines)
        forged = tmp_path / "f.pdf"
        forged.write_bytes(b"forged")
        assert "version 1" in _fails("--bundle", str(path), "--key", _vkey())
        assert "version 1" in _fails("--bundle", str(path), "--file", str(forged))
        lines[0]["version"] = True
        _write(path, lines)
        assert "not supported" in _fails("--bundle", str(path))

    def test_odd_bundles_are_refused_without_a_traceback(self, tmp_path: Path) -> None:
        deep = tmp_path / "deep.jsonl"
        deep.write_text("[" * 100000 + "]" * 100000 + "\n")
        assert "not a trail bundle" in _fails("--bundle", str(deep))
        big = tmp_path / "big.jsonl"
        big.write_text('{"format": "kla-trail-bundle", "version": ' + "9" * 5000 + "}\n")
        assert "not a trail bundle" in _fails("--bundle", str(big))

    def test_a_hash_that_is_not_hex_is_named(self, submitted: Submission) -> None:
        log_sequence()
        target = TrailEvent.objects.filter(submission=submitted).order_by("seq").first()
        assert target is not None
        _as_dba(("UPDATE workflows_trailevent SET hash = 'zz' WHERE id = %s", [target.pk]))
        assert f"stream submission:{submitted.pk} seq 1" in _fails()

    def test_a_tree_that_does_not_extend_the_last_checkpoint_is_not_signed(
        self, submitted: Submission
    ) -> None:
        first = checkpoint_cut()
        assert first is not None
        _as_dba(("UPDATE workflows_trailnode SET hash = %s", ["ab" * 32]))
        _grow(1)
        with pytest.raises(CommandError, match="not the one its checkpoint signed"):
            call_command("trail_checkpoint")
        assert TrailCheckpoint.objects.count() == 1

    def test_evidence_is_checked_on_its_own(self, submitted: Submission, tmp_path: Path) -> None:
        held = _held(tmp_path)
        assert "on its own" in _fails("--evidence", "--checkpoint", str(held))


def test_a_bundle_export_reports_progress_as_its_heartbeat(
    submitted: Submission, tmp_path: Path
) -> None:
    """A long bundle keeps its export's lease: progress comes a batch at a time."""
    calls: list[tuple[int, int]] = []
    with (tmp_path / "b.jsonl").open("w") as handle:
        counts, checkpoint = bundle_export(handle, lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (checkpoint.tree_size, checkpoint.tree_size)
    assert counts["event"] == checkpoint.tree_size
