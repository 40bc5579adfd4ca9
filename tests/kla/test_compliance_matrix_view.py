"""The compliance matrix page's filters, order, overdue marks, legend and chart, and the API
agreeing with it after the deadline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from kla.models import Category
from tests import factories as f
from tests.workflows.sla_support import clock_fixture  # noqa: F401 -- the fixture
from workflows.sla.compliance import compliance_compute, obligations_of
from workflows.sla.nihil import nihil_declare

from .world import logged_in

pytestmark = pytest.mark.django_db

PAGE = "/kepatuhan/"
API = "/api/v1/compliance/"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(clock: Any, people: dict[str, Any], other_operator: User) -> dict[str, Any]:
    """On 17 March: dinkes returned a regulation, keeps a program draft, nihil innovation
    (2 of 4 answered); dinsos answered all four (two audited, two nihil); disdik nothing."""
    operator = people["operator"]
    f.advance(f.make_draft(operator, title="Perwali KTR"), "returned", **people)
    f.make_draft(operator, "program", title="Draf rahasia")
    nihil_declare(user=operator, category="innovation", reason="Belum ada")
    dinsos = {**people, "operator": other_operator}
    for category in ("regulation", "program"):
        f.advance(f.make_draft(other_operator, category), "audited", **dinsos)
    for category in ("partnership", "innovation"):
        nihil_declare(user=other_operator, category=category, reason="Tidak ada")
    f.BodyFactory(code="disdik", name="Dinas Pendidikan")
    return {**people, "other_operator": other_operator}


def page_of(user: User, query: str = "") -> str:
    response = logged_in(user).get(PAGE + query)
    assert response.status_code == 200
    return response.content.decode()


def order(page: str) -> list[str]:
    return re.findall(r'<tr data-agency="([^"]+)">', page)


def api_rows(user: User) -> list[dict[str, Any]]:

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(user)}")
    return list(client.get(API, {"page_size": 500}).json()["results"])


class Cells(HTMLParser):
    """The classes of each matrix cell by (agency, category), and the tags inside cells."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], set[str]] = {}
        self.tags: set[str] = set()
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        classes = set((named.get("class") or "").split())
        if tag == "td" and "cell" in classes:
            self.cells[(named["data-agency"] or "", named["data-category"] or "")] = classes
            self._in_cell = True
        elif tag == "td":
            self._in_cell = False
        elif tag == "span" and self._in_cell and "tag" in classes:
            self.tags |= classes - {"tag"}


def cells_of(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    return parser


def svg_of(page: str, kind: str) -> ET.Element:
    """The chart's SVG, parsed as XML (it must be well-formed)."""
    found = re.search(rf'<svg [^>]*class="chart {kind}".*?</svg>', page, re.S)
    assert found, f"no {kind} chart"
    return ET.fromstring(found.group(0))


class TestOrdering:
    def test_by_default_the_most_overdue_first_then_by_name(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        # Before the deadline nothing is overdue: by name.
        assert order(page_of(world["verifier"])) == ["dinkes", "disdik", "dinsos"]
        clock.set(2026, 4, 2, 9)
        # disdik: four unanswered cells; dinkes: two unanswered and a returned one past due.
        assert order(page_of(world["verifier"])) == ["disdik", "dinkes", "dinsos"]

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("name", ["dinkes", "disdik", "dinsos"]),
            ("-name", ["dinsos", "disdik", "dinkes"]),
            ("-answered", ["dinsos", "dinkes", "disdik"]),
            ("answered", ["disdik", "dinkes", "dinsos"]),
            ("overdue", ["dinsos", "dinkes", "disdik"]),
        ],
    )
    def test_ordering_through_the_url(
        self, world: dict[str, Any], clock: Any, ordering: str, expected: list[str]
    ) -> None:
        clock.set(2026, 4, 2, 9)
        assert order(page_of(world["consolidator"], f"?ordering={ordering}")) == expected

    def test_column_headers_are_sort_links_that_keep_the_filters(
        self, world: dict[str, Any]
    ) -> None:
        page = page_of(world["verifier"], "?ordering=name&category=program")
        assert 'aria-sort="ascending"' in page
        assert 'href="?ordering=-name&amp;category=program"' in page  # the other way round
        assert 'href="?ordering=-answered&amp;category=program"' in page
        assert 'href="?ordering=-overdue&amp;category=program"' in page

    def test_sort_links_leave_out_the_values_that_were_refused(self, world: dict[str, Any]) -> None:
        page = page_of(world["verifier"], "?category=pajak&search=sosial")
        links = re.findall(r'<a class="cmp-sort" href="([^"]+)"', page)
        assert links == [
            "?search=sosial&amp;ordering=name",
            "?search=sosial&amp;ordering=-answered",
            "?search=sosial&amp;ordering=overdue",  # the default order, the other way round
        ]

    def test_a_bookmarked_order_holds_for_a_scoped_verifier(self, world: dict[str, Any]) -> None:
        from kla.models import Body

        scoped = f.make_scoped_verifier(
            list(Body.objects.filter(code__in=["dinkes", "dinsos"])), "verif-dua"
        )
        assert order(page_of(scoped, "?ordering=-answered")) == ["dinsos", "dinkes"]


