"""The auditors' side of the trail: chain status per stream, the filtered trail, its exports.

Who reads which trail row follows DESIGN: an event about a submission is read by whoever may
see the submission (``visible_to``), so a draft never submitted stays private to its body even
here; the ``body:<code>`` and ``system`` streams (memberships, roles, reminders, exports) are
read by auditors alone, who "read everything reviewers read, including the trail". Verifiers
and consolidators may open the trail page for the submissions they see, read-only; exporting it
is the auditor's (Inspektorat's) and is itself an event in the ``system`` stream.

Chain status reuses ``ChainChecker``: the hashing lives in one place only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kla.errors import Forbidden, NotVisible
from kla.models import Submission
from kla.time import WIB
from roles.permissions import may_export_trail, may_read_every_stream, may_read_trail
from roles.roles import Role, Roles, roles_of
from roles.selectors import visibility_filter
from workflows.models import TrailEvent, TrailStream
from workflows.trail.append import (
    PUBLIC_FIELDS,
    RECORD_COLUMNS,
    SYSTEM_STREAM,
    record_of,
    trail_append,
)
from workflows.trail.chain import Break, ChainChecker, verify_records

SUBMISSION_PREFIX = "submission:"
EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_FIELDS = ("stream", *PUBLIC_FIELDS)


@dataclass(frozen=True)
class ChainStatus:
    """Whether one stream's chain is intact, else its first broken ``seq`` and why."""

    stream: str
    events: int
    head_seq: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


@dataclass(frozen=True)
class TrailFilters:
    """The filters of the trail page; empty values filter nothing. Dates are WIB days."""

    body: str = ""
    actor: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_data(self) -> dict[str, str]:
        """The filters given, as text, for the export's trail event."""
        return {k: str(v) for k, v in asdict(self).items() if v not in ("", None)}


def _readable_rows(roles: Roles) -> Q:
    # The visibility rule on the event's own submission, read through the join the page
    # makes anyway (one row by its key per event), not an EXISTS: PostgreSQL prices a
    # subquery as if it ran for every event of the trail rather than for a page's fifty, so
    # with many submissions it hashed every visible one first (13 ms of a page's 22 with
    # 50,000), a cost that grows with the deployment whatever the page shows.
    visible = visibility_filter(roles, through="submission__")
    rows = visible if visible is not None else Q(pk__in=[])
    if may_read_every_stream(roles):
        # Body and system streams; a submission stream never counts as one of them, even
        # for a row whose foreign key was lost, so a private draft cannot leak that way.
        rows |= Q(submission__isnull=True) & ~Q(stream__name__startswith=SUBMISSION_PREFIX)
    return rows


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=WIB)


def trail_query(
    *,
    user: User | AnonymousUser,
    filters: TrailFilters,
    roles: Roles | None = None,
) -> QuerySet[TrailEvent]:
    """The trail events this person may read that match the filters (unordered).

    Raises ``NotVisible`` for people who may not read the trail (operators, people without
    a role), so the page answers 404 for them.
    """
    roles = roles if roles is not None else roles_of(user)
    if not may_read_trail(roles):
        raise NotVisible(_("Halaman tidak ditemukan."))
    qs = TrailEvent.objects.filter(_readable_rows(roles))
    if filters.body:
        qs = qs.filter(Q(body__code=filters.body) | Q(submission__body__code=filters.body))
    if filters.actor:
        qs = qs.filter(actor_name__iexact=filters.actor)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return qs.select_related("stream")


def _statuses(names: list[str]) -> dict[str, ChainStatus]:
    heads = {
        name: (seq, head_hash)
        for name, seq, head_hash in TrailStream.objects.filter(name__in=names).values_list(
            "name", "seq", "head_hash"
        )
    }
    checker = ChainChecker()
    # Plain rows of the stored columns, as the whole trail's walk reads them: a page walks
    # every event of up to fifty streams, and making a model instance of each cost more
    # than a tenth of that walk.
    rows = (
        TrailEvent.objects.filter(stream__name__in=names)
        .order_by("stream__name", "seq")
        .values_list("stream__name", *RECORD_COLUMNS)
    )
    counts: dict[str, int] = dict.fromkeys(names, 0)
    for row in rows.iterator(chunk_size=2000):
        checker.feed(record_of(row[0], row[1:]))
        counts[row[0]] += 1
    first = {b.stream: b for b in reversed(checker.finish(heads))}
    return {
        name: ChainStatus(
            stream=name,
            events=counts[name],
            head_seq=heads.get(name, (0, ""))[0],
            broken_seq=first[name].seq if name in first else None,
            reason=first[name].reason if name in first else "",
        )
        for name in names
    }


