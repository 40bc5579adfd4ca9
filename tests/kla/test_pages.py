"""The pages: for every page and POST endpoint the allowed person, the read-only person and
the outsider (healthchecks' Alice, Bob and Charlie), plus the anonymous visitor."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kla.models import Evidence, Submission
from tests import factories as f
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


def as_(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def detail_url(s: Submission) -> str:
    return reverse("submission-detail", args=[s.pk])


def action_url(s: Submission) -> str:
    return reverse("submission-action", args=[s.pk])


def upload_url(s: Submission) -> str:
    return reverse("evidence-upload", args=[s.pk])


def edit_url(s: Submission) -> str:
    return reverse("submission-edit", args=[s.pk])


def first_evidence(s: Submission) -> Evidence:
    return s.evidence.filter(removed_at__isnull=True).first()


def download_url(s: Submission) -> str:
    return reverse("evidence-download", args=[s.pk, first_evidence(s).pk])


def remove_url(s: Submission) -> str:
    return reverse("evidence-remove", args=[s.pk, first_evidence(s).pk])


def events(s: Submission) -> int:
    return TrailEvent.objects.filter(submission=s).count()


REGULATION_POST = {
    "title": "Perwali KTR",
    "description": "Salinan",
    "years": ["2025"],
    "indicators": ["17"],
    "detail_kind": "perwali",
    "detail_number": "12/2025",
    "detail_enacted_on": "2025-02-01",
}


# --- anonymous ------------------------------------------------------------------------------


def test_root_redirects_to_tasks(client: Client, operator: Any) -> None:
    response = as_(client, operator).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks")


@pytest.mark.parametrize("name", ["tasks", "submission-list", "detail", "edit", "download", "new"])
def test_anonymous_gets_login_redirect(client: Client, draft: Submission, name: str) -> None:
    urls = {
        "tasks": reverse("tasks"),
        "submission-list": reverse("submission-list"),
        "detail": detail_url(draft),
        "edit": edit_url(draft),
        "download": download_url(draft),
        "new": reverse("submission-new", args=["regulation"]),
    }
    response = client.get(urls[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", ["action", "upload", "remove", "new", "edit"])
def test_anonymous_post_gets_login_redirect_and_changes_nothing(
    client: Client, draft: Submission, name: str
) -> None:
    urls = {
        "action": action_url(draft),
        "upload": upload_url(draft),
        "remove": remove_url(draft),
        "new": reverse("submission-new", args=["regulation"]),
        "edit": edit_url(draft),
    }
    before = events(draft)
    response = client.post(urls[name], {"action": "submit", **REGULATION_POST})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert events(draft) == before


# --- login, logout, password reset ----------------------------------------------------------


def test_login_page_is_indonesian_and_logs_in(client: Client, operator: Any) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Masuk" in page.content.decode()
    assert "Lupa kata sandi?" in page.content.decode()
    response = client.post(reverse("login"), {"username": "op-dinkes", "password": f.PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks")


def test_login_with_a_wrong_password_shows_the_form_again(client: Client, operator: Any) -> None:
    response = client.post(reverse("login"), {"username": "op-dinkes", "password": "salah"})
    assert response.status_code == 200
    assert "alert" in response.content.decode()


def test_logout_is_a_post(client: Client, operator: Any) -> None:
    as_(client, operator)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("tasks")).status_code == 302


def test_password_reset_sends_a_working_link(client: Client, operator: Any) -> None:
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": operator.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert client.get(reverse("password_reset_done")).status_code == 200
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/sandi/atur/" in line)
    path = link[link.index("/sandi/atur/") :]
    set_password = client.get(path, follow=True)
    assert set_password.status_code == 200
    assert "Kata sandi baru" in set_password.content.decode()
    done = client.post(
        set_password.redirect_chain[-1][0],
        {"new_password1": "Kota-Layak-Anak-26", "new_password2": "Kota-Layak-Anak-26"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    operator.refresh_from_db()
    assert operator.check_password("Kota-Layak-Anak-26")


def test_language_can_be_switched_to_english(client: Client, operator: Any) -> None:
    response = as_(client, operator).post(
        "/i18n/setlang/", {"language": "en", "next": reverse("tasks")}
    )
    assert response.status_code == 302
    assert client.get(reverse("tasks")).status_code == 200


# --- Tugas saya -----------------------------------------------------------------------------


def test_operator_inbox_holds_their_drafts_only(
    client: Client, draft: Submission, other_operator: Any
) -> None:
    page = as_(client, draft.created_by).get(reverse("tasks"))
    assert page.status_code == 200
    assert detail_url(draft) in page.content.decode()
    other = Client()
    other.force_login(other_operator)
    assert detail_url(draft) not in other.get(reverse("tasks")).content.decode()


def test_each_reviewer_inbox_holds_what_waits_for_their_role(
    client: Client, submitted: Submission, people: dict[str, Any]
) -> None:
    url = detail_url(submitted)
    assert url in as_(client, people["verifier"]).get(reverse("tasks")).content.decode()
    # The auditor may read it but nothing waits for them yet.
    assert url not in as_(client, people["auditor"]).get(reverse("tasks")).content.decode()
    assert url not in as_(client, people["consolidator"]).get(reverse("tasks")).content.decode()
    f.advance(submitted, "verified", **people)
    assert url in as_(client, people["consolidator"]).get(reverse("tasks")).content.decode()
    assert url not in as_(client, people["verifier"]).get(reverse("tasks")).content.decode()
    f.advance(Submission.objects.get(pk=submitted.pk), "consolidated", **people)
    assert url in as_(client, people["auditor"]).get(reverse("tasks")).content.decode()


def test_person_without_roles_gets_an_empty_inbox(client: Client, outsider: Any) -> None:
    page = as_(client, outsider).get(reverse("tasks"))
    assert page.status_code == 200
    assert "belum memiliki peran" in page.content.decode()


def test_nav_shows_name_and_roles(client: Client, verifier: Any) -> None:
    page = as_(client, verifier).get(reverse("tasks")).content.decode()
    assert "verifikator" in page
    assert "Verifikator" in page


# --- the list -------------------------------------------------------------------------------


def test_operator_list_shows_their_body_only(
    client: Client, draft: Submission, other_operator: Any
) -> None:
    mine = f.make_draft(other_operator, title="Milik Dinsos")
    page = as_(client, draft.created_by).get(reverse("submission-list")).content.decode()
    assert detail_url(draft) in page
    assert detail_url(mine) not in page


def test_reviewer_list_shows_submitted_but_never_a_private_draft(
    client: Client, submitted: Submission, operator: Any, auditor: Any
) -> None:
    private = f.make_draft(operator, title="Belum diajukan")
    page = as_(client, auditor).get(reverse("submission-list")).content.decode()
    assert detail_url(submitted) in page
    assert detail_url(private) not in page


def test_list_filters_by_state_and_category(
    client: Client, submitted: Submission, operator: Any
) -> None:
    program = f.make_draft(operator, "program", title="Program Forum Anak")
    as_(client, operator)
    page = client.get(reverse("submission-list"), {"state": "draft"}).content.decode()
    assert detail_url(program) in page
    assert detail_url(submitted) not in page
    page = client.get(reverse("submission-list"), {"category": "regulation"}).content.decode()
    assert detail_url(submitted) in page
    assert detail_url(program) not in page


def test_list_ignores_bad_filters_and_pages(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).get(
        reverse("submission-list"), {"state": "bogus", "category": "x", "halaman": "abc"}
    )
    assert response.status_code == 200
    assert detail_url(draft) in response.content.decode()


# --- create ---------------------------------------------------------------------------------


def test_operator_creates_a_draft_from_the_category_form(client: Client, operator: Any) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    as_(client, operator)
    form = client.get(reverse("submission-new", args=["regulation"]))
    assert form.status_code == 200
    assert "Jenis regulasi" in form.content.decode()
    response = client.post(reverse("submission-new", args=["regulation"]), REGULATION_POST)
    assert response.status_code == 302
    created = Submission.objects.get(title="Perwali KTR")
    assert response["Location"] == detail_url(created)
    assert created.body.code == "dinkes"
    assert created.details == {"kind": "perwali", "number": "12/2025", "enacted_on": "2025-02-01"}
    assert list(created.indicators.values_list("number", flat=True)) == [17]


def test_program_form_accepts_rupiah_with_dots(client: Client, operator: Any) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    response = as_(client, operator).post(
        reverse("submission-new", args=["program"]),
        {
            "title": "Forum Anak",
            "years": ["2025"],
            "detail_budget": "1.500.000",
            "detail_year": "2025",
            "detail_funding_source": "APBD",
        },
    )
    assert response.status_code == 302
    created = Submission.objects.get(title="Forum Anak")
    assert created.details["budget"] == 1500000
    page = client.get(detail_url(created)).content.decode()
    assert "Rp 1.500.000" in page


def test_bad_money_or_date_re_renders_the_form_with_field_errors(
    client: Client, operator: Any
) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    as_(client, operator)
    response = client.post(
        reverse("submission-new", args=["program"]),
        {"title": "X", "years": ["2025"], "detail_budget": "-5", "detail_year": "2024"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Masukkan rupiah utuh" in page
    assert "Tahun anggaran harus salah satu tahun pengajuan" in page
    response = client.post(
        reverse("submission-new", args=["regulation"]),
        {**REGULATION_POST, "detail_enacted_on": "2025-13-45", "indicators": ["99"]},
    )
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_operator_of_several_bodies_names_the_body(
    client: Client, operator: Any, other_body: Any
) -> None:
    from roles.models import Membership

    f.InstructionFactory()
    f.ensure_indicators()
    Membership.objects.create(user=operator, body=other_body)
    as_(client, operator)
    form = client.get(reverse("submission-new", args=["regulation"])).content.decode()
    assert 'name="agency"' in form
    missing = client.post(reverse("submission-new", args=["regulation"]), REGULATION_POST)
    assert missing.status_code == 400
    response = client.post(
        reverse("submission-new", args=["regulation"]), {**REGULATION_POST, "agency": "dinsos"}
    )
    assert response.status_code == 302
    assert Submission.objects.get().body.code == "dinsos"


@pytest.mark.parametrize("who", ["verifier", "auditor", "outsider"])
def test_non_operator_may_not_create(client: Client, request: Any, who: str) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(reverse("submission-new", args=["regulation"])).status_code == 403
    response = client.post(reverse("submission-new", args=["regulation"]), REGULATION_POST)
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_unknown_category_is_404(client: Client, operator: Any) -> None:
    assert as_(client, operator).get("/pengajuan/baru/sapi/").status_code == 404


# --- the submission page --------------------------------------------------------------------


def test_operator_sees_the_draft_with_labels_evidence_timeline_and_submit(
    client: Client, draft: Submission
) -> None:
    page = as_(client, draft.created_by).get(detail_url(draft))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Draf", "Jenis regulasi", "Peraturan Wali Kota", "1 Februari 2025", "bukti.pdf"):
        assert text in html
    assert download_url(draft) in html
    assert f'action="{upload_url(draft)}"' in html
    assert 'value="submit"' in html
    assert 'value="approve"' not in html
    assert "Dibuat" in html and "WIB" in html


def test_read_only_auditor_sees_a_submitted_one_without_buttons(
    client: Client, submitted: Submission, auditor: Any
) -> None:
    page = as_(client, auditor).get(detail_url(submitted))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Menunggu verifikasi" in html
    assert 'name="action"' not in html
    assert f'action="{upload_url(submitted)}"' not in html
    assert edit_url(submitted) not in html


def test_verifier_sees_only_approve_and_return(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    html = as_(client, verifier).get(detail_url(submitted)).content.decode()
    assert 'value="approve"' in html
    assert 'value="return"' in html
    assert "Alasan pengembalian" in html
    for hidden in ("submit", "withdraw", "consolidate", "audit", "resubmit"):
        assert f'value="{hidden}"' not in html
    assert f'name="version" value="{submitted.version}"' in html


def test_operator_may_withdraw_their_own_submit(client: Client, submitted: Submission) -> None:
    html = as_(client, submitted.created_by).get(detail_url(submitted)).content.decode()
    assert 'value="withdraw"' in html
    assert 'value="submit"' not in html


@pytest.mark.parametrize("who", ["other_operator", "outsider", "verifier"])
def test_a_private_draft_is_404_to_others(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(detail_url(draft)).status_code == 404


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_a_submitted_one_is_404_to_outsiders(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(detail_url(submitted)).status_code == 404


def test_unknown_submission_is_404(client: Client, operator: Any) -> None:
    assert as_(client, operator).get("/pengajuan/999999999999999999999/").status_code == 404


# --- edit -----------------------------------------------------------------------------------


def test_operator_edits_a_draft(client: Client, draft: Submission) -> None:
    as_(client, draft.created_by)
    form = client.get(edit_url(draft))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="2025-02-01"' in html
    assert 'name="version"' in html
    response = client.post(
        edit_url(draft), {**REGULATION_POST, "title": "Judul baru", "version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Judul baru"
    assert draft.trail.filter(action="edit").exists()


def test_edit_with_a_stale_version_is_409(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "title": "Lain", "version": draft.version - 1}
    )
    assert response.status_code == 409
    assert "telah berubah" in response.content.decode()
    draft.refresh_from_db()
    assert draft.title != "Lain"


def test_edit_with_a_bad_date_is_400(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "detail_enacted_on": "kemarin"}
    )
    assert response.status_code == 400


def test_verifier_on_the_edit_page_gets_403(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    as_(client, verifier)
    assert client.get(edit_url(submitted)).status_code == 403
    assert client.post(edit_url(submitted), REGULATION_POST).status_code == 403


def test_operator_cannot_edit_a_submitted_one(client: Client, submitted: Submission) -> None:
    as_(client, submitted.created_by)
    assert client.get(edit_url(submitted)).status_code == 409
    assert client.post(edit_url(submitted), REGULATION_POST).status_code == 409


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_edit_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(edit_url(draft)).status_code == 404
    assert client.post(edit_url(draft), REGULATION_POST).status_code == 404


# --- upload ---------------------------------------------------------------------------------


def test_operator_uploads_a_pdf(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        upload_url(draft), {"file": f.pdf_upload("perwali.pdf")}
    )
    assert response.status_code == 302
    assert draft.evidence.filter(name="perwali.pdf").exists()
    assert "perwali.pdf diunggah" in client.get(detail_url(draft)).content.decode()


def test_upload_of_an_unaccepted_kind_says_what_is_accepted(
    client: Client, draft: Submission
) -> None:
    upload = f.pdf_upload("catatan.pdf", b"just text, not a pdf")
    response = as_(client, draft.created_by).post(upload_url(draft), {"file": upload})
    assert response.status_code == 400
    assert "PDF, JPEG, PNG" in response.content.decode()
    assert draft.evidence.count() == 1


def test_upload_without_a_file_is_400(client: Client, draft: Submission) -> None:
    assert as_(client, draft.created_by).post(upload_url(draft), {}).status_code == 400


# 1.5 MB is refused from its Content-Length; 1034 KB only once more than 1 MB has streamed in.
@pytest.mark.parametrize("size_kb", [1536, 1034], ids=["announced", "streamed"])
def test_oversized_upload_is_413(
    client: Client, draft: Submission, settings: Any, size_kb: int
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (size_kb * 1024))
    response = as_(client, draft.created_by).post(upload_url(draft), {"file": big})
    assert response.status_code == 413
    assert "terlalu besar" in response.content.decode()
    assert draft.evidence.count() == 1


def test_oversized_upload_is_413_even_though_its_csrf_token_was_dropped(
    draft: Submission, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    client = Client(enforce_csrf_checks=True)
    client.force_login(draft.created_by)
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (1536 * 1024))
    assert client.post(upload_url(draft), {"file": big}).status_code == 413
    # A normal upload without the token is still refused by the CSRF check.
    assert client.post(upload_url(draft), {"file": f.pdf_upload()}).status_code == 403
    assert draft.evidence.count() == 1


def test_oversized_upload_by_a_reviewer_is_still_403(
    client: Client, submitted: Submission, verifier: Any, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    big = f.pdf_upload("besar.pdf", f.PDF_BYTES + b"0" * (1536 * 1024))
    assert as_(client, verifier).post(upload_url(submitted), {"file": big}).status_code == 403


def test_upload_on_a_submitted_one_is_409(client: Client, submitted: Submission) -> None:
    response = as_(client, submitted.created_by).post(
        upload_url(submitted), {"file": f.pdf_upload()}
    )
    assert response.status_code == 409


@pytest.mark.parametrize("who", ["verifier", "auditor"])
def test_reviewers_may_not_upload(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(upload_url(submitted), {"file": f.pdf_upload()}).status_code == 403
    assert submitted.evidence.count() == 1


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_upload_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(upload_url(draft), {"file": f.pdf_upload()}).status_code == 404


# --- evidence removal -----------------------------------------------------------------------


def test_operator_removes_a_file_which_stays_in_the_trail(
    client: Client, draft: Submission
) -> None:
    evidence = first_evidence(draft)
    response = as_(client, draft.created_by).post(remove_url(draft))
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert evidence.removed_at is not None
    assert draft.trail.filter(action="evidence_remove").exists()


def test_verifier_may_not_remove_from_a_returned_one(
    client: Client, draft: Submission, people: dict[str, Any]
) -> None:
    returned = f.advance(draft, "returned", **people)
    response = as_(client, people["verifier"]).post(remove_url(returned))
    assert response.status_code == 403
    assert first_evidence(returned) is not None


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_removal_is_404_to_outsiders(
    client: Client, draft: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(remove_url(draft)).status_code == 404


def test_removing_an_unknown_file_is_404(client: Client, draft: Submission) -> None:
    url = reverse("evidence-remove", args=[draft.pk, 999999])
    assert as_(client, draft.created_by).post(url).status_code == 404


# --- download -------------------------------------------------------------------------------


def test_operator_downloads_and_the_trail_records_it(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).get(download_url(draft))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.PDF_BYTES
    assert "attachment" in response["Content-Disposition"]
    assert draft.trail.filter(action="evidence_download", actor_name="op-dinkes").exists()


def test_read_only_auditor_may_download_a_submitted_one(
    client: Client, submitted: Submission, auditor: Any
) -> None:
    response = as_(client, auditor).get(download_url(submitted))
    assert response.status_code == 200
    assert submitted.trail.filter(action="evidence_download", actor_name="inspektorat").exists()


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_download_is_404_to_outsiders(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.get(download_url(submitted)).status_code == 404
    assert not submitted.trail.filter(action="evidence_download").exists()


# --- actions --------------------------------------------------------------------------------


def test_operator_submits_from_the_page(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        action_url(draft), {"action": "submit", "version": draft.version}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "submitted"
    page = client.get(detail_url(draft)).content.decode()
    assert "diajukan untuk verifikasi" in page
    assert "Draf &rarr; Menunggu verifikasi" in page


def test_submitting_an_incomplete_draft_lists_what_is_missing(
    client: Client, operator: Any
) -> None:
    draft = f.make_draft(operator, with_evidence=False, title="")
    response = as_(client, operator).post(action_url(draft), {"action": "submit"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Judul wajib diisi" in html
    assert "Unggah setidaknya satu berkas" in html
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_read_only_auditor_posting_an_action_gets_403(
    client: Client, submitted: Submission, auditor: Any
) -> None:
    before = events(submitted)
    response = as_(client, auditor).post(action_url(submitted), {"action": "approve"})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == "submitted"
    assert events(submitted) == before


@pytest.mark.parametrize("who", ["other_operator", "outsider"])
def test_actions_are_404_to_outsiders(
    client: Client, submitted: Submission, request: Any, who: str
) -> None:
    as_(client, request.getfixturevalue(who))
    assert client.post(action_url(submitted), {"action": "approve"}).status_code == 404


def test_return_without_a_reason_shows_the_error_and_changes_nothing(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    before = events(submitted)
    version = submitted.version
    response = as_(client, verifier).post(
        action_url(submitted), {"action": "return", "note": "   ", "version": version}
    )
    assert response.status_code == 400
    assert "wajib diisi" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == "submitted"
    assert submitted.version == version
    assert events(submitted) == before


def test_verifier_returns_with_a_reason_then_it_is_in_the_timeline(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    response = as_(client, verifier).post(
        action_url(submitted),
        {"action": "return", "note": "Lampirkan SK", "version": submitted.version},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == "returned"
    html = client.get(detail_url(submitted)).content.decode()
    assert "Lampirkan SK" in html
    assert "Menunggu verifikasi &rarr; Dikembalikan untuk perbaikan" in html


def test_an_action_on_a_stale_version_is_409(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    response = as_(client, verifier).post(
        action_url(submitted), {"action": "approve", "version": submitted.version - 1}
    )
    assert response.status_code == 409
    assert "telah berubah" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


def test_an_action_the_state_does_not_allow_is_409(
    client: Client, submitted: Submission, consolidator: Any
) -> None:
    response = as_(client, consolidator).post(action_url(submitted), {"action": "consolidate"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    "data",
    [
        {"action": "terbang"},
        {"action": ""},
        {"action": "approve", "version": "abc"},
        {"action": "return", "note": "nul\x00byte"},
    ],
)
def test_bad_action_input_is_400_never_500(
    client: Client, submitted: Submission, verifier: Any, data: dict[str, str]
) -> None:
    response = as_(client, verifier).post(action_url(submitted), data)
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


def test_nul_bytes_in_the_form_are_400_never_500(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        edit_url(draft), {**REGULATION_POST, "title": "a\x00b", "detail_number": "\x00"}
    )
    assert response.status_code == 400


def test_get_on_a_post_endpoint_is_405(client: Client, draft: Submission) -> None:
    as_(client, draft.created_by)
    assert client.get(action_url(draft)).status_code == 405
    assert client.get(upload_url(draft)).status_code == 405
    assert client.get(remove_url(draft)).status_code == 405
