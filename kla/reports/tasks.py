"""Celery tasks of the domain: building exports and re-queueing the ones that were lost.

Like ``workflows.tasks``, they take ids, re-read rows, are idempotent and declare their
retries; state and progress live in the ``Export`` row (``kla.reports.exports``).
"""

from __future__ import annotations

from celery import shared_task

from kla.reports.exports import (
    EXPORT_TASK,
    REQUEUE_TASK,
    export_fail,
    export_release,
    export_run,
    exports_requeue_stale,
)

MAX_RETRIES = 3


# Acknowledged only when done, and given back when the worker process dies, so that another
# worker finishes it (the row's lease tells it the first one is gone).
@shared_task(
    name=EXPORT_TASK,
    bind=True,
    max_retries=MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
)
def run_export(self: object, export_id: int) -> str:
    """Build one export; a storage error is retried with backoff, then fails the export."""
    try:
        return export_run(export_id=export_id)
    except OSError as exc:
        retries: int = self.request.retries  # type: ignore[attr-defined]
        if retries >= MAX_RETRIES:
            export_fail(export_id=export_id, error=f"{type(exc).__name__}: {exc}")
            return "failed"
        export_release(export_id=export_id)  # pending again, so the retry can claim it
        raise self.retry(exc=exc, countdown=30 * 2**retries) from exc  # type: ignore[attr-defined]


@shared_task(name=REQUEUE_TASK, acks_late=True)
def requeue_stale_exports() -> list[int]:
    """For the periodic sweep: queue again the exports whose message or worker was lost."""
    return exports_requeue_stale()
