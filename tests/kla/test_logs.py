"""Structured logs: JSON lines, each with the id of the request or task that wrote it."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kla import logs

pytestmark = pytest.mark.django_db


def _console() -> logging.Handler:
    found = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, logs.RequestIdFilter) for f in h.filters)
    ]
    assert found, "the console handler carries the request-id filter"
    return found[0]


def test_every_answer_carries_its_request_id_and_keeps_a_sane_one(client: Client) -> None:
    made = client.get(reverse("login"))["X-Request-ID"]
    assert len(made) == 32 and made != client.get(reverse("login"))["X-Request-ID"]
    assert client.get(reverse("login"), HTTP_X_REQUEST_ID="proxy-42.a")["X-Request-ID"] == (
        "proxy-42.a"
    )
    hostile = client.get(reverse("login"), HTTP_X_REQUEST_ID="a b\nINFO forged")
    assert hostile["X-Request-ID"] != "a b\nINFO forged"


def test_each_request_writes_one_json_access_line_with_its_id(
    client: Client, operator: Any, caplog: Any
) -> None:
    client.force_login(operator)
    with caplog.at_level(logging.INFO, logger="kla.access"):
        response = client.get(reverse("tasks"), HTTP_X_REQUEST_ID="req-7")
    lines = [r for r in caplog.records if r.name == "kla.access"]
    assert len(lines) == 1
    record = lines[0]
    assert (record.request_id, record.status, record.path, record.user_id) == (
        "req-7",
        response.status_code,
        "/tugas/",
        operator.pk,
    )
    line = json.loads(_console().format(record))
    assert line["request_id"] == "req-7" and line["level"] == "INFO"
    assert line["logger"] == "kla.access" and line["status"] == 200 and "time" in line
    assert "password" not in json.dumps(line)


def test_a_task_carries_the_id_of_the_request_that_queued_it() -> None:
    token = logs.request_id.set("req-9")
    try:
        headers: dict[str, Any] = {}
        logs._send_the_id(headers=headers)
        assert headers == {logs.TASK_HEADER: "req-9"}
    finally:
        logs.request_id.reset(token)
    # In the worker: the header becomes the id of every line the task writes.
    task = SimpleNamespace(request=SimpleNamespace(kla_request_id="req-9"))
    logs._take_the_id(task_id="t-1", task=task)
    assert logs.request_id.get() == "req-9"
    logs._drop_the_id(task=task)
    assert logs.request_id.get() == "-"
    # A task nobody's request queued (beat) is named by its own id.
    beat = SimpleNamespace(request=SimpleNamespace())
    logs._take_the_id(task_id="t-2", task=beat)
    assert logs.request_id.get() == "task-t-2"
    logs._drop_the_id(task=beat)
