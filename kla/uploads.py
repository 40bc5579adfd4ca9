"""An upload handler that enforces ``EVIDENCE_MAX_MB`` while the request streams in.

Django has no per-file limit of its own. This handler counts bytes as they arrive; past the
limit it stops storing and marks the request, and the view answers 413. The oversized
content is never written to disk.
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from kla.evidence import BATCH_MAX_FILES, max_bytes

# Multipart framing and the other form fields ride along with the file.
FORM_OVERHEAD = 64 * 1024


class EvidenceSizeLimitHandler(TemporaryFileUploadHandler):
    """Spools to a temporary file, refusing any file over the configured size."""

    def _flag(self, too_large: bool) -> None:
        # The view reads this after parsing: 413 instead of a form without its file.
        setattr(self.request, "evidence_too_large", too_large)  # noqa: B010

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        self._flag(False)
        if content_length and content_length > max_bytes() + FORM_OVERHEAD:
            # Announced as too large: answer without reading the body at all.
            self._flag(True)
            return QueryDict(encoding=encoding), MultiValueDict()
        self._received = 0
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received = start + len(raw_data)
        if self._received > max_bytes():
            self._flag(True)
            if self.file is not None:
                self.file.close()
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


# --- bodies sent chunked ---------------------------------------------------------------------

# Read from a chunked body this much at a time.
CHUNK = 64 * 1024
# Kept in memory up to this much, then spooled to a temporary file.
SPOOL_IN_MEMORY = 2 * 1024 * 1024


def largest_body() -> int:
    """The most any request may carry: a batch of files at the limit, with the form."""
    return BATCH_MAX_FILES * max_bytes() + FORM_OVERHEAD


class ChunkedBodies:
    """WSGI middleware: a body sent with ``Transfer-Encoding: chunked`` gets a length.

    Django reads ``CONTENT_LENGTH`` bytes and, without one, sees an empty body: a chunked
    upload would lose its file and be refused as if none had been sent. When the server says
    where the body ends (``wsgi.input_terminated``, as gunicorn and uWSGI do), it is read
    here, up to the largest body any page or endpoint takes: past it, 413 before Django
    runs (the rest is not read, nothing is stored); within it, the body is handed on with its
    length and every per-file limit still applies. A server that cannot say where the body
    ends gets 411: send a Content-Length.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked or environ.get("CONTENT_LENGTH"):
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return _refuse(environ, start_response, 411, _("Kirim dengan Content-Length."))
        limit = largest_body()
        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        source = environ["wsgi.input"]
        size = 0
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                body.close()
                return _refuse(
                    environ,
                    start_response,
                    413,
                    _("Berkas terlalu besar: paling besar %(mb)s MB per berkas.")
                    % {"mb": max_bytes() // (1024 * 1024)},
                )
            body.write(chunk)
        body.seek(0)
        environ = {**environ, "wsgi.input": body, "CONTENT_LENGTH": str(size)}
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def _refuse(environ: dict[str, Any], start_response: Any, status: int, message: str) -> Any:
    """A refusal before Django runs: JSON for the API, plain text for the pages."""
    reasons = {411: "411 Length Required", 413: "413 Content Too Large"}
    if environ.get("PATH_INFO", "").startswith("/api/"):
        payload = json.dumps({"detail": message}, ensure_ascii=False).encode()
        kind = "application/json"
    else:
        payload = message.encode()
        kind = "text/plain; charset=utf-8"
    start_response(
        reasons[status],
        [
            ("Content-Type", kind),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ],
    )
    return [payload]
