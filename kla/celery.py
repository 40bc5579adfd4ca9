"""The Celery application: tasks live in ``workflows.tasks`` and ``kla.reports.tasks``."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")

app = Celery("kla")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The packages whose ``tasks`` modules hold tasks; ``KlaConfig.ready`` loads them.
TASK_PACKAGES = ["workflows", "kla.reports"]

# Every task's log lines carry the id of the request that queued it (its signal handlers).
from kla import logs  # noqa: E402, F401
from kla.beat import on_beat_init  # noqa: E402

# One beat at a time: a beat takes the beat lock before it schedules anything (kla.beat).
beat_init.connect(on_beat_init, weak=False)
