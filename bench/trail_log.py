"""The trail's transparency log, as ratios and times measured in one run:
``python -m bench.trail_log [--quick] [options]`` (``python -m bench trail_log`` runs it with
the options of ``BENCH_TRAIL_LOG_ARGS``, none by default: the full sizes).

Against the PostgreSQL server of ``DATABASE_URL`` it creates a scratch database
(``<BENCH_DATABASE_PREFIX>trail_log``, migrated, the append-only guard included), with a signing key
in a temporary directory (``TRAIL_SIGNING_KEY_FILE``, checkpoints into ``TRAIL_CHECKPOINT_DIR``
beside it), and measures three things, emptying the trail between them:

1. appends: ``trail_append`` inside ``transaction.atomic()`` from ``--writers`` threads on
   ``--streams`` streams, as the service does, in alternating phases (A B B A A B ...), so that
   the machine's drift cancels: A without the log, B with a sequencer process beside them
   calling ``log_sequence()`` every ``--sequence-every`` seconds and ``checkpoint_cut()`` every
   ``--checkpoint-every`` seconds. What A left unsequenced is sequenced before each phase, out
   of the timing. The target: B at 0.90 of A or better.
2. sequencing at scale: ``--events`` events inserted in bulk (one SQL ``INSERT ... SELECT
   generate_series``: unique 64-hex hashes, no valid chains, which the sequencer does not
   read), then ``log_sequence()`` for all of them, ``checkpoint_cut()``, inclusion and
   consistency proofs at that size (checked against the root), then ``--steady`` new events on
   top (the beat's minute) with the plan of the sequencer's query for them.
3. a bundle: ``--bundle-events`` events of valid chains (computed as ``trail_append`` does and
   inserted in bulk), exported with ``bundle_export``, then verified with the command's code
   (``verify_bundle`` with the key) beside ``hashlib.sha256`` over the same file, alternately.

The scratch database is dropped at the end (``BENCH_KEEP=1`` keeps it). Memory stays flat: events
are made and read in batches, never held all at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import hashlib
import multiprocessing
import os
import random
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench._scratch import fate, scratch_database, teardown

PARTS = ("appends", "sequencing", "bundle")
FULL = {
    "writers": 4,
    "streams": 8,
    "rounds": 4,
    "phase_seconds": 10.0,
    "sequence_every": 1.0,
    "checkpoint_every": 5.0,
    "events": 1_000_000,
    "steady": 10_000,
    "bundle_events": 100_000,
    "bundle_streams": 1_000,
    "verify_rounds": 3,
}
QUICK = {
    "writers": 2,
    "streams": 4,
    "rounds": 2,
    "phase_seconds": 3.0,
    "sequence_every": 1.0,
    "checkpoint_every": 2.0,
    "events": 20_000,
    "steady": 1_000,
    "bundle_events": 5_000,
    "bundle_streams": 50,
    "verify_rounds": 1,
}
BULK_CHUNK = 250_000  # rows per INSERT ... SELECT generate_series
BUILD_BATCH = 5_000  # events per bulk_create of the bundle's chains
TRAIL_TABLES = (
    "workflows_checkpointmail",
    "workflows_trailcheckpoint",
    "workflows_trailkey",
    "workflows_trailnode",
    "workflows_trailleaf",
    "workflows_trailevent",
    "workflows_trailstream",
)
FILES = [{"name": "bukti.pdf", "sha256": hashlib.sha256(b"bukti").hexdigest()}]


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trail_log", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, in about a minute")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only this part (repeatable)"
    )
    flags = [
        ("--writers", int, "appending threads"),
        ("--streams", int, "streams they append to"),
        ("--rounds", int, "phases A and B of each"),
        ("--phase-seconds", float, "length of a phase"),
        ("--sequence-every", float, "log_sequence period in B, seconds"),
        ("--checkpoint-every", float, "checkpoint_cut period in B, seconds"),
        ("--events", int, "events to sequence"),
        ("--steady", int, "new events sequenced on top"),
        ("--bundle-events", int, "events in the bundle"),
        ("--bundle-streams", int, "streams of the bundle"),
        ("--verify-rounds", int, "verify and sha256 pairs"),
    ]
    for flag, kind, text in flags:
        name = flag[2:].replace("-", "_")
        parser.add_argument(
            flag, type=kind, default=None, help=f"{text} ({FULL[name]:,}; quick {QUICK[name]:,})"
        )
    parser.add_argument(
        "--explain", action="store_true", help="print the sequencer query's whole plan"
    )
    options = parser.parse_args(argv)
    sizes = QUICK if options.quick else FULL
    for name, value in sizes.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    if options.writers < 2:
        parser.error("--writers: 2 or more, as the service appends concurrently")
    options.only = options.only or list(PARTS)
    return options


# --- the trail, emptied between parts -------------------------------------------------------


def _empty_trail() -> None:
    """Empty the log and the trail (the guard's flush flag: a scratch database only)."""
    from django.db import connection

    from workflows.trail.guard import flush_allowed

    with flush_allowed(connection), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TRAIL_TABLES)} RESTART IDENTITY CASCADE")


