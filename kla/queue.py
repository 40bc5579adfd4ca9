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
import time
from dataclasses import dataclass
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


# A list of ids handed over for a task that takes one (``publish_ids_on_commit``) waits this
# long for more of the same task, and goes as one message of at most ``IDS_PER_MESSAGE``:
# a process acting a hundred times a second publishes a few messages, not a hundred.
LINGER_SECONDS = 0.05
IDS_PER_MESSAGE = 500


@dataclass(frozen=True)
class HandOver:
    """One piece of work queued for the publisher."""

    task_name: str
    args: tuple[Any, ...]
    ids: bool = False  # ``args`` is one list of ids, which may go with others of the task


def coalesced(batch: list[HandOver]) -> list[tuple[str, tuple[Any, ...]]]:
    """The messages to publish for a batch taken from the queue: each task's ids together, in
    the place of its first list, at most ``IDS_PER_MESSAGE`` a message, and the other work as
    it is, in its order (the publisher's batches end at the first other work, so nothing
    passes anything)."""
    slots: list[tuple[str, tuple[Any, ...]] | str] = []
    ids: dict[str, dict[Any, None]] = {}
    for work in batch:
        if not work.ids:
            slots.append((work.task_name, work.args))
            continue
        if work.task_name not in ids:
            ids[work.task_name] = {}
            slots.append(work.task_name)
        ids[work.task_name].update(dict.fromkeys(work.args[0]))
    messages: list[tuple[str, tuple[Any, ...]]] = []
    for slot in slots:
        if not isinstance(slot, str):
            messages.append(slot)
            continue
        listed = list(ids[slot])
        for start in range(0, len(listed), IDS_PER_MESSAGE):
            messages.append((slot, (listed[start : start + IDS_PER_MESSAGE],)))
    return messages


class Publisher:
    """One thread per process that hands queued work to the broker, in the order it came."""

    def __init__(self) -> None:
        self._queue: queue.Queue[HandOver] = queue.Queue(MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task_name: str, args: tuple[Any, ...], *, ids: bool = False) -> bool:
        """Queue one hand-over without waiting; ``False`` when too many are waiting. ``ids``:
        ``args`` is one list of ids, to be sent with other lists of the same task."""
        try:
            self._queue.put_nowait(HandOver(task_name, args, ids))
        except queue.Full:
            logger.warning("publisher full; %s%r waits for the relay", task_name, args)
            return False
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kla-publisher", daemon=True)
                self._thread.start()
        return True

    def _take(self) -> list[HandOver]:
        """The next work; when it is a list of ids, the lists that come after it within the
        linger, up to the first other work (taken last, so that nothing goes out of order and
        other work waits no longer than for what came before it)."""
        batch = [self._queue.get()]
        if not batch[0].ids:
            return batch
        deadline = time.monotonic() + LINGER_SECONDS
        while len(batch) < IDS_PER_MESSAGE:
            left = deadline - time.monotonic()
            try:
                more = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(more)
            if not more.ids:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                for task_name, args in coalesced(batch):
                    publish(task_name, *args)
            finally:
                for _work in batch:
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


def hand_over(task_name: str, *args: Any, ids: bool = False) -> None:
    """Hand work to the publisher and return at once (inline in the tests' eager mode);
    ``ids``: the one argument is a list of ids, sent with others of the task (``coalesced``)."""
    if app.conf.task_always_eager:
        publish(task_name, *args)  # the tests' eager mode: run it inline, as before
    else:
        publisher.submit(task_name, args, ids=ids)


def publish_on_commit(task_name: str, *args: Any) -> None:
    """Hand the work over once the caller's transaction commits, without waiting for it."""
    transaction.on_commit(lambda: hand_over(task_name, *args), robust=True)


def publish_ids_on_commit(task_name: str, ids: list[int]) -> None:
    """``publish_on_commit(task_name, ids)`` for a task that takes one list of ids: the
    publisher sends them together with the other ids it has for that task (``coalesced``)."""
    transaction.on_commit(lambda: hand_over(task_name, ids, ids=True), robust=True)


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
