"""Actions against a bare locked transition, as ratios measured in one run:
``python -m bench actions``.

In a scratch database (``<BENCH_DATABASE_PREFIX>actions``) it hands in ``BENCH_ACTIONS``
submissions (2,000 by default) for each measurement and then times, one transaction each:

- ``submission_act(..., action="approve")`` by a verifier whose roles were read once (as the
  pages and the API pass them): the lock, four eyes, the state and due time, the trail event,
  the notifications, the timer and the summary rows;
- a bare locked transition of other submissions: ``SELECT ... FOR UPDATE`` of the row and one
  ``UPDATE`` of its state and version, nothing else;

in one process, then in ``BENCH_PROCESSES`` (4) forked processes each taking its share, and
prints both rates, their ratio (the issue asks for at least 0.15), the statements of one
approve (at most 10 asked; idempotency bookkeeping aside) and whether the compiled statements
ran prepared (``DATABASE_PREPARED_STATEMENTS=false`` measures them without).
"""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from bench._scratch import fate, scratch_database, teardown

ACTIONS = int(os.environ.get("BENCH_ACTIONS", "2000"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "4"))
BODIES = 40


def _world() -> tuple[Any, Any, list[Any], Any]:
    """An instruction addressed to ``BODIES`` bodies, the 24 indicators, an operator, a
    verifier of every body and a consolidator (who is told of each approval)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from kla.models import Body, BodyKind, Indicator, Instruction
    from roles.roles import VERIFY_CODENAME, Role

    User = get_user_model()
    instruction = Instruction.objects.create(
        number=2,
        year=2025,
        title="Bench",
        issued_on=dt.date(2025, 3, 17),
        deadline=dt.date(2025, 12, 31),
        is_current=True,
    )
    bodies = Body.objects.bulk_create(
        Body(code=f"b{n}", name=f"Perangkat {n}", kind=BodyKind.PERANGKAT_DAERAH)
        for n in range(BODIES)
    )
    instruction.addressees.add(*bodies)
    csv_path = Path(__file__).resolve().parents[1] / "kla" / "data" / "indicators.csv"
    with csv_path.open(encoding="utf-8") as handle:
        Indicator.objects.bulk_create(
            Indicator(number=int(r["number"]), cluster=r["cluster"], name=r["name"])
            for r in csv.DictReader(handle)
        )
    operator = User.objects.create(username="op", email="op@example.test")
    verifier = User.objects.create(username="verifikator", email="v@example.test")
    consolidator = User.objects.create(username="bapperida", email="b@example.test")
    verifiers, _made = Group.objects.get_or_create(name=Role.VERIFIER.value)
    verifiers.permissions.add(
        Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
    )
    verifier.groups.add(verifiers)
    consolidator.groups.add(Group.objects.get_or_create(name=Role.CONSOLIDATOR.value)[0])
    return instruction, operator, bodies, verifier


def _submitted(instruction: Any, operator: Any, bodies: list[Any], count: int) -> list[int]:
    """``count`` submissions handed in, each with its indicator, submit event, open timer and
    summary rows, as the service leaves them."""
    from django.db import transaction
    from django.utils import timezone

    from kla.models import Indicator, Submission
    from workflows import summaries
    from workflows.models import Timer
    from workflows.sla.timers import due_for
    from workflows.trail.append import trail_append_many

    now = timezone.now()
    rows = Submission.objects.bulk_create(
        Submission(
            instruction=instruction,
            body=bodies[n % len(bodies)],
            category="regulation",
            title=f"Perwali {n}",
            state="submitted",
            first_submitted_at=now,
            created_by=operator,
        )
        for n in range(count)
    )
    seventeen = Indicator.objects.get(number=17)
    Submission.indicators.through.objects.bulk_create(
        Submission.indicators.through(submission_id=s.pk, indicator_id=seventeen.pk) for s in rows
    )
    with transaction.atomic():
        trail_append_many(
            {
                "stream": s.stream,
                "action": "submit",
                "actor": operator,
                "role": "operator",
                "from_state": "draft",
                "to_state": "submitted",
                "submission": s,
                "body": s.body,
            }
            for s in rows
        )
    Timer.objects.bulk_create(
        Timer(submission=s, step="submitted", started_at=now, due_at=due_for(s, at=now))
        for s in rows
    )
    summaries.rebuild(instruction.pk)
    return [s.pk for s in rows]


def _approve(user_id: int, ids: list[int]) -> float:
    from django.contrib.auth import get_user_model

    from roles.roles import roles_of
    from workflows.services import submission_act

    user = get_user_model().objects.get(pk=user_id)
    roles = roles_of(user)
    start = time.perf_counter()
    for pk in ids:
        submission_act(user=user, submission_id=pk, action="approve", roles=roles)
    return time.perf_counter() - start


def _bare(_user_id: int, ids: list[int]) -> float:
    from django.db import connection, transaction

    from kla.models import Submission

    table = Submission._meta.db_table
    start = time.perf_counter()
    for pk in ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, state, version FROM {table} WHERE id = %s FOR UPDATE", [pk])
            cursor.fetchone()
            cursor.execute(
                f"UPDATE {table} SET state = 'verified', version = version + 1 WHERE id = %s",
                [pk],
            )
    return time.perf_counter() - start


def _child(work: Any, user_id: int, ids: list[int], out: Any) -> None:
    from django.db import connections

    connections.close_all()  # the parent's connection is not this process's
    out.put(work(user_id, ids))


def _parallel(work: Any, user_id: int, ids: list[int], processes: int) -> float:
    """Wall time for ``processes`` forked processes to do ``work`` over their shares."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    shares = [ids[i::processes] for i in range(processes)]
    start = time.perf_counter()
    children = [
        context.Process(target=_child, args=(work, user_id, share, out)) for share in shares
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()
    for _ in children:
        out.get()
    return time.perf_counter() - start


def _statements(user_id: int, first: int, pk: int) -> int:
    """The statements of one approve after a first one in this process (which builds the
    calendar and compiles the statements kept for the next)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roles.roles import roles_of
    from workflows.services import submission_act

    user = get_user_model().objects.get(pk=user_id)
    roles = roles_of(user)
    submission_act(user=user, submission_id=first, action="approve", roles=roles)
    with CaptureQueriesContext(connection) as captured:
        submission_act(user=user, submission_id=pk, action="approve", roles=roles)
    return sum(
        1
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    )


def main() -> None:
    scratch = scratch_database("actions")
    try:
        instruction, operator, bodies, verifier = _world()
        one = _submitted(instruction, operator, bodies, ACTIONS + 2)
        bare_one = _submitted(instruction, operator, bodies, ACTIONS)
        statements = _statements(verifier.pk, one.pop(), one.pop())
        approve_time = _approve(verifier.pk, one)
        bare_time = _bare(verifier.pk, bare_one)
        many = _submitted(instruction, operator, bodies, ACTIONS)
        bare_many = _submitted(instruction, operator, bodies, ACTIONS)
        approve_par = _parallel(_approve, verifier.pk, many, PROCESSES)
        bare_par = _parallel(_bare, verifier.pk, bare_many, PROCESSES)
    finally:
        teardown(scratch)
    from django.conf import settings

    prepared = "yes" if settings.DATABASE_PREPARED_STATEMENTS else "no"
    rate = len(one) / approve_time
    bare = len(bare_one) / bare_time
    rate_par = len(many) / approve_par
    bare_rate_par = len(bare_many) / bare_par
    print(
        f"bench.actions: {ACTIONS} approvals each way, scratch database {scratch.name} "
        f"({fate(scratch)})"
    )
    print(f"  statements of one approve (BEGIN, COMMIT aside)  {statements:10d}   (asked: <= 10)")
    print(f"  compiled statements prepared                     {prepared:>10}")
    print(f"  1 process   approve {rate:10,.0f}/s   bare locked transition {bare:10,.0f}/s")
    print(f"              ratio approve / bare            {rate / bare:10.3f}   (asked: >= 0.15)")
    print(
        f"  {PROCESSES} processes approve {rate_par:10,.0f}/s   "
        f"bare locked transition {bare_rate_par:10,.0f}/s"
    )
    print(
        f"              ratio approve / bare            {rate_par / bare_rate_par:10.3f}"
        "   (asked: >= 0.15)"
    )
