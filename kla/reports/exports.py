"""Exports for BAPPERIDA: requesting, building (in a Celery task), re-queueing, downloading.

The ``Export`` row is the source of truth: its state and progress are written by the worker
and read by the page and the API, never kept in the broker. A request commits the row first
and hands the broker only its id after commit; if the broker is down the request still
succeeds and ``exports_requeue_stale`` (called from the sweep) queues it later.

Who may export: verifiers, consolidators and auditors, each getting only what they may see
(visibility is read again when the export is built); the trail bundle (``trail_bundle``, the
whole log up to a checkpoint cut for it, of no instruction) is Inspektorat's alone, and the
only export that needs the log's signing key. Only the requester may download it;
for everybody else it does not exist (404). A download is a trail event on the ``system``
stream, because an evidence package can hold children's personal data (UU 27/2022).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import tempfile
from collections.abc import Callable
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.instructions import instruction_get
from kla.models import Export, ExportKind, ExportState, Instruction
from kla.queue import hand_over, publish
from kla.reports.builders import build_rekap
from kla.reports.compliance_xlsx import build_compliance
from kla.reports.findings import build_findings
from kla.reports.package import build_evidence_zip
from roles.permissions import may_export, may_export_trail, reviewing_role
from roles.roles import Role, roles_of
from workflows.trail.append import SYSTEM_STREAM, trail_append
from workflows.trail.checkpoints import KeyMissing
from workflows.trail.export import bundle_export

logger = logging.getLogger(__name__)

# A running export holds a lease of a few heartbeats: a row whose heartbeat stopped that long
# lost its worker, and the next one takes it over. A pending row untouched for a minute lost
# its broker message (the broker was down or hung when it was requested).
HEARTBEAT = dt.timedelta(seconds=10)
RUNNING_STALE = 3 * HEARTBEAT
PENDING_STALE = dt.timedelta(minutes=1)
READ_CHUNK = 1024 * 1024
# Task names are part of the queue's contract: messages already queued must still find them.
EXPORT_TASK = "kla.tasks.run_export"
REQUEUE_TASK = "kla.tasks.requeue_stale_exports"

Builder = Callable[..., None]


class ExportRefused(Exception):
    """A builder's refusal, recorded as the export's error exactly as it reads (no type name):
    the requester reads it on the exports page."""


def build_trail_bundle(
    *, user: User, out: IO[bytes], progress: Callable[[int, int], None], instruction: Any = None
) -> None:
    """The trail bundle, version 2 (``workflows.trail.export``): a checkpoint is cut for it,
    then every leaf up to it with its event and the heads. Without a signing key the export
    fails saying so; the key's path stays in the log, not on the page."""
    progress(0, 1)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    try:
        bundle_export(text, progress)
    except KeyMissing as exc:
        logger.error("trail bundle export without a signing key: %s", exc)
        raise ExportRefused(
            _(
                "Bundel jejak tidak dapat dibuat: kunci penanda tangan checkpoint belum "
                "dipasang di server. Minta administrator menjalankan manage.py trail_keygen, "
                "lalu minta bundel lagi."
            )
        ) from None
    finally:
        text.flush()
        text.detach()  # the spool stays open for the caller to hash and store
    progress(1, 1)


BUILDERS: dict[str, tuple[Builder, str]] = {
    ExportKind.REKAP_XLSX: (build_rekap, "rekap-kla-{instruction}-{stamp}.xlsx"),
    ExportKind.EVIDENCE_ZIP: (build_evidence_zip, "bukti-dukung-kla-{instruction}-{stamp}.zip"),
    ExportKind.FINDINGS_XLSX: (
        build_findings,
        "matriks-tindak-lanjut-{instruction}-{stamp}.xlsx",
    ),
    ExportKind.COMPLIANCE_XLSX: (build_compliance, "matriks-kepatuhan-{instruction}-{stamp}.xlsx"),
    ExportKind.TRAIL_BUNDLE: (build_trail_bundle, "jejak-kla-{stamp}.jsonl"),
}


