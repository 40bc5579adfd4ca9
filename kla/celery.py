"""The Celery application: tasks live in ``workflows.tasks`` and ``kla.tasks``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")

app = Celery("kla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workflows", "kla"])
