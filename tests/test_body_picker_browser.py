"""The body picker in a browser: typing in the agency filter fills its suggestions with htmx
under the strict CSP, and the code it submits filters the list, the body's name beside it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from roles.roles import Role
from tests import factories as f
from tests.test_htmx import _mark, _page, _stayed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_typing_in_the_agency_filter_suggests_bodies_and_filters_by_the_code(
    live_server: Any, browser: Browser
) -> None:
    f.InstructionFactory()
    f.ensure_indicators()
    dinkes = f.make_operator(f.BodyFactory(code="dinkes", name="Dinas Kesehatan"), "op-dinkes")
    dinsos = f.make_operator(f.BodyFactory(code="dinsos", name="Dinas Sosial"), "op-dinsos")
    f.advance(f.make_draft(dinkes, title="Perwali Zeta"), "submitted", operator=dinkes)
    f.advance(f.make_draft(dinsos, title="Forum Omega"), "submitted", operator=dinsos)
    f.make_role(Role.VERIFIER, "verifikator")
    page = _page(browser, live_server.url, "verifikator")
    page.goto(f"{live_server.url}{reverse('submission-list')}")
    _mark(page)

    page.locator(".filters-more > summary").click()
    field = page.locator("#id_agency")
    field.press_sequentially("sosi", delay=30)
    option = page.locator("#id_agency-options option")
    expect(option).to_have_count(1, timeout=5_000)
    expect(option).to_have_attribute("value", "dinsos")
    assert _stayed(page)  # suggestions came in place, nothing blocked by the policy

    field.fill("dinsos")
    page.get_by_role("button", name="Saring", exact=True).click()
    expect(page.locator(".body-picked")).to_have_text("Dinas Sosial")
    expect(page.get_by_role("link", name="Forum Omega")).to_be_visible()
    expect(page.get_by_role("link", name="Perwali Zeta")).to_have_count(0)
