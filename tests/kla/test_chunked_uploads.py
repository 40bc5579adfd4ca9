"""An upload sent chunked (no Content-Length) is read, bounded and parsed like any other:
413 past the limit however it is sent, the file kept when within it (``kla.uploads``)."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.db import close_old_connections

from kla.models import Evidence, Submission
from kla.wsgi import application
from tests import factories as f

pytestmark = pytest.mark.django_db

BOUNDARY = "kla-batas"


def multipart(name: str, content: bytes) -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def send_chunked(
    path: str, body: bytes, token: str, *, terminated: bool = True
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "HTTP_TRANSFER_ENCODING": "chunked",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": terminated,
        }
    )
    environ.pop("CONTENT_LENGTH", None)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    # As Django's test client does: the test's own transaction must survive the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            answer = b"".join(result)
        finally:
            # As a WSGI server does: closing the answer lets Django close the request's files.
            close = getattr(result, "close", None)
            if close is not None:
                close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], answer


def test_a_chunked_upload_within_the_limit_is_stored(operator: Any) -> None:
    draft = f.make_draft(operator, with_evidence=False)
    status, _headers, answer = send_chunked(
        f"/api/v1/submissions/{draft.pk}/evidence/",
        multipart("sk.pdf", f.PDF_BYTES),
        f.api_token(operator),
    )
    assert status.startswith("201"), answer
    assert Evidence.objects.filter(submission=draft).count() == 1


def test_a_chunked_body_past_the_limit_is_413_and_stores_nothing(
    operator: Any, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    draft: Submission = f.make_draft(operator, with_evidence=False)
    big = multipart("besar.pdf", f.PDF_BYTES + b"0" * (11 * 1024 * 1024))
    status, headers, answer = send_chunked(
        f"/api/v1/submissions/{draft.pk}/evidence/", big, f.api_token(operator)
    )
    assert status.startswith("413")
    assert headers["Content-Type"] == "application/json" and b"detail" in answer
    assert not Evidence.objects.filter(submission=draft).exists()


def test_a_chunked_file_over_the_per_file_limit_is_413_from_the_upload_handler(
    operator: Any, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    draft: Submission = f.make_draft(operator, with_evidence=False)
    over = multipart("besar.pdf", f.PDF_BYTES + b"0" * (2 * 1024 * 1024))
    status, _headers, _answer = send_chunked(
        f"/api/v1/submissions/{draft.pk}/evidence/", over, f.api_token(operator)
    )
    assert status.startswith("413")
    assert not Evidence.objects.filter(submission=draft).exists()


def test_a_server_that_cannot_say_where_the_body_ends_gets_411(operator: Any) -> None:
    draft: Submission = f.make_draft(operator, with_evidence=False)
    status, _headers, _answer = send_chunked(
        f"/api/v1/submissions/{draft.pk}/evidence/",
        multipart("sk.pdf", f.PDF_BYTES),
        f.api_token(operator),
        terminated=False,
    )
    assert status.startswith("411")
