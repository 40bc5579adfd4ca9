"""``/healthz/``: 200 when the database, the broker, the storage and beat answer, else 503."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from kla.celery import app as celery_app
from workflows.models import Heartbeat
from workflows.notifications.outbox import RELAY, relay_run

pytestmark = pytest.mark.django_db
URL = "/healthz/"


def test_everything_up_is_200_without_a_login(client: Client) -> None:
    relay_run()
    response = client.get(URL)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": "ok", "broker": "ok", "storage": "ok", "beat": "ok"},
    }
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_beat_that_never_ran_or_stopped_is_named(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["down"] == ["beat"]
    assert response.json()["checks"]["beat"] == "never ran"
    Heartbeat.objects.create(name=RELAY, at=timezone.now() - dt.timedelta(hours=1))
    assert client.get(URL).json()["checks"]["beat"] == "late"


def test_a_broker_that_is_gone_is_named(client: Client, settings: Any) -> None:
    relay_run()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert celery_app.conf.broker_url  # the app's own connection is untouched


def test_storage_that_refuses_writes_is_named(client: Client, monkeypatch: Any) -> None:
    relay_run()

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise OSError("read-only file system")

    monkeypatch.setattr(FileSystemStorage, "save", refuse)
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"]


def test_a_database_that_is_gone_is_named(client: Client, monkeypatch: Any) -> None:
    def gone() -> str:
        raise OperationalError("could not connect to server")

    monkeypatch.setitem(
        __import__("kla.web.views.health").web.views.health.CHECKS, "database", gone
    )
    response = client.get(URL)
    assert response.status_code == 503
    assert "database" in response.json()["down"]
