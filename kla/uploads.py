"""An upload handler that enforces ``EVIDENCE_MAX_MB`` while the request streams in.

Django has no per-file limit of its own. This handler counts bytes as they arrive; past the
limit it stops storing and marks the request, and the view answers 413. The oversized
content is never written to disk.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from kla.evidence import max_bytes

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
