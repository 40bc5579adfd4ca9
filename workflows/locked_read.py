"""What an action reads once it holds its submission's row lock, in one statement.

``workflows.services.submission_act`` locks the submission first; everything else it needs
to decide and to write comes from one query of the submission's stream head, locked:

- the head itself (``seq``, ``head_hash``): the trail event is appended to it;
- what four eyes asks of the trail (``workflows.four_eyes.facts_annotations``);
- the working calendar's revision, so the process's kept calendar serves when it is current
  (``WorkCalendar.of_revision``);
- for a hand-in (submit, resubmit): whether the instruction still addresses the body, whether
  a reviewer ever returned it (lateness), its indicators and its current files with their
  kinds and requirements (completeness, and what the trail records was handed in).

Read after the submission's lock, never with it: a locking read that waited sees the rows it
locked as committed but everything else as it was before the wait. The files and indicators
change only under the submission's lock, which is held, so this statement sees them as they
are. The trail can move without it (a reviewer's download appends to the stream holding only
the head's lock): when this statement waited for the head, the newest event it saw is older
than the head it locked, and it is read again, holding the lock now, so without a wait.

PostgreSQL reads it all in the one statement; SQLite (the embedded demo, where nothing runs
at the same time as a write: its writes take the database's lock) reads the indicators and
the files in two more.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.aggregates import JSONBAgg
from django.contrib.postgres.expressions import ArraySubquery
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.db.transaction import TransactionManagementError

from kla.models import Evidence, Instruction, Submission
from roles.roles import Roles
from roles.selectors import sees
from workflows.compiled import CompiledQuery, bind, compiled_cursor
from workflows.four_eyes import ActionFacts, facts_annotations, facts_of
from workflows.models import CalendarRevision, TrailEvent, TrailStream
from workflows.sla.calendar import WorkCalendar

Addressee = Instruction.addressees.through
Link = Submission.indicators.through
Tag = Evidence.requirements.through


@dataclass
class LockedRead:
    """What ``read_locked`` found; the hand-in's fields are empty for other actions."""

    head: TrailStream
    facts: ActionFacts
    calendar: WorkCalendar
    addressed: bool = True
    returned: bool = False
    indicators: list[int] = field(default_factory=list)
    # Each current file: evidence id, name, sha256, kind and requirement codes, in upload order.
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        return {f["kind"] for f in self.files}


def _current_files(submission_id: int) -> QuerySet[Evidence]:
    return Evidence.objects.filter(submission_id=submission_id, removed_at__isnull=True)


def _file(evidence: int, name: str, sha256: str, kind: str, codes: list[str]) -> dict[str, Any]:
    return {
        "evidence": evidence,
        "name": name,
        "sha256": sha256,
        "kind": kind,
        "requirements": sorted(codes),
    }


def _query(user: User, submission: Submission, *, handing_in: bool) -> QuerySet[TrailStream]:
    revision = CalendarRevision.objects.order_by("pk").values("token")[:1]
    newest = TrailEvent.objects.filter(stream_id=OuterRef("pk")).order_by("-seq")
    annotations: dict[str, Any] = {
        **facts_annotations(user, submission.pk),
        "calendar_token": Subquery(revision),
        "newest_seq": Subquery(newest.values("seq")[:1]),
    }
    if handing_in:
        annotations["addressed"] = Exists(
            Addressee.objects.filter(
                instruction_id=submission.instruction_id, body_id=submission.body_id
            )
        )
        annotations["returned"] = Exists(
            TrailEvent.objects.filter(submission_id=submission.pk, action="return")
        )
        if connection.vendor == "postgresql":
            annotations |= _hand_in_postgresql(submission.pk)
    return TrailStream.objects.filter(name=submission.stream).annotate(**annotations)


def _hand_in_postgresql(submission_id: int) -> dict[str, Any]:
    """The indicators and current files as arrays of the same statement."""
    codes = ArraySubquery(
        Tag.objects.filter(evidence_id=OuterRef("pk")).values("requirement__code")
    )
    files = (
        _current_files(submission_id)
        .order_by()
        .values("submission_id")
        .annotate(
            files=JSONBAgg(
                JSONObject(
                    evidence="pk", name="name", sha256="sha256", kind="kind", requirements=codes
                ),
                order_by=("uploaded_at", "id"),
            )
        )
        .values("files")
    )
    return {
        "indicator_numbers": ArraySubquery(
            Link.objects.filter(submission_id=submission_id).values("indicator__number")
        ),
        "current_files": Subquery(files),
    }


# Stand-ins for the person, the submission, its instruction and body in the compiled query.
USER_MARK, SUBMISSION_MARK = -7_700_000_011, -7_700_000_012
INSTRUCTION_MARK, BODY_MARK = -7_700_000_013, -7_700_000_014
STREAM_MARK = Submission(pk=SUBMISSION_MARK).stream
HEAD_COLUMNS = ("id", "name", "seq", "head_hash")