def _vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- 1. appends, with and without the log beside them ---------------------------------------


def _sidecar(
    db_name: str,
    key_file: str,
    checkpoint_dir: str,
    every: float,
    checkpoint_every: float,
    pipe: Connection,
) -> None:
    """The log beside the appends, in its own process (as the beat's worker is): on ``on``
    it sequences every ``every`` s and cuts a checkpoint every ``checkpoint_every`` s until
    ``off``, then answers with what it did; ``quit`` ends it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    connections["default"].settings_dict["NAME"] = db_name
    settings.TRAIL_SIGNING_KEY_FILE = Path(key_file)
    settings.TRAIL_CHECKPOINT_DIR = Path(checkpoint_dir)
    from workflows.trail.checkpoints import checkpoint_cut
    from workflows.trail.log import log_sequence, log_size

    pipe.send("ready")
    while True:
        command = pipe.recv()
        if command == "quit":
            break
        assert command == "on"
        pipe.send("started")
        calls = checkpoints = 0
        busy = 0.0
        start = time.perf_counter()
        first = log_size()
        next_cut = start + checkpoint_every
        tick = start
        while True:
            now = time.perf_counter()
            began = now
            if now >= next_cut:
                checkpoint_cut()
                checkpoints += 1
                next_cut += checkpoint_every
            else:
                log_sequence(sweep=False)  # as beat's minute; the checkpoints sweep
            calls += 1
            busy += time.perf_counter() - began
            tick += every
            if pipe.poll(max(0.0, tick - time.perf_counter())):
                assert pipe.recv() == "off"
                break
        pipe.send(
            {
                "calls": calls,
                "checkpoints": checkpoints,
                "sequenced": log_size() - first,
                "busy": busy,
            }
        )
    connections.close_all()


@dataclasses.dataclass
class _Writers:
    """Writer threads that append in phases, between two barriers with the controller."""

    count: int
    streams: int
    barrier: threading.Barrier = dataclasses.field(init=False)
    deadline: float = 0.0
    quit: bool = False
    done: list[int] = dataclasses.field(init=False)
    errors: list[BaseException] = dataclasses.field(default_factory=list)
    threads: list[threading.Thread] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.count + 1)
        self.done = [0] * self.count

    def start(self) -> None:
        for n in range(self.count):
            thread = threading.Thread(target=self._run, args=(n,), name=f"writer-{n}")
            thread.start()
            self.threads.append(thread)

    def _run(self, n: int) -> None:
        from django.db import connection, transaction

        from workflows.trail.append import trail_append

        pick = random.Random(n)
        i = 0
        try:
            while True:
                self.barrier.wait()
                if self.quit:
                    return
                done = 0
                while time.perf_counter() < self.deadline:
                    i += 1
                    with transaction.atomic():
                        trail_append(
                            stream=f"bench:{pick.randrange(self.streams)}",
                            action="probe",
                            actor=None,
                            role="verifier",
                            from_state="submitted",
                            to_state="verified",
                            note=f"catatan {n}-{i}",
                            files=FILES,
                            data={"writer": n, "i": i, "version": 2},
                        )
                    done += 1
                self.done[n] = done
                self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:
            self.errors.append(exc)
            self.barrier.abort()
        finally:
            connection.close()

    def phase(self, seconds: float) -> tuple[int, float]:
        """One phase of appends by every writer; returns the appends and the seconds."""
        self.deadline = time.perf_counter() + seconds
        try:
            self.barrier.wait()
            start = time.perf_counter()
            self.barrier.wait()
        except threading.BrokenBarrierError:
            raise RuntimeError(f"a writer failed: {self.errors[:1]!r}") from None
        return sum(self.done), time.perf_counter() - start

    def stop(self) -> None:
        self.quit = True
        with suppress(threading.BrokenBarrierError):
            self.barrier.wait(timeout=30)
        for thread in self.threads:
            thread.join()


@contextmanager
def _log_process(options: argparse.Namespace, paths: dict[str, Path]) -> Iterator[Connection]:
    from django.db import connection

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_sidecar,
        args=(
            connection.settings_dict["NAME"],
            str(paths["key"]),
            str(paths["checkpoints"]),
            options.sequence_every,
            options.checkpoint_every,
            theirs,
        ),
        name="trail-log",
    )
    process.start()
    try:
        if not ours.poll(120) or ours.recv() != "ready":
            raise RuntimeError("the log process did not start")
        yield ours
    finally:
        if process.is_alive():
            with suppress(OSError):
                ours.send("quit")
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
            process.join()


def _drain() -> int:
    from workflows.trail.log import log_sequence

    total = 0
    while added := log_sequence():
        total += added
    return total


def _appends(options: argparse.Namespace, paths: dict[str, Path]) -> dict[str, Any]:
    from workflows.trail.log import log_size

    plan = []  # A B B A A B ...: a linear drift weighs on both alike
    for r in range(options.rounds):
        plan += ["A", "B"] if r % 2 == 0 else ["B", "A"]
    rates: dict[str, list[float]] = {"A": [], "B": []}
    totals = {"A": [0, 0.0], "B": [0, 0.0]}
    side = {"calls": 0, "checkpoints": 0, "sequenced": 0, "busy": 0.0}
    writers = _Writers(options.writers, options.streams)
    with _log_process(options, paths) as log:
        writers.start()
        try:
            # A short warm-up: connections, streams and caches, out of the timing.
            writers.phase(min(2.0, options.phase_seconds))
            for label in plan:
                _drain()
                if label == "B":
                    log.send("on")
                    assert log.recv() == "started"
                done, seconds = writers.phase(options.phase_seconds)
                if label == "B":
                    log.send("off")
                    report = log.recv()
                    for key in side:
                        side[key] += report[key]
                rates[label].append(done / seconds)
                totals[label][0] += done
                totals[label][1] += seconds
                print(f"    phase {label}: {done / seconds:8,.0f} appends/s", flush=True)
        finally:
            writers.stop()
    _drain()
    pairs = [b / a for a, b in zip(rates["A"], rates["B"], strict=True)]
    rate = {label: count / seconds for label, (count, seconds) in totals.items()}
    return {
        "rate": rate,
        "ratio": rate["B"] / rate["A"],
        "pairs": pairs,
        "side": side,
        "events": log_size(),
    }


# --- 2. sequencing, a checkpoint and proofs at scale ----------------------------------------


def _bulk_insert(first: int, count: int) -> float:
    """``count`` events numbered from ``first`` into one stream, by SQL; returns seconds."""
    from django.db import connection, transaction

    from workflows.models import TrailStream

    stream = TrailStream.objects.get_or_create(name="bench:bulk")[0]
    sql = (
        "INSERT INTO workflows_trailevent (stream_id, seq, at, actor_name, role, action,"
        " from_state, to_state, note, files, data, algorithm, prev_hash, hash)"
        " SELECT %s, g, now(), 'system', '', 'probe', '', '', '', '[]'::jsonb,"
        " '{}'::jsonb, 2, repeat('0', 64),"
        " encode(sha256(convert_to('bench-trail-log-' || g, 'UTF8')), 'hex')"
        " FROM generate_series(%s, %s) AS g"
    )
    start = time.perf_counter()
    done = 0
    while done < count:
        n = min(BULK_CHUNK, count - done)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [stream.pk, first + done, first + done + n - 1])
        done += n
    return time.perf_counter() - start


def _sequencer_plan(batch: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the sequencer's query for one batch, as it runs it."""
    from django.db import connection

    from workflows.models import TrailEvent

    query = TrailEvent.objects.filter(leaf__isnull=True).order_by("id").values_list("id", "hash")
    sql, params = query[:batch].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def _timed(function: Any, *args: Any, repeat: int = 1) -> tuple[Any, float]:
    """The result of the last call, and the median seconds of ``repeat`` calls."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _sequencing(options: argparse.Namespace) -> dict[str, Any]:
    from workflows.trail.checkpoints import checkpoint_cut
    from workflows.trail.log import BATCH, log_consistency, log_inclusion, log_root, log_sequence
    from workflows.trail.merkle import verify_consistency, verify_inclusion

    events = options.events
    insert = _bulk_insert(1, events)
    _vacuum("workflows_trailevent")
    print(f"    {events:,} events inserted in {insert:.1f} s; sequencing", flush=True)
    added, sequence = _timed(log_sequence)
    assert added == events, (added, events)
    checkpoint, cut = _timed(checkpoint_cut)
    assert checkpoint is not None and checkpoint.tree_size == events
    root = bytes.fromhex(checkpoint.root_hash)
    assert log_root(events) == root

    # Proofs at that size: a few leaves, each checked against the signed root (RFC 9162).
    from workflows.models import TrailLeaf

    pick = random.Random(events)
    indices = [pick.randrange(events) for _ in range(5)]
    hashes = dict(TrailLeaf.objects.filter(index__in=indices).values_list("index", "hash"))
    inclusion_times = []
    for index in indices:
        path, seconds = _timed(log_inclusion, index, events)
        inclusion_times.append(seconds)
        verify_inclusion(index, events, bytes.fromhex(hashes[index]), path, root)
    first = events // 2 + 1
    proof, consistency = _timed(log_consistency, first, events, repeat=5)
    verify_consistency(first, events, log_root(first), root, proof)

    # The steady state: the beat's minute of new events on a log of that size.
    _bulk_insert(events + 1, options.steady)
    plan = _sequencer_plan(BATCH)
    minute = functools.partial(log_sequence, sweep=False)
    steady_added, steady = _timed(minute)
    assert steady_added == options.steady
    empty_added, empty = _timed(minute, repeat=3)
    assert empty_added == 0
    # The sweep that each checkpoint runs first: every event without a leaf, whatever its id.
    _, sweep_empty = _timed(log_sequence, repeat=3)
    return {
        "events": events,
        "steady_events": options.steady,
        "insert": insert,
        "sequence": sequence,
        "cut": cut,
        "inclusion": statistics.median(inclusion_times),
        "inclusion_len": len(path),
        "consistency": consistency,
        "consistency_len": len(proof),
        "steady": steady,
        "empty": empty,
        "sweep_empty": sweep_empty,
        "plan": plan,
    }


# --- 3. a bundle: verification against raw hashing ------------------------------------------


def _build_chains(count: int, streams: int) -> float:
    """``count`` events of valid chains over ``streams`` streams, hashed as ``trail_append``
    hashes them and inserted in batches (the heads stay at 0: a bundle takes its heads from
    its events); returns seconds."""
    from django.db import transaction

    from workflows.models import GENESIS_HASH, TrailEvent, TrailStream
    from workflows.trail.append import SYSTEM_ACTOR
    from workflows.trail.chain import ALGORITHM, event_hash, format_at, jsonable

    start = time.perf_counter()
    heads = TrailStream.objects.bulk_create(
        TrailStream(name=f"submission:{n}") for n in range(streams)
    )
    seqs = [0] * streams
    prevs = [GENESIS_HASH] * streams
    base = dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC)
    batch: list[TrailEvent] = []
    for i in range(count):
        s = i % streams
        seqs[s] += 1
        at = base + dt.timedelta(milliseconds=37 * i)
        record = {
            "algorithm": ALGORITHM,
            "stream": heads[s].name,
            "seq": seqs[s],
            "at": format_at(at),
            "actor": SYSTEM_ACTOR,
            "role": "verifier",
            "action": "probe",
            "from_state": "submitted",
            "to_state": "verified",
            "note": f"catatan {i}",
            "files": list(FILES),
            "data": jsonable({"i": i, "version": 2}),
            "prev_hash": prevs[s],
        }
        digest = event_hash(record)
        batch.append(
            TrailEvent(
                stream=heads[s],
                seq=record["seq"],
                at=at,
                actor_name=SYSTEM_ACTOR,
                role=record["role"],
                action=record["action"],
                from_state=record["from_state"],
                to_state=record["to_state"],
                note=record["note"],
                files=record["files"],
                data=record["data"],
                algorithm=ALGORITHM,
                prev_hash=prevs[s],
                hash=digest,
            )
        )
        prevs[s] = digest
        if len(batch) >= BUILD_BATCH:
            with transaction.atomic():
                TrailEvent.objects.bulk_create(batch, batch_size=1000)
            batch.clear()
    if batch:
        with transaction.atomic():
            TrailEvent.objects.bulk_create(batch, batch_size=1000)
    return time.perf_counter() - start


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bundle(options: argparse.Namespace, paths: dict[str, Path]) -> dict[str, Any]:
    from workflows.trail.bundle import verify_bundle
    from workflows.trail.checkpoints import signing_key
    from workflows.trail.export import bundle_export
    from workflows.trail.log import log_sequence

    count = options.bundle_events
    build = _build_chains(count, options.bundle_streams)
    _vacuum("workflows_trailevent")
    print(f"    {count:,} chained events built in {build:.1f} s; exporting", flush=True)
    _, sequence = _timed(log_sequence)
    path = paths["root"] / "bundle.jsonl"
    start = time.perf_counter()
    with path.open("w", encoding="utf-8") as handle:
        counts, checkpoint = bundle_export(handle)
    export = time.perf_counter() - start
    assert counts["event"] == count and checkpoint.tree_size == count, counts
    key = signing_key().verifier
    size = path.stat().st_size
    verify_times: list[float] = []
    sha_times: list[float] = []
    for r in range(options.verify_rounds):
        # Alternate which goes first, so that a warm or cold page cache weighs on both.
        order = ("verify", "sha") if r % 2 == 0 else ("sha", "verify")
        for which in order:
            start = time.perf_counter()
            if which == "verify":
                result = verify_bundle(path, keys=[key])
                verify_times.append(time.perf_counter() - start)
                if not result.intact or result.tree_size != count or result.signed_by != key:
                    raise RuntimeError(
                        f"the bundle does not verify: {result.problems[:3]} {result.breaks[:3]}"
                    )
            else:
                _sha256_file(path)
                sha_times.append(time.perf_counter() - start)
    return {
        "events": count,
        "streams": options.bundle_streams,
        "build": build,
        "sequence": sequence,
        "export": export,
        "bytes": size,
        "verify": statistics.median(verify_times),
        "sha": statistics.median(sha_times),
        "pairs": [s / v for v, s in zip(verify_times, sha_times, strict=True)],
    }


# --- the run and its table ------------------------------------------------------------------


def _us(seconds: float, events: int) -> float:
    return seconds / events * 1e6 if events else 0.0


def _print_appends(options: argparse.Namespace, a: dict[str, Any]) -> None:
    side = a["side"]
    pairs = ", ".join(f"{p:.2f}" for p in a["pairs"])
    verdict = "within" if a["ratio"] >= 0.90 else "OVER"
    print(
        f"  appends  {options.writers} writer threads on {options.streams} streams, "
        f"{options.rounds} rounds of A and B, {options.phase_seconds:g} s a phase "
        f"({a['events']:,} events at the end)"
    )
    print(f"           A trail_append, no log beside     {a['rate']['A']:12,.0f} appends/s")
    print(f"           B trail_append, log beside        {a['rate']['B']:12,.0f} appends/s")
    print(
        f"           ratio B / A                       {a['ratio']:12.3f}"
        f"   ({verdict} the 10% target; per pair {pairs})"
    )
    print(
        f"           log beside, in B: {side['calls']} calls, {side['checkpoints']} checkpoints, "
        f"{side['sequenced']:,} leaves, busy {side['busy']:.2f} s of "
        f"{options.rounds * options.phase_seconds:g} s"
    )


def _print_sequencing(s: dict[str, Any], explain: bool) -> None:
    n = s["events"]
    print(f"  sequence {n:,} events inserted by SQL in {s['insert']:.1f} s")
    print(
        f"           log_sequence, all of them         {s['sequence']:12.2f} s"
        f"   {_us(s['sequence'], n):8.1f} us/event"
    )
    print(f"           checkpoint_cut at {n:,}{' ' * max(1, 16 - len(f'{n:,}'))}{s['cut']:12.3f} s")
    print(
        f"           log_inclusion ({s['inclusion_len']} hashes)        "
        f"{s['inclusion'] * 1e3:12.2f} ms"
    )
    print(
        f"           log_consistency ({s['consistency_len']} hashes)      "
        f"{s['consistency'] * 1e3:12.2f} ms"
    )
    steady = s["steady_events"]
    print(
        f"           log_sequence, {steady:,} more{' ' * max(1, 15 - len(f'{steady:,}'))}"
        f"{s['steady']:12.3f} s   {_us(s['steady'], steady):8.1f} us/event"
    )
    print(f"           log_sequence, nothing new         {s['empty']:12.3f} s")
    print(f"           sweep (each checkpoint), nothing new {s['sweep_empty']:9.3f} s")
    lines = s["plan"] if explain else [s["plan"][0], *[p for p in s["plan"] if "Time" in p]]
    print("           plan of the sequencer's query (one batch, the new events pending):")
    for line in lines:
        print(f"             {line}")


def _print_bundle(b: dict[str, Any]) -> None:
    n, mb = b["events"], b["bytes"] / 1e6
    pairs = ", ".join(f"{p:.4f}" for p in b["pairs"])
    print(
        f"  bundle   {n:,} events in {b['streams']:,} streams, {mb:.1f} MB; built in "
        f"{b['build']:.1f} s, sequenced in {b['sequence']:.1f} s, exported in {b['export']:.1f} s"
    )
    print(
        f"           verify_bundle with the key        {n / b['verify']:12,.0f} events/s"
        f"   {mb / b['verify']:8.1f} MB/s   {b['verify']:7.2f} s"
    )
    print(
        f"           hashlib.sha256 of the file        {n / b['sha']:12,.0f} events/s"
        f"   {mb / b['sha']:8.1f} MB/s   {b['sha']:7.2f} s"
    )
    print(
        f"           ratio verify_bundle / sha256      {b['sha'] / b['verify']:12.4f}"
        f"   (verify {b['verify'] / b['sha']:,.0f}x the time; per pair {pairs})"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the log bench once and print its table."""
    if argv is None:
        argv = shlex.split(os.environ.get("BENCH_TRAIL_LOG_ARGS", ""))
    options = _options(argv)
    workdir = tempfile.TemporaryDirectory(prefix="bench-trail-log-")
    root = Path(workdir.name)
    paths = {"root": root, "key": root / "trail-signing.key", "checkpoints": root / "checkpoints"}
    # For this process and for the log process it spawns, which reads the environment.
    os.environ["TRAIL_SIGNING_KEY_FILE"] = str(paths["key"])
    os.environ["TRAIL_CHECKPOINT_DIR"] = str(paths["checkpoints"])
    scratch = scratch_database("trail_log")
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    try:
        from django.conf import settings
        from django.db import connection

        from workflows.trail.checkpoints import key_generate

        settings.TRAIL_SIGNING_KEY_FILE = paths["key"]
        settings.TRAIL_CHECKPOINT_DIR = paths["checkpoints"]
        key_generate()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        mode = "quick" if options.quick else "full"
        print(f"bench.trail_log ({mode}): PostgreSQL {version}, scratch database {scratch.name}")
        for part in PARTS:
            if part not in options.only:
                continue
            print(f"  {part} ...", flush=True)
            _empty_trail()
            if part == "appends":
                results[part] = _appends(options, paths)
            elif part == "sequencing":
                results[part] = _sequencing(options)
            else:
                results[part] = _bundle(options, paths)
    finally:
        from django.db import connections

        connections.close_all()
        teardown(scratch)
        workdir.cleanup()

    print(
        f"bench.trail_log: scratch database {scratch.name} {fate(scratch)}; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    if "appends" in results:
        _print_appends(options, results["appends"])
    if "sequencing" in results:
        _print_sequencing(results["sequencing"], options.explain)
    if "bundle" in results:
        _print_bundle(results["bundle"])


if __name__ == "__main__":
    # Through the module's own name, so that the log process (spawned) finds its function.
    from bench.trail_log import main as _main

    _main(sys.argv[1:])
