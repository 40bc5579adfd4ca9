"""The follow-up matrix (matriks tindak lanjut): the API's shape and counts, overdue marks,
bodies with no operator, the page, who may see it; the ``findings_xlsx`` workbook; the
recommendations "Tugas saya" lists for operators and auditors."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from openpyxl import load_workbook

from kla.models import Export, ExportState, Submission
from kla.reports.exports import export_request, export_run
from kla.reports.findings import build_findings
from kla.time import WIB
from tests import factories as f
from workflows.models import (
    Finding,
    FollowUpEntry,
    FollowUpKind,
    Recommendation,
    RecommendationStatus,
)
from workflows.supervision.findings import finding_create, follow_up_post, recommendation_assess

from .xlsx_checks import assert_opens_well, rows_by_header

pytestmark = pytest.mark.django_db

STATUSES = ["open", "responded", "in_progress", "resolved", "unresolvable"]


def record(auditor: User, **where: Any) -> Finding:
    return finding_create(
        user=auditor,
        title=where.pop("title", "Perwali belum diundangkan"),
        condition="Kondisi",
        criteria="Kriteria",
        recommendations=where.pop("texts", ["Undangkan perwali", "Unggah salinan", "Sosialisasi"]),
        **where,
    )


def recs(finding: Finding) -> list[Recommendation]:
    return list(finding.recommendations.order_by("id"))


@pytest.fixture
def findings(
    people: dict[str, Any], audited: Submission, other_body: Any, instruction: Any
) -> dict[str, Finding]:
    """dinkes: three recommendations, one responded, one resolved, one open past due;
    dinsos (no operator): one finding on the body, open."""
    auditor, operator = people["auditor"], people["operator"]
    main = record(auditor, submission=audited.pk)
    first, second, third = recs(main)
    for recommendation in (first, second):
        follow_up_post(
            user=operator, finding_id=main.pk, recommendation_id=recommendation.pk, note="Sudah"
        )
    recommendation_assess(
        user=auditor, finding_id=main.pk, recommendation_id=second.pk, status="resolved"
    )
    # Past due: the open one is overdue, the responded one waits for Inspektorat (not overdue).
    Recommendation.objects.filter(pk__in=[first.pk, third.pk]).update(
        due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    lone = record(auditor, agency=other_body.code, title="Tidak menjawab", texts=["Jawab"])
    return {"main": main, "lone": lone}


def rows(client: Any, query: str = "") -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/findings/matrix/{query}")
    assert response.status_code == 200, response.content
    return {row["agency"]: row for row in response.json()["results"]}


def test_the_matrix_counts_each_status_overdue_and_bodies_without_operators(
    client_of: Any, findings: dict[str, Finding], verifier: User
) -> None:
    got = rows(client_of(verifier))
    assert set(got) == {"dinkes", "dinsos"}
    assert set(got["dinkes"]) == {
        "agency", "body", "no_operator", "findings", "findings_open", "recommendations",
        *STATUSES, "overdue",
    }  # fmt: skip
    dinkes = got["dinkes"]
    assert {s: dinkes[s] for s in STATUSES} == {
        "open": 1, "responded": 1, "in_progress": 0, "resolved": 1, "unresolvable": 0,
    }  # fmt: skip
    assert (dinkes["overdue"], dinkes["findings"], dinkes["findings_open"]) == (1, 1, 1)
    assert (dinkes["no_operator"], dinkes["recommendations"]) == (False, 3)
    dinsos = got["dinsos"]
    assert (dinsos["no_operator"], dinsos["open"], dinsos["overdue"]) == (True, 1, 0)


def test_a_closed_finding_counts_as_closed(
    client_of: Any, people: dict[str, Any], audited: Submission
) -> None:
    finding = record(people["auditor"], submission=audited.pk, texts=["Satu"])
    rid = recs(finding)[0].pk
    follow_up_post(user=people["operator"], finding_id=finding.pk, recommendation_id=rid, note="x")
    recommendation_assess(
        user=people["auditor"], finding_id=finding.pk, recommendation_id=rid, status="resolved"
    )
    dinkes = rows(client_of(people["consolidator"]))["dinkes"]
    assert (dinkes["findings"], dinkes["findings_open"], dinkes["resolved"]) == (1, 0, 1)


def test_the_instruction_filter_defaults_to_every_instruction(
    client_of: Any, findings: dict[str, Finding], auditor: User
) -> None:
    other = f.InstructionFactory(number=3, year=2027)
    client = client_of(auditor)
    assert set(rows(client)) == {"dinkes", "dinsos"}
    assert set(rows(client, "?instruction=all")) == {"dinkes", "dinsos"}
    assert rows(client, f"?instruction={other.pk}") == {}
    assert client.get("/api/v1/findings/matrix/?instruction=zzz").status_code == 400


def test_operators_outsiders_and_anonymous_callers_do_not_get_the_matrix(
    client_of: Any, findings: dict[str, Finding], operator: User, outsider: User, api: Any
) -> None:
    assert client_of(operator).get("/api/v1/findings/matrix/").status_code == 404
    assert client_of(outsider).get("/api/v1/findings/matrix/").status_code == 404
    assert api.get("/api/v1/findings/matrix/").status_code == 401


def test_the_page_marks_statuses_overdue_and_no_operator_and_is_linked_from_the_list(
    findings: dict[str, Finding], auditor: User, operator: User
) -> None:
    client = Client()
    client.force_login(auditor)
    listing = client.get("/temuan/").content.decode()
    assert 'href="/temuan/matriks/"' in listing
    page = client.get("/temuan/matriks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="matrix-dinkes"' in html and "has-overdue" in html
    assert "status-open has-count" in html and "status-resolved has-count" in html
    assert "tanpa operator" in html
    assert "style=" not in html.split("<main", 1)[-1]
    other = Client()
    other.force_login(operator)
    assert other.get("/temuan/matriks/").status_code == 404
    assert 'href="/temuan/matriks/"' not in other.get("/temuan/").content.decode()
    assert Client().get("/temuan/matriks/").status_code == 302


# --- the findings_xlsx export ----------------------------------------------------------------


def workbook_of(export: Export) -> Any:
    with default_storage.open(export.file, "rb") as handle:
        return load_workbook(io.BytesIO(handle.read()))


def test_the_export_has_the_matrix_and_every_recommendation_with_real_dates(
    findings: dict[str, Finding],
    consolidator: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(user=consolidator, kind="findings_xlsx")
    export_run(export_id=export.pk)
    export.refresh_from_db()
    assert export.state == ExportState.DONE, export.error
    assert export.filename.startswith("matriks-tindak-lanjut-")
    assert export.filename.endswith(".xlsx")
    book = workbook_of(export)
    assert book.sheetnames == ["Ringkasan", "Matriks tindak lanjut", "Temuan dan rekomendasi"]
    summary = list(book["Matriks tindak lanjut"].values)
    assert summary[0][:3] == ("Kode perangkat", "Perangkat/lembaga", "Tanpa operator")
    by_code = {row[0]: row for row in summary[1:]}
    assert set(by_code) == {"dinkes", "dinsos"}
    assert by_code["dinsos"][2] == "Ya"
    assert by_code["dinkes"][5:11] == (1, 1, 0, 1, 0, 1)  # statuses, then overdue
    listing = list(book["Temuan dan rekomendasi"].values)
    assert len(listing) == 1 + 4
    statuses = {row[5]: row[6] for row in listing[1:]}
    assert statuses == {
        "Undangkan perwali": "Menunggu penilaian",
        "Unggah salinan": "Sesuai",
        "Sosialisasi": "Belum ditindaklanjuti",
        "Jawab": "Belum ditindaklanjuti",
    }
    assert all(isinstance(row[7], dt.datetime | dt.date) for row in listing[1:])
    follow_ups = {row[5]: (row[8], row[9]) for row in listing[1:]}
    assert follow_ups["Undangkan perwali"] == (1, "Sudah")
    assert follow_ups["Sosialisasi"] == (0, None)


def test_the_findings_workbook_opens_well_with_a_summary_of_the_matrix(
    client_of: Any, findings: dict[str, Finding], consolidator: User
) -> None:
    out = io.BytesIO()
    build_findings(user=consolidator, out=out, progress=lambda done, total: None)
    book = load_workbook(io.BytesIO(out.getvalue()))
    summary = assert_opens_well(book)
    matrix = rows(client_of(consolidator))
    assert summary["Perangkat/lembaga"] == len(matrix) == 2
    assert summary["Tanpa operator"] == 1
    for key, label in (
        ("findings", "Temuan"),
        ("findings_open", "Temuan terbuka"),
        ("recommendations", "Jumlah rekomendasi"),
        ("overdue", "Lewat batas"),
    ):
        assert summary[label] == sum(row[key] for row in matrix.values()), label
    for status, name in RecommendationStatus.choices:
        assert summary[f"Rekomendasi {name}"] == sum(row[status] for row in matrix.values())
    assert summary["Jumlah rekomendasi"] == 4
    listing = {r["Rekomendasi"].value: r for r in rows_by_header(book["Temuan dan rekomendasi"])}
    due = listing["Sosialisasi"]["Batas tindak lanjut"]
    assert due.is_date and due.number_format == "yyyy-mm-dd"
    last = listing["Undangkan perwali"]["Tindak lanjut terakhir (WIB)"]
    entry = (
        FollowUpEntry.objects.filter(
            recommendation__text="Undangkan perwali", kind=FollowUpKind.FOLLOW_UP
        )
        .order_by("at", "id")
        .last()
    )
    assert entry is not None
    assert isinstance(last.value, dt.datetime)
    assert abs(last.value - entry.at.astimezone(WIB).replace(tzinfo=None)) < dt.timedelta(seconds=1)
    assert listing["Sosialisasi"]["Tindak lanjut terakhir (WIB)"].value is None


def test_the_builder_writes_only_the_findings_the_requester_sees(
    findings: dict[str, Finding], operator: User
) -> None:
    out = io.BytesIO()
    build_findings(user=operator, out=out, progress=lambda done, total: None)
    book = load_workbook(io.BytesIO(out.getvalue()))
    codes = {row[1] for row in list(book["Temuan dan rekomendasi"].values)[1:]}
    assert codes == {"dinkes"}
    assert [row[0] for row in list(book["Matriks tindak lanjut"].values)[1:]] == ["dinkes"]


def test_the_exports_page_offers_the_findings_workbook(
    consolidator: User, instruction: Any
) -> None:
    client = Client()
    client.force_login(consolidator)
    assert 'value="findings_xlsx"' in client.get("/ekspor/").content.decode()


# --- "Tugas saya" ----------------------------------------------------------------------------


def test_tasks_list_what_each_role_owes_with_links_to_the_finding(
    findings: dict[str, Finding], operator: User, auditor: User, verifier: User
) -> None:
    main = findings["main"]
    client = Client()
    client.force_login(operator)
    html = client.get("/tugas/").content.decode()
    mine = html.split('id="follow-ups-operator"', 1)[1].split("</section>", 1)[0]
    assert f'href="/temuan/{main.pk}/"' in mine
    assert "Sosialisasi" in mine and "lewat batas" in mine
    assert "Undangkan perwali" not in mine  # responded: waits for Inspektorat
    assert "Unggah salinan" not in mine  # resolved
    assert 'id="follow-ups-auditor"' not in html
    client.force_login(auditor)
    html = client.get("/tugas/").content.decode()
    theirs = html.split('id="follow-ups-auditor"', 1)[1].split("</section>", 1)[0]
    assert "Undangkan perwali" in theirs and "Sosialisasi" not in theirs
    assert f'href="/temuan/{main.pk}/"' in theirs
    client.force_login(verifier)
    assert "follow-ups-" not in client.get("/tugas/").content.decode()
