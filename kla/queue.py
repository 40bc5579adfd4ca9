"""Queueing work for the Celery workers by task name, so that no service imports a task module.

Services write their rows first (notifications, exports): those rows are the outbox. After the
transaction commits they hand the broker the ids; a broker that refuses leaves the rows for the
periodic sweep, which picks them up later. ``app.signature(name)`` resolves a task registered in
this process (so the test settings' eager mode applies) and falls back to ``send_task``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from kla.celery import app

logger = logging.getLogger(__name__)


def publish(task_name: str, *args: Any) -> bool:
    """Hand one task to the broker now; ``False`` when the broker could not take it."""
    try:
        app.signature(task_name, args=args).apply_async()
    except Exception as exc:  # any broker failure: the rows wait for the sweep
        logger.warning("broker unavailable (%s); %s%r waits for the sweep", exc, task_name, args)
        return False
    return True


def publish_on_commit(task_name: str, *args: Any) -> None:
    """Publish once the caller's transaction commits (at once outside of one)."""
    transaction.on_commit(lambda: publish(task_name, *args), robust=True)


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
