"""Exports: the recap workbook and the evidence package, their progress rows and their rights."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kla.models import Evidence, Export, ExportState, Submission
from kla.reports import exports, package
from kla.reports.exports import export_request, export_run, exports_requeue_stale
from kla.reports.tasks import run_export
from workflows.models import TrailEvent

from .world import logged_in, make, real_indicators, unique_pdf

pytestmark = pytest.mark.django_db
API = "/api/v1/exports/"
# The package's members that are not evidence files.
LISTS = ("README.txt", "manifest.csv", "ringkasan.csv", "ringkasan.xlsx")


@pytest.fixture
def world(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Any]:
    real_indicators()
    return {
        "program": make(
            operator,
            "verified",
            people,
            category="program",
            title="Forum Anak Kota Metro",
            indicators=[17, 6],
            files=[unique_pdf("program-1"), unique_pdf("program-2")],
            details={
                "program": "Pemenuhan Hak Anak",
                "activity": "Forum Anak",
                "sub_activity": "Pelatihan",
                "funding_source": "APBD",
                "budget": 1500000,
                "realization": 1250000,
                "year": 2025,
            },
        ),
        "regulation": make(
            other_operator,
            "consolidated",
            people,
            title="=SUM(A1) Perwali KTR",
            indicators=[21],
            files=[unique_pdf("regulation")],
        ),
        "audited": make(operator, "audited", people, indicators=[13], files=[unique_pdf("aud")]),
        "submitted": make(operator, "submitted", people, indicators=[17]),
        "draft": make(operator, "draft", people, indicators=[17]),
    }


def request_done(client: Any, kind: str, capture: Any) -> dict[str, Any]:
    """POST an export and run the queued task inline; the export as the API then shows it."""
    with capture(execute=True):
        response = client.post(API, {"kind": kind}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "state", "progress"}
    assert created["state"] == "pending"
    detail: dict[str, Any] = client.get(f"{API}{created['id']}/").json()
    return detail


def download(client: Any, detail: dict[str, Any]) -> bytes:
    response = client.get(detail["download"])
    assert response.status_code == 200
    return b"".join(response.streaming_content)


# --- the recap workbook --------------------------------------------------------------------


def test_rekap_has_one_sheet_per_category_and_a_row_per_visible_submission(
    world: dict[str, Any],
    consolidator: Any,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api.as_(consolidator)
    detail = request_done(client, "rekap_xlsx", django_capture_on_commit_callbacks)
    assert detail["state"] == "done"
    assert detail["progress"] == 100
    book = load_workbook(io.BytesIO(download(client, detail)))
    assert book.sheetnames == [
        "Ringkasan",
        "Regulasi",
        "Program dan kegiatan",
        "Kemitraan",
        "Inovasi",
    ]
    program = list(book["Program dan kegiatan"].iter_rows(values_only=True))
    header, rows = program[0], program[1:]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Kode perangkat"] == "dinkes"
    assert row["Perangkat/lembaga"] == "Dinas Kesehatan"
    assert row["Judul"] == "Forum Anak Kota Metro"
    assert row["Indikator"] == "6, 17"
    assert row["Tahun"] == "2025"
    assert row["Sumber dana"] == "APBD"
    assert row["Anggaran (Rp)"] == 1500000
    assert row["Realisasi (Rp)"] == 1250000
    assert row["Status"] == "Terverifikasi"
    assert row["Terlambat"] in ("Ya", "Tidak")
    assert isinstance(row["Pertama diajukan (WIB)"], dt.datetime)
    regulation = list(book["Regulasi"].iter_rows(values_only=True))
    # Reviewers never see the body's private draft; the submitted one they do.
    assert len(regulation) - 1 == 3
    titles = [r[3] for r in regulation[1:]]
    assert "=SUM(A1) Perwali KTR" in titles  # text, not a formula
    state_of = {r[0]: r[-4] for r in regulation[1:]}
    assert state_of[world["regulation"].pk] == "Terkonsolidasi"
    assert state_of[world["audited"].pk] == "Selesai diaudit"


def test_rekap_holds_only_what_the_requester_may_see(
    world: dict[str, Any], other_body: Any, client_of: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests import factories as f

    scoped = f.make_scoped_verifier([other_body], "verifikator-dinsos")
    client = client_of(scoped)
    detail = request_done(client, "rekap_xlsx", django_capture_on_commit_callbacks)
    book = load_workbook(io.BytesIO(download(client, detail)))
    ids = [
        r[0] for sheet in book.worksheets[1:] for r in list(sheet.iter_rows(values_only=True))[1:]
    ]
    assert ids == [world["regulation"].pk]


# --- the evidence package ------------------------------------------------------------------


def read_package(data: bytes) -> tuple[zipfile.ZipFile, list[dict[str, str]]]:
    package = zipfile.ZipFile(io.BytesIO(data))
    assert package.testzip() is None
    manifest = list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode("utf-8-sig"))))
    return package, manifest


def test_evidence_package_holds_verified_files_with_a_matching_manifest(
    world: dict[str, Any],
    consolidator: Any,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api.as_(consolidator)
    detail = request_done(client, "evidence_zip", django_capture_on_commit_callbacks)
    assert (detail["state"], detail["progress"]) == ("done", 100)
    package, manifest = read_package(download(client, detail))

    included = [world["program"], world["regulation"], world["audited"]]
    expected = Evidence.objects.filter(submission__in=included, removed_at__isnull=True)
    assert {int(r["evidence"]) for r in manifest} == {e.pk for e in expected}
    # No file names a requirement: each sits under lainnya of each of its indicators.
    assert len(manifest) == sum(e.submission.indicators.count() for e in expected)
    files = [n for n in package.namelist() if n not in LISTS]
    assert sorted(files) == sorted(r["path"] for r in manifest)
    for row in manifest:
        evidence = Evidence.objects.get(pk=row["evidence"])
        content = package.read(row["path"])
        assert hashlib.sha256(content).hexdigest() == row["sha256"] == evidence.sha256
        assert int(row["size"]) == len(content) == evidence.size
        assert row["file_name"] == evidence.name
        assert row["status"] == "ok"
        submit = TrailEvent.objects.get(submission_id=row["submission"], action="submit")
        assert {"name": evidence.name, "sha256": row["sha256"]} in submit.files


def test_evidence_package_layout_is_cluster_indicator_body(
    world: dict[str, Any],
    consolidator: Any,
    api: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = api.as_(consolidator)
    detail = request_done(client, "evidence_zip", django_capture_on_commit_callbacks)
    _package, manifest = read_package(download(client, detail))
    program = [r for r in manifest if int(r["submission"]) == world["program"].pk]
    assert len(program) == 4  # two files, each under lainnya of indicators 6 and 17
    for row in program:
        cluster, indicator, requirement, body, _name = row["path"].split("/")
        assert (requirement, body, row["requirement"]) == ("lainnya", "dinkes", "")
        if row["indicator"] == "6":
            assert (cluster, indicator) == (
                "klaster-i-hak-sipil-dan-kebebasan",
                "06-partisipasi-anak-forum-anak",
            )
        else:
            assert cluster == "klaster-iii-kesehatan-dasar-dan-kesejahteraan"
            assert indicator.startswith("17-kawasan-tanpa-rokok")
    assert sorted(r["indicator"] for r in program) == ["17", "17", "6", "6"]
    (regulation,) = [r for r in manifest if int(r["submission"]) == world["regulation"].pk]
    assert regulation["path"].startswith("klaster-v-perlindungan-khusus/21-")
    assert regulation["path"].split("/")[2:4] == ["lainnya", "dinsos"]


def test_a_file_missing_from_storage_is_listed_not_fatal(
    world: dict[str, Any], consolidator: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    gone = world["audited"].evidence.get()
    default_storage.delete(gone.file.name)
    client = api.as_(consolidator)
    detail = request_done(client, "evidence_zip", django_capture_on_commit_callbacks)
    assert detail["state"] == "done"
    _package, manifest = read_package(download(client, detail))
    (row,) = [r for r in manifest if int(r["evidence"]) == gone.pk]
    assert row["status"] == "missing"
    assert row["path"] == ""


def test_progress_is_written_to_the_row_and_reaches_100(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    seen: list[int] = []
    real = exports._progress_writer

    def spy(export_id: int, attempt: int) -> Any:
        report = real(export_id, attempt)

        def wrapped(done: int, total: int) -> None:
            report(done, total)
            seen.append(Export.objects.get(pk=export_id).progress)

        return wrapped

    monkeypatch.setattr(exports, "_progress_writer", spy)
    monkeypatch.setattr(exports, "queue_export", lambda pk: None)
    export = export_request(user=consolidator, kind="evidence_zip")
    assert export_run(export_id=export.pk) == "done"
    export.refresh_from_db()
    assert seen == sorted(seen)
    assert seen[-1] == 99  # 100 only once the file is stored
    assert (export.state, export.progress) == (ExportState.DONE, 100)
    assert export.finished_at is not None
    assert export.size == default_storage.size(export.file)


# --- the task: idempotent, retried, re-queued ----------------------------------------------


def test_a_done_export_is_not_redone(world: dict[str, Any], consolidator: Any) -> None:
    export = export_request(user=consolidator, kind="rekap_xlsx")
    assert run_export.apply(args=(export.pk,)).get() == "done"
    export.refresh_from_db()
    stored, finished = export.file, export.finished_at
    assert run_export.apply(args=(export.pk,)).get() == "skipped"
    export.refresh_from_db()
    assert (export.file, export.finished_at) == (stored, finished)


def test_a_running_export_with_a_live_worker_is_left_alone(
    world: dict[str, Any], consolidator: Any
) -> None:
    export = export_request(user=consolidator, kind="rekap_xlsx")
    Export.objects.filter(pk=export.pk).update(state="running", updated_at=timezone.now())
    assert export_run(export_id=export.pk) == "skipped"


def test_a_broken_builder_fails_the_export_with_its_message(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    def broken(**kwargs: Any) -> None:
        raise ValueError("rusak")

    monkeypatch.setitem(exports.BUILDERS, "rekap_xlsx", (broken, "x.xlsx"))
    export = export_request(user=consolidator, kind="rekap_xlsx")
    assert export_run(export_id=export.pk) == "failed"
    export.refresh_from_db()
    assert export.state == ExportState.FAILED
    assert "rusak" in export.error
    assert export_run(export_id=export.pk) == "skipped"


def test_storage_errors_are_retried_then_fail(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    calls: list[int] = []

    def flaky(**kwargs: Any) -> None:
        calls.append(1)
        raise OSError("disk")

    monkeypatch.setitem(exports.BUILDERS, "rekap_xlsx", (flaky, "x.xlsx"))
    export = export_request(user=consolidator, kind="rekap_xlsx")
    run_export.apply(args=(export.pk,))
    export.refresh_from_db()
    assert len(calls) == 4  # the first attempt and three retries
    assert export.state == ExportState.FAILED
    assert "disk" in export.error


def test_a_lost_broker_message_is_picked_up_by_the_sweep(
    world: dict[str, Any],
    consolidator: Any,
    api: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(run_export, "apply_async", down)
    client = api.as_(consolidator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API, {"kind": "rekap_xlsx"}, format="json")
    assert response.status_code == 201
    export = Export.objects.get(pk=response.json()["id"])
    assert export.state == ExportState.PENDING
    assert exports_requeue_stale() == []  # not stale yet
    monkeypatch.undo()
    later = timezone.now() + dt.timedelta(minutes=10)
    assert exports_requeue_stale(now=later) == [export.pk]
    export.refresh_from_db()
    assert (export.state, export.progress) == (ExportState.DONE, 100)


# --- rights: the API -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["verifier", "auditor", "consolidator"])
def test_reviewers_may_export(
    world: dict[str, Any], who: str, people: dict[str, Any], client_of: Any
) -> None:
    assert (
        client_of(people[who]).post(API, {"kind": "rekap_xlsx"}, format="json").status_code == 201
    )


def test_operators_and_outsiders_may_not_export(
    world: dict[str, Any], operator: Any, outsider: Any, client_of: Any
) -> None:
    for person in (operator, outsider):
        response = client_of(person).post(API, {"kind": "rekap_xlsx"}, format="json")
        assert response.status_code == 403
    assert not Export.objects.exists()


@pytest.mark.parametrize(
    "payload", [{"kind": "pdf"}, {}, {"kind": 3}, {"kind": None}, ["rekap_xlsx"]]
)
def test_bad_kind_is_400_and_creates_nothing(
    world: dict[str, Any], consolidator: Any, client_of: Any, payload: Any
) -> None:
    response = client_of(consolidator).post(API, payload, format="json")
    assert response.status_code == 400
    assert not Export.objects.exists()


def test_anonymous_export_calls_are_401(
    anon: Any, world: dict[str, Any], consolidator: Any
) -> None:
    export = Export.objects.create(requested_by=consolidator, kind="rekap_xlsx")
    assert anon.post(API, {"kind": "rekap_xlsx"}, format="json").status_code == 401
    assert anon.get(f"{API}{export.pk}/").status_code == 401
    assert anon.get(f"{API}{export.pk}/download/").status_code == 401


def test_someone_elses_export_does_not_exist_for_you(
    world: dict[str, Any],
    consolidator: Any,
    auditor: Any,
    outsider: Any,
    client_of: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mine = client_of(consolidator)
    detail = request_done(mine, "rekap_xlsx", django_capture_on_commit_callbacks)
    for person in (auditor, outsider):
        other = client_of(person)
        assert other.get(f"{API}{detail['id']}/").status_code == 404
        assert other.get(f"{API}{detail['id']}/download/").status_code == 404
        assert other.get(API).json()["count"] == 0
    for bad in ("abc", "0", "99999999999999999999"):
        assert mine.get(f"{API}{bad}/").status_code == 404


def test_unfinished_export_has_no_download_and_its_file_is_409(
    world: dict[str, Any], consolidator: Any, client_of: Any
) -> None:
    client = client_of(consolidator)
    created = client.post(API, {"kind": "rekap_xlsx"}, format="json").json()  # not run
    detail = client.get(f"{API}{created['id']}/").json()
    assert detail["state"] == "pending"
    assert detail["download"] is None
    assert client.get(f"{API}{created['id']}/download/").status_code == 409


def test_a_download_is_a_trail_event(
    world: dict[str, Any],
    consolidator: Any,
    client_of: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_of(consolidator)
    detail = request_done(client, "evidence_zip", django_capture_on_commit_callbacks)
    download(client, detail)
    event = TrailEvent.objects.filter(action="export_download").get()
    assert event.stream.name == "system"
    assert event.actor_name == "bapperida"
    assert event.data["export"] == detail["id"]
    assert event.files[0]["sha256"] == detail["sha256"]


# --- rights: the page ----------------------------------------------------------------------


def test_export_page_requests_lists_and_downloads(
    world: dict[str, Any], consolidator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(consolidator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports"), {"kind": "evidence_zip"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.state == ExportState.DONE
    page = client.get(reverse("exports")).content.decode()
    assert reverse("export-file", args=[export.pk]) in page
    assert 'http-equiv="refresh"' not in page
    response = client.get(reverse("export-file", args=[export.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert zipfile.is_zipfile(io.BytesIO(content))


def test_export_page_refreshes_while_running(world: dict[str, Any], consolidator: Any) -> None:
    Export.objects.create(requested_by=consolidator, kind="rekap_xlsx", progress=40)
    page = logged_in(consolidator).get(reverse("exports")).content.decode()
    assert 'http-equiv="refresh"' in page
    assert "40%" in page


def test_export_page_rights(
    world: dict[str, Any],
    consolidator: Any,
    auditor: Any,
    operator: Any,
    outsider: Any,
    client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(user=consolidator, kind="rekap_xlsx")
    file_url = reverse("export-file", args=[export.pk])
    assert logged_in(auditor).get(reverse("exports")).status_code == 200
    assert logged_in(auditor).get(file_url).status_code == 404  # not the requester
    for person in (operator, outsider):
        assert logged_in(person).get(reverse("exports")).status_code == 403
        assert logged_in(person).post(reverse("exports"), {"kind": "rekap_xlsx"}).status_code == 403
        assert logged_in(person).get(file_url).status_code == 404
    assert logged_in(consolidator).post(reverse("exports"), {"kind": "x"}).status_code == 400
    assert client.get(reverse("exports")).status_code == 302
    assert client.get(file_url).status_code == 302
    assert Export.objects.count() == 1


def test_package_query_keeps_to_verified_and_beyond(
    world: dict[str, Any], consolidator: Any
) -> None:
    states = set(
        Submission.objects.filter(evidence__in=package.package_evidence(consolidator)).values_list(
            "state", flat=True
        )
    )
    assert states == {"verified", "consolidated", "audited"}
