"""Writing the two exports into temporary files on disk, streamed, never held in memory.

Both builders read the database in chunks (a server-side cursor, or keyset batches) and
write as they read: openpyxl's write-only workbook spools each sheet to disk, and the
evidence package copies each stored file in chunks into the ZIP. Memory stays flat however
large the package grows (``bench/exports.py`` measures it).

Choices, documented here and in the package's README.txt:

* The evidence package holds the current files of the visible submissions that are
  verified or beyond (verified, consolidated, audited): what P3AP2KB has checked is what the
  city may hand to the national evaluation. Drafts and files still under verification stay out.
* A file supporting several indicators is stored once, under its submission's
  lowest-numbered indicator (its primary placement), so the package does not grow with the
  number of indicators; the manifest lists every indicator it supports.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
import pickle
import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kla.details import FIELDS, Field
from kla.models import (
    Category,
    Cluster,
    Evidence,
    Indicator,
    Instruction,
    Submission,
    SubmissionState,
)
from kla.time import WIB
from roles.roles import roles_of
from roles.selectors import visible_to

Progress = Callable[[int, int], None]
COPY_CHUNK = 1024 * 1024
BATCH = 500
VERIFIED_OR_BEYOND = (
    SubmissionState.VERIFIED,
    SubmissionState.CONSOLIDATED,
    SubmissionState.AUDITED,
)
MANIFEST_COLUMNS = (
    "path",
    "evidence_id",
    "submission_id",
    "agency",
    "agency_name",
    "category",
    "state",
    "indicators",
    "primary_indicator",
    "original_name",
    "size",
    "sha256",
    "status",
)
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- the recap workbook --------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: times are written as WIB wall-clock times.
    return timezone.localtime(moment, WIB).replace(tzinfo=None) if moment else None


def _detail_value(spec: Field, value: Any) -> Any:
    """A detail as a typed cell value: rupiah as numbers, dates as dates, labels for codes."""
    if value in (None, "", []):
        return None
    cell = spec.cell(value)
    return _text(cell) if isinstance(cell, str) else cell


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """A cell whose text is always text: a title starting with "=" is not a formula."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def rekap_rows(submission: Submission) -> list[Any]:
    """One submission's row: body, title, indicators, years, details, state, dates."""
    details = [
        _detail_value(spec, submission.details.get(spec.name))
        for spec in FIELDS[submission.category]
    ]
    return [
        submission.pk,
        _text(submission.body.code),
        _text(submission.body.name),
        _text(submission.title),
        ", ".join(str(i.number) for i in sorted(submission.indicators.all(), key=_number)),
        ", ".join(str(y) for y in submission.years),
        *details,
        _text(submission.get_state_display()),
        _("Ya") if submission.late else _("Tidak"),
        _local(submission.first_submitted_at),
        _local(submission.updated_at),
    ]


def _number(indicator: Indicator) -> int:
    return indicator.number


def rekap_header(category: str) -> list[str]:
    return [
        _("ID"),
        _("Kode perangkat"),
        _("Perangkat/lembaga"),
        _("Judul"),
        _("Indikator"),
        _("Tahun"),
        *[str(spec.label) for spec in FIELDS[category]],
        _("Status"),
        _("Terlambat"),
        _("Pertama diajukan (WIB)"),
        _("Terakhir diperbarui (WIB)"),
    ]


def _answering(user: User, instruction: Instruction | None) -> QuerySet[Submission]:
    """What the user sees of one instruction (of every one when none is given)."""
    visible = visible_to(user, roles_of(user))
    return visible if instruction is None else visible.filter(instruction=instruction)


