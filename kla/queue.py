"""Queueing work for the Celery workers by task name, so that no service imports a task module.

Services write their rows first (notifications, exports): those rows are the outbox. After the
transaction commits they hand the ids to this process's publisher, a thread of its own, and
answer at once: a broker that refuses, hangs or is gone never holds up a request. The
publisher's connect and send are bounded (``BROKER_SOCKET_TIMEOUT``, retried twice at most);
whatever it could not hand over stays in its rows, and beat's relay (the periodic outbox send
and the requeue of pending exports) sends it once the broker is back. ``app.signature(name)``
resolves a task registered in this process (so the tests' eager mode runs it inline) and
falls back to ``send_task``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from kla.celery import app

logger = logging.getLogger(__name__)

# Beyond this many unsent hand-overs a process stops queueing: the relay has the rows.
MAX_PENDING = 10_000


def publish(task_name: str, *args: Any) -> bool:
    """Hand one task to the broker now (bounded); ``False`` when the broker could not take it."""
    try:
        app.signature(task_name, args=args).apply_async(
            retry=True, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY
        )
    except Exception as exc:  # any broker failure: the rows wait for the relay
        logger.warning("broker unavailable (%s); %s%r waits for the relay", exc, task_name, args)
        return False
    return True


class Publisher:
    """One thread per process that hands queued work to the broker, in the order it came."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]]] = queue.Queue(MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task_name: str, args: tuple[Any, ...]) -> bool:
        """Queue one hand-over without waiting; ``False`` when too many are waiting."""
        try:
            self._queue.put_nowait((task_name, args))
        except queue.Full:
            logger.warning("publisher full; %s%r waits for the relay", task_name, args)
            return False
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kla-publisher", daemon=True)
                self._thread.start()
        return True

    def _run(self) -> None:
        while True:
            task_name, args = self._queue.get()
            try:
                publish(task_name, *args)
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until everything queued so far was handed over or given up (for tests)."""
        self._queue.join()


publisher = Publisher()


def _reset_after_fork() -> None:
    # A forked child (a prefork worker) gets a fresh publisher: threads do not survive a fork.
    global publisher
    publisher = Publisher()


os.register_at_fork(after_in_child=_reset_after_fork)


def hand_over(task_name: str, *args: Any) -> None:
    """Hand work to the publisher and return at once (inline in the tests' eager mode)."""
    if app.conf.task_always_eager:
        publish(task_name, *args)  # the tests' eager mode: run it inline, as before
    else:
        publisher.submit(task_name, args)


def publish_on_commit(task_name: str, *args: Any) -> None:
    """Hand the work over once the caller's transaction commits, without waiting for it."""
    transaction.on_commit(lambda: hand_over(task_name, *args), robust=True)


def prepare_embedded_folders() -> None:
    """The embedded demo's folders: SQLite's and the local file broker's, made at start-up.

    Nothing is made for PostgreSQL and Redis; settings themselves never touch the disk.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:":
        Path(str(database["NAME"])).parent.mkdir(parents=True, exist_ok=True)
    if settings.CELERY_BROKER_URL == "filesystem://":
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(str(options[key])).mkdir(parents=True, exist_ok=True)
