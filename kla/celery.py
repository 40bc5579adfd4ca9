"""The Celery application: tasks live in ``workflows.tasks`` and ``kla.reports.tasks``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")

app = Celery("kla")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The packages whose ``tasks`` modules hold tasks; ``KlaConfig.ready`` loads them.
TASK_PACKAGES = ["workflows", "kla.reports"]

# Every task's log lines carry the id of the request that queued it (its signal handlers).
from kla import logs  # noqa: E402, F401
