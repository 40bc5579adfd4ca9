"""Pages that update in place with htmx, under the strict CSP, and still work without it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from kla.models import ExportState
from kla.reports.exports import export_request, export_run
from roles.roles import Role
from tests import factories as f
from workflows.models import TrailEvent

# Records every CSP violation; a marker that a full page load would wipe out.
WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective));"
)


def _page(browser: Browser, base: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    context.add_init_script(WATCH)
    page = context.new_page()
    page.goto(f"{base}/masuk/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page).to_have_url(f"{base}/tugas/")
    return page


def _dinkes_and_a_verifier() -> User:
    """The instruction, the indicators, a verifier and Dinas Kesehatan's operator (returned)."""
    f.InstructionFactory()
    f.ensure_indicators()
    body = f.BodyFactory(code="dinkes", name="Dinas Kesehatan")
    operator: User = f.make_operator(body, "op-dinkes")
    f.make_role(Role.VERIFIER, "verifikator")
    return operator


def _mark(page: Page) -> None:
    page.evaluate("window.__stayed = true")


def _stayed(page: Page) -> bool:
    return bool(page.evaluate("window.__stayed === true && window.__csp.length === 0"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_running_export_shows_its_download_without_a_reload(
    live_server: Any, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.InstructionFactory()
    consolidator = f.make_role(Role.CONSOLIDATOR, "bapperida")
    # The worker has not taken it yet (as with the broker away: the relay hands it over later).
    monkeypatch.setattr("kla.reports.exports.queue_export", lambda export_id: None)
    export = export_request(user=consolidator, kind="rekap_xlsx")
    assert export.state == ExportState.PENDING
    page = _page(browser, live_server.url, "bapperida")
    page.goto(f"{live_server.url}{reverse('exports')}")
    expect(page.locator("#export-list")).to_have_attribute("hx-trigger", "every 2s")
    _mark(page)

    export_run(export_id=export.pk)

    expect(page.locator("#export-list").get_by_role("link", name="Unduh")).to_be_visible(
        timeout=10_000
    )
    # Nothing runs any more: the list has stopped polling, and the page was never reloaded.
    expect(page.locator("#export-list")).not_to_have_attribute("hx-trigger", "every 2s")
    assert _stayed(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_action_is_taken_in_place_once_however_often_it_is_clicked(
    live_server: Any, browser: Browser
) -> None:
    operator = _dinkes_and_a_verifier()
    submission = f.make_draft(operator, title="Perwali KTR")
    submission = f.advance(submission, "submitted", operator=operator)
    page = _page(browser, live_server.url, "verifikator")
    page.goto(f"{live_server.url}{reverse('submission-detail', args=[submission.pk])}")
    _mark(page)

    # Without the reason the browser asks for it and nothing is sent.
    page.get_by_role("button", name="Kembalikan", exact=True).click()
    assert page.evaluate("document.querySelector('#note-return').matches(':invalid')")
    assert _stayed(page)

    page.fill("#note-return", "Lampirkan salinan bertanda tangan")
    page.get_by_role("button", name="Kembalikan", exact=True).dblclick()
    expect(page.locator(".headline .state")).to_have_text("Dikembalikan untuk perbaikan")
    expect(page.locator(".messages")).to_be_visible()
    assert _stayed(page)
    returns = TrailEvent.objects.filter(stream__name=f"submission:{submission.pk}", action="return")
    assert returns.count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_refused_action_is_explained_in_place(live_server: Any, browser: Browser) -> None:
    operator = _dinkes_and_a_verifier()
    other = f.make_role(Role.VERIFIER, "verifikator2")
    draft = f.make_draft(operator, title="Perwali KTR")
    submission = f.advance(draft, "submitted", operator=operator)
    page = _page(browser, live_server.url, "verifikator")
    page.goto(f"{live_server.url}{reverse('submission-detail', args=[submission.pk])}")
    _mark(page)
    # Meanwhile the other verifier approves it: the version on the page is stale (409).
    f.advance(submission, "verified", verifier=other)

    page.fill("#note-return", "Kurang lengkap")
    page.get_by_role("button", name="Kembalikan", exact=True).click()
    expect(page.locator("main .alert")).to_be_visible()
    expect(page.locator(".headline .state")).to_have_text("Terverifikasi")
    assert _stayed(page)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_actions_work_without_javascript(live_server: Any, browser: Browser) -> None:
    operator = _dinkes_and_a_verifier()
    draft = f.make_draft(operator, title="Perwali KTR")
    submission = f.advance(draft, "submitted", operator=operator)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/masuk/")
    page.fill("#id_username", "verifikator")
    page.fill("#id_password", f.PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.goto(f"{live_server.url}{reverse('submission-detail', args=[submission.pk])}")
    page.fill("#note-return", "Kurang lengkap")
    page.get_by_role("button", name="Kembalikan", exact=True).click()
    expect(page.locator(".headline .state")).to_have_text("Dikembalikan untuk perbaikan")


@pytest.mark.django_db
def test_the_export_list_alone_answers_htmx_and_says_it_varies(world_consolidator: Any) -> None:
    client = Client()
    client.force_login(world_consolidator)
    export_request(user=world_consolidator, kind="rekap_xlsx")
    whole = client.get(reverse("exports"))
    part = client.get(reverse("exports"), HTTP_HX_REQUEST="true")
    assert b"<html" in whole.content and b"<html" not in part.content
    assert b'id="export-list"' in part.content and b'hx-trigger="every 2s"' in part.content
    assert "HX-Request" in part.headers["Vary"] and "HX-Request" in whole.headers["Vary"]


@pytest.fixture
def world_consolidator(db: Any) -> Any:
    f.InstructionFactory()
    return f.make_role(Role.CONSOLIDATOR, "bapperida")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_verifier_looks_at_a_photo_in_the_page(live_server: Any, browser: Browser) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kla.drafting import evidence_add

    operator = _dinkes_and_a_verifier()
    draft = f.make_draft(operator, title="Perwali KTR")
    photo = evidence_add(
        user=operator,
        submission_id=draft.pk,
        upload=SimpleUploadedFile("foto.png", f.PNG_BYTES, content_type="image/png"),
    )
    submission = f.advance(draft, "submitted", operator=operator)
    page = _page(browser, live_server.url, "verifikator")
    page.goto(f"{live_server.url}{reverse('submission-detail', args=[submission.pk])}")
    _mark(page)
    reads = TrailEvent.objects.filter(submission=submission, action="evidence_download")
    assert reads.count() == 0

    page.locator(f"a.preview-link[href$='/{photo.pk}/lihat/']").click()
    image = page.locator("#evidence-panel img")
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    assert _stayed(page)
    assert [e.data for e in reads] == [{"evidence": photo.pk, "preview": True}]

    # The PDF opens in a frame of its own origin.
    pdf = submission.evidence.exclude(pk=photo.pk).get()
    inline = reverse("evidence-inline", args=[submission.pk, pdf.pk])
    with page.expect_response(lambda r: r.url.endswith(inline)) as framed:
        page.locator(f"a.preview-link[href$='/{pdf.pk}/lihat/']").click()
    assert framed.value.status == 200
    assert framed.value.headers["content-type"] == "application/pdf"
    expect(page.locator("#evidence-panel iframe")).to_have_attribute("src", inline)
    assert _stayed(page)
    assert reads.all().count() == 2
