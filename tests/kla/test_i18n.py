"""Languages: Indonesian first, English available.

Django's standard choice applies: the language the person picked through ``/i18n/setlang/``
(a cookie), else the browser's ``Accept-Language``, else Indonesian. The API answers in the
request's language, Indonesian by default (DESIGN, Interfaces).
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import Any

import pytest
import rest_framework
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kla.models import Submission, SubmissionState
from workflows.models import Notification

from .conftest import snapshot, url

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"

ENGLISH_STATES = {
    "draft": "Draft",
    "submitted": "Awaiting verification",
    "returned": "Returned for revision",
    "verified": "Verified",
    "consolidated": "Consolidated",
    "audited": "Audited",
}
INDONESIAN_STATES = {
    "draft": "Draf",
    "submitted": "Menunggu verifikasi",
    "returned": "Dikembalikan untuk perbaikan",
    "verified": "Terverifikasi",
    "consolidated": "Terkonsolidasi",
    "audited": "Selesai diaudit",
}


def choose(client: Client, language: str, next_url: str = "/") -> None:
    """Pick a language through the switch of ``base.html``."""
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language


def unescape(text: str) -> str:
    """The C escapes of a ``.po`` string."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def po_entries(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """``(msgid, msgstrs, flags)`` of each live entry of a ``.po`` file (obsolete ones skipped)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        flags = [f.strip() for line in lines if line.startswith("#,") for f in line[2:].split(",")]
        fields: dict[str, str] = {}
        key = ""
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = unescape(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += unescape(line[1:-1])
        if fields.get("msgid"):
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            entries.append((fields["msgid"], strs, flags))
    return entries


# The catalogue


def test_every_english_msgid_is_translated_and_none_is_fuzzy() -> None:
    entries = po_entries(CATALOGUE / "django.po")
    assert len(entries) > 300
    assert [m for m, strs, _ in entries if not all(strs)] == []
    assert [m for m, _, flags in entries if "fuzzy" in flags] == []


def test_compiled_catalogue_holds_every_translation_of_the_po() -> None:
    """CI has no gettext: the committed ``.mo`` must be compiled from the committed ``.po``."""
    with (CATALOGUE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    assert compiled.gettext("Tugas saya") == "My tasks"
    catalog = compiled._catalog  # type: ignore[attr-defined]
    missing = [
        m for m, _, _ in po_entries(CATALOGUE / "django.po") if not ({m, (m, 0)} & catalog.keys())
    ]
    assert missing == []


def test_state_labels_are_translated() -> None:
    with translation.override("en"):
        assert {s.value: str(s.label) for s in SubmissionState} == ENGLISH_STATES
    with translation.override("id"):
        assert {s.value: str(s.label) for s in SubmissionState} == INDONESIAN_STATES


# Pages


@pytest.mark.django_db
def test_login_page_is_indonesian_without_any_choice(client: Client) -> None:
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="id" ' in html
    assert "Lupa kata sandi?" in html


@pytest.mark.django_db
def test_login_page_is_english_after_choosing_english(client: Client) -> None:
    choose(client, "en", reverse("login"))
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en" ' in html
    assert "Forgot your password?" in html
    assert "Lupa kata sandi?" not in html


@pytest.mark.django_db
def test_submission_page_is_indonesian_without_any_choice(
    client: Client, verifier: Any, submitted: Submission
) -> None:
    client.force_login(verifier)
    html = client.get(reverse("submission-detail", args=[submitted.pk])).content.decode()
    assert "Tugas saya" in html
    assert "Menunggu verifikasi" in html
    assert "Bukti dukung" in html


@pytest.mark.django_db
def test_submission_page_is_english_after_choosing_english(
    client: Client, verifier: Any, submitted: Submission
) -> None:
    client.force_login(verifier)
    detail = reverse("submission-detail", args=[submitted.pk])
    choose(client, "en", detail)
    html = client.get(detail).content.decode()
    assert '<html lang="en" ' in html
    assert "My tasks" in html
    assert "Awaiting verification" in html
    assert "Evidence" in html
    assert "Tugas saya" not in html
    assert "Menunggu verifikasi" not in html


@pytest.mark.django_db
def test_english_browser_without_a_choice_gets_english_pages(client: Client) -> None:
    """Django's standard order: with no cookie the browser's language decides."""
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Forgot your password?" in html


@pytest.mark.django_db
def test_choosing_indonesian_wins_over_an_english_browser(client: Client) -> None:
    choose(client, "id", reverse("login"))
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Lupa kata sandi?" in html


@pytest.mark.django_db
def test_a_browser_language_without_catalogue_falls_back_to_indonesian(client: Client) -> None:
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert '<html lang="id" ' in html
    assert "Lupa kata sandi?" in html


# API


@pytest.mark.django_db
def test_api_error_is_english_with_accept_language_en(
    api: Any, verifier: Any, submitted: Submission
) -> None:
    before = snapshot(submitted)
    response = api.as_(verifier).post(
        url(submitted, "actions"), {"action": "terbang"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["action"][0].startswith("Unknown action; choose from:")
    assert snapshot(submitted) == before


@pytest.mark.django_db
def test_api_error_is_indonesian_without_accept_language(
    api: Any, verifier: Any, submitted: Submission
) -> None:
    response = api.as_(verifier).post(
        url(submitted, "actions"), {"action": "terbang"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["action"][0].startswith("Aksi tidak dikenal; pilih dari:")


@pytest.mark.django_db
def test_api_field_errors_follow_accept_language(api: Any, operator: Any, instruction: Any) -> None:
    """A validation error of the create endpoint, in each language."""
    body = {"category": "regulation", "title": "x", "years": [1999]}
    english = api.as_(operator).post(url(), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    indonesian = api.as_(operator).post(url(), body, format="json")
    assert english.status_code == indonesian.status_code == 400
    assert english.json() == {
        "years": ["Years must be drawn from those of instruction 2/2026: 2024, 2025, 2026."]
    }
    assert indonesian.json() == {
        "years": ["Tahun harus daftar tahun dari instruksi 2/2026: 2024, 2025, 2026."]
    }


@pytest.mark.django_db
def test_api_not_found_follows_accept_language(
    api: Any, outsider: Any, submitted: Submission
) -> None:
    client = api.as_(outsider)
    english = client.get(url(submitted), HTTP_ACCEPT_LANGUAGE="en")
    indonesian = client.get(url(submitted))
    assert english.status_code == indonesian.status_code == 404
    assert english.json() == {"detail": "Submission not found."}
    assert indonesian.json() == {"detail": "Pengajuan tidak ditemukan."}


@pytest.mark.django_db
def test_notifications_are_written_in_indonesian_whatever_the_actors_language(
    api: Any, verifier: Any, operator: Any, submitted: Submission
) -> None:
    """Stored text is read later by other people, so the actor's choice does not leak into it."""
    response = api.as_(verifier).post(
        url(submitted, "actions"),
        {"action": "return", "note": "Bukti kurang"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    titles = list(Notification.objects.filter(user=operator).values_list("title", flat=True))
    assert titles == [f"Dikembalikan untuk perbaikan: #{submitted.pk} {submitted.title}"]


# DRF's own messages: its Indonesian catalogue is incomplete, ``locale/id`` completes it

CATALOGUE_ID = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"
DRF_LOCALE = Path(rest_framework.__file__).parent / "locale"


def test_indonesian_catalogue_translates_every_message_of_drf() -> None:
    with (DRF_LOCALE / "en" / "LC_MESSAGES" / "django.mo").open("rb") as fh:
        drf = {m for m in gettext.GNUTranslations(fh)._catalog if m}  # type: ignore[attr-defined]
    entries = po_entries(CATALOGUE_ID / "django.po")
    assert drf - {m for m, _, _ in entries} == set()
    assert [m for m, strs, _ in entries if not all(strs)] == []
    assert [m for m, _, flags in entries if "fuzzy" in flags] == []
    with (CATALOGUE_ID / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    # A plural entry (one of guardian's) is compiled under (msgid, 0).
    keys = {k if isinstance(k, str) else k[0] for k in compiled}
    assert {m for m, _, _ in entries} - keys == set()
    placeholders = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sd]")
    assert [
        m
        for m, (s,), _ in entries
        if sorted(placeholders.findall(m)) != sorted(placeholders.findall(s))
    ] == []


@pytest.mark.django_db
def test_api_invalid_page_is_indonesian_without_accept_language(api: Any, operator: Any) -> None:
    response = api.as_(operator).get(url(), {"page": 999})
    assert response.status_code == 404
    assert response.json() == {"detail": "Halaman tidak valid."}


@pytest.mark.django_db
def test_api_method_not_allowed_is_indonesian_without_accept_language(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).put(url(draft), {"title": "Baru"}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Metode "PUT" tidak diizinkan.'}
    assert snapshot(draft) == before


@pytest.mark.django_db
def test_api_json_parse_error_is_indonesian_without_accept_language(
    api: Any, operator: Any
) -> None:
    response = api.as_(operator).post(url(), '{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Galat penguraian JSON - ")
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_api_bad_token_is_indonesian_without_accept_language(api: Any) -> None:
    api.credentials(HTTP_AUTHORIZATION="Token bukan-token-yang-ada")
    response = api.get(url())
    assert response.status_code == 401
    assert response.json() == {"detail": "Token tidak valid."}


@pytest.mark.django_db
def test_api_drf_messages_are_english_with_accept_language_en(
    api: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(operator)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    page = client.get(url(), {"page": 999}, **english)
    assert page.json() == {"detail": "Invalid page."}
    put = client.put(url(draft), {"title": "New"}, format="json", **english)
    assert put.json() == {"detail": 'Method "PUT" not allowed.'}
    parse = client.post(url(), '{"title": ', content_type="application/json", **english)
    assert parse.json()["detail"].startswith("JSON parse error - ")
    api.credentials(HTTP_AUTHORIZATION="Token bukan-token-yang-ada")
    token = api.get(url(), **english)
    assert (token.status_code, token.json()) == (401, {"detail": "Invalid token."})
