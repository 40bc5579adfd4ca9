"""Logs as JSON lines (``python-json-logger``), each carrying the id of the request or task
that wrote it, so one person's request can be followed from the web process into the worker.

The id comes from the proxy's ``X-Request-ID`` when it sends a sane one, else is made here; it
is sent back in the answer's ``X-Request-ID``, and travels with every task queued while the
request runs (a task header), so the task's lines carry it too. Logs only: the trail's rows
stay as they are. Every request also writes one access line: method, path, status, duration
and the person's id (never a name, a password or a token).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What an incoming id may look like: short, printable, no spaces (it is written to logs).
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TASK_HEADER = "kla_request_id"

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access = logging.getLogger("kla.access")


class RequestIdFilter(logging.Filter):
    """Puts the current request or task id on every record (``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RequestIdMiddleware:
    """Gives each request its id (first of all middleware, so every line has it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        rid = given if SANE.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = rid
            user = getattr(request, "user", None)
            access.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id.reset(token)


@before_task_publish.connect
def _send_the_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None and request_id.get() != "-":
        headers[TASK_HEADER] = request_id.get()


@task_prerun.connect
def _take_the_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    sent = getattr(getattr(task, "request", None), TASK_HEADER, None)
    if isinstance(sent, str) and SANE.match(sent):
        rid = sent
    elif request_id.get() != "-":
        rid = request_id.get()  # run inline (eager), inside the request that queued it
    else:
        rid = f"task-{task_id}"
    if task is not None:
        task._kla_request_token = request_id.set(rid)


@task_postrun.connect
def _drop_the_id(task: Any = None, **kwargs: Any) -> None:
    token = getattr(task, "_kla_request_token", None)
    if token is not None:
        request_id.reset(token)
        task._kla_request_token = None