def build_rekap(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The recap workbook: one sheet per category, one row per submission the user sees."""
    visible = _answering(user, instruction)
    total = visible.count()
    done = 0
    progress(done, total)
    workbook = Workbook(write_only=True)
    for category, label in Category.choices:
        sheet = workbook.create_sheet(title=str(label)[:31])
        sheet.append([_cell(sheet, h) for h in rekap_header(category)])
        rows: QuerySet[Submission] = (
            visible.filter(category=category)
            .select_related("body")
            .prefetch_related("indicators")
            .order_by("body__code", "id")
        )
        for submission in rows.iterator(chunk_size=BATCH):
            sheet.append([_cell(sheet, v) for v in rekap_rows(submission)])
            done += 1
            progress(done, total)
            if done % BATCH == 0:
                gc.collect()  # prefetch caches form cycles; see build_evidence_zip
    workbook.save(out)


# --- the evidence package ------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A write-through wrapper that hashes and counts what passes into the ZIP member."""

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += len(view)
        self.target.write(view)
        return len(view)


class _SpooledEntries:
    """``ZipFile.filelist`` kept on disk: the central directory without one object per file.

    zipfile keeps a ``ZipInfo`` per member (about half a kilobyte) until it writes the
    central directory at the end, so its memory grows with the number of files. This list
    stand-in pickles each entry to a temporary file as zipfile appends it, and reads them
    back in order when zipfile writes the directory: only ``append``, ``len`` and iteration
    are used while writing.
    """

    def __init__(self) -> None:
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in close()
        self._count = 0

    def append(self, entry: zipfile.ZipInfo) -> None:
        pickle.dump(entry, self._spool, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self._spool.seek(0)
        for _index in range(self._count):
            yield pickle.load(self._spool)  # noqa: S301 -- our own file, written just above
        self._spool.seek(0, io.SEEK_END)

    def close(self) -> None:
        self._spool.close()


class _NoIndex(dict[str, zipfile.ZipInfo]):
    """``ZipFile.NameToInfo`` that keeps nothing: member names here are unique by their ids."""

    def __setitem__(self, key: str, value: zipfile.ZipInfo) -> None:
        return None


class StreamingZipFile(zipfile.ZipFile):
    """A write-only ZipFile whose memory stays flat however many members it gets."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(file, "w", **kwargs)
        self.filelist = _SpooledEntries()  # type: ignore[assignment]
        self.NameToInfo = _NoIndex()

    def close(self) -> None:
        try:
            super().close()
        finally:
            entries = self.filelist
            if isinstance(entries, _SpooledEntries):
                entries.close()


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _safe_name(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = SAFE_NAME.sub("_", stem).strip("._")[:80] or "berkas"
    ext = SAFE_NAME.sub("", ext)[:10]
    return f"{stem}.{ext}" if ext else stem


def _folders() -> dict[int, str]:
    """``cluster/NN-indicator`` for every indicator, by number."""
    clusters = {code: slugify(str(label)) or code for code, label in Cluster.choices}
    return {
        i.number: f"{clusters.get(i.cluster, i.cluster)}/{i.number:02d}-{slugify(i.name)[:60]}"
        for i in Indicator.objects.all()
    }


def package_path(folder: str, evidence: Evidence) -> str:
    """Where one file goes: cluster/indicator/body/<submission>-<file>-<safe name>."""
    return (
        f"{folder}/{evidence.submission.body.code}/"
        f"{evidence.submission_id}-{evidence.pk}-{_safe_name(evidence.name)}"
    )


def _batches(evidence: QuerySet[Evidence]) -> Iterator[list[Evidence]]:
    """Keyset batches by id: each a short query, none holding a cursor across the copying."""
    last = 0
    while True:
        batch = list(evidence.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def package_evidence(user: User, instruction: Instruction | None = None) -> QuerySet[Evidence]:
    """The current files the package holds: visible submissions of the instruction, verified
    or beyond."""
    submissions = _answering(user, instruction).filter(state__in=VERIFIED_OR_BEYOND)
    return Evidence.objects.filter(
        removed_at__isnull=True, submission_id__in=submissions.values("pk")
    ).select_related("submission__body")


README = """\
Paket bukti dukung KLA {region} / KLA evidence package{instruction}

Susunan / layout: <klaster>/<nomor-indikator>/<kode perangkat>/<pengajuan>-<berkas>-<nama>

- Berisi berkas bukti dukung terkini dari pengajuan yang terverifikasi, terkonsolidasi
  atau selesai diaudit, yang dapat dilihat oleh peminta ekspor.
  Holds the current evidence files of the submissions that are verified, consolidated or
  audited and visible to the person who requested the export.
- Berkas yang mendukung beberapa indikator disimpan sekali, di bawah indikator bernomor
  terkecil; manifest.csv mencantumkan semua indikatornya.
  A file supporting several indicators is stored once, under its lowest-numbered indicator;
  manifest.csv lists every indicator it supports.
- manifest.csv: path, ids, perangkat, indikator, nama asli, ukuran dan SHA-256 tiap berkas
  (sama dengan yang tercatat saat diajukan). status: ok, hash_mismatch, missing.
"""


def readme(instruction: Instruction | None) -> str:
    """The package's README.txt: the region it is from and the instruction it answers."""
    answered = f"\n{instruction}: {instruction.title}" if instruction is not None else ""
    return README.format(region=settings.KLA_REGION_NAME, instruction=answered)


def build_evidence_zip(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The ZIP of evidence files with a CSV manifest, written member by member.

    Each stored file is copied in chunks into its ZIP member (``shutil.copyfileobj``) while it
    is hashed; the manifest is spooled to a temporary file and added last.
    """
    files = package_evidence(user, instruction)
    total = files.count()
    done = 0
    progress(done, total)
    folders = _folders()
    through = Submission.indicators.through
    with (
        StreamingZipFile(out, compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
        io.TextIOWrapper(_spool(), encoding="utf-8-sig", newline="") as manifest,
    ):
        writer = csv.writer(manifest)
        writer.writerow(MANIFEST_COLUMNS)
        zf.writestr("README.txt", readme(instruction))
        for batch in _batches(files):
            numbers: dict[int, list[int]] = defaultdict(list)
            for submission_id, number in (
                through.objects.filter(submission_id__in={e.submission_id for e in batch})
                .order_by("indicator__number")
                .values_list("submission_id", "indicator__number")
            ):
                numbers[submission_id].append(number)
            for evidence in batch:
                supported = numbers.get(evidence.submission_id, [])
                primary = supported[0] if supported else None
                folder = folders.get(primary, "tanpa-indikator") if primary else "tanpa-indikator"
                path = package_path(folder, evidence)
                status, sha, size = _copy_member(zf, path, evidence)
                writer.writerow(
                    [
                        _csv_safe(v)
                        for v in (
                            path if status != "missing" else "",
                            evidence.pk,
                            evidence.submission_id,
                            evidence.submission.body.code,
                            evidence.submission.body.name,
                            evidence.submission.category,
                            evidence.submission.state,
                            ";".join(str(n) for n in supported),
                            primary or "",
                            evidence.name,
                            size,
                            sha,
                            status,
                        )
                    ]
                )
                done += 1
                progress(done, total)
            # Model instances and their FieldFiles reference each other; without this the
            # cycles of every batch pile up until a rare full collection, and memory grows
            # with the package instead of staying flat.
            del batch
            gc.collect()
        manifest.flush()
        raw = manifest.buffer
        raw.seek(0)
        with zf.open("manifest.csv", "w", force_zip64=True) as member:
            shutil.copyfileobj(raw, member, COPY_CHUNK)


def _spool() -> IO[bytes]:
    # Closed by the TextIOWrapper built around it.
    return tempfile.TemporaryFile()


def _copy_member(zf: zipfile.ZipFile, path: str, evidence: Evidence) -> tuple[str, str, int]:
    """Copy one stored file into the ZIP; its status, the SHA-256 of what was written, size.

    A file missing from storage is listed in the manifest as ``missing`` rather than failing
    the whole package; any other storage error propagates so the task retries.
    """
    try:
        source = evidence.file.open("rb")
    except FileNotFoundError:
        return "missing", evidence.sha256, evidence.size
    info = zipfile.ZipInfo(path, date_time=_zip_time(evidence.uploaded_at))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    with source, zf.open(info, "w", force_zip64=True) as member:
        hashing = _Hashing(member)
        shutil.copyfileobj(source, hashing, COPY_CHUNK)
    sha = hashing.digest.hexdigest()
    return ("ok" if sha == evidence.sha256 else "hash_mismatch"), sha, hashing.size


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment, WIB)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)
