"""Virus scanning with ClamAV (``kla.scanning``), against a stand-in clamd in the test.

The stand-in speaks clamd's ``zPING`` and ``zINSTREAM`` framing over a Unix socket (and TCP),
finds the EICAR test string anywhere in the stream, and can hang, close the connection, answer
an error or enforce a ``StreamMaxLength``. Infected: 400 on ``file`` with the signature, nothing
stored, no trail event. Scanner down: 503 with Retry-After, nothing stored. Not configured: no
connection at all.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kla import scanning
from kla.models import Evidence, Submission
from tests import factories as f
from workflows.models import Finding, FollowUpEntry, FollowUpFile, TrailEvent
from workflows.notifications.outbox import relay_run

from .conftest import url

pytestmark = pytest.mark.django_db

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# A PDF by its content (accepted as evidence) that carries the test string in its body.
INFECTED_PDF = f.PDF_BYTES + b"% " + EICAR + b"\n%%EOF\n"
SIGNATURE = "Eicar-Test-Signature"


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeClamd:
    """A threaded clamd stand-in; ``mode`` is ``ok``, ``hang``, ``close`` or ``error``."""

    def __init__(self, address: str | tuple[str, int]) -> None:
        self.mode = "ok"
        self.max_length: int | None = None
        self.connections = 0
        self.commands: list[bytes] = []
        self.streamed: list[int] = []  # bytes received per INSTREAM
        self.release = threading.Event()
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake.connections += 1
                fake.serve(self.request)

        self.server: socketserver.BaseServer
        if isinstance(address, str):
            self.server = UnixServer(address, Handler)
        else:
            self.server = TCPServer(address, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def setting(self) -> str:
        address: Any = self.server.server_address
        if isinstance(address, str):
            return address
        return f"tcp://{address[0]}:{address[1]}"

    def start(self) -> FakeClamd:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _exactly(sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _command(self, sock: socket.socket) -> bytes:
        data = b""
        while not data.endswith(b"\0"):
            data += self._exactly(sock, 1)
        return data[:-1]

    def serve(self, sock: socket.socket) -> None:
        try:
            command = self._command(sock)
            self.commands.append(command)
            if self.mode == "close":
                return
            if self.mode == "hang":
                self.release.wait(30)
                return
            if command == b"zPING":
                sock.sendall(b"PONG\0")
            elif command == b"zINSTREAM":
                self._instream(sock)
            else:
                sock.sendall(b"UNKNOWN COMMAND\0")
        except ConnectionError:
            pass

    def _instream(self, sock: socket.socket) -> None:
        received = bytearray()
        while True:
            (length,) = struct.unpack(">I", self._exactly(sock, 4))
            if length == 0:
                break
            received += self._exactly(sock, length)
            if self.max_length is not None and len(received) > self.max_length:
                self.streamed.append(len(received))
                sock.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):  # let the client finish sending, as clamd's socket does
                    pass
                return
        self.streamed.append(len(received))
        if self.mode == "error":
            sock.sendall(b"stream: Can't allocate memory ERROR\0")
        elif EICAR in received:
            sock.sendall(f"stream: {SIGNATURE} FOUND\0".encode())
        else:
            sock.sendall(b"stream: OK\0")


@pytest.fixture
def clamd(settings: Any, tmp_path: Path) -> Iterator[FakeClamd]:
    """The stand-in on a Unix socket, named by ``CLAMAV_SOCKET``."""
    fake = FakeClamd(str(tmp_path / "clamd.ctl")).start()
    settings.CLAMAV_SOCKET = fake.setting
    settings.CLAMAV_TIMEOUT = 5
    yield fake
    fake.stop()


@pytest.fixture
def tcp_clamd(settings: Any) -> Iterator[FakeClamd]:
    fake = FakeClamd(("127.0.0.1", 0)).start()
    settings.CLAMAV_SOCKET = fake.setting
    settings.CLAMAV_TIMEOUT = 5
    yield fake
    fake.stop()


def upload(api: Any, operator: User, draft: Submission, content: bytes) -> Any:
    return api.as_(operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload("bukti.pdf", content)}, format="multipart"
    )


def uploads_of(draft: Submission) -> tuple[int, int]:
    """How many evidence rows and upload events the submission has."""
    events = TrailEvent.objects.filter(submission=draft, action="evidence_upload").count()
    return Evidence.objects.filter(submission=draft).count(), events


def stored_files(settings: Any) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# The client on its own -------------------------------------------------------------------------


def test_the_client_frames_the_stream_in_chunks(clamd: FakeClamd) -> None:
    big = [b"a" * (scanning.CHUNK_BYTES * 2 + 10), b"b" * 5]
    assert scanning.scan_stream(iter(big)) is None
    assert clamd.streamed == [scanning.CHUNK_BYTES * 2 + 15]
    assert scanning.scan_stream(iter([b"x" * 10, EICAR[:20], EICAR[20:]])) == SIGNATURE
    assert scanning.ping() is True
    assert clamd.commands == [b"zINSTREAM", b"zINSTREAM", b"zPING"]


def test_the_stream_size_limit_is_an_error(clamd: FakeClamd) -> None:
    clamd.max_length = 1000
    with pytest.raises(scanning.ScannerError, match="StreamMaxLength"):
        scanning.scan_stream(iter([b"a" * 600] * 200))
    clamd.max_length = None
    assert scanning.scan_stream(iter([b"a" * 600] * 200)) is None


# Evidence through the API ----------------------------------------------------------------------


def test_a_clean_pdf_is_scanned_and_stored(
    api: Any, operator: User, draft: Submission, clamd: FakeClamd
) -> None:
    before = uploads_of(draft)
    response = upload(api, operator, draft, f.PDF_BYTES)
    assert response.status_code == 201, response.content
    assert clamd.commands == [b"zINSTREAM"] and clamd.streamed == [len(f.PDF_BYTES)]
    assert uploads_of(draft) == (before[0] + 1, before[1] + 1)


def test_a_clean_pdf_through_tcp(
    api: Any, operator: User, draft: Submission, tcp_clamd: FakeClamd
) -> None:
    assert tcp_clamd.setting.startswith("tcp://127.0.0.1:")
    assert upload(api, operator, draft, f.PDF_BYTES).status_code == 201
    infected = upload(api, operator, draft, INFECTED_PDF)
    assert infected.status_code == 400
    assert tcp_clamd.connections == 2


def test_an_infected_file_is_refused_with_the_signature_and_nothing_is_stored(
    api: Any,
    operator: User,
    draft: Submission,
    clamd: FakeClamd,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before, files = uploads_of(draft), stored_files(settings)
    version = Submission.objects.get(pk=draft.pk).version
    with caplog.at_level(logging.WARNING, logger="kla.scanning"):
        response = upload(api, operator, draft, INFECTED_PDF)
    assert response.status_code == 400
    assert response.json() == {"file": [f"Berkas ditolak pemindai virus: {SIGNATURE}."]}
    assert uploads_of(draft) == before
    assert stored_files(settings) == files
    assert Submission.objects.get(pk=draft.pk).version == version
    [record] = [r for r in caplog.records if r.name == "kla.scanning"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert SIGNATURE in message and f"submission {draft.pk}" in message
    assert f"user {operator.pk}" in message
    assert record.__dict__["user_id"] == operator.pk
    assert record.__dict__["submission"] == draft.pk
    assert "EICAR-STANDARD" not in message and "%PDF" not in message


@pytest.mark.parametrize("mode", ["close", "hang", "error", "gone"])
def test_a_scanner_down_hanging_or_failing_is_503_and_nothing_is_stored(
    api: Any, operator: User, draft: Submission, clamd: FakeClamd, settings: Any, mode: str
) -> None:
    settings.CLAMAV_TIMEOUT = 1
    if mode == "gone":
        clamd.stop()
    else:
        clamd.mode = mode
    before, files = uploads_of(draft), stored_files(settings)
    response = upload(api, operator, draft, f.PDF_BYTES)
    assert response.status_code == 503
    assert response["Retry-After"] == str(scanning.RETRY_AFTER_SECONDS)
    assert "Pemindai virus" in response.json()["detail"]
    assert uploads_of(draft) == before
    assert stored_files(settings) == files


def test_a_stream_over_clamds_limit_is_503(
    api: Any, operator: User, draft: Submission, clamd: FakeClamd
) -> None:
    clamd.max_length = 10
    before = uploads_of(draft)
    response = upload(api, operator, draft, f.PDF_BYTES + b"0" * 200_000)
    assert response.status_code == 503 and response.has_header("Retry-After")
    assert uploads_of(draft) == before


def test_without_the_setting_nothing_connects(
    api: Any,
    operator: User,
    draft: Submission,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    clamd: FakeClamd,
) -> None:
    settings.CLAMAV_SOCKET = ""

    class NoSockets:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"socket.{name} used without CLAMAV_SOCKET")

    monkeypatch.setattr(scanning, "socket", NoSockets())
    response = upload(api, operator, draft, INFECTED_PDF)
    assert response.status_code == 201  # not scanned, as before scanning existed
    assert clamd.connections == 0


# Evidence through the pages ---------------------------------------------------------------------


def test_pages_store_a_clean_pdf_refuse_an_infected_one_and_answer_503(
    operator: User, draft: Submission, clamd: FakeClamd, settings: Any
) -> None:
    client = Client()
    client.force_login(operator)
    page = f"/pengajuan/{draft.pk}/bukti/"
    before = uploads_of(draft)
    sent = client.post(page, {"file": f.pdf_upload("bersih.pdf"), "kind": "other"})
    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert Evidence.objects.filter(submission=draft, name="bersih.pdf").exists()
    after_clean = uploads_of(draft)
    assert after_clean == (before[0] + 1, before[1] + 1)

    refused = client.post(page, {"file": f.pdf_upload("virus.pdf", INFECTED_PDF)})
    assert refused.status_code == 400
    assert f"Berkas ditolak pemindai virus: {SIGNATURE}." in refused.content.decode()
    assert uploads_of(draft) == after_clean

    clamd.stop()
    down = client.post(page, {"file": f.pdf_upload("lagi.pdf")})
    assert down.status_code == 503
    assert down["Retry-After"] == str(scanning.RETRY_AFTER_SECONDS)
    assert "Pemindai virus sedang tidak dapat dijangkau" in down.content.decode()
    assert uploads_of(draft) == after_clean


# Follow-up files of findings -------------------------------------------------------------------


def _finding(client_of: Any, auditor: User, audited: Submission) -> dict[str, Any]:
    response = client_of(auditor).post(
        "/api/v1/findings/",
        {
            "submission": audited.pk,
            "title": "Perwali belum diundangkan",
            "condition": "Salinan belum bernomor",
            "criteria": "Permen PPPA 12/2022",
            "recommendations": ["Unggah salinan resmi"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def test_a_follow_up_file_with_eicar_is_refused(
    client_of: Any,
    auditor: User,
    operator: User,
    audited: Submission,
    clamd: FakeClamd,
    caplog: pytest.LogCaptureFixture,
) -> None:
    finding = _finding(client_of, auditor, audited)
    rid = finding["recommendations"][0]["id"]
    follow_ups = f"/api/v1/findings/{finding['id']}/recommendations/{rid}/follow-ups/"
    events = TrailEvent.objects.count()
    with caplog.at_level(logging.WARNING, logger="kla.scanning"):
        response = client_of(operator).post(
            follow_ups,
            {"note": "Sudah", "file": [f.pdf_upload("a.pdf"), f.pdf_upload("b.pdf", INFECTED_PDF)]},
            format="multipart",
        )
    assert response.status_code == 400
    assert response.json() == {"file": [f"Berkas ditolak pemindai virus: {SIGNATURE}."]}
    assert not FollowUpFile.objects.exists() and not FollowUpEntry.objects.exists()
    assert TrailEvent.objects.count() == events
    assert Finding.objects.get().recommendations.get().status == "open"
    assert any(f"finding {finding['id']}" in r.getMessage() for r in caplog.records)

    clamd.stop()
    down = client_of(operator).post(
        follow_ups, {"note": "Sudah", "file": f.pdf_upload("a.pdf")}, format="multipart"
    )
    assert down.status_code == 503 and down.has_header("Retry-After")
    assert not FollowUpFile.objects.exists()


def test_a_clean_follow_up_file_is_stored_and_the_page_refuses_eicar(
    client_of: Any,
    auditor: User,
    operator: User,
    audited: Submission,
    clamd: FakeClamd,
) -> None:
    finding = _finding(client_of, auditor, audited)
    rid = finding["recommendations"][0]["id"]
    body = Client()
    body.force_login(operator)
    page = f"/temuan/{finding['id']}/rekomendasi/{rid}/tindak-lanjut/"
    refused = body.post(
        page, {f"r{rid}-note": "Selesai", f"r{rid}-file": f.pdf_upload("v.pdf", INFECTED_PDF)}
    )
    assert refused.status_code == 400
    assert f"Berkas ditolak pemindai virus: {SIGNATURE}." in refused.content.decode()
    assert not FollowUpFile.objects.exists()
    sent = body.post(page, {f"r{rid}-note": "Selesai", f"r{rid}-file": f.pdf_upload()})
    assert sent.status_code == 302
    assert FollowUpFile.objects.count() == 1
    assert clamd.commands == [b"zINSTREAM", b"zINSTREAM"]


# /healthz/ -------------------------------------------------------------------------------------


def test_healthz_names_the_scanner(client: Client, clamd: FakeClamd, settings: Any) -> None:
    relay_run()
    up = client.get("/healthz/")
    assert up.status_code == 200, up.json()
    assert up.json()["checks"]["scanner"] == "ok"
    assert clamd.commands == [b"zPING"]

    clamd.mode = "close"
    closed = client.get("/healthz/")
    assert closed.status_code == 503
    assert closed.json()["down"] == ["scanner"]

    clamd.stop()
    gone = client.get("/healthz/")
    assert gone.status_code == 503
    assert gone.json()["down"] == ["scanner"]
    assert gone.json()["checks"]["scanner"] == "down"

    settings.CLAMAV_SOCKET = ""
    unset = client.get("/healthz/")
    assert unset.status_code == 200
    assert "scanner" not in unset.json()["checks"]
