"""The page's upload of several evidence files at once, with ``EVIDENCE_MAX_MB`` per file.

``kla.uploads.EvidenceSizeLimitHandler`` (the API's, one file a request) stops the whole
request at the first oversized byte. A batch must not lose its other files for one that is
too large: this handler drops only that file, while it streams in (it is never stored past
the limit), records its name and position, and lets the rest of the batch arrive. Only a
request announced larger than a whole batch may be (``BATCH_MAX_FILES`` files at the limit)
is refused unread, as there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from kla.evidence import BATCH_MAX_FILES, max_bytes
from kla.uploads import FORM_OVERHEAD

# The form field that carries the files.
FILE_FIELD = "file"


@dataclass
class BatchFile:
    """One file of the batch, in the order of the POST (``index`` 0 first): the upload, or
    ``None`` when it was too large and dropped while it streamed in."""

    index: int
    name: str
    upload: UploadedFile[Any] | None = None
    too_large: bool = False


class BatchSizeLimitHandler(TemporaryFileUploadHandler):
    """Spools each file to a temporary file; a file over the limit is dropped, not the batch.

    After parsing, ``request.evidence_batch`` lists every file of the ``file`` field (dropped
    ones too) and ``request.evidence_too_large`` says whether the request was refused unread.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.batch: list[BatchFile] = []
        self.current: BatchFile | None = None
        setattr(request, "evidence_batch", self.batch)  # noqa: B010
        setattr(request, "evidence_too_large", False)  # noqa: B010

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        if content_length and content_length > BATCH_MAX_FILES * max_bytes() + FORM_OVERHEAD:
            setattr(self.request, "evidence_too_large", True)  # noqa: B010
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        self.current = None
        if field_name == FILE_FIELD:
            self.current = BatchFile(index=len(self.batch), name=file_name)
            self.batch.append(self.current)
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > max_bytes():
            if self.current is not None:
                self.current.too_large = True
            self.file.close()
            raise SkipFile  # the parser reads past this file and goes on with the next
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile[Any] | None:
        upload = super().file_complete(file_size)
        if self.current is not None:
            self.current.upload = upload
        return upload


def batch_of(request: HttpRequest) -> list[BatchFile]:
    """The files of the parsed request, in their order (after ``request.POST`` was read)."""
    batch: list[BatchFile] = getattr(request, "evidence_batch", [])
    return batch
