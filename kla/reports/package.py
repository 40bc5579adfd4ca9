"""The evidence package the national evaluation asks for: a ZIP streamed member by member.

The package is laid out the way KemenPPPA's application asks for evidence, item by item under
each indicator (DESIGN, "Evidence requirements per indicator")::

    <cluster>/<NN-indicator>/<requirement code | lainnya>/<body code>/<submission>-<file>-<name>

Choices, documented here and in the package's README.txt:

* It holds the current files of the visible submissions of the export's instruction that are
  verified or beyond (``kla.requirements.COUNTING_STATES``): what P3AP2KB has checked is what the
  city may hand to the national evaluation. Drafts and files still under verification stay out.
* A file sits under each requirement it names (under several indicators when they belong to
  different ones), and under ``lainnya`` of each of its submission's indicators for which it
  names none. ZIP has no links, so each place is a member of its own, copied again from
  storage; the manifest has one row per place.
* ``ringkasan.csv`` (and ``ringkasan.xlsx``) sum each indicator up: its requirements met or
  still missing for the whole instruction (``requirements_met``, whoever asks: the gap is the
  city's, not the requester's), and the files and bodies of this package under it.

Memory stays flat however large the package grows (``bench/package.py`` measures it): files
are read in keyset batches with their requirements, indicators and upload events fetched once
per batch, each stored file is copied in chunks, the manifest is spooled to disk and the ZIP's
central directory too (``StreamingZipFile``); only the per-indicator sums stay in memory.
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kla.models import Cluster, Evidence, Indicator, Instruction, Requirement, Submission
from kla.reports.builders import BATCH, Progress, answering
from kla.reports.xlsx import new_workbook, opening_rows, summary_table, table
from kla.requirements import COUNTING_STATES, requirements_met
from kla.time import WIB
from workflows.models import TrailEvent
from workflows.trail.fixity import FixityResult, fixity_check

COPY_CHUNK = 1024 * 1024
MANIFEST_COLUMNS = (
    "path",
    "indicator",
    "requirement",
    "body",
    "submission",
    "evidence",
    "state",
    "file_name",
    "kind",
    "size",
    "sha256",
    "stream",
    "seq",
    "status",
)
# The folder of the files that name no requirement of an indicator (KemenPPPA's "lainnya").
OTHER = "lainnya"
# Where a file goes whose submission has no indicator at all (none should; kept from before).
NO_INDICATOR = "tanpa-indikator"
UPLOAD_ACTION = "evidence_upload"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- a ZIP whose memory stays flat ---------------------------------------------------------


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
    """``ZipFile.NameToInfo`` that keeps nothing: member names here are unique by their ids
    (a file has one place per indicator and requirement)."""

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


# --- names and places ----------------------------------------------------------------------


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


def _segment(code: str) -> str:
    """A requirement's code as one folder name (``2.1`` stays ``2.1``; never ``..``)."""
    return SAFE_NAME.sub("_", code).strip("._")[:40] or "kode"


def code_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Sort codes as people number them: ``13.2`` before ``13.10``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", code)
        if part
    )


def _folders(indicators: Iterable[Indicator]) -> dict[int, str]:
    """``cluster/NN-indicator`` for every indicator, by its id."""
    clusters = {code: slugify(str(label)) or code for code, label in Cluster.choices}
    return {
        i.pk: f"{clusters.get(i.cluster, i.cluster)}/{i.number:02d}-{slugify(i.name)[:60]}"
        for i in indicators
    }


@dataclass(frozen=True)
class Place:
    """One place of a file in the package: an indicator (None: its submission has none) and
    the requirement it serves there (None: ``lainnya``)."""

    indicator: Indicator | None
    requirement: Requirement | None


def places_of(
    evidence: Evidence, indicators: list[Indicator], by_id: dict[int, Indicator]
) -> list[Place]:
    """Where one file sits: under each requirement it names (its prefetched
    ``requirements``), and under ``lainnya`` of each of ``indicators`` (its submission's) for
    which it names none; ordered by indicator number, then code, ``lainnya`` last."""
    named = [Place(by_id[r.indicator_id], r) for r in evidence.requirements.all()]
    served = {r.indicator_id for r in evidence.requirements.all()}
    other = [Place(i, None) for i in indicators if i.pk not in served]
    if not named and not other:
        return [Place(None, None)]
    return sorted(
        named + other,
        key=lambda p: (
            p.indicator.number if p.indicator is not None else 0,
            p.requirement is None,
            code_key(p.requirement.code) if p.requirement is not None else (),
        ),
    )