class TestFilters:
    def test_search_in_the_body_name_and_code(self, world: dict[str, Any]) -> None:
        assert order(page_of(world["verifier"], "?search=sosial")) == ["dinsos"]
        assert order(page_of(world["verifier"], "?search=DINKES")) == ["dinkes"]
        page = page_of(world["verifier"], "?search=tidak-ada")
        assert order(page) == []
        assert "Tidak ada perangkat/lembaga yang cocok dengan saringan." in page
        assert "Menampilkan 0 dari 3 perangkat/lembaga." in page

    def test_a_category_shows_only_its_column(self, world: dict[str, Any]) -> None:
        cells = cells_of(page_of(world["verifier"], "?category=program")).cells
        assert {category for _agency, category in cells} == {"program"}
        assert {agency for agency, _category in cells} == {"dinkes", "disdik", "dinsos"}

    def test_only_rows_with_an_unanswered_or_overdue_cell(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        viewer = world["auditor"]
        assert order(page_of(viewer, "?only=unanswered&ordering=name")) == ["dinkes", "disdik"]
        # Within one category: dinkes answered innovation with nihil.
        assert order(page_of(viewer, "?only=unanswered&category=innovation")) == ["disdik"]
        assert order(page_of(viewer, "?only=overdue")) == []
        clock.set(2026, 4, 2, 9)
        assert order(page_of(viewer, "?only=overdue")) == ["disdik", "dinkes"]

    def test_the_form_is_a_plain_get_form_keeping_the_values(self, world: dict[str, Any]) -> None:
        page = page_of(world["verifier"], "?search=dinas&only=unanswered")
        form = re.search(r'<form method="get"[^>]*id="compliance-filters".*?</form>', page, re.S)
        assert form is not None
        assert 'type="submit"' in form.group(0)
        assert 'name="search" value="dinas"' in form.group(0)
        assert '<option value="unanswered" selected>' in form.group(0)

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("?ordering=bogus", "ordering"),
            ("?category=pajak", "category"),
            ("?only=semua", "only"),
            ("?search=" + "x" * 101, "search"),
            ("?search=%00", "search"),
        ],
    )
    def test_a_bad_value_is_ignored_with_its_error_beside_the_field(
        self, world: dict[str, Any], query: str, field: str
    ) -> None:
        page = page_of(world["verifier"], query)
        assert f'id="{field}-error"' in page
        assert f'aria-describedby="{field}-error"' in page
        # Ignored: the default view, every body and column.
        assert order(page) == ["dinkes", "disdik", "dinsos"]
        assert len(cells_of(page).cells) == 12

    def test_several_bad_values_and_a_good_one(self, world: dict[str, Any]) -> None:
        page = page_of(world["verifier"], "?ordering=x&category=y&search=sosial")
        assert 'id="ordering-error"' in page and 'id="category-error"' in page
        assert 'id="search-error"' not in page
        assert order(page) == ["dinsos"]

    def test_no_error_without_a_bad_value(self, world: dict[str, Any]) -> None:
        page = page_of(world["verifier"], "?ordering=&category=&search=")
        assert "-error" not in re.sub(r'id="remind-error"', "", page)


