"""The escalation sweep with several workers over a whole deployment: ``python -m bench
sweep_workers``.

It writes a world ``BENCH_SCALE`` cities large (50 by default; 514 is the national world of
about 449,000 open steps in the issue, ``bench/_world.py``) into a scratch database
(``<BENCH_DATABASE_PREFIX>sweep_workers``), moves every open step's due time into the past,
and times ``BENCH_WORKERS`` (2) forked processes each running the escalation sweep at once,
as two Celery workers would: batches claimed with ``skip_locked``, set-based inserts under the
UNIQUE constraint, one bulk append to the trail a batch. It prints the open steps, the
escalations sent (each exactly once, checked), the time, the rate and the time the rate gives
for 449,000 steps (the issue asks under five minutes), and checks every chain afterwards.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from typing import Any

from bench._scratch import fate, scratch_database, teardown

SCALE = int(os.environ.get("BENCH_SCALE", "50"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
NATIONAL = 449_000


def _sweep(now: dt.datetime, out: Any) -> None:
    from django.db import connections

    from workflows.sla.sweep import escalations_send

    connections.close_all()  # the parent's connection is not this process's
    out.put(escalations_send(now=now))


def main() -> None:
    scratch = scratch_database("sweep_workers")
    try:
        from django.db import connections
        from django.utils import timezone

        from bench._world import build_world
        from workflows.models import Escalation, Timer
        from workflows.trail.reading import verify_database

        build_world(SCALE)
        late = timezone.now() + dt.timedelta(days=400)
        Timer.objects.filter(closed_at__isnull=True, due_at__isnull=True).update(
            due_at=timezone.now()
        )
        open_steps = Timer.objects.filter(closed_at__isnull=True).count()
        before = Escalation.objects.count()
        connections.close_all()
        context = multiprocessing.get_context("fork")
        out = context.Queue()
        workers = [context.Process(target=_sweep, args=(late, out)) for _ in range(WORKERS)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        sent = [out.get() for _ in workers]
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        escalated = Escalation.objects.count() - before
        once = escalated == sum(sent) == open_steps
        _checker, breaks = verify_database()
    finally:
        teardown(scratch)
    rate = sum(sent) / elapsed if elapsed else float("inf")
    print(
        f"bench.sweep_workers: world x{SCALE}, {WORKERS} workers, scratch database "
        f"{scratch.name} ({fate(scratch)})"
    )
    print(f"  open steps past due          {open_steps:12,d}")
    print(f"  escalated (per worker)       {sum(sent):12,d}  {sent}")
    print(f"  each exactly once            {'yes' if once else 'NO'}")
    print(f"  time                         {elapsed:12.1f} s  ({rate:,.0f} escalations/s)")
    print(f"  {NATIONAL:,} steps at this rate  {NATIONAL / rate / 60:12.1f} min   (asked: < 5 min)")
    print(f"  chains after the sweep       {'intact' if not breaks else f'{len(breaks)} broken'}")
