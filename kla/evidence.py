"""Evidence files: what is accepted (by content, never by name), and hashing while storing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# filetype's extension -> the MIME type recorded for it.
ACCEPTED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
# At most this many files in one upload of the pages (each up to ``EVIDENCE_MAX_MB``).
BATCH_MAX_FILES = 10
ACCEPTED_LABEL = "PDF, JPEG, PNG, HEIC, DOC, DOCX, XLS, XLSX, ODT, ODS"
# What a browser shows in the page: images in <img>, PDFs in a same-origin frame. HEIC and
# office files have no viewer in a browser: they are downloaded.
PREVIEWS = {"image/jpeg": "image", "image/png": "image", "application/pdf": "pdf"}


# The extensions a stored file's name may keep for its detected type; any other is replaced
# by the first when it is downloaded (a PDF named "x.html" is served as "x.pdf").
EXTENSIONS = {
    content_type: (extension, *(("jpeg",) if extension == "jpg" else ()))
    for extension, content_type in ACCEPTED.items()
}


def download_name(name: str, content_type: str) -> str:
    """The name a file is served under: its own, with the extension of what it is."""
    allowed = EXTENSIONS.get(content_type)
    if not allowed:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and extension.lower() in allowed:
        return name
    return f"{stem if dot and stem else name}.{allowed[0]}"


def preview_kind(content_type: str) -> str | None:
    """ "image", "pdf", or None when the file can only be downloaded."""
    return PREVIEWS.get(content_type)


# filetype reads at most this many leading bytes to recognise a format.
SIGNATURE_BYTES = 8192


def max_bytes() -> int:
    return int(settings.EVIDENCE_MAX_MB) * 1024 * 1024


def accepted_message() -> str:
    return _("Jenis berkas tidak diterima. Yang diterima: %(kinds)s, paling besar %(mb)s MB.") % {
        "kinds": ACCEPTED_LABEL,
        "mb": settings.EVIDENCE_MAX_MB,
    }


def too_large_message() -> str:
    return _("Berkas melebihi batas %(mb)s MB per berkas; perkecil atau pisahkan berkasnya.") % {
        "mb": settings.EVIDENCE_MAX_MB
    }


@dataclass(frozen=True)
class Inspected:
    """What an upload turned out to be."""

    content_type: str
    sha256: str
    size: int


def inspect_upload(upload: UploadedFile[Any]) -> Inspected | None:
    """Recognise the format from the content and hash it; ``None`` when not accepted."""
    upload.seek(0)
    head = upload.read(SIGNATURE_BYTES)
    kind = filetype.guess(head)
    if kind is None or kind.extension not in ACCEPTED:
        return None
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return Inspected(content_type=ACCEPTED[kind.extension], sha256=digest.hexdigest(), size=size)