def package_path(folder: str, place: Place, evidence: Evidence) -> str:
    """Where one file goes in one place:
    ``cluster/indicator/requirement-or-lainnya/body/<submission>-<file>-<safe name>``."""
    requirement = _segment(place.requirement.code) if place.requirement is not None else OTHER
    return (
        f"{folder}/{requirement}/{evidence.submission.body.code}/"
        f"{evidence.submission_id}-{evidence.pk}-{_safe_name(evidence.name)}"
    )


# --- reading the files ---------------------------------------------------------------------


def package_evidence(user: User, instruction: Instruction | None = None) -> QuerySet[Evidence]:
    """The current files the package holds: visible submissions of the instruction, verified
    or beyond, each with the requirements it names (one query per batch)."""
    submissions = answering(user, instruction).filter(state__in=COUNTING_STATES)
    return (
        Evidence.objects.filter(removed_at__isnull=True, submission_id__in=submissions.values("pk"))
        .select_related("submission__body")
        .prefetch_related(
            Prefetch("requirements", queryset=Requirement.objects.only("pk", "code", "indicator"))
        )
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


def _indicators_of(
    batch: list[Evidence], by_id: dict[int, Indicator]
) -> dict[int, list[Indicator]]:
    """Each submission's indicators, for a batch of files (one query)."""
    through = Submission.indicators.through
    found: dict[int, list[Indicator]] = defaultdict(list)
    for submission_id, indicator_id in through.objects.filter(
        submission_id__in={e.submission_id for e in batch}
    ).values_list("submission_id", "indicator_id"):
        found[submission_id].append(by_id[indicator_id])
    for indicators in found.values():
        indicators.sort(key=lambda i: i.number)
    return found


def uploads_of(batch: list[Evidence]) -> dict[int, tuple[str, int]]:
    """The trail stream and ``seq`` of each file's upload event, for a batch (one query).

    Narrowed by the submissions (indexed with ``seq``) and then by the file ids in the event's
    data; should a file have several upload events, the first counts.
    """
    found: dict[int, tuple[str, int]] = {}
    for evidence_id, stream, seq in (
        TrailEvent.objects.filter(
            action=UPLOAD_ACTION,
            submission_id__in={e.submission_id for e in batch},
            data__evidence__in=[e.pk for e in batch],
        )
        .order_by("seq")
        .values_list("data__evidence", "stream__name", "seq")
    ):
        found.setdefault(int(evidence_id), (stream, seq))
    return found


# --- the summary per indicator -------------------------------------------------------------


@dataclass
class _Sums:
    """What the package holds under one indicator: files and the bodies they come from."""

    files: int = 0
    bodies: set[str] = field(default_factory=set)


def summary_header() -> list[str]:
    """The headers of ``ringkasan.csv`` and ``ringkasan.xlsx`` (Indonesian, as exported)."""
    return [
        _("Nomor"),
        _("Indikator"),
        _("Klaster"),
        _("Kebutuhan terdaftar"),
        _("Kebutuhan terpenuhi"),
        _("Kebutuhan belum terpenuhi"),
        _("Berkas"),
        _("Perangkat/lembaga"),
        _("Kode perangkat"),
    ]


def summary_rows(
    indicators: list[Indicator], instruction: Instruction | None, sums: dict[int, _Sums]
) -> list[list[Any]]:
    """One row per indicator: its requirements listed, met (for the whole instruction, or
    every instruction when none is given) and missing by code; the package's files and bodies
    under it."""
    requirements = Requirement.objects.only("pk", "code", "indicator")
    if instruction is not None:
        met = requirements_met(instruction)
        requirements = requirements.filter(instruction=instruction)
    else:
        met = set().union(
            *(
                requirements_met(i)
                for i in Instruction.objects.filter(requirements__isnull=False).distinct()
            )
        )
    listed: dict[int, list[Requirement]] = defaultdict(list)
    for requirement in requirements:
        listed[requirement.indicator_id].append(requirement)
    clusters = dict(Cluster.choices)
    rows: list[list[Any]] = []
    for indicator in indicators:
        mine = listed.get(indicator.pk, [])
        missing = sorted((r.code for r in mine if r.pk not in met), key=code_key)
        held = sums.get(indicator.pk, _Sums())
        rows.append(
            [
                indicator.number,
                indicator.name,
                str(clusters.get(indicator.cluster, indicator.cluster)),
                len(mine),
                len(mine) - len(missing),
                ", ".join(missing),
                held.files,
                len(held.bodies),
                ", ".join(sorted(held.bodies)),
            ]
        )
    return rows


def _summary_csv(rows: list[list[Any]]) -> bytes:
    # ";" and a BOM: what Excel set to Indonesian opens as columns (DESIGN, "Interfaces").
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";")
    writer.writerow(summary_header())
    writer.writerows([_csv_safe(v) for v in row] for row in rows)
    return text.getvalue().encode("utf-8-sig")


