"""What the log proves to people: its keys, its checkpoints, an event's inclusion proof against
a checkpoint and the consistency of two checkpoints (DESIGN, "Anchored outside the database").

The proofs are RFC 9162's (section 2.1.3 and 2.1.4), read from the stored tree
(``workflows.trail.log``); a tree size is always the size of a stored, signed checkpoint, so
that every proof comes with the signed note it is checked against.

Who asks for which event: auditors and consolidators for any event (a proof discloses hashes
alone); everybody else only for the events of the submissions they see (``visible_to``), and
for them the ``body`` and ``system`` streams do not exist (404). Where the event's own fields
are handed out with its proof (the trail page's file), the trail's reading rule applies
instead (``disclose``): everybody the events of the submissions they see, auditors also the
body and system streams, so that a draft never submitted stays private to its body there.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kla.errors import Conflict, Invalid, NotVisible
from roles.permissions import may_prove_every_event, may_read_every_stream
from roles.roles import Roles, roles_of
from roles.selectors import visible_to
from workflows.models import TrailCheckpoint, TrailEvent, TrailLeaf
from workflows.trail.checkpoints import checkpoint_latest, checkpoint_of_size
from workflows.trail.log import LogError, log_consistency, log_inclusion

SUBMISSION_PREFIX = "submission:"


def b64(value: bytes) -> str:
    """Standard base64, padded: the encoding of every hash the log publishes."""
    return base64.b64encode(value).decode("ascii")


def checkpoints_newest() -> QuerySet[TrailCheckpoint]:
    """The stored checkpoints, newest (largest) first."""
    return TrailCheckpoint.objects.order_by("-tree_size")


def checkpoint_stored(size: int | None, *, field: str) -> TrailCheckpoint:
    """The checkpoint of ``size`` leaves, or the latest when ``size`` is ``None``.

    A size no stored checkpoint has is bad input (400, on ``field``); asking for the latest
    before any checkpoint was cut is a state that does not allow it yet (409).
    """
    if size is None:
        latest = checkpoint_latest()
        if latest is None:
            raise Conflict(
                _(
                    "Belum ada checkpoint jejak yang ditandatangani; bukti dapat diminta "
                    "setelah checkpoint pertama dibuat."
                )
            )
        return latest
    checkpoint = checkpoint_of_size(size) if size >= 0 else None
    if checkpoint is None:
        raise Invalid(
            {field: _("Tidak ada checkpoint dengan ukuran pohon %(size)s.") % {"size": size}}
        )
    return checkpoint


def _may_ask(event: TrailEvent, user: User | AnonymousUser, roles: Roles, disclose: bool) -> bool:
    in_submission_stream = event.stream.name.startswith(SUBMISSION_PREFIX)
    if disclose:
        # The trail's reading rule (``workflows.trail.reading``): the events of the
        # submissions the person sees; auditors also the body and system streams, where a
        # submission stream never counts as one, even for a row that lost its submission.
        if event.submission_id is None:
            return may_read_every_stream(roles) and not in_submission_stream
    else:
        if may_prove_every_event(roles):
            return True
        if event.submission_id is None or not in_submission_stream:
            return False  # a body or system stream, or a row that lost its submission
    return visible_to(user, roles).filter(pk=event.submission_id).exists()


def proof_event(
    *,
    user: User | AnonymousUser,
    stream: str | None = None,
    seq: int | None = None,
    event_id: int | None = None,
    roles: Roles | None = None,
    disclose: bool = False,
) -> TrailEvent:
    """The event (by ``stream`` and ``seq``, or by ``event_id``) if this person may ask for
    its proof; ``NotVisible`` otherwise, as for an event that does not exist."""
    roles = roles if roles is not None else roles_of(user)
    events = TrailEvent.objects.select_related("stream")
    if event_id is not None:
        event = events.filter(pk=event_id).first()
    elif stream is not None and seq is not None:
        event = events.filter(stream__name=stream, seq=seq).first()
    else:
        event = None
    if event is None or not _may_ask(event, user, roles, disclose):
        raise NotVisible(_("Peristiwa jejak tidak ditemukan."))
    return event


def events_in_tree(event_ids: list[int], size: int) -> set[int]:
    """Which of these events have a leaf in the tree of ``size`` leaves (one query)."""
    if not event_ids or size <= 0:
        return set()
    return set(
        TrailLeaf.objects.filter(event_id__in=event_ids, index__lt=size).values_list(
            "event_id", flat=True
        )
    )


@dataclass(frozen=True)
class InclusionProof:
    """One event's leaf and audit path in the tree of a stored checkpoint (RFC 9162 2.1.3)."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    audit_path: list[bytes]
    checkpoint: TrailCheckpoint

    def as_data(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": b64(self.leaf_hash),
            "audit_path": [b64(h) for h in self.audit_path],
            "checkpoint": self.checkpoint.note,
        }