class TestOverdue:
    def test_unanswered_cells_turn_overdue_once_the_deadline_has_ended(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        clock.set(2026, 4, 1, 23, 59)
        cells = cells_of(page_of(world["verifier"])).cells
        assert "is-overdue" not in cells[("disdik", "regulation")]
        assert "unanswered" in cells[("disdik", "regulation")]
        clock.set(2026, 4, 2, 0, 0)
        cells = cells_of(page_of(world["verifier"])).cells
        for category in Category.values:
            assert {"is-overdue", "unanswered"} <= cells[("disdik", category)]
        assert {"is-overdue", "unanswered"} <= cells[("dinkes", "program")]  # a private draft
        assert "is-overdue" not in cells[("dinkes", "innovation")]  # nihil answers
        assert "is-overdue" not in cells[("dinsos", "regulation")]  # audited: nothing due

    def test_an_overdue_cell_says_so_in_words(self, world: dict[str, Any], clock: Any) -> None:
        clock.set(2026, 4, 2, 9)
        page = page_of(world["verifier"])
        cell = re.search(
            r'<td class="[^"]*" data-agency="disdik" data-category="program">(.*?)</td>', page, re.S
        )
        assert cell is not None
        assert "lewat tenggat" in cell.group(1) and "belum dijawab" in cell.group(1)
        assert "7 sel lewat tenggat" in page  # disdik 4, dinkes 3 (two unanswered + returned)

    def test_every_mark_in_a_cell_is_explained_in_the_legend(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        clock.set(2026, 4, 2, 9)
        page = page_of(world["verifier"])
        legend = re.search(
            r'<div class="cmp-legend" id="compliance-legend">(.*?)</div>', page, re.S
        )
        assert legend is not None
        used = cells_of(page).tags
        assert {"nihil", "overdue", "unanswered"} <= used
        for mark in used:
            assert f'class="tag {mark}"' in legend.group(1)
        for label in (
            "Draf",
            "Dikembalikan untuk perbaikan",
            "Menunggu verifikasi",
            "Selesai diaudit",
        ):
            assert label in legend.group(1)
        assert "setelah batas waktu" in legend.group(1)

    def test_the_api_agrees_with_the_page(self, world: dict[str, Any], clock: Any) -> None:
        for moment in ((2026, 3, 17, 12), (2026, 3, 27, 9), (2026, 4, 2, 9)):
            clock.set(*moment)
            cells = cells_of(page_of(world["verifier"])).cells
            rows = api_rows(world["verifier"])
            assert len(rows) == len(cells) == 12
            for r in rows:
                assert r["overdue"] == ("is-overdue" in cells[(r["agency"], r["category"])])
                assert r["answered"] != ("unanswered" in cells[(r["agency"], r["category"])])
        overdue = {(r["agency"], r["category"]) for r in rows if r["overdue"]}
        assert ("disdik", "partnership") in overdue and ("dinkes", "program") in overdue
        assert not any(agency == "dinsos" for agency, _category in overdue)

    def test_the_operators_home_keeps_its_own_meaning(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        clock.set(2026, 4, 2, 9)
        (row,) = obligations_of(user=world["operator"]).rows
        cells = {c.category: c for c in row.cells}
        # Nothing at all in partnership: the home says "lewat" beside the deadline instead.
        assert not cells["partnership"].answered and not cells["partnership"].overdue
        # The draft's own step (its first submit) is past due there as on the matrix.
        assert cells["program"].overdue
        matrix_row = next(
            r for r in compliance_compute(user=world["verifier"]).rows if r.agency == "dinkes"
        )
        assert all(c.overdue for c in matrix_row.cells if not c.answered)


class TestChart:
    def test_the_chart_is_well_formed_svg_that_a_strict_csp_allows(
        self, world: dict[str, Any]
    ) -> None:
        page = page_of(world["verifier"])
        svg = svg_of(page, "chart-step")
        assert svg.tag == f"{SVG}svg"
        assert svg.get("role") == "img" and svg.get("width") == "100%"
        assert svg.get("viewBox", "").startswith("0 0 ")
        assert "1 dari 3" in (svg.get("aria-label") or "")
        assert svg.find(f"{SVG}title") is not None
        assert all(el.get("style") is None for el in svg.iter())
        assert " style=" not in page

    def test_it_steps_up_on_the_days_bodies_completed_with_the_deadline(
        self, world: dict[str, Any], clock: Any
    ) -> None:
        clock.set(2026, 3, 25, 10)
        operator = world["operator"]
        nihil_declare(user=operator, category="partnership", reason="Tidak ada")
        program = f.make_draft(operator, "program", title="Program kedua")
        f.advance(program, "submitted", **{**world, "operator": operator})
        clock.set(2026, 3, 27, 10)
        page = page_of(world["auditor"])
        svg = svg_of(page, "chart-step")
        assert "2 dari 3" in (svg.get("aria-label") or "")
        line = svg.find(f".//{SVG}path[@class='chart-line']")
        assert line is not None
        rises = re.findall(r"L([\d.]+) ([\d.]+)", line.get("d", ""))
        heights = sorted({float(y) for _x, y in rises}, reverse=True)
        assert len(heights) == 3  # 0, 1, then 2 bodies (y grows downwards)
        deadline = svg.find(f".//{SVG}line[@class='chart-deadline']")
        assert deadline is not None
        texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
        assert any(t.startswith("Batas waktu 1 Apr") for t in texts)
        # The same numbers for screen readers, dates in words.
        table = re.search(r'<table class="visually-hidden">(.*?)</table>', page, re.S)
        assert table is not None
        rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table.group(1))
        assert rows == [("17 Maret 2026", "1"), ("25 Maret 2026", "2")]

    def test_a_withdrawn_or_private_draft_does_not_complete_a_body(
        self, world: dict[str, Any]
    ) -> None:
        operator = world["operator"]
        nihil_declare(user=operator, category="partnership", reason="Tidak ada")
        # dinkes' program is still a never-submitted draft: dinsos alone has answered all.
        svg = svg_of(page_of(world["verifier"]), "chart-step")
        assert "1 dari 3" in (svg.get("aria-label") or "")
