"""Indicator coverage: the counts by state, the bodies, the gaps, and who may see them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from kla.errors import Forbidden
from kla.models import Indicator, Requirement
from kla.reports.coverage import coverage_by_cluster, coverage_compute
from kla.web.views.coverage import heat_band
from roles.roles import roles_of
from tests import factories as f

from .world import logged_in, make, real_indicators, unique_pdf

pytestmark = pytest.mark.django_db
API = "/api/v1/coverage/"


@pytest.fixture
def world(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Any]:
    """Dinkes and Dinsos submissions in every state, for indicators 9, 13 and 17."""
    real_indicators()
    dinkes, dinsos = operator, other_operator
    return {
        "draft": make(dinkes, "draft", people, indicators=[17]),
        "submitted": make(
            dinkes,
            "submitted",
            people,
            indicators=[13, 17],
            files=[unique_pdf("b1"), unique_pdf("b2")],
            removed=1,
        ),
        "verified": make(dinsos, "verified", people, indicators=[9]),
        "consolidated": make(dinsos, "consolidated", people, indicators=[17]),
        "audited": make(dinkes, "audited", people, indicators=[13]),
        "returned": make(dinsos, "returned", people, indicators=[9]),
    }


def by_number(rows: list[Any]) -> dict[int, Any]:
    return {row.number: row for row in rows}


def test_counts_submissions_and_current_files_by_state_group(
    world: dict[str, Any], consolidator: Any
) -> None:
    rows = by_number(coverage_compute(user=consolidator))
    assert len(rows) == 24
    # The never-submitted draft is private to its body; the removed file never counts.
    assert rows[17].submissions == {
        "in_progress": 1,
        "verified": 0,
        "consolidated": 1,
        "audited": 0,
    }
    assert rows[17].evidence == {"in_progress": 2, "verified": 0, "consolidated": 1, "audited": 0}
    assert rows[13].submissions == {
        "in_progress": 1,
        "verified": 0,
        "consolidated": 0,
        "audited": 1,
    }
    assert rows[13].evidence == {"in_progress": 2, "verified": 0, "consolidated": 0, "audited": 1}
    assert rows[9].submissions == {"in_progress": 1, "verified": 1, "consolidated": 0, "audited": 0}
    assert rows[9].evidence["verified"] == 1


def test_names_the_contributing_bodies(world: dict[str, Any], consolidator: Any) -> None:
    rows = by_number(coverage_compute(user=consolidator))
    assert rows[17].bodies == ["dinkes", "dinsos"]
    assert rows[13].bodies == ["dinkes"]
    assert rows[9].bodies == ["dinsos"]
    assert rows[1].bodies == []


def test_flags_indicators_without_verified_evidence(
    world: dict[str, Any], consolidator: Any
) -> None:
    rows = by_number(coverage_compute(user=consolidator))
    assert not rows[17].no_verified_evidence
    assert not rows[13].no_verified_evidence
    assert not rows[9].no_verified_evidence
    assert all(rows[n].no_verified_evidence for n in range(1, 25) if n not in (9, 13, 17))


def test_only_what_the_caller_may_see_counts(
    world: dict[str, Any], other_body: Any, consolidator: Any
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verifikator-dinsos")
    rows = by_number(coverage_compute(user=scoped))
    assert rows[17].submissions["consolidated"] == 1
    assert rows[17].submissions["in_progress"] == 0
    assert rows[17].bodies == ["dinsos"]
    assert rows[13].submissions_total == 0
    assert rows[13].no_verified_evidence


def test_operators_and_people_without_a_role_may_not_see_coverage(
    world: dict[str, Any], operator: Any, outsider: Any
) -> None:
    for person in (operator, outsider):
        with pytest.raises(Forbidden):
            coverage_compute(user=person)


def test_query_count_does_not_grow_with_the_data(
    world: dict[str, Any],
    consolidator: Any,
    operator: Any,
    people: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    roles = roles_of(consolidator)
    instruction = f.InstructionFactory()
    # The indicators with their first bodies' codes, the counts and bodies per indicator, and
    # the checklist; SQLite, without arrays, ranks the codes apart.
    queries = 3 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(queries):
        coverage_compute(user=consolidator, roles=roles, instruction=instruction)
    for n in (1, 2, 3, 4, 5):
        make(operator, "verified", people, indicators=[n, n + 5])
    with django_assert_num_queries(queries):
        rows = by_number(coverage_compute(user=consolidator, roles=roles, instruction=instruction))
    assert rows[1].submissions["verified"] == 1


def test_groups_by_cluster_in_order(world: dict[str, Any], consolidator: Any) -> None:
    clusters = coverage_by_cluster(coverage_compute(user=consolidator))
    assert [c.code for c in clusters] == ["kelembagaan", "k1", "k2", "k3", "k4", "k5"]
    assert [len(c.indicators) for c in clusters] == [3, 3, 5, 6, 3, 4]
    k3 = clusters[3]
    assert k3.covered == 2  # 13 and 17


# --- the page ------------------------------------------------------------------------------


def test_coverage_page_shows_the_clusters_and_gaps(
    world: dict[str, Any], consolidator: Any
) -> None:
    response = logged_in(consolidator).get(reverse("coverage"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Klaster III: Kesehatan Dasar dan Kesejahteraan" in body
    assert "21 dari 24 indikator belum memiliki bukti dukung terverifikasi" in body
    assert reverse("coverage-indicator", args=[17]) in body
    assert ">Bobot</th>" not in body  # no weight entered, no invented score


def test_coverage_page_shows_a_weight_an_administrator_entered(
    world: dict[str, Any], consolidator: Any
) -> None:
    Indicator.objects.filter(number=4).update(weight=Decimal("42.50"))
    body = logged_in(consolidator).get(reverse("coverage")).content.decode()
    assert ">Bobot</th>" in body
    assert "42" in body


@pytest.mark.parametrize("who", ["verifier", "auditor"])
def test_verifiers_and_auditors_see_the_coverage_page(
    world: dict[str, Any], who: str, people: dict[str, Any]
) -> None:
    assert logged_in(people[who]).get(reverse("coverage")).status_code == 200


def test_the_coverage_page_is_404_to_operators_and_outsiders(
    world: dict[str, Any], operator: Any, outsider: Any
) -> None:
    for person in (operator, outsider):
        assert logged_in(person).get(reverse("coverage")).status_code == 404
        assert logged_in(person).get(reverse("coverage-indicator", args=[17])).status_code == 404


def test_anonymous_visitor_is_sent_to_login(world: dict[str, Any], client: Any) -> None:
    response = client.get(reverse("coverage"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_drill_down_lists_the_visible_submissions_of_an_indicator(
    world: dict[str, Any], consolidator: Any
) -> None:
    body = logged_in(consolidator).get(reverse("coverage-indicator", args=[17])).content.decode()
    assert reverse("submission-detail", args=[world["submitted"].pk]) in body
    assert reverse("submission-detail", args=[world["consolidated"].pk]) in body
    assert reverse("submission-detail", args=[world["draft"].pk]) not in body
    assert reverse("submission-detail", args=[world["verified"].pk]) not in body


def test_drill_down_of_an_unknown_indicator_is_404(
    world: dict[str, Any], consolidator: Any
) -> None:
    assert logged_in(consolidator).get(reverse("coverage-indicator", args=[99])).status_code == 404


def test_nav_links_only_for_reviewers(
    world: dict[str, Any], consolidator: Any, operator: Any
) -> None:
    assert reverse("coverage") in logged_in(consolidator).get(reverse("tasks")).content.decode()
    assert reverse("coverage") not in logged_in(operator).get(reverse("tasks")).content.decode()


# --- the API -------------------------------------------------------------------------------


def test_api_returns_every_indicator_with_counts(
    world: dict[str, Any], consolidator: Any, api: Any
) -> None:
    response = api.as_(consolidator).get(API)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 24
    row = next(r for r in data["results"] if r["number"] == 17)
    assert row["cluster"] == "Klaster III: Kesehatan Dasar dan Kesejahteraan"
    assert row["name"] == "Kawasan tanpa rokok, larangan iklan/promosi/sponsor rokok"
    assert row["submissions"] == {
        "draft": 0,
        "submitted": 1,
        "returned": 0,
        "verified": 0,
        "consolidated": 1,
        "audited": 0,
        "in_progress": 1,
        "total": 2,
    }
    assert row["evidence"]["total"] == 3
    assert row["agencies"] == ["dinkes", "dinsos"]
    assert row["no_verified_evidence"] is False
    assert row["weight"] is None
    first = next(r for r in data["results"] if r["number"] == 1)
    assert first["no_verified_evidence"] is True


def test_api_is_404_to_operators_and_outsiders(
    world: dict[str, Any], operator: Any, outsider: Any, client_of: Any
) -> None:
    assert client_of(operator).get(API).status_code == 404
    assert client_of(outsider).get(API).status_code == 404


def test_api_without_credentials_is_401(anon: Any) -> None:
    assert anon.get(API).status_code == 401


# --- requirements met (the evidence checklist) -----------------------------------------------


@pytest.fixture
def checklist(
    world: dict[str, Any], other_operator: Any, people: dict[str, Any]
) -> dict[str, Requirement]:
    """9.1 met by Dinsos's verified file, 9.2 not; 13.1 tagged on a submitted file only;
    17.1 of 3 met by the consolidated one; 4.1 met alone. Files are tagged directly."""
    instruction = world["verified"].instruction

    def req(code: str, number: int) -> Requirement:
        return Requirement.objects.create(
            instruction=instruction,
            indicator=Indicator.objects.get(number=number),
            code=code,
            label=f"Kebutuhan {code}",
        )

    made = {c: req(c, int(c.split(".")[0])) for c in ("9.1", "9.2", "13.1", "17.1", "17.2", "17.3")}
    made["4.1"] = req("4.1", 4)
    files = {k: f.first(world[k].evidence.filter(removed_at__isnull=True)) for k in world}
    files["verified"].requirements.add(made["9.1"])
    files["submitted"].requirements.add(made["13.1"])
    files["consolidated"].requirements.add(made["17.1"])
    four = make(other_operator, "audited", people, indicators=[4])
    f.first(four.evidence.all()).requirements.add(made["4.1"])
    return made


def test_each_indicator_counts_its_requirements_met_and_names_the_missing(
    checklist: dict[str, Any], consolidator: Any
) -> None:
    rows = by_number(coverage_compute(user=consolidator))
    assert (rows[9].requirements_total, rows[9].requirements_met) == (2, 1)
    assert rows[9].requirements_missing == ["9.2"]
    assert (rows[13].requirements_total, rows[13].requirements_met) == (1, 0)
    assert (rows[17].requirements_total, rows[17].requirements_met) == (3, 1)
    assert rows[17].requirements_missing == ["17.2", "17.3"]
    assert (rows[4].requirements_total, rows[4].requirements_met) == (1, 1)
    assert (rows[1].requirements_total, rows[1].requirements_missing) == (0, [])
    clusters = {c.code: c for c in coverage_by_cluster(list(rows.values()))}
    assert (clusters["k2"].requirements_total, clusters["k2"].requirements_met) == (2, 1)
    assert (clusters["k3"].requirements_total, clusters["k3"].requirements_met) == (4, 1)
    assert (
        clusters["kelembagaan"].requirements_total,
        clusters["kelembagaan"].requirements_met,
    ) == (0, 0)


def test_requirements_met_are_the_whole_instructions_whoever_asks(
    checklist: dict[str, Any], body: Any
) -> None:
    # A verifier of Dinkes alone does not see Dinsos's verified file, yet 9.1 is met.
    scoped = f.make_scoped_verifier([body], "verifikator-dinkes")
    rows = by_number(coverage_compute(user=scoped))
    assert rows[9].submissions_total == 0
    assert rows[9].requirements_met == 1


def test_api_rows_carry_the_requirements(
    checklist: dict[str, Any], consolidator: Any, api: Any
) -> None:
    data = api.as_(consolidator).get(API).json()
    row = next(r for r in data["results"] if r["number"] == 17)
    assert row["requirements_total"] == 3
    assert row["requirements_met"] == 1
    assert row["requirements_missing"] == ["17.2", "17.3"]
    first = next(r for r in data["results"] if r["number"] == 1)
    assert (first["requirements_total"], first["requirements_met"]) == (0, 0)


def test_the_heat_map_colours_each_indicator_by_the_share_met(
    checklist: dict[str, Any], consolidator: Any
) -> None:
    html = logged_in(consolidator).get(reverse("coverage")).content.decode()
    cells = re.findall(r'<a class="heat-cell (heat-[a-z0-9]+)" href="/cakupan/(\d+)/"', html)
    bands = {int(n): band for band, n in cells}
    assert len(cells) == len(bands) == 24  # each cell links to its drill-down
    assert bands[4] == "heat-full"
    assert bands[9] == "heat-mid"  # 1 of 2
    assert bands[17] == "heat-low"  # 1 of 3
    assert bands[13] == "heat-0"
    assert bands[1] == "heat-none"
    for band in ("heat-none", "heat-0", "heat-low", "heat-mid", "heat-full"):
        assert f'<span class="heat-swatch {band}">' in html  # the legend
    assert "3 dari 7 kebutuhan data dukung terpenuhi" in html


def test_heat_bands_by_share() -> None:
    assert [heat_band(m, t) for m, t in [(0, 0), (0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]] == [
        "heat-none",
        "heat-0",
        "heat-low",
        "heat-mid",
        "heat-mid",
        "heat-full",
    ]


def test_drill_down_lists_the_indicators_requirements_met_or_missing(
    checklist: dict[str, Any], consolidator: Any
) -> None:
    html = logged_in(consolidator).get(reverse("coverage-indicator", args=[9])).content.decode()
    section = html.split("Kebutuhan data dukung", 1)[1]
    row_1 = section[section.index(">9.1<") :].split("</tr>", 1)[0]
    row_2 = section[section.index(">9.2<") :].split("</tr>", 1)[0]
    assert "Terpenuhi" in row_1 and "Dinas Sosial" in row_1
    assert "Belum terpenuhi" in row_2
    assert "1 dari 2 terpenuhi" in section


def test_the_cluster_chart_draws_each_clusters_requirements_met_of_its_total(
    checklist: dict[str, Any], consolidator: Any
) -> None:
    import xml.etree.ElementTree as ET

    from kla.web.charts import WIDTH

    svg_ns = "{http://www.w3.org/2000/svg}"
    html = logged_in(consolidator).get(reverse("coverage")).content.decode()
    found = re.search(r'<svg [^>]*class="chart chart-bars".*?</svg>', html, re.S)
    assert found is not None
    svg = ET.fromstring(found.group(0))  # well-formed XML
    assert (svg.get("role"), svg.get("width")) == ("img", "100%")
    assert svg.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    assert "3 dari 7" in (svg.get("aria-label") or "")
    assert svg.find(f"{svg_ns}title") is not None
    assert all(el.get("style") is None for el in svg.iter())
    values = [t.text for t in svg.iter(f"{svg_ns}text") if "chart-value" in (t.get("class") or "")]
    # Kelembagaan, I (4.1 met), II (9.1 of 9.1-9.2), III (17.1 of 13.1 and 17.1-17.3), IV, V.
    assert values == ["—", "1/1", "1/2", "1/4", "—", "—"]
    rects = list(svg.iter(f"{svg_ns}rect"))
    track = float(next(r for r in rects if r.get("class") == "chart-track").get("width", 0))
    bars = [r for r in rects if "chart-bar" in (r.get("class") or "").split()]
    widths = [round(float(r.get("width", 0)) / track, 2) for r in bars]
    assert widths == [1.0, 0.5, 0.25]
    assert [("chart-bar-full" in (r.get("class") or "")) for r in bars] == [True, False, False]
    # The same numbers for screen readers.
    table = re.search(
        r'<section class="card cov-chart".*?<table class="visually-hidden">(.*?)</table>',
        html,
        re.S,
    )
    assert table is not None
    assert "<td>1 / 2 (50%)</td>" in table.group(1)
    assert " style=" not in html