def _summary_xlsx(
    rows: list[list[Any]], instruction: Instruction | None = None, user: User | None = None
) -> bytes:
    """``ringkasan.xlsx``: a summary sheet, then the rows of ``ringkasan.csv`` per indicator."""
    made_at = timezone.now()
    workbook = new_workbook()
    summary = summary_table(workbook)
    table(workbook, title=_("Per indikator"), columns=summary_header(), rows=rows)
    bodies = {code for row in rows for code in str(row[8]).split(", ") if code}
    summary.extend(
        opening_rows(
            what=_("Ringkasan paket bukti dukung: satu baris per indikator."),
            instruction=instruction,
            made_at=made_at,
            user=user,
            counts=[
                [_("Indikator"), len(rows)],
                [_("Kebutuhan terdaftar"), sum(row[3] for row in rows)],
                [_("Kebutuhan terpenuhi"), sum(row[4] for row in rows)],
                [_("Indikator dengan berkas"), sum(1 for row in rows if row[6])],
                [_("Perangkat/lembaga"), len(bodies)],
            ],
        )
    )
    summary.close()
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the README ----------------------------------------------------------------------------


README = """\
Paket bukti dukung KLA {region} / KLA evidence package{instruction}

Susunan / layout:
  <klaster>/<nomor-indikator>/<kode kebutuhan|lainnya>/<kode perangkat>/<pengajuan>-<berkas>-<nama>
  <cluster>/<indicator number>/<requirement code|lainnya>/<body code>/<submission>-<file>-<name>

- Berisi berkas bukti dukung terkini dari pengajuan instruksi ini yang terverifikasi,
  terkonsolidasi atau selesai diaudit, yang dapat dilihat oleh peminta ekspor.
  Holds the current evidence files of this instruction's submissions that are verified,
  consolidated or audited and visible to the person who requested the export.
- Berkas diletakkan di bawah setiap kebutuhan data dukung yang dipenuhinya (di bawah beberapa
  indikator bila kebutuhannya milik indikator yang berbeda), dan di folder "lainnya" setiap
  indikator pengajuannya yang tidak satu pun kebutuhannya ia penuhi. Berkas yang sama dapat
  muncul di beberapa tempat, dengan isi yang sama (SHA-256 yang sama).
  A file sits under each requirement it serves (under several indicators when its
  requirements belong to different ones), and under "lainnya" of each of its submission's
  indicators for which it serves none. The same file may appear in several places, with the
  same content (the same SHA-256).
- manifest.csv: satu baris per tempat: path, indikator, kode kebutuhan (kosong untuk
  lainnya), perangkat, pengajuan, berkas, status pengajuan, nama asli, jenis, ukuran, SHA-256
  (sama dengan yang tercatat saat diunggah), serta stream dan seq peristiwa unggahnya di jejak
  audit. status: ok, changed (isinya berbeda dari saat diunggah: tidak disertakan, path
  kosong, SHA-256 isi yang ditemukan; auditor dan administrator telah diberi tahu), missing
  (tidak ada di penyimpanan; path kosong), unrecorded (tidak ada peristiwa unggahnya di jejak;
  tidak disertakan).
  One row per place, with the stream and seq of the file's upload event in the trail.
- ringkasan.csv (dipisah ";") dan ringkasan.xlsx: satu baris per indikator: kebutuhan
  terdaftar, terpenuhi dan belum terpenuhi (kodenya) untuk seluruh instruksi, serta jumlah
  berkas dan perangkat di bawah indikator itu dalam paket ini.
  One row per indicator: requirements listed, met and missing (their codes) for the whole
  instruction, and the files and bodies under it in this package.
"""


def readme(instruction: Instruction | None) -> str:
    """The package's README.txt: the region it is from and the instruction it answers."""
    answered = f"\n{instruction}: {instruction.title}" if instruction is not None else ""
    return README.format(region=settings.KLA_REGION_NAME, instruction=answered)


# --- building ------------------------------------------------------------------------------