def _not_in_tree(size: int) -> Conflict:
    return Conflict(
        _(
            "Peristiwa ini belum masuk pohon log berukuran %(size)s; minta lagi setelah "
            "checkpoint berikutnya dibuat."
        )
        % {"size": size}
    )


def inclusion_proof(*, event: TrailEvent, tree_size: int | None = None) -> InclusionProof:
    """The inclusion proof of ``event`` in the checkpoint of ``tree_size`` (the latest when
    ``None``). 400 for a size no checkpoint has, 409 before any checkpoint or for an event
    not yet in that tree (not sequenced yet, or sequenced after it)."""
    checkpoint = checkpoint_stored(tree_size, field="tree_size")
    size = checkpoint.tree_size
    leaf = TrailLeaf.objects.filter(event_id=event.pk).first()
    if leaf is None or leaf.index >= size:
        raise _not_in_tree(size)
    try:
        path = log_inclusion(leaf.index, size)
    except LogError:
        raise _log_lacks(size) from None
    return InclusionProof(
        leaf_index=leaf.index,
        tree_size=size,
        leaf_hash=bytes.fromhex(leaf.hash),
        audit_path=path,
        checkpoint=checkpoint,
    )


@dataclass(frozen=True)
class ConsistencyProof:
    """The proof that the tree of ``first`` leaves is a prefix of that of ``second``."""

    first: TrailCheckpoint
    second: TrailCheckpoint
    proof: list[bytes]

    def as_data(self) -> dict[str, Any]:
        return {
            "first": self.first.tree_size,
            "second": self.second.tree_size,
            "proof": [b64(h) for h in self.proof],
            "first_checkpoint": self.first.note,
            "second_checkpoint": self.second.note,
        }


def _log_lacks(size: int) -> Conflict:
    # A checkpoint the stored tree cannot answer: the log's tables were cut or rewritten
    # (``verify_trail`` says which); a proof cannot be given, but it is no 500 either.
    return Conflict(
        _("Log jejak di basis data tidak dapat menjawab pohon berukuran %(size)s.") % {"size": size}
    )


def consistency_proof(*, first: int, second: int | None = None) -> ConsistencyProof:
    """RFC 9162 2.1.4's proof between two stored checkpoints, ``0 < first <= second``
    (``second`` the latest when ``None``); equal sizes give an empty proof.

    409 when ``second`` is left to the latest and there is no checkpoint yet; 400 for sizes
    out of order or that no stored checkpoint has.
    """
    newer = checkpoint_stored(second, field="second")
    if first <= 0:
        raise Invalid({"first": _("Ukuran pohon pertama harus lebih dari 0.")})
    if first > newer.tree_size:
        raise Invalid(
            {
                "first": _("Ukuran pohon pertama tidak boleh melebihi yang kedua (%(size)s).")
                % {"size": newer.tree_size}
            }
        )
    older = checkpoint_stored(first, field="first")
    try:
        proof = log_consistency(older.tree_size, newer.tree_size)
    except LogError:
        raise _log_lacks(newer.tree_size) from None
    return ConsistencyProof(first=older, second=newer, proof=proof)
