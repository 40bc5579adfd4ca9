"""Trail speed, as ratios measured in one run: ``python -m bench.trail``.

Against the PostgreSQL server of ``DATABASE_URL`` it creates a scratch database
(``<BENCH_DATABASE_PREFIX>trail``, migrated, the append-only guard included), then measures:

- appends: events per second through ``trail_append``, each in its own transaction as the
  actions do (head row lock, sequence, hash), beside a bare INSERT of the same rows, each in its
  own transaction, into a copy of the table with the same indexes and no guard;
- verification: events per second through ``verify_database`` (read, canonical form, SHA-256,
  links, heads) beside ``hashlib.sha256`` alone over the same canonical bytes, and beside a
  bare loop putting the same events (already in memory) in canonical form and hashing them:
  what the walk adds to the work it must do (issue 16 asks at least 0.5).

The scratch database is dropped at the end (``BENCH_KEEP=1`` keeps it). ``BENCH_TRAIL_EVENTS``
sets the number of events (5,000 by default); appending stops early at ``BENCH_TRAIL_SECONDS``
(25 by default) so a busy server still finishes in under a minute. Rates are per event, so the
ratios hold either way.
"""

from __future__ import annotations

import hashlib
import os
import time

from bench._scratch import Scratch, fate, scratch_database, teardown

EVENTS = int(os.environ.get("BENCH_TRAIL_EVENTS", "5000"))
APPEND_SECONDS = float(os.environ.get("BENCH_TRAIL_SECONDS", "25"))
STREAMS = 50  # like many short submission streams rather than one hot stream
COPY_TABLE = "bench_trail_copy"
COLUMNS = (
    "stream_id, seq, at, actor_id, actor_name, role, action, from_state, to_state, note,"
    " files, data, submission_id, body_id, algorithm, prev_hash, hash"
)


def _scratch_database() -> Scratch:
    return scratch_database("trail")


def _time_appends(count: int, budget: float) -> tuple[int, float]:
    from django.db import transaction

    from workflows.trail.append import trail_append

    files = [{"name": "bukti.pdf", "sha256": hashlib.sha256(b"bukti").hexdigest()}]
    start = time.perf_counter()
    done = 0
    for i in range(count):
        if time.perf_counter() - start > budget:
            break
        done += 1
        with transaction.atomic():
            trail_append(
                stream=f"bench:{i % STREAMS}",
                action="probe",
                actor=None,
                role="verifier",
                from_state="submitted",
                to_state="verified",
                note=f"catatan {i}",
                files=files,
                data={"i": i, "version": 2},
            )
    return done, time.perf_counter() - start


def _time_bare_inserts() -> tuple[int, float]:
    """The same rows, one bare INSERT per transaction, into an unguarded copy of the table."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {COPY_TABLE} (LIKE workflows_trailevent INCLUDING ALL)")
        cursor.execute(
            f"SELECT {COLUMNS.replace('files, data', 'files::text, data::text')}"
            " FROM workflows_trailevent ORDER BY id"
        )
        rows = cursor.fetchall()
    marks = ", ".join(["%s"] * 10 + ["%s::jsonb", "%s::jsonb"] + ["%s"] * 5)
    sql = f"INSERT INTO {COPY_TABLE} ({COLUMNS}) VALUES ({marks})"
    start = time.perf_counter()
    for row in rows:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, row)
    return len(rows), time.perf_counter() - start


def _time_verify() -> tuple[int, float, int]:
    from workflows.trail.reading import verify_database

    start = time.perf_counter()
    checker, breaks = verify_database()
    elapsed = time.perf_counter() - start
    return checker.events, elapsed, len(breaks)


def _time_sha256() -> tuple[int, float]:
    from workflows.trail.chain import canonical
    from workflows.trail.reading import database_records

    blobs = [canonical(record) for record in database_records()]
    start = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(blob).hexdigest()
    return len(blobs), time.perf_counter() - start


def _time_canonical_and_hash() -> tuple[int, float]:
    """The bare loop verification is held against: the same events, already in memory as
    records, put in canonical form and hashed, and nothing else."""
    from workflows.trail.chain import event_hash
    from workflows.trail.reading import database_records

    records = list(database_records())
    start = time.perf_counter()
    for record in records:
        event_hash(record)
    return len(records), time.perf_counter() - start


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> None:
    """Run the trail bench once and print the rates and their ratios."""
    scratch = _scratch_database()
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        appended, append_time = _time_appends(EVENTS, APPEND_SECONDS)
        inserted, bare = _time_bare_inserts()
        verified, walk, breaks = _time_verify()
        hashed, sha = _time_sha256()
        looped, bare_loop = _time_canonical_and_hash()
    finally:
        teardown(scratch)

    append_rate, insert_rate = _rate(appended, append_time), _rate(inserted, bare)
    verify_rate, sha_rate = _rate(verified, walk), _rate(hashed, sha)
    loop_rate = _rate(looped, bare_loop)
    print(
        f"bench.trail: {appended} events in {STREAMS} streams, PostgreSQL {version}, "
        f"scratch database {scratch.name} ({fate(scratch)})"
    )
    if appended < EVENTS:
        print(f"  (appending stopped after {APPEND_SECONDS:g} s of the {EVENTS} events asked)")
    print(f"  append  trail_append, one transaction each  {append_rate:12,.0f} events/s")
    print(f"          bare INSERT, one transaction each   {insert_rate:12,.0f} rows/s")
    print(f"          ratio trail_append / bare INSERT    {append_rate / insert_rate:12.2f}")
    print(f"  verify  verify_database                     {verify_rate:12,.0f} events/s")
    print(f"          hashlib.sha256 of canonical bytes   {sha_rate:12,.0f} events/s")
    print(f"          ratio verify_database / sha256      {verify_rate / sha_rate:12.4f}")
    print(f"          canonical form + sha256, bare loop  {loop_rate:12,.0f} events/s")
    print(
        f"          ratio verify_database / bare loop   {verify_rate / loop_rate:12.4f}"
        "   (asked: >= 0.5)"
    )
    if breaks:
        print(f"  WARNING: verification found {breaks} broken streams")


if __name__ == "__main__":
    main()
