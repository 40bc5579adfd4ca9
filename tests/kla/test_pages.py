"""The pages: for every page and POST endpoint the allowed person, the read-only person and
the outsider (healthchecks' Alice, Bob and Charlie), plus the anonymous visitor."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kla.models import Submission
from tests import factories as f
from tests.kla.pages_support import (
    REGULATION_POST,
    action_url,
    as_,
    detail_url,
    download_url,
    edit_url,
    events,
    remove_url,
    upload_url,
)

pytestmark = pytest.mark.django_db


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


def test_list_refuses_bad_filters_beside_their_fields(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).get(
        reverse("submission-list"), {"state": "bogus", "category": "x"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“bogus” tidak dikenal" in page and "“x” tidak dikenal" in page
    assert 'id="filter-error-state"' in page and 'aria-invalid="true"' in page
    assert detail_url(draft) not in page  # nothing is listed under a filter it could not read


def test_list_ignores_a_bad_page_number(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).get(reverse("submission-list"), {"halaman": "abc"})
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
