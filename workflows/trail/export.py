"""A trail bundle of the whole log, for ``export_trail`` and the auditors' export job."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.db import connection, transaction
from django.utils import timezone

from workflows.models import TrailCheckpoint
from workflows.trail.bundle import write_bundle
from workflows.trail.checkpoints import KeyMissing, checkpoint_cut, known_verifiers, signing_key


def bundle_export(
    handle: IO[str], progress: Callable[[int, int], None] | None = None
) -> tuple[dict[str, int], TrailCheckpoint]:
    """Cut a checkpoint of everything committed, then write the bundle up to it.

    ``KeyMissing`` without a signing key. The leaves up to a checkpoint never change, so the
    bundle needs no snapshot: what is appended meanwhile is simply beyond its tree.
    """
    signing_key()
    checkpoint = checkpoint_cut(empty=True)
    if checkpoint is None:  # pragma: no cover - checkpoint_cut(empty=True) always returns one
        raise KeyMissing("no checkpoint could be cut")
    # The key that signed it: the current one, or an earlier one when the tree did not grow.
    verifier = next(v for v in known_verifiers() if v.key_id_hex == checkpoint.key_id)
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        counts = write_bundle(
            handle,
            exported_at=timezone.now().isoformat(),
            checkpoint=checkpoint,
            verifier=verifier,
            progress=progress,
        )
    return counts, checkpoint
