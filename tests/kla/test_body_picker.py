"""The body picker (issue 16): no page lists every body. A body filter or field takes codes,
looks up only the codes given and names them beside the field; ``/perangkat/cari/`` finds
codes (htmx fills the picker's ``<datalist>``, or a plain page without JavaScript), and
``/api/v1/bodies/`` does the same for programs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kla.listing import BODY_SEARCH_LIMIT, body_search
from kla.models import Body, BodyKind, Submission
from tests import factories as f
from workflows.supervision.findings import finding_create

from .pages_support import as_

pytestmark = pytest.mark.django_db

SEARCH = "/perangkat/cari/"
HTMX = {"HX-Request": "true"}


def text(response: Any) -> str:
    return str(response.content.decode())


def many_bodies(count: int, *, prefix: str = "kec", active: bool = True) -> None:
    Body.objects.bulk_create(
        Body(
            code=f"{prefix}-{n:05d}",
            name=f"Kecamatan Contoh {prefix} {n:05d}",
            kind=BodyKind.KECAMATAN,
            active=active,
        )
        for n in range(count)
    )


@pytest.fixture
def rows(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Submission]:
    """A submitted submission of each of two bodies (dinkes and dinsos)."""
    theirs = {**people, "operator": other_operator}
    return {
        "dinkes": f.advance(f.make_draft(operator, title="Perwali Zeta"), "submitted", **people),
        "dinsos": f.advance(
            f.make_draft(other_operator, "program", title="Forum Omega"), "submitted", **theirs
        ),
    }


# --- the search ------------------------------------------------------------------------------


def test_the_search_finds_active_bodies_by_name_or_code_any_case(
    client: Client, operator: Any, other_body: Any
) -> None:
    Body.objects.create(code="disdik", name="Dinas Pendidikan", kind=BodyKind.PERANGKAT_DAERAH)
    Body.objects.create(
        code="dislama", name="Dinas Lama", kind=BodyKind.PERANGKAT_DAERAH, active=False
    )
    as_(client, operator)
    by_name = text(client.get(SEARCH, {"q": "PENDIDIKAN"}, headers=HTMX))
    assert '<option value="disdik">Dinas Pendidikan (disdik)</option>' in by_name
    assert "dinsos" not in by_name
    by_code = text(client.get(SEARCH, {"q": "DINSOS"}, headers=HTMX))
    assert '<option value="dinsos">Dinas Sosial (dinsos)</option>' in by_code
    # A body no longer taking part is not offered.
    assert "dislama" not in text(client.get(SEARCH, {"q": "lama"}, headers=HTMX))
    # The exact code comes first, then what begins with the text.
    assert body_search("dinkes")[0][0] == "dinkes"


def test_the_search_answers_at_most_twenty(client: Client, operator: Any) -> None:
    many_bodies(30)
    as_(client, operator)
    fragment = text(client.get(SEARCH, {"q": "contoh"}, headers=HTMX))
    assert fragment.count("<option") == BODY_SEARCH_LIMIT == 20
    page = text(client.get(SEARCH, {"q": "contoh"}))
    assert page.count("<code>kec-") == 20
    assert "Hanya 20 yang pertama ditampilkan" in page


def test_htmx_gets_the_options_and_a_plain_request_the_page(client: Client, operator: Any) -> None:
    as_(client, operator)
    fragment = client.get(SEARCH, {"agency": "kesehatan"}, headers=HTMX)  # the picker's own name
    assert fragment.status_code == 200
    assert "HX-Request" in fragment["Vary"]
    assert text(fragment).strip() == '<option value="dinkes">Dinas Kesehatan (dinkes)</option>'
    page = client.get(SEARCH, {"q": "kesehatan"})
    assert page.status_code == 200 and "HX-Request" in page["Vary"]
    html = text(page)
    assert "<html" in html and 'name="q" value="kesehatan"' in html
    assert "<code>dinkes</code>" in html and "Dinas Kesehatan" in html
    # Nothing asked, nothing listed: the page is the form alone.
    assert "<table" not in text(client.get(SEARCH))
    assert client.get(SEARCH, {"q": "kese\x00"}).status_code == 200
    assert text(client.get(SEARCH, headers=HTMX)).strip() == ""


def test_a_field_of_several_codes_keeps_those_before_the_one_typed(
    client: Client, operator: Any, other_body: Any
) -> None:
    as_(client, operator)
    fragment = text(client.get(SEARCH, {"agency": "dinsos, kese", "banyak": "1"}, headers=HTMX))
    assert '<option value="dinsos,dinkes">Dinas Kesehatan (dinkes)</option>' in fragment
    # A field of one body searches the whole text.
    assert "<option" not in text(client.get(SEARCH, {"agency": "dinsos,kese"}, headers=HTMX))


def test_the_anonymous_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(SEARCH, {"q": "dinas"})
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "who"),
    [("submission-list", "verifier"), ("tasks", "verifier"), ("trail-list", "auditor")],
)
def test_a_list_filters_by_codes_and_refuses_an_unknown_one_beside_the_field(
    client: Client, people: dict[str, Any], rows: dict[str, Submission], name: str, who: str
) -> None:
    as_(client, people[who])
    one = text(client.get(reverse(name), {"agency": "dinsos"}))
    assert rows["dinsos"].title in one and rows["dinkes"].title not in one
    assert 'type="search" name="agency" value="dinsos"' in one
    assert f'hx-get="{SEARCH}"' in one and 'list="id_agency-options"' in one
    assert '<small class="body-picked">Dinas Sosial</small>' in one
    both = text(client.get(reverse(name), {"agency": "dinsos,dinkes"}))
    assert rows["dinsos"].title in both and rows["dinkes"].title in both
    assert "Dinas Sosial, Dinas Kesehatan" in both
    refused = client.get(reverse(name), {"agency": "dinsos,nope"})
    assert refused.status_code == 400
    page = text(refused)
    assert (
        '<span class="error-text" id="filter-error-agency">'
        "Kode perangkat tidak dikenal: nope.</span>" in page
    )
    assert 'aria-invalid="true"' in page
    assert rows["dinsos"].title not in page and rows["dinkes"].title not in page


def test_the_findings_list_filters_by_code(
    client: Client, auditor: Any, rows: dict[str, Submission]
) -> None:
    for s in rows.values():
        finding_create(
            user=auditor,
            submission=s.pk,
            title=f"Temuan {s.title}",
            condition="K",
            criteria="R",
            recommendations=["Perbaiki"],
        )
    as_(client, auditor)
    page = text(client.get(reverse("finding-list"), {"agency": "dinkes"}))
    assert "Temuan Perwali Zeta" in page and "Temuan Forum Omega" not in page
    refused = client.get(reverse("finding-list"), {"agency": "bukan-kode"})
    assert refused.status_code == 400
    assert "Kode perangkat tidak dikenal: bukan-kode." in text(refused)
    assert "Temuan Perwali Zeta" not in text(refused)


def test_the_api_takes_codes_and_refuses_an_unknown_one(
    client_of: Any, verifier: Any, rows: dict[str, Submission]
) -> None:
    api = client_of(verifier)
    listed = api.get("/api/v1/submissions/?agency=dinsos,dinkes").json()["results"]
    assert {r["id"] for r in listed} == {s.pk for s in rows.values()}
    refused = api.get("/api/v1/submissions/?agency=dinkes,x%00y")
    assert refused.status_code == 400
    assert refused.json()["agency"] == ["Kode perangkat tidak dikenal: x\x00y."]
    too_many = ",".join(f"k{n}" for n in range(51))
    assert api.get(f"/api/v1/submissions/?agency={too_many}").status_code == 400


def test_the_schema_says_agency_takes_codes_without_enumerating_bodies(
    client_of: Any, verifier: Any, body: Any, other_body: Any
) -> None:
    schema = client_of(verifier).get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/submissions/", "/api/v1/tasks/", "/api/v1/findings/"):
        (agency,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "agency"]
        assert "Body codes" in agency["description"]
        assert "dinkes" not in agency["description"] and "enum" not in agency["schema"]
    names = [p["name"] for p in schema["paths"]["/api/v1/bodies/"]["get"]["parameters"]]
    assert {"search", "page"} <= set(names)


# --- bounded pages -------------------------------------------------------------------------


PAGES = [
    ("submission-list", "verifier"),
    ("tasks", "verifier"),
    ("trail-list", "auditor"),
    ("finding-list", "auditor"),
    ("finding-new", "auditor"),
    ("monitoring", "verifier"),
    ("consolidation", "consolidator"),
]


@pytest.mark.parametrize(("name", "who"), PAGES)
def test_a_page_does_not_grow_with_the_number_of_bodies(
    client: Client, people: dict[str, Any], rows: dict[str, Submission], name: str, who: str
) -> None:
    as_(client, people[who])
    many_bodies(3, prefix="few")  # five bodies in all, with dinkes and dinsos

    def asked() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name), {"agency": "dinkes"})
        assert response.status_code == 200, text(response)
        return len(queries), text(response)

    few, _page = asked()
    many_bodies(295, prefix="many")
    assert Body.objects.count() == 300
    count, page = asked()
    assert count == few
    assert "Kecamatan Contoh" not in page  # no body is listed that nobody asked for


# --- the forms -------------------------------------------------------------------------------


FINDING = {"title": "Tidak melapor", "condition": "K", "criteria": "R", "recommendations": ["A"]}


def test_the_finding_form_takes_a_code_and_refuses_an_unknown_or_retired_one(
    client: Client, auditor: Any, body: Any, instruction: Any
) -> None:
    Body.objects.create(code="lama", name="Lama", kind=BodyKind.KECAMATAN, active=False)
    as_(client, auditor)
    form = text(client.get(reverse("finding-new")))
    assert 'type="search" name="agency"' in form and '<select name="agency"' not in form
    assert "hx-vals" not in form  # one body: the search is of the whole text
    for code in ("nope", "lama"):
        refused = client.post(reverse("finding-new"), {**FINDING, "agency": code})
        assert refused.status_code == 400
        assert f"Kode perangkat tidak dikenal: {code}." in text(refused)
    two = client.post(reverse("finding-new"), {**FINDING, "agency": "dinkes,lama"})
    assert two.status_code == 400 and "Pilih satu perangkat/lembaga saja." in text(two)
    done = client.post(reverse("finding-new"), {**FINDING, "agency": "dinkes"})
    assert done.status_code == 302


def test_the_monitoring_form_takes_a_code_within_the_verifiers_scope(
    client: Client, verifier: Any, body: Any, other_body: Any, instruction: Any
) -> None:
    as_(client, verifier)
    refused = client.post(reverse("monitoring"), {"agency": "nope", "note": "x"})
    assert refused.status_code == 400
    assert "Kode perangkat tidak dikenal: nope." in text(refused)
    assert client.post(reverse("monitoring"), {"agency": "dinkes", "note": "x"}).status_code == 302
    # A verifier of dinkes alone is told beside the field, not refused the page.
    as_(client, f.make_scoped_verifier([body], "verif-dinkes"))
    outside = client.post(reverse("monitoring"), {"agency": "dinsos", "note": "x"})
    assert outside.status_code == 400
    assert "di luar lingkup verifikasi Anda" in text(outside)
    assert client.post(reverse("monitoring"), {"agency": "dinkes", "note": "y"}).status_code == 302


def test_consolidation_shows_an_unknown_code_beside_the_field(
    client: Client, consolidator: Any, rows: dict[str, Submission]
) -> None:
    as_(client, consolidator)
    page = text(client.get(reverse("consolidation"), {"agency": "nope"}))
    assert '<span class="error-text">Kode perangkat tidak dikenal: nope.</span>' in page
    assert 'type="search" name="agency" value="nope"' in page


# --- the API -------------------------------------------------------------------------------


def test_the_api_lists_active_bodies_fifty_a_page_and_searches(
    client_of: Any, operator: Any, other_body: Any
) -> None:
    many_bodies(60)
    many_bodies(2, prefix="old", active=False)
    api = client_of(operator)
    first = api.get("/api/v1/bodies/").json()
    assert first["count"] == 62 and len(first["results"]) == 50 and first["next"]
    assert set(first["results"][0]) == {"code", "name", "kind"}
    found = api.get("/api/v1/bodies/?search=SOSIAL").json()["results"]
    assert found == [{"code": "dinsos", "name": "Dinas Sosial", "kind": "perangkat_daerah"}]
    assert api.get("/api/v1/bodies/?search=old-").json()["count"] == 0
    assert api.get("/api/v1/bodies/?search=" + "x" * 201).status_code == 400
    assert api.get("/api/v1/bodies/?search=a%00b").status_code == 400
