"""SLA sweep cost per timer at two sizes, as a ratio measured in one run:
``python -m bench.sla_sweep`` (needs ``DATABASE_URL`` naming a PostgreSQL server).

In a scratch database (``<BENCH_DATABASE_PREFIX>sla``, created by this run, dropped at the end)
it creates ``N`` open timers for each size of ``BENCH_SLA_SIZES`` (``1000,100000`` by default),
a fixed share of them overdue (``BENCH_SLA_OVERDUE``, 2% by default), and times one sweep as of
a moment after their due time: the set-based scan and claim of the overdue timers, then the
announcement (trail event and notifications) of each. Timers of an earlier size stay, already
escalated. It prints the time per open timer at each size and the ratio of the largest size to
the smallest; the cost must grow no faster than linearly, so the ratio should stay near 1.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from bench._scratch import Scratch, scratch_database, teardown

SIZES = [int(s) for s in os.environ.get("BENCH_SLA_SIZES", "1000,100000").split(",") if s]
OVERDUE_SHARE = float(os.environ.get("BENCH_SLA_OVERDUE", "0.02"))
BATCH = 5000


def _scratch_database() -> Scratch:
    return scratch_database("sla")


def _world() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from kla.models import Body, BodyKind, Instruction
    from roles.models import Membership

    User = get_user_model()
    instruction = Instruction.objects.create(
        number=2,
        year=2026,
        title="Bench",
        issued_on=dt.date(2026, 3, 17),
        deadline=dt.date(2026, 4, 1),
    )
    bodies = [
        Body.objects.create(code=f"b{n}", name=f"Body {n}", kind=BodyKind.PERANGKAT_DAERAH)
        for n in range(20)
    ]
    operator = User.objects.create(username="op", email="op@example.test")
    for b in bodies:
        Membership.objects.create(user=operator, body=b)
    consolidator = User.objects.create(username="bapperida", email="b@example.test")
    consolidator.groups.add(Group.objects.get_or_create(name="consolidator")[0])
    return {"instruction": instruction, "bodies": bodies, "operator": operator}


def _open_timers(world: dict[str, Any], count: int, due_past: dt.datetime) -> None:
    """``count`` submissions in ``verified`` with an open timer; a share of them overdue."""
    from kla.models import Submission
    from workflows.models import Timer

    overdue_every = max(1, round(1 / OVERDUE_SHARE)) if OVERDUE_SHARE > 0 else 0
    started = due_past - dt.timedelta(days=3)
    future = due_past + dt.timedelta(days=365)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        # bulk_create sends no post_save: the timers are written here, as the bench wants.
        subs = Submission.objects.bulk_create(
            Submission(
                instruction=world["instruction"],
                body=world["bodies"][(made + i) % len(world["bodies"])],
                category="regulation",
                title=f"S{made + i}",
                state="verified",
                created_by=world["operator"],
                first_submitted_at=started,
            )
            for i in range(size)
        )
        Timer.objects.bulk_create(
            Timer(
                submission=s,
                step="verified",
                started_at=started,
                due_at=due_past if overdue_every and (made + i) % overdue_every == 0 else future,
            )
            for i, s in enumerate(subs)
        )
        made += size


def _measure(world: dict[str, Any], count: int) -> tuple[float, int]:
    from kla.time import WIB
    from workflows.sla.sweep import sla_sweep

    due = dt.datetime(2026, 3, 27, 23, 59, tzinfo=WIB)
    _open_timers(world, count, due)
    start = time.perf_counter()
    # After the deadline day: no reminder is owed, so the sweep's work is the timers'.
    result = sla_sweep(now=dt.datetime(2026, 4, 2, 10, tzinfo=WIB), send_emails=False)
    elapsed = time.perf_counter() - start
    return elapsed, result.escalations


def main() -> None:
    scratch = _scratch_database()
    try:
        world = _world()
        results = []
        for count in SIZES:
            elapsed, sent = _measure(world, count)
            per = elapsed / count
            results.append((count, per))
            print(
                f"sla sweep: {count:>7} open timers, {sent:>5} escalated: "
                f"{elapsed:8.3f} s, {per * 1e6:8.1f} us per timer",
                flush=True,
            )
        if len(results) > 1:
            (small, per_small), (large, per_large) = results[0], results[-1]
            print(
                f"sla sweep: time per timer at {large} / at {small} = {per_large / per_small:.2f} "
                "(linear or better: <= ~1)"
            )
    finally:
        teardown(scratch)


if __name__ == "__main__":
    main()
