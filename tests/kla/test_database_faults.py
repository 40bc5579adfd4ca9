"""A database that restarts or drops connections costs a reconnect or a 503, never a 500."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection
from django.test import Client

from kla.models import Submission
from tests import factories as f

from .conftest import url

NEW = {"category": "regulation", "title": "Perwali KTR", "years": [2025], "indicators": [17]}


def _terminate_the_other_backends() -> int:
    """What a database restart does to every connection but this one; returns once they are
    gone (a backend leaves ``pg_stat_activity`` a moment after it is told to end)."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)) {others}")
        killed: list[int] = cursor.fetchone()[0] or []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute(f"SELECT count(*) {others} AND pid = ANY(%s)", [killed])
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    return len(killed)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    """The site in one long-lived thread, as a WSGI worker keeps its database connection."""
    _terminate_the_other_backends()  # what earlier tests' threads may have left behind
    httpd = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    _terminate_the_other_backends()  # its connection, left open by design


def _call(base: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backends_terminated_between_requests_cost_a_reconnect_not_a_500(
    server: str, operator: User
) -> None:
    f.InstructionFactory()
    token = f.api_token(operator)
    assert _call(server, url(), token)[0] == 200
    assert _terminate_the_other_backends() == 1  # the server's kept connection
    assert _call(server, url(), token)[0] == 200
    assert _terminate_the_other_backends() == 1
    status, created = _call(server, url(), token, NEW)
    assert status == 201
    assert Submission.objects.filter(pk=created["id"]).exists()
    assert _terminate_the_other_backends() == 1
    with urllib.request.urlopen(server + "/masuk/", timeout=30) as page:
        assert page.status == 200


@pytest.mark.django_db
def test_the_database_gone_mid_request_is_a_503_with_retry_after(
    api: Any, operator: User, monkeypatch: Any
) -> None:
    f.InstructionFactory()

    def gone(**kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("kla.api.submissions.submission_create_service", gone)
    response = api.as_(operator).post(url(), NEW, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "detail" in response.json()
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_page_whose_database_is_gone_is_a_503(
    client: Client, operator: User, monkeypatch: Any
) -> None:
    client.force_login(operator)

    def gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr("kla.web.views.tasks.waiting_for", gone)
    response = client.get("/tugas/")
    assert response.status_code == 503
    assert response["Retry-After"]


@pytest.mark.django_db
def test_a_write_whose_connection_dies_before_the_commit_is_a_503_and_leaves_nothing(
    api: Any, operator: User, monkeypatch: Any
) -> None:
    """The answer is built inside the write's transaction: if it cannot commit, the client is
    told to retry (503), never 201 for something that is not there, never a 500."""
    from kla.api.idempotency import ApiWriteMiddleware

    f.InstructionFactory()
    real_write = ApiWriteMiddleware._write

    def write_then_lose_the_connection(self: Any, request: Any) -> Any:
        response = real_write(self, request)
        assert response.status_code == 201  # done, answered, not committed yet
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(ApiWriteMiddleware, "_write", write_then_lose_the_connection)
    response = api.as_(operator).post(url(), NEW, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert not Submission.objects.exists()
