"""Virus scanning of uploads with ClamAV's clamd, when ``CLAMAV_SOCKET`` is set.

A small client of clamd's own protocol over a Unix socket (``/run/clamav/clamd.ctl``) or TCP
(``tcp://host:3310``), written on the standard library: ``zPING`` for the health page and
``zINSTREAM`` for a file, streamed in chunks (a 4-byte big-endian length, then the bytes; a
zero length ends the stream), never read whole into memory. Every connect, send and read is
bounded by ``CLAMAV_TIMEOUT`` seconds.

A file clamd finds infected is refused as bad input (400 on ``file``, naming the signature),
with a warning in the log; a scanner that cannot be reached, times out or answers an error
(its ``INSTREAM size limit exceeded`` when a file is over its ``StreamMaxLength`` too) refuses
the upload as unavailable (503 with Retry-After): nothing unscanned is ever stored.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from kla.errors import Invalid, Unavailable

log = logging.getLogger("kla.scanning")

CHUNK_BYTES = 64 * 1024
# clamd's replies are one short line; anything longer is not clamd.
REPLY_MAX = 4096
DEFAULT_PORT = 3310
# How long a client waits before trying again: clamd reloading its signatures takes a while.
RETRY_AFTER_SECONDS = 30
SIZE_LIMIT = "INSTREAM size limit exceeded"
# A signature's name is shown to people and logged: a longer one is cut.
SIGNATURE_MAX = 200


class ScannerError(Exception):
    """clamd could not be reached, did not answer in time, or answered an error."""


def configured() -> bool:
    return bool(str(getattr(settings, "CLAMAV_SOCKET", "") or "").strip())


def _timeout() -> float:
    return float(getattr(settings, "CLAMAV_TIMEOUT", 30))


def _connect(timeout: float) -> socket.socket:
    """A connection to clamd, as ``CLAMAV_SOCKET`` names it (``tcp://`` or a socket path)."""
    where = str(settings.CLAMAV_SOCKET).strip()
    if where.startswith("tcp://"):
        parts = urlsplit(where)
        if not parts.hostname:
            raise ScannerError(f"CLAMAV_SOCKET has no host: {where!r}")
        sock = socket.create_connection((parts.hostname, parts.port or DEFAULT_PORT), timeout)
    else:
        path = where.removeprefix("unix://")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
    sock.settimeout(timeout)
    return sock


def _reply(sock: socket.socket) -> str:
    """clamd's answer to a ``z`` command: text up to its NUL (or the end of the connection)."""
    data = b""
    while b"\0" not in data and len(data) < REPLY_MAX:
        chunk = sock.recv(REPLY_MAX)
        if not chunk:
            break
        data += chunk
    text = data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    if not text:
        raise ScannerError("clamd closed the connection without an answer")
    return text


def ping(timeout: float | None = None) -> bool:
    """Whether clamd answers ``PING`` with ``PONG``; raises ``OSError`` when unreachable."""
    with _connect(_timeout() if timeout is None else timeout) as sock:
        sock.sendall(b"zPING\0")
        try:
            return _reply(sock) == "PONG"
        except ScannerError:
            return False


def _frames(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """The stream's frames: each at most ``CHUNK_BYTES``, with its length before it."""
    for chunk in chunks:
        for start in range(0, len(chunk), CHUNK_BYTES):
            piece = chunk[start : start + CHUNK_BYTES]
            if piece:
                yield struct.pack(">I", len(piece)) + piece


def scan_stream(chunks: Iterable[bytes]) -> str | None:
    """Stream the bytes to clamd: the signature found, or ``None`` when clean.

    Raises ``ScannerError`` (or ``OSError``, a timeout included) when clamd cannot be
    reached, stops answering or answers an error.
    """
    with _connect(_timeout()) as sock:
        sock.sendall(b"zINSTREAM\0")
        try:
            for frame in _frames(chunks):
                sock.sendall(frame)
            sock.sendall(struct.pack(">I", 0))
        except TimeoutError:
            raise
        except OSError:
            # clamd may stop reading and answer early (over its StreamMaxLength), then close:
            # its answer says why; with none, the connection error does.
            pass
        answer = _reply(sock)
    if answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream:").removesuffix(" FOUND").strip()
        return signature[:SIGNATURE_MAX] or "unknown"
    if answer == "stream: OK":
        return None
    if SIZE_LIMIT in answer:
        raise ScannerError(
            f"clamd refused the stream ({answer}): its StreamMaxLength is below the file; "
            "set it at least as large as EVIDENCE_MAX_MB"
        )
    raise ScannerError(f"clamd answered {answer!r}")


def unavailable_message() -> str:
    return _("Pemindai virus sedang tidak dapat dijangkau; berkas tidak disimpan. Coba lagi nanti.")


def scan_upload(
    upload: UploadedFile[Any], *, user_id: int | None, about: Mapping[str, int]
) -> None:
    """Refuse an infected upload (400 on ``file``) or one that cannot be scanned (503).

    Nothing happens when ``CLAMAV_SOCKET`` is not set. ``about`` names what the file was
    uploaded to (``{"submission": 12}``, ``{"finding": 3}``) for the log, with the uploader's
    id; the log never holds the file's content.
    """
    if not configured():
        return
    where = ", ".join(f"{key} {value}" for key, value in about.items())
    upload.seek(0)
    try:
        signature = scan_stream(upload.chunks(CHUNK_BYTES))
    except (ScannerError, OSError) as exc:
        log.error(
            "Virus scanner unavailable, upload refused (%s, user %s): %s",
            where,
            user_id,
            exc,
            extra={**about, "user_id": user_id, "scanner_error": str(exc)},
        )
        raise Unavailable(unavailable_message(), retry_after=RETRY_AFTER_SECONDS) from exc
    finally:
        upload.seek(0)
    if signature is None:
        return
    log.warning(
        "Upload refused by the virus scanner: %s (%s, user %s)",
        signature,
        where,
        user_id,
        extra={**about, "user_id": user_id, "signature": signature},
    )
    raise Invalid(
        {"file": _("Berkas ditolak pemindai virus: %(signature)s.") % {"signature": signature}}
    )