def build_evidence_zip(
    *, user: User, out: IO[bytes], progress: Progress, instruction: Instruction | None = None
) -> None:
    """The ZIP of evidence files with a CSV manifest and the summary, written member by member.

    Each stored file is copied in chunks into each of its places (``shutil.copyfileobj``)
    while it is hashed; the manifest is spooled to a temporary file and added after the files,
    then the summary. Progress counts files, not places (their number is known up front).
    """
    files = package_evidence(user, instruction)
    total = files.count()
    done = 0
    progress(done, total)
    indicators = list(Indicator.objects.order_by("number"))
    by_id = {i.pk: i for i in indicators}
    folders = _folders(indicators)
    sums: dict[int, _Sums] = defaultdict(_Sums)
    with (
        StreamingZipFile(out, compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
        io.TextIOWrapper(_spool(), encoding="utf-8-sig", newline="") as manifest,
    ):
        writer = csv.writer(manifest)
        writer.writerow(MANIFEST_COLUMNS)
        zf.writestr("README.txt", readme(instruction))
        for batch in _batches(files):
            indicators_of = _indicators_of(batch, by_id)
            uploads = uploads_of(batch)
            # Each file against its upload event first: a changed one stays out (DESIGN,
            # "Fixity"), its failure recorded and told, as a refused download would be.
            failed = {
                r.file_id: r
                for r in fixity_check(
                    evidence=Evidence.objects.filter(pk__in=[e.pk for e in batch])
                )
                if not r.ok
            }
            for evidence in batch:
                places = places_of(evidence, indicators_of.get(evidence.submission_id, []), by_id)
                upload = uploads.get(evidence.pk)
                if _write_places(
                    zf, writer, evidence, places, folders, upload, failed.get(evidence.pk)
                ):
                    # Counted once per indicator however many of its requirements it serves.
                    for indicator_id in {p.indicator.pk for p in places if p.indicator}:
                        sums[indicator_id].files += 1
                        sums[indicator_id].bodies.add(evidence.submission.body.code)
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
        rows = summary_rows(indicators, instruction, sums)
        zf.writestr("ringkasan.csv", _summary_csv(rows))
        zf.writestr("ringkasan.xlsx", _summary_xlsx(rows, instruction, user))


def _write_places(
    zf: zipfile.ZipFile,
    writer: Any,
    evidence: Evidence,
    places: list[Place],
    folders: dict[int, str],
    upload: tuple[str, int] | None,
    failure: FixityResult | None,
) -> bool:
    """Copy one file into each of its places with a manifest row each; whether it was held
    (neither missing nor changed since its upload: such a file is listed, not copied)."""
    stream, seq = upload if upload is not None else ("", "")
    held = False
    for place in places:
        folder = folders[place.indicator.pk] if place.indicator is not None else NO_INDICATOR
        path = package_path(folder, place, evidence)
        if failure is not None:
            status, sha, size = failure.reason, failure.found or "", evidence.size
        else:
            status, sha, size = _copy_member(zf, path, evidence)
        copied = status == "ok"
        held = held or copied
        row = (
            path if copied else "",
            place.indicator.number if place.indicator is not None else "",
            place.requirement.code if place.requirement is not None else "",
            evidence.submission.body.code,
            evidence.submission_id,
            evidence.pk,
            evidence.submission.state,
            evidence.name,
            evidence.kind,
            size,
            sha,
            stream,
            seq,
            status,
        )
        writer.writerow([_csv_safe(v) for v in row])
    return held


def _spool() -> IO[bytes]:
    # Closed by the TextIOWrapper built around it.
    return tempfile.TemporaryFile()


def _copy_member(zf: zipfile.ZipFile, path: str, evidence: Evidence) -> tuple[str, str, int]:
    """Copy one stored file into the ZIP; its status, the SHA-256 of what was written, size.

    Opened from storage each time (a file with several places is read again for each): the
    model's ``FieldFile`` would keep the last handle. A file missing from storage is listed
    in the manifest as ``missing`` rather than failing the whole package; any other storage
    error propagates so the task retries.
    """
    name = evidence.file.name
    try:
        if not name:
            raise FileNotFoundError(evidence.pk)  # a row without a stored file: as missing
        source = evidence.file.storage.open(name, "rb")
    except FileNotFoundError:
        return "missing", evidence.sha256, evidence.size
    info = zipfile.ZipInfo(path, date_time=_zip_time(evidence.uploaded_at))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    with source, zf.open(info, "w", force_zip64=True) as member:
        hashing = _Hashing(member)
        shutil.copyfileobj(source, hashing, COPY_CHUNK)
    sha = hashing.digest.hexdigest()
    # Checked against the upload event just before; a change since then is a change too.
    return ("ok" if sha == evidence.sha256 else "changed"), sha, hashing.size


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment, WIB)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)
