"""The upload of several files in a browser: chosen (or dropped) into the drop zone, each
given its own kind by site.js, sent in one POST under the strict CSP."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, FilePayload, expect

from kla.models import Submission
from tests import factories as f
from tests.test_htmx import _dinkes_and_a_verifier, _page
from workflows.models import TrailEvent


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_files_dropped_each_with_its_kind_are_uploaded_and_listed(
    live_server: Any, browser: Browser
) -> None:
    operator = _dinkes_and_a_verifier()
    draft: Submission = f.make_draft(operator, title="Perwali KTR", with_evidence=False)
    page = _page(browser, live_server.url, "op-dinkes")
    page.goto(f"{live_server.url}{reverse('submission-detail', args=[draft.pk])}")

    zone = page.locator("[data-dropzone]")
    expect(zone).to_have_class("field dropzone enhanced")
    expect(zone.locator("[data-dropzone-hint]")).to_be_visible()
    files: list[FilePayload] = [
        {"name": "sk-gugus-tugas.pdf", "mimeType": "application/pdf", "buffer": f.PDF_BYTES},
        {"name": "foto-forum.png", "mimeType": "image/png", "buffer": f.PNG_BYTES},
    ]
    zone.locator('input[type="file"]').set_input_files(files)
    listed = zone.locator("[data-file-list] li")
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("sk-gugus-tugas.pdf")
    expect(listed.nth(1)).to_contain_text("foto-forum.png")
    # Each file has its own kind; the one for the whole batch steps aside.
    expect(page.locator("[data-batch-kind]")).to_be_hidden()
    listed.nth(0).get_by_label("Jenis bukti").select_option("decree")
    listed.nth(1).get_by_label("Jenis bukti").select_option("photo")

    # Taking one out and adding it again by dropping keeps the other's kind.
    listed.nth(1).get_by_role("button").click()
    expect(listed).to_have_count(1)
    zone.locator('input[type="file"]').evaluate(
        """(input, bytes) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], "foto-forum.png",
                                    {type: "image/png"}));
            const zone = input.closest("[data-dropzone]");
            zone.dispatchEvent(new DragEvent("dragover", {bubbles: true, dataTransfer: data}));
            zone.dispatchEvent(new DragEvent("drop", {bubbles: true, dataTransfer: data}));
        }""",
        list(f.PNG_BYTES),
    )
    expect(listed).to_have_count(2)
    expect(listed.nth(0).get_by_label("Jenis bukti")).to_have_value("decree")
    listed.nth(1).get_by_label("Jenis bukti").select_option("photo")

    page.get_by_role("button", name="Unggah", exact=True).click()

    table = page.locator("table.list").first
    expect(table).to_contain_text("sk-gugus-tugas.pdf")
    expect(table).to_contain_text("foto-forum.png")
    expect(table.locator("tr", has_text="sk-gugus-tugas.pdf")).to_contain_text(
        "Surat keputusan (SK)"
    )
    expect(table.locator("tr", has_text="foto-forum.png")).to_contain_text("Foto kegiatan")
    expect(page.locator(".messages")).to_contain_text("foto-forum.png diunggah")
    kinds = dict(draft.evidence.values_list("name", "kind"))
    assert kinds == {"sk-gugus-tugas.pdf": "decree", "foto-forum.png": "photo"}
    uploads = TrailEvent.objects.filter(submission=draft, action="evidence_upload")
    assert uploads.count() == 2
    assert page.evaluate("window.__csp.length") == 0
