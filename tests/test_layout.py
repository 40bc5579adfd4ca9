"""The layout as each person sees it in Debian's Chromium, on a laptop and on a phone.

Every page a person reaches from the header, and the pages with the most on them, must fit
the window (no sideways scrolling), keep the header on one line at 1366 px and behind the
"Menu" button at 390 px, break no rule of the Content-Security-Policy and give every control
a target of at least 24 x 24 px (WCAG 2.5.8). The site must also work without JavaScript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from roles.roles import Role
from tests import factories as f
from tests.test_journey import log_in
from workflows.notifications.outbox import relay_run
from workflows.services import submission_act
from workflows.supervision.findings import finding_create

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
ROLES = ["operator", "verifier", "consolidator", "auditor", "admin"]
# A verifier's note as people write them: with a link that is one long word.
LONG_NOTE = (
    "Lampirkan salinan yang bertanda tangan dan bernomor, sesuai contoh di "
    "https://jdih.metrokota.go.id/dokumen/peraturan-walikota/2025/perwali-nomor-12-tahun-2025-"
    "tentang-kawasan-tanpa-rokok-salinan-resmi.pdf"
)

RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""

DESCRIBE = "(el) => el.outerHTML.replace(/\\s+/g, ' ').slice(0, 140)"

OVERFLOW = f"""() => {{
  const describe = {DESCRIBE};
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  // An element inside a scrolling (or clipping) box does not widen the page.
  const clipped = (el) => {{
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {{
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }}
    return false;
  }};
  const wide = [...document.body.querySelectorAll("*")]
    .map((el) => [el.getBoundingClientRect().right, el])
    .filter(([right, el]) => right > width + 0.5 && !clipped(el))
    .sort((a, b) => b[0] - a[0]);
  return `scrollWidth ${{root.scrollWidth}} > clientWidth ${{width}}; widest: `
    + wide.slice(0, 4).map(([r, el]) => `right ${{Math.round(r)}}: ${{describe(el)}}`).join(" | ");
}}"""

HEADER = f"""() => {{
  const describe = {DESCRIBE};
  const inner = document.querySelector(".topbar-inner");
  if (!inner) return null;
  const shown = (el) => el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== "hidden";
  const items = [...inner.children, ...document.querySelectorAll(".mainnav a")].filter(shown);
  return {{
    height: inner.getBoundingClientRect().height,
    items: items.map((el) => {{
      const r = el.getBoundingClientRect();
      return [r.top, r.bottom, describe(el)];
    }}),
  }};
}}"""

TAP_TARGETS = f"""() => {{
  const describe = {DESCRIBE};
  const selector = "button, summary, select, input:not([type=hidden]), .topbar a, .mainnav a,"
    + " .newbar a, .actions a";
  // A checkbox or radio inside its <label> is clicked through the label: that is its target.
  const target = (el) => (el.matches("input[type=checkbox], input[type=radio]")
    && el.closest("label")) || el;
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
    .map((el) => [target(el).getBoundingClientRect(), el])
    .filter(([r]) => r.width < 24 || r.height < 24)
    .map(([r, el]) => `${{Math.round(r.width)}}x${{Math.round(r.height)}} ${{describe(el)}}`);
}}"""


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """An Indonesian browser, as the people of Metro use."""
    return {**browser_context_args, "locale": "id-ID"}


def build_world() -> dict[str, tuple[User, list[tuple[str, str]]]]:
    """Submissions, a returned one with a long note, a finding and notifications, made
    through the services; for each role its person and the pages with content it may see."""
    f.InstructionFactory()
    f.ensure_indicators()
    body = f.BodyFactory(code="dinkes", name="Dinas Kesehatan")
    operator = f.make_operator(body, "op-dinkes")
    people = {
        "operator": operator,
        "verifier": f.make_role(Role.VERIFIER, "verifikator"),
        "consolidator": f.make_role(Role.CONSOLIDATOR, "bapperida"),
        "auditor": f.make_role(Role.AUDITOR, "inspektorat"),
        "admin": f.UserFactory(username="root-admin", is_staff=True, is_superuser=True),
    }
    # Long names, as people have: the header must still keep to one line.
    for role, name in (("operator", "Siti Rahmawati Kusumaningrum"), ("verifier", "Bambang S")):
        people[role].first_name, people[role].last_name = name.split(" ", 1)
        people[role].save()
    flow = {k: people[k] for k in ("operator", "verifier", "consolidator", "auditor")}
    submitted = f.advance(f.make_draft(operator), "submitted", **flow)
    f.advance(f.make_draft(operator, title="Perwali Kota Layak Anak"), "audited", **flow)
    returned = f.advance(
        f.make_draft(operator, title="Perwali Sekolah Ramah Anak"), "submitted", **flow
    )
    submission_act(
        user=people["verifier"], submission_id=returned.pk, action="return", note=LONG_NOTE
    )
    finding = finding_create(
        user=people["auditor"],
        submission=submitted.pk,
        title="Perwali belum diundangkan dalam Berita Daerah",
        condition="Salinan belum bernomor",
        criteria="Permen PPPA 12/2022",
        recommendations=["Undangkan perwali", "Unggah salinan resmi"],
    )
    relay_run()
    detail = ("submission detail", reverse("submission-detail", args=[returned.pk]))
    notices = ("notifications", reverse("notifications"))
    found = ("finding detail", reverse("finding-detail", args=[finding.pk]))
    overseers = [
        detail,
        notices,
        found,
        ("compliance", reverse("compliance")),
        ("coverage", reverse("coverage")),
    ]
    pages = {
        "operator": [
            detail,
            notices,
            found,
            ("submission form", reverse("submission-new", args=["regulation"])),
        ],
        "verifier": overseers,
        "consolidator": overseers,
        "auditor": overseers,
        "admin": [notices],
    }
    return {role: (people[role], pages[role]) for role in ROLES}


def open_context(browser: Browser, viewport: ViewportSize, **kwargs: Any) -> BrowserContext:
    phone = viewport["width"] < 600
    context = browser.new_context(
        viewport=viewport, locale="id-ID", is_mobile=phone, has_touch=phone, **kwargs
    )
    context.add_init_script(RECORD_CSP)
    return context


def check_page(page: Page, name: str, width: int) -> list[str]:
    """What is wrong with the page now open, each problem named with the page and width."""
    where = f"{name} ({page.url}) at {width}px"
    problems: list[str] = []
    overflow = page.evaluate(OVERFLOW)
    if overflow:
        problems.append(f"{where} scrolls sideways: {overflow}")
    if page.locator(".topbar-inner").count():
        problems += [f"{where}: {p}" for p in check_header(page, width)]
        # On a phone the menu is open now: it must fit too, and its links are measured below.
        overflow = page.evaluate(OVERFLOW) if width < 1280 else None
        if overflow:
            problems.append(f"{where} with the menu open scrolls sideways: {overflow}")
    for target in page.evaluate(TAP_TARGETS):
        problems.append(f"{where} tap target under 24x24 px: {target}")
    for violation in page.evaluate("() => window.__cspViolations || []"):
        problems.append(f"{where} CSP violation: {violation}")
    return problems


def check_header(page: Page, width: int) -> list[str]:
    """At a laptop's width the header is one line; at a phone's it folds behind "Menu"."""
    if width >= 1280:
        header = page.evaluate(HEADER)
        problems = [f"header is {header['height']:.0f}px high"] if header["height"] >= 60 else []
        # One line: every item shares a horizontal band with every other (items of different
        # heights are centred, so their tops differ by a few pixels).
        lowest_top = max(top for top, _bottom, _ in header["items"])
        highest_bottom = min(bottom for _top, bottom, _ in header["items"])
        if lowest_top >= highest_bottom:
            rows = ", ".join(
                f"{top:.0f}-{bottom:.0f}: {item}" for top, bottom, item in header["items"]
            )
            problems.append(f"header wraps: {rows}")
        return problems
    toggle = page.locator("button.menu-toggle")
    if not toggle.is_visible():
        return ["no visible Menu button"]
    problems = []
    if page.locator(".mainnav").is_visible():
        problems.append(".mainnav is shown before Menu is clicked")
    toggle.click()
    if toggle.get_attribute("aria-expanded") != "true":
        problems.append("Menu button's aria-expanded is not 'true' after a click")
    links = page.locator(".mainnav a")
    hidden = [
        links.nth(i).inner_text() for i in range(links.count()) if not links.nth(i).is_visible()
    ]
    if hidden or not links.count():
        problems.append(f"nav links not visible after Menu is clicked: {hidden}")
    return problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_the_laptop_and_the_phone_without_breaking_the_csp(
    live_server: Any, browser: Browser, role: str
) -> None:
    user, pages = build_world()[role]
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for viewport in (LAPTOP, PHONE):
        width = viewport["width"]
        context = open_context(browser, viewport)
        page = context.new_page()
        log_in(page, base, user.get_username())
        page.screenshot(path=str(SCREENSHOTS / f"{role}-{width}.png"), full_page=True)
        nav = page.eval_on_selector_all(
            ".mainnav a", "links => links.map(a => [a.textContent.trim(), a.getAttribute('href')])"
        )
        assert nav, f"{role} has no links in the header at {width}px"
        for name, path in [*nav, *pages]:
            response = page.goto(f"{base}{path}")
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                problems.append(f"{name} ({path}) at {width}px answered {status}")
                continue
            problems += check_page(page, name, width)
        context.close()
    assert not problems, f"{role}: {len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_phone_menu_stays_open_and_the_person_can_log_out(
    live_server: Any, browser: Browser
) -> None:
    user, _ = build_world()["verifier"]
    base = live_server.url
    context = open_context(browser, PHONE, java_script_enabled=False)
    page = context.new_page()
    log_in(page, base, user.get_username())
    expect(page.locator("button.menu-toggle")).to_be_hidden()
    links = page.locator(".mainnav a")
    assert links.count() >= 3
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
    links.nth(1).click()
    expect(page).to_have_url(f"{base}{reverse('submission-list')}")
    page.locator("details.person-menu > summary").click()
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(f"{base}/masuk/")
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_person_logs_out_through_the_menu(
    live_server: Any, browser: Browser
) -> None:
    user, _ = build_world()["operator"]
    base = live_server.url
    context = open_context(browser, PHONE)
    page = context.new_page()
    log_in(page, base, user.get_username())
    keluar = page.get_by_role("button", name="Keluar")
    expect(keluar).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("button.menu-toggle")).to_have_attribute("aria-expanded", "true")
    page.locator("details.person-menu > summary").click()
    keluar.click()
    expect(page).to_have_url(f"{base}/masuk/")
    page.goto(f"{base}/tugas/")
    expect(page).to_have_url(f"{base}/masuk/?next=/tugas/")
    context.close()
