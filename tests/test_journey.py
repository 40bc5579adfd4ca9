"""One journey through the whole flow in Debian's Chromium, as the people would click it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from roles.roles import Role
from tests import factories as f


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """An Indonesian browser on the usual office laptop, as the people of Metro use."""
    return {**browser_context_args, "locale": "id-ID", "viewport": {"width": 1366, "height": 768}}


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/masuk/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page).to_have_url(f"{base}/tugas/")


def log_out(page: Page, base: str) -> None:
    """Sign out from the person's dropdown in the header (behind "Menu" on a narrow window)."""
    toggle = page.locator("button.menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    page.locator("details.person-menu > summary").click()
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(f"{base}/masuk/")


def act(page: Page, button: str, note: str = "", note_for: str = "") -> None:
    """Press an action's button and wait until htmx has put the answer in the page."""
    if note_for:
        page.fill(f"#note-{note_for}", note)
    with page.expect_response(lambda r: "/aksi/" in r.url and r.request.method == "POST"):
        page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_regulation_goes_from_draft_to_audited_in_the_browser(
    live_server: Any, page: Page, tmp_path: Any
) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    body = f.BodyFactory(code="dinkes", name="Dinas Kesehatan")
    f.make_operator(body, "op-dinkes")
    f.make_role(Role.VERIFIER, "verifikator")
    f.make_role(Role.CONSOLIDATOR, "bapperida")
    f.make_role(Role.AUDITOR, "inspektorat")
    base = live_server.url

    # The operator drafts, uploads the signed regulation and submits.
    log_in(page, base, "op-dinkes")
    page.get_by_role("link", name="Regulasi").first.click()
    page.fill("#id_title", "Perwali Kawasan Tanpa Rokok")
    page.check("input[name=years][value='2025']")
    page.check("input[name=indicators][value='17']")
    page.select_option("#id_detail_kind", "perwali")
    page.fill("#id_detail_number", "12 Tahun 2025")
    page.fill("#id_detail_enacted_on", "2025-02-01")
    page.get_by_role("button", name="Simpan draf").click()
    expect(page.locator(".messages")).to_contain_text("Draf pengajuan dibuat")
    detail = page.url
    page.set_input_files(
        "input[name=file]",
        files=[FilePayload(name="perwali-ktr.pdf", mimeType="application/pdf", buffer=f.PDF_BYTES)],
    )
    page.get_by_role("button", name="Unggah").click()
    expect(page.locator(".messages")).to_contain_text("perwali-ktr.pdf diunggah")
    act(page, "Ajukan untuk verifikasi")
    expect(page.locator(".headline .state")).to_have_text("Menunggu verifikasi")
    log_out(page, base)

    # The verifier finds it in the inbox and returns it with a reason.
    log_in(page, base, "verifikator")
    page.get_by_role("link", name="Perwali Kawasan Tanpa Rokok").click()
    expect(page).to_have_url(detail)
    act(page, "Kembalikan", "Lampirkan salinan yang bertanda tangan", "return")
    expect(page.locator(".headline .state")).to_have_text("Dikembalikan untuk perbaikan")
    log_out(page, base)

    # The operator resubmits, saying what changed.
    log_in(page, base, "op-dinkes")
    page.goto(detail)
    expect(page.locator(".ev-note").last).to_have_text("Lampirkan salinan yang bertanda tangan")
    act(page, "Ajukan ulang", "Salinan bertanda tangan sudah dilampirkan", "resubmit")
    expect(page.locator(".headline .state")).to_have_text("Menunggu verifikasi")
    log_out(page, base)

    # Verifier, consolidator and auditor each take their step.
    for username, button, note in (
        ("verifikator", "Setujui (verifikasi)", ""),
        ("bapperida", "Konsolidasikan", ""),
        ("inspektorat", "Catat audit", "Tidak ada temuan"),
    ):
        log_in(page, base, username)
        page.goto(detail)
        act(page, button, note, "audit" if note else "")
        log_out(page, base)

    log_in(page, base, "inspektorat")
    page.goto(detail)
    expect(page.locator(".headline .state")).to_have_text("Selesai diaudit")
    expect(page.get_by_role("button", name="Catat audit")).to_have_count(0)
    timeline = page.locator(".timeline .ev-action")
    expect(timeline).to_have_text(
        [
            "Dibuat",
            "Unggah bukti dukung",
            "Diajukan",
            "Dikembalikan",
            "Diajukan ulang",
            "Disetujui (terverifikasi)",
            "Dikonsolidasi",
            "Diaudit",
        ]
    )
    notes = page.locator(".timeline .ev-note")
    expect(notes).to_have_text(
        [
            "Lampirkan salinan yang bertanda tangan",
            "Salinan bertanda tangan sudah dilampirkan",
            "Tidak ada temuan",
        ]
    )
    page.screenshot(path=str(tmp_path / "audited.png"), full_page=True)
