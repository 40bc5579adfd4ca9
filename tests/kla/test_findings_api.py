"""The findings API and pages: shapes, filters, statuses, a multipart follow-up with a file,
413 for an oversized one, and the pages' forms."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kla.models import Submission
from tests import factories as f
from workflows.models import Finding, FollowUpFile, TrailEvent

pytestmark = pytest.mark.django_db

FINDING = {
    "title": "Perwali belum diundangkan",
    "condition": "Salinan belum bernomor",
    "criteria": "Permen PPPA 12/2022",
    "cause": "Belum diproses Bagian Hukum",
    "recommendations": ["Undangkan perwali", "Unggah salinan resmi"],
}


def create(client: Any, submission: Submission, **overrides: Any) -> Any:
    return client.post(
        "/api/v1/findings/", {"submission": submission.pk} | FINDING | overrides, format="json"
    )


def rec_url(finding: dict[str, Any], index: int, tail: str) -> str:
    rid = finding["recommendations"][index]["id"]
    return f"/api/v1/findings/{finding['id']}/recommendations/{rid}/{tail}/"


def test_creating_answers_201_with_the_shape(
    client_of: Any, auditor: User, audited: Submission
) -> None:
    response = create(client_of(auditor), audited)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "instruction", "agency", "submission", "title", "condition", "criteria",
        "cause", "effect", "created_at", "due_at", "status", "recommendations",
    }  # fmt: skip
    assert (body["agency"], body["submission"], body["status"]) == ("dinkes", audited.pk, "open")
    assert body["due_at"].endswith("+07:00") or body["due_at"].endswith("Z")
    first = body["recommendations"][0]
    assert set(first) == {"id", "text", "status", "due_at", "history"}
    assert (first["status"], first["history"]) == ("open", [])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recommendations": []}, "recommendations"),
        ({"title": "x" * 301}, "title"),
        ({"warna": "merah"}, "warna"),
        ({"agency": "dinkes"}, "agency"),
        ({"instruction": 424242}, "instruction"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    client_of: Any, auditor: User, audited: Submission, overrides: dict[str, Any], field: str
) -> None:
    response = create(client_of(auditor), audited, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert not Finding.objects.exists()


def test_follow_up_multipart_with_a_file_then_assessment(
    client_of: Any, auditor: User, operator: User, audited: Submission
) -> None:
    finding = create(client_of(auditor), audited).json()
    response = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"),
        {"note": "Sudah diundangkan", "file": [f.pdf_upload("a.pdf"), f.pdf_upload("b.pdf")]},
        format="multipart",
    )
    assert response.status_code == 200
    history = response.json()["recommendations"][0]["history"]
    digest = hashlib.sha256(f.PDF_BYTES).hexdigest()
    assert history[0]["kind"] == "follow_up" and history[0]["actor"] == "op-dinkes"
    assert [{k: v for k, v in e.items() if k != "id"} for e in history[0]["files"]] == [
        {"name": "a.pdf", "sha256": digest},
        {"name": "b.pdf", "sha256": digest},
    ]
    assert response.json()["recommendations"][0]["status"] == "responded"

    json_follow_up = client_of(operator).post(
        rec_url(finding, 1, "follow-ups"), {"note": "Diunggah"}, format="json"
    )
    assert json_follow_up.status_code == 200

    assessed = client_of(auditor).post(
        rec_url(finding, 0, "assessment"), {"status": "in_progress"}, format="json"
    )
    assert assessed.status_code == 400 and "note" in assessed.json()
    assessed = client_of(auditor).post(
        rec_url(finding, 0, "assessment"), {"status": "bogus"}, format="json"
    )
    assert assessed.status_code == 400 and "status" in assessed.json()
    ok = client_of(auditor).post(
        rec_url(finding, 0, "assessment"), {"status": "resolved", "note": ""}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["recommendations"][0]["status"] == "resolved"
    again = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"), {"note": "lagi"}, format="json"
    )
    assert again.status_code == 409


@pytest.mark.parametrize("size_kb", [1536, 1024 + 8])
def test_oversized_follow_up_file_is_413_and_nothing_is_stored(
    client_of: Any, auditor: User, operator: User, audited: Submission, settings: Any, size_kb: int
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    finding = create(client_of(auditor), audited).json()
    content = f.PDF_BYTES + b"0" * (size_kb * 1024)
    response = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"),
        {"note": "Besar", "file": f.pdf_upload("besar.pdf", content)},
        format="multipart",
    )
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert not FollowUpFile.objects.exists()
    assert Finding.objects.get().recommendations.first().status == "open"  # type: ignore[union-attr]


def test_filters_and_visibility(
    client_of: Any, auditor: User, operator: User, other_operator: User, audited: Submission
) -> None:
    finding = create(client_of(auditor), audited).json()
    client_of(auditor).post(
        "/api/v1/findings/",
        {k: v for k, v in FINDING.items()} | {"agency": "dinsos", "title": "Tidak melapor"},
        format="json",
    )
    listed = client_of(auditor).get("/api/v1/findings/").json()
    assert listed["count"] == 2
    assert client_of(auditor).get("/api/v1/findings/?agency=dinsos").json()["count"] == 1
    assert client_of(auditor).get("/api/v1/findings/?status=closed").json()["count"] == 0
    assert client_of(auditor).get("/api/v1/findings/?status=open").json()["count"] == 2
    assert (
        client_of(auditor).get("/api/v1/findings/?recommendation_status=responded").json()["count"]
        == 0
    )
    for bad in ("status=bogus", "recommendation_status=x", "agency=nope", "instruction=99999"):
        assert client_of(auditor).get(f"/api/v1/findings/?{bad}").status_code == 400
    mine = client_of(operator).get("/api/v1/findings/").json()
    assert [r["id"] for r in mine["results"]] == [finding["id"]]
    assert client_of(other_operator).get(f"/api/v1/findings/{finding['id']}/").status_code == 404
    assert client_of(auditor).get("/api/v1/findings/abc/").status_code == 404


def test_correction_and_adding_a_recommendation_then_409(
    client_of: Any, auditor: User, operator: User, audited: Submission
) -> None:
    finding = create(client_of(auditor), audited).json()
    patched = client_of(auditor).patch(
        f"/api/v1/findings/{finding['id']}/", {"title": "Judul baru"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["title"] == "Judul baru"
    added = client_of(auditor).post(
        f"/api/v1/findings/{finding['id']}/recommendations/", {"text": "Ketiga"}, format="json"
    )
    assert added.status_code == 201 and len(added.json()["recommendations"]) == 3
    client_of(operator).post(rec_url(finding, 0, "follow-ups"), {"note": "x"}, format="json")
    late = client_of(auditor).patch(
        f"/api/v1/findings/{finding['id']}/", {"title": "Lagi"}, format="json"
    )
    assert late.status_code == 409


def test_options_never_500(client_of: Any, auditor: User, audited: Submission) -> None:
    finding = create(client_of(auditor), audited).json()
    for path in ("/api/v1/findings/", rec_url(finding, 0, "follow-ups")):
        assert client_of(auditor).options(path).status_code == 200


# --- pages -----------------------------------------------------------------------------------


def test_pages_record_follow_up_and_assess(
    auditor: User, operator: User, audited: Submission
) -> None:
    inspector, body = Client(), Client()
    inspector.force_login(auditor)
    body.force_login(operator)
    detail = inspector.get(f"/pengajuan/{audited.pk}/")
    assert "Catat temuan" in detail.content.decode()
    empty = inspector.post(
        f"/temuan/baru/?pengajuan={audited.pk}",
        {"title": "T", "condition": "K", "criteria": "R", "recommendations": ["", ""]},
    )
    assert empty.status_code == 400
    assert "setidaknya satu rekomendasi" in empty.content.decode()
    made = inspector.post(
        f"/temuan/baru/?pengajuan={audited.pk}",
        {"title": "T", "condition": "K", "criteria": "R", "recommendations": ["Satu", ""]},
    )
    finding = Finding.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/temuan/{finding.pk}/"
    rid = finding.recommendations.get().pk
    page = body.get(f"/temuan/{finding.pk}/").content.decode()
    assert "Kirim tindak lanjut" in page and "Simpan penilaian" not in page
    no_note = body.post(
        f"/temuan/{finding.pk}/rekomendasi/{rid}/tindak-lanjut/", {f"r{rid}-note": ""}
    )
    assert no_note.status_code == 400
    sent = body.post(
        f"/temuan/{finding.pk}/rekomendasi/{rid}/tindak-lanjut/",
        {f"r{rid}-note": "Selesai", f"r{rid}-file": f.pdf_upload()},
    )
    assert sent.status_code == 302
    assessed = inspector.post(
        f"/temuan/{finding.pk}/rekomendasi/{rid}/penilaian/", {f"r{rid}-status": "resolved"}
    )
    assert assessed.status_code == 302
    listing = inspector.get("/temuan/").content.decode()
    assert "Selesai" in listing


def test_the_auditor_downloads_a_follow_up_file_and_the_trail_records_it(
    client_of: Any, auditor: User, operator: User, other_operator: User, audited: Submission
) -> None:
    finding = create(client_of(auditor), audited).json()
    sent = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"),
        {"note": "Terlampir", "file": [f.pdf_upload("sk.pdf")]},
        format="multipart",
    )
    file_id = sent.json()["recommendations"][0]["history"][0]["files"][0]["id"]
    url = f"/api/v1/findings/{finding['id']}/files/{file_id}/"
    response = client_of(auditor).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.PDF_BYTES
    event = TrailEvent.objects.filter(action="follow_up_download").get()
    assert event.actor == auditor and event.role == "auditor"
    assert event.files == [{"name": "sk.pdf", "sha256": hashlib.sha256(f.PDF_BYTES).hexdigest()}]
    # Another body's operator does not see the finding, nor a file of another finding.
    assert client_of(other_operator).get(url).status_code == 404
    assert (
        client_of(auditor).get(f"/api/v1/findings/{finding['id']}/files/999999/").status_code == 404
    )
    assert TrailEvent.objects.filter(action="follow_up_download").count() == 1


def test_a_file_sent_as_text_or_a_second_note_is_refused_not_dropped(
    client_of: Any, auditor: User, operator: User, audited: Submission
) -> None:
    finding = create(client_of(auditor), audited).json()
    as_text = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"),
        {"note": "Ini", "file": "bukan-berkas"},
        format="multipart",
    )
    assert as_text.status_code == 400
    assert list(as_text.json()) == ["file"]
    two_notes = client_of(operator).post(
        rec_url(finding, 0, "follow-ups"), {"note": ["satu", "dua"]}, format="multipart"
    )
    assert two_notes.status_code == 400
    assert list(two_notes.json()) == ["note"]
    assert not FollowUpFile.objects.exists()
    detail = client_of(operator).get(f"/api/v1/findings/{finding['id']}/").json()
    assert detail["recommendations"][0]["history"] == []


def test_a_value_of_the_wrong_type_is_asked_after_the_role_and_the_status(
    client_of: Any, auditor: User, operator: User, verifier: User, audited: Submission
) -> None:
    """DESIGN's order: role 403 and status 409 come before a bad note's 400."""
    finding = create(client_of(auditor), audited).json()
    follow_ups = rec_url(finding, 0, "follow-ups")
    assessment = rec_url(finding, 0, "assessment")
    assert client_of(verifier).post(follow_ups, {"note": 5}, format="json").status_code == 403
    wrong = {"status": "resolved", "note": 5}
    assert client_of(operator).post(assessment, wrong, format="json").status_code == 403
    assert client_of(operator).post(follow_ups, {"note": "Sudah"}, format="json").status_code == 200
    edit = f"/api/v1/findings/{finding['id']}/"
    assert client_of(auditor).patch(edit, {"title": 5}, format="json").status_code == 409
    assert (
        client_of(auditor).post(assessment, {"status": "resolved"}, format="json").status_code
        == 200
    )
    assert client_of(operator).post(follow_ups, {"note": 5}, format="json").status_code == 409
    # With rights and status in order, the note's type is what is refused.
    fresh = create(client_of(auditor), audited).json()
    bad = client_of(operator).post(rec_url(fresh, 0, "follow-ups"), {"note": 5}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()) == ["note"]
    unknown = client_of(operator).post(
        rec_url(fresh, 0, "follow-ups"), {"note": "x", "warna": 1}, format="json"
    )
    assert unknown.status_code == 400
    assert list(unknown.json()) == ["warna"]
