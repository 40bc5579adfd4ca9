"""Appending to the trail: the one place events are written (the format is ``chain``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from kla.models import Body, Submission
from workflows.models import TrailEvent, TrailStream
from workflows.trail.chain import ALGORITHM, event_hash, format_at, jsonable

# What people are shown of each event, in this order (the API, the trail page's downloads).
PUBLIC_FIELDS = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "from_state",
    "to_state",
    "note",
    "files",
    "prev_hash",
    "hash",
)
SYSTEM_ACTOR = "system"
SYSTEM_STREAM = "system"


def event_record(event: TrailEvent, stream_name: str) -> dict[str, Any]:
    """A stored event as the plain mapping that ``canonical`` and bundles use."""
    return {
        "algorithm": event.algorithm,
        "stream": stream_name,
        "seq": event.seq,
        "at": format_at(event.at),
        "actor": event.actor_name,
        "role": event.role,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "files": event.files,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _locked_head(name: str) -> TrailStream:
    head = TrailStream.objects.select_for_update().filter(name=name).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            TrailStream.objects.create(name=name)
    except IntegrityError:
        pass  # another transaction created it first; the lock below waits for it
    return TrailStream.objects.select_for_update().get(name=name)


def trail_append(
    *,
    stream: str,
    action: str,
    actor: User | None,
    role: str = "",
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    files: Iterable[Mapping[str, str]] = (),
    data: Mapping[str, Any] | None = None,
    submission: Submission | None = None,
    body: Body | None = None,
) -> TrailEvent:
    """Append one event to a stream under the head's row lock, inside the caller's transaction.

    ``actor`` ``None`` records the system (the SLA sweep). The sequence number and the previous
    hash are read from the locked head, never from "the highest id", so concurrent appends to
    one stream queue up instead of forking it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("trail_append must run inside the action's transaction")
    head = _locked_head(stream)
    record = {
        "algorithm": ALGORITHM,
        "stream": stream,
        "seq": head.seq + 1,
        "at": None,
        "actor": actor.get_username() if actor is not None else SYSTEM_ACTOR,
        "role": role,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "note": note,
        "files": [{"name": f["name"], "sha256": f["sha256"]} for f in files],
        "data": jsonable(dict(data or {})),
        "prev_hash": head.head_hash,
    }
    # Truncated to microseconds, the precision both databases store.
    at = timezone.now().replace(tzinfo=dt.UTC)
    record["at"] = format_at(at)
    digest = event_hash(record)
    event = TrailEvent.objects.create(
        stream=head,
        seq=record["seq"],
        at=at,
        actor=actor,
        actor_name=record["actor"],
        role=role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        files=record["files"],
        data=record["data"],
        submission=submission,
        body=body,
        algorithm=ALGORITHM,
        prev_hash=head.head_hash,
        hash=digest,
    )
    TrailStream.objects.filter(pk=head.pk).update(seq=record["seq"], head_hash=digest)
    return event