def queue_export(export_id: int) -> None:
    """Hand the export over without waiting; a broker failure leaves it pending for the relay."""
    hand_over(EXPORT_TASK, export_id)


@transaction.atomic
def export_request(*, user: User, kind: Any, instruction: Any = None) -> Export:
    """Record a request for an export of one instruction (an id; the current one when absent)
    and queue its building after commit.

    An unknown kind is bad input (400) whoever asks, as an unknown action is; a person who is
    not a verifier, consolidator or auditor may not export (403). The trail bundle is the
    auditors' (403 for the other reviewers) and spans the whole trail: naming an instruction
    with it is bad input (400).
    """
    if not isinstance(kind, str) or kind not in ExportKind.values:
        raise Invalid(
            {"kind": _("Jenis ekspor tidak dikenal; pilih dari: %s.") % ", ".join(ExportKind)}
        )
    roles = roles_of(user)
    if not may_export(roles):
        raise Forbidden(_("Ekspor hanya untuk verifikator, konsolidator dan auditor."))
    answered: Instruction | None
    if kind == ExportKind.TRAIL_BUNDLE:
        if not may_export_trail(roles):
            raise Forbidden(_("Hanya auditor (Inspektorat) yang dapat mengunduh bundel jejak."))
        if instruction not in (None, ""):
            raise Invalid(
                {"instruction": _("Bundel jejak memuat seluruh jejak: jangan sebutkan instruksi.")}
            )
        answered = None
    else:
        # With no instruction current yet (a new installation), an export spans everything.
        answered = (
            instruction_get(instruction) if instruction not in (None, "") else Instruction.current()
        )
    export = Export.objects.create(requested_by=user, kind=kind, instruction=answered)
    transaction.on_commit(lambda: queue_export(export.pk), robust=True)
    return export


def exports_of(user: User) -> QuerySet[Export]:
    """The person's own exports, newest first (nobody sees anyone else's)."""
    return Export.objects.filter(requested_by_id=user.pk).order_by("-created_at", "-id")


def export_get(*, user: User, export_id: int) -> Export:
    """One of the person's exports; anyone else's does not exist for them (404)."""
    export = exports_of(user).filter(pk=export_id).first()
    if export is None:
        raise NotVisible(_("Ekspor tidak ditemukan."))
    return export


@transaction.atomic
def export_download(*, user: User, export_id: int) -> Export:
    """Record that the requester takes the finished file away (a trail event), and return it."""
    export = export_get(user=user, export_id=export_id)
    roles = roles_of(user)
    if not may_export(roles):
        raise Forbidden(_("Ekspor hanya untuk verifikator, konsolidator dan auditor."))
    if export.state != ExportState.DONE or not export.file:
        raise Conflict(_("Ekspor belum selesai."))
    trail_append(
        stream=SYSTEM_STREAM,
        action="export_download",
        actor=user,
        # The bundle is taken away as Inspektorat, whatever other role the person holds.
        role=Role.AUDITOR if export.kind == ExportKind.TRAIL_BUNDLE else reviewing_role(roles),
        files=[{"name": export.filename, "sha256": export.sha256}],
        data={"export": export.pk, "kind": export.kind, "size": export.size},
    )
    return export


# --- building (the worker's side) ----------------------------------------------------------


def _claim(export_id: int) -> tuple[Export, int] | None:
    """Take the row for this worker: pending, or running with a stopped heartbeat."""
    now = timezone.now()
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("requested_by", "instruction")
            .filter(pk=export_id)
            .first()
        )
        if export is None:
            return None  # gone, or another worker is claiming it right now
        if export.state == ExportState.RUNNING and export.updated_at > now - RUNNING_STALE:
            return None  # another worker has it and is alive
        if export.state in (ExportState.DONE, ExportState.FAILED):
            return None  # idempotent: a finished export is never redone
        export.state = ExportState.RUNNING
        export.attempt += 1
        export.progress = 0
        export.error = ""
        export.started_at = now
        export.updated_at = now
        export.save(
            update_fields=["state", "attempt", "progress", "error", "started_at", "updated_at"]
        )
        return export, export.attempt