@cache
def _compiled(vendor: str, handing_in: bool) -> tuple[str, tuple[Any, ...], tuple[str, ...]]:
    """The read's SQL, compiled once per process and kind of action with stand-ins for what
    changes from one action to the next (compiling its many subqueries anew cost more than
    running them), its parameters and the names of its columns."""
    query = _query(
        User(pk=USER_MARK),
        Submission(pk=SUBMISSION_MARK, instruction_id=INSTRUCTION_MARK, body_id=BODY_MARK),
        handing_in=handing_in,
    )
    columns = (*HEAD_COLUMNS, *query.query.annotations)
    compiled = query.select_for_update().order_by().values(*columns)
    sql, params = compiled.query.sql_with_params()
    assert STREAM_MARK in params and params.count(SUBMISSION_MARK) >= 1
    return sql, tuple(params), columns


@cache
def _locking(vendor: str) -> CompiledQuery:
    """The submission's locking read, compiled once per process with a stand-in for its id:
    one statement for everybody (prepared once per connection), whose row ``sees`` then
    checks against the person's roles."""
    return CompiledQuery.of(
        Submission.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instruction", "body")
        .filter(pk=SUBMISSION_MARK)
        .order_by()  # by its key alone: an order by another index would walk that index
    )


def lock_submission(roles: Roles, submission_id: int) -> Submission | None:
    """The submission, its instruction and body, with its row locked (NO KEY: the rows that
    point at it may still be written), if a person of these roles may see it; ``None`` if
    not (its lock is let go with the transaction the refusal rolls back)."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_submission runs inside the action's transaction")
    found = _locking(connection.vendor).instances({SUBMISSION_MARK: submission_id})
    return found[0] if found and sees(roles, found[0]) else None


def _run(user: User, submission: Submission, *, handing_in: bool) -> dict[str, Any] | None:
    sql, params, columns = _compiled(connection.vendor, handing_in)
    values = bind(
        params,
        {
            USER_MARK: user.pk,
            SUBMISSION_MARK: submission.pk,
            INSTRUCTION_MARK: submission.instruction_id,
            BODY_MARK: submission.body_id,
            STREAM_MARK: submission.stream,
        },
    )
    with compiled_cursor() as running:
        running.execute(sql, values)
        row = running.fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def _head_locked(user: User, submission: Submission, *, handing_in: bool) -> dict[str, Any]:
    row = _run(user, submission, handing_in=handing_in)
    if row is not None:
        return row
    try:
        with transaction.atomic():
            TrailStream.objects.create(name=submission.stream)
    except IntegrityError:
        pass  # another transaction created it first; the lock below waits for it
    row = _run(user, submission, handing_in=handing_in)
    assert row is not None, "the stream head exists now"
    return row


def _stream(row: dict[str, Any]) -> TrailStream:
    """The head as a model instance, as the database has it (nothing read again)."""
    return TrailStream.from_db(
        connection.alias, list(HEAD_COLUMNS), [row[name] for name in HEAD_COLUMNS]
    )


def _loaded(value: Any) -> Any:
    """A JSON column as Python: PostgreSQL's driver hands ``jsonb`` over as text to Django."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def read_locked(user: User, submission: Submission, *, handing_in: bool) -> LockedRead:
    """Lock the submission's stream head and read what the action needs (see the module's
    docstring); the caller holds the submission's row lock."""
    row = _head_locked(user, submission, handing_in=handing_in)
    if row["seq"] != (row["newest_seq"] or 0):
        # It waited for the head: read again (holding the lock now, it does not wait).
        again = _run(user, submission, handing_in=handing_in)
        assert again is not None
        row = again
    token = row["calendar_token"]
    found = LockedRead(
        head=_stream(row),
        facts=facts_of(user, row),
        calendar=WorkCalendar.of_revision(uuid.UUID(str(token)) if token else None),
    )
    if not handing_in:
        return found
    found.addressed, found.returned = bool(row["addressed"]), bool(row["returned"])
    if connection.vendor == "postgresql":
        found.indicators = sorted(row["indicator_numbers"] or [])
        found.files = [
            _file(f["evidence"], f["name"], f["sha256"], f["kind"], f["requirements"] or [])
            for f in _loaded(row["current_files"]) or []
        ]
        return found
    found.indicators = sorted(
        Link.objects.filter(submission_id=submission.pk).values_list("indicator__number", flat=True)
    )
    current = _current_files(submission.pk).prefetch_related("requirements")
    found.files = [
        _file(e.pk, e.name, e.sha256, e.kind, [r.code for r in e.requirements.all()])
        for e in current
    ]
    return found
