"""Inspektorat's supervision in Debian's Chromium: a finding with two recommendations on an
audited submission, followed up, sent back once, and closed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from roles.roles import Role
from tests import factories as f
from tests.test_journey import log_in, log_out


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """An Indonesian browser on the usual office laptop, as the people of Metro use."""
    return {**browser_context_args, "locale": "id-ID", "viewport": {"width": 1366, "height": 768}}


def pdf(name: str) -> list[FilePayload]:
    return [FilePayload(name=name, mimeType="application/pdf", buffer=f.PDF_BYTES)]


def recommendation(page: Page, n: int) -> Any:
    return page.locator("section.recommendation").nth(n - 1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_finding_is_followed_up_and_closed_in_the_browser(live_server: Any, page: Page) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    body = f.BodyFactory(code="dinkes", name="Dinas Kesehatan")
    operator = f.make_operator(body, "op-dinkes")
    people = {
        "operator": operator,
        "verifier": f.make_role(Role.VERIFIER, "verifikator"),
        "consolidator": f.make_role(Role.CONSOLIDATOR, "bapperida"),
        "auditor": f.make_role(Role.AUDITOR, "inspektorat"),
    }
    audited = f.advance(f.make_draft(operator, title="Perwali KTR"), "audited", **people)
    base = live_server.url

    # Inspektorat records a finding with two recommendations from the submission's page.
    log_in(page, base, "inspektorat")
    page.goto(f"{base}/pengajuan/{audited.pk}/")
    page.get_by_role("link", name="Catat temuan").click()
    page.fill("#id_title", "Perwali belum diundangkan")
    page.fill("#id_condition", "Salinan belum bernomor")
    page.fill("#id_criteria", "Permen PPPA 12/2022")
    page.fill("#id_recommendation_1", "Undangkan perwali")
    page.fill("#id_recommendation_2", "Unggah salinan resmi")
    page.get_by_role("button", name="Simpan temuan").click()
    expect(page.locator(".messages")).to_contain_text("Temuan dicatat")
    finding = page.url
    log_out(page, base)

    # The body responds to both, each with a file.
    log_in(page, base, "op-dinkes")
    page.goto(finding)
    for n, name in ((1, "undangan.pdf"), (2, "salinan.pdf")):
        card = recommendation(page, n)
        card.locator("textarea").fill(f"Tindak lanjut {n}")
        card.locator("input[type=file]").set_input_files(files=pdf(name))
        card.get_by_role("button", name="Kirim tindak lanjut").click()
        expect(page.locator(".messages")).to_contain_text("Tindak lanjut dikirim")
        expect(recommendation(page, n).locator(".follow-up")).to_have_text("Menunggu penilaian")
    expect(recommendation(page, 1)).to_contain_text("undangan.pdf")
    log_out(page, base)

    # Inspektorat sends the first back and accepts the second.
    log_in(page, base, "inspektorat")
    page.goto(finding)
    first = recommendation(page, 1)
    first.locator("select").select_option("in_progress")
    first.locator("textarea").fill("Nomor pengundangan belum ada")
    first.get_by_role("button", name="Simpan penilaian").click()
    expect(recommendation(page, 1).locator(".follow-up")).to_have_text("Belum sesuai")
    second = recommendation(page, 2)
    second.locator("select").select_option("resolved")
    second.get_by_role("button", name="Simpan penilaian").click()
    expect(recommendation(page, 2).locator(".follow-up")).to_have_text("Sesuai")
    expect(page.locator(".headline .finding-status")).to_have_text("Terbuka")
    log_out(page, base)

    # The body responds again; Inspektorat accepts it; the finding is closed.
    log_in(page, base, "op-dinkes")
    page.goto(finding)
    card = recommendation(page, 1)
    card.locator("textarea").fill("Sudah bernomor 12 Tahun 2025")
    card.get_by_role("button", name="Kirim tindak lanjut").click()
    expect(recommendation(page, 1).locator(".follow-up")).to_have_text("Menunggu penilaian")
    log_out(page, base)

    log_in(page, base, "inspektorat")
    page.goto(finding)
    first = recommendation(page, 1)
    first.locator("select").select_option("resolved")
    first.get_by_role("button", name="Simpan penilaian").click()
    expect(page.locator(".headline .finding-status")).to_have_text("Selesai")
    page.get_by_role("link", name="Temuan", exact=True).first.click()
    expect(page.locator("table.findings tbody tr").first).to_contain_text("Selesai")
    # The follow-up matrix shows the body's finding closed, both recommendations resolved.
    page.goto(f"{base}/temuan/matriks/")
    row = page.locator("table tbody tr", has_text="Dinas Kesehatan")
    expect(row).to_contain_text("Selesai")
    expect(row.locator("td.status-resolved")).to_have_text("2")
    expect(row.locator("td.status-open")).to_have_text("0")