def _progress_writer(export_id: int, attempt: int) -> Callable[[int, int], None]:
    """Write progress into the row when the percentage changes (and as a heartbeat)."""
    last_percent = -1
    last_at = timezone.now()

    def report(done: int, total: int) -> None:
        nonlocal last_percent, last_at
        # 99 at most until the file is stored: 100 means it can be downloaded.
        percent = min(99, done * 99 // total) if total else 0
        now = timezone.now()
        if percent == last_percent and now - last_at < HEARTBEAT:
            return
        last_percent, last_at = percent, now
        Export.objects.filter(pk=export_id, attempt=attempt, state=ExportState.RUNNING).update(
            progress=percent, updated_at=now
        )

    return report


def _digest(handle: IO[bytes]) -> tuple[str, int]:
    handle.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(READ_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size


def export_run(*, export_id: int) -> str:
    """Build one export if nobody has: claim the row, write the file, store it, finish.

    Idempotent: a done or failed export is left alone, and a worker that was replaced (its
    ``attempt`` is no longer the row's) throws its file away. Storage errors (``OSError``)
    propagate for the task to retry; anything else fails the export with its message.
    """
    claimed = _claim(export_id)
    if claimed is None:
        return "skipped"
    export, attempt = claimed
    builder, pattern = BUILDERS[export.kind]
    stamp = timezone.localtime(timezone.now()).strftime("%Y%m%d-%H%M%S")
    # The instruction's number and year name the file: "rekap-kla-<number>-<year>-...".
    answered = export.instruction
    label = f"{answered.number}-{answered.year}" if answered is not None else "semua"
    filename = pattern.format(stamp=stamp, instruction=label)
    try:
        with tempfile.TemporaryFile() as spool, override("id"):
            builder(
                user=export.requested_by,
                out=spool,
                progress=_progress_writer(export.pk, attempt),
                instruction=export.instruction,
            )
            sha, size = _digest(spool)
            stored = default_storage.save(f"exports/{export.pk}/{filename}", File(spool))
    except OSError:
        raise
    except ExportRefused as exc:
        export_fail(export_id=export_id, error=str(exc), attempt=attempt)
        return "failed"
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        export_fail(export_id=export_id, error=f"{type(exc).__name__}: {exc}", attempt=attempt)
        return "failed"
    with transaction.atomic():
        updated = Export.objects.filter(
            pk=export.pk, attempt=attempt, state=ExportState.RUNNING
        ).update(
            state=ExportState.DONE,
            progress=100,
            file=stored,
            size=size,
            sha256=sha,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    if not updated:
        default_storage.delete(stored)  # replaced by another worker meanwhile
        return "skipped"
    return "done"


def export_fail(*, export_id: int, error: str, attempt: int | None = None) -> None:
    """Mark an export failed with a message the person can read on the page."""
    rows = Export.objects.filter(pk=export_id).exclude(state=ExportState.DONE)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    rows.update(
        state=ExportState.FAILED,
        error=error[:2000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def export_release(*, export_id: int) -> None:
    """Put a running export back to pending, so that its retry can claim it again."""
    Export.objects.filter(pk=export_id, state=ExportState.RUNNING).update(
        state=ExportState.PENDING, updated_at=timezone.now()
    )


def exports_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again the exports whose message or worker was lost; for the periodic sweep.

    Pending rows untouched for ``PENDING_STALE`` and running rows whose heartbeat stopped
    for ``RUNNING_STALE``. Touching ``updated_at`` keeps the next sweep from queueing the
    same row again at once; a duplicate message is harmless, since claiming is idempotent.
    """
    now = now or timezone.now()
    stale = Export.objects.filter(
        Q(state=ExportState.PENDING, updated_at__lt=now - PENDING_STALE)
        | Q(state=ExportState.RUNNING, updated_at__lt=now - RUNNING_STALE)
    )
    ids = list(stale.values_list("pk", flat=True)[:200])
    if ids:
        Export.objects.filter(pk__in=ids, state=ExportState.PENDING).update(updated_at=now)
        for pk in ids:
            publish(EXPORT_TASK, pk)  # the relay, on a worker: bounded, and it may wait
    return ids