def trail_chains_status(*, streams: Iterable[str]) -> dict[str, ChainStatus]:
    """Re-walk the named streams' chains and compare each with its head (one pass)."""
    return _statuses(sorted(set(streams)))


def trail_chain_status(*, stream: str) -> ChainStatus:
    """Re-walk one stream's chain: intact, or the first broken ``seq`` and the reason."""
    return _statuses([stream])[stream]


def submission_chain_for(*, roles: Roles, submission: Submission) -> ChainStatus | None:
    """The chain status the submission page shows to reviewers and auditors; else ``None``.

    The caller has already loaded the submission through ``visible_to``.
    """
    if not may_read_trail(roles):
        return None
    return trail_chain_status(stream=submission.stream)


@transaction.atomic
def trail_export_record(
    *,
    user: User,
    filters: TrailFilters,
    fmt: str,
    roles: Roles | None = None,
    given: dict[str, str] | None = None,
) -> TrailEvent:
    """Record, in the ``system`` stream, that this person downloads the filtered trail.

    Checks in the house order: may not read the trail 404, may read but not export 403.
    The event commits before the rows stream out, so a download is never left unrecorded.
    ``given`` is every filter the page applied, as text, when it applies more than ``filters``.
    """
    roles = roles if roles is not None else roles_of(user)
    if not may_read_trail(roles):
        raise NotVisible(_("Halaman tidak ditemukan."))
    if not may_export_trail(roles):
        raise Forbidden(_("Hanya auditor (Inspektorat) yang dapat mengunduh jejak."))
    if fmt not in EXPORT_FORMATS:
        raise NotVisible(_("Format unduhan tidak dikenal."))
    return trail_append(
        stream=SYSTEM_STREAM,
        action="trail_export",
        actor=user,
        role=Role.AUDITOR,
        data={"format": fmt, "filters": given if given is not None else filters.as_data()},
    )


def trail_export_rows(queryset: QuerySet[TrailEvent]) -> Iterator[dict[str, Any]]:
    """The export's rows, chain by chain in ``seq`` order; times in WIB with their offset."""
    ordered = queryset.order_by("stream__name", "seq")
    for event in ordered.iterator(chunk_size=2000):
        yield {
            "stream": event.stream.name,
            "seq": event.seq,
            "at": event.at.astimezone(WIB).isoformat(),
            "actor": event.actor_name,
            "role": event.role,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "note": event.note,
            "files": [{"name": f["name"], "sha256": f["sha256"]} for f in event.files],
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


def database_records(names: Mapping[int, str] | None = None) -> Iterator[dict[str, Any]]:
    """Every stored event as a record (``event_record``'s mapping), each stream's in ``seq``
    order: read as plain rows in the order of the ``(stream, seq)`` index, with the streams'
    names looked up once, so the walk costs little more than the hashing it checks."""
    if names is None:
        names = dict(TrailStream.objects.values_list("pk", "name"))
    rows = TrailEvent.objects.order_by("stream_id", "seq").values_list("stream_id", *RECORD_COLUMNS)
    for row in rows.iterator(chunk_size=5000):
        yield record_of(names[row[0]], row[1:])


def database_heads() -> dict[str, tuple[int, str]]:
    return {
        name: (seq, h)
        for name, seq, h in TrailStream.objects.values_list("name", "seq", "head_hash")
    }


def verify_database() -> tuple[ChainChecker, list[Break]]:
    """Re-walk every chain in the database."""
    heads = database_heads()
    return verify_records(database_records(), heads)
