"""The lists' search, filters and sorting (DESIGN, "Lists"): the same names in the API and in
the pages' URLs, several values comma-separated, sorting on indexed keys only, overdue first
by default, bad values refused beside their field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kla.listing import FindingFilter, ListFilter, SubmissionFilter, TrailFilter
from kla.models import Submission
from tests import factories as f
from workflows.models import Finding
from workflows.supervision.findings import finding_create

from .pages_support import as_

pytestmark = pytest.mark.django_db


def body_of(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def rows(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Submission]:
    """Four submissions of two bodies, differing in every filtered field."""
    perwali = f.make_draft(operator, title="Perwali Kawasan Tanpa Rokok", indicators=[17])
    forum = f.make_draft(
        operator, "program", title="Forum Anak Kelurahan", indicators=[2, 3], years=[2024, 2025]
    )
    forum = f.advance(forum, "submitted", **people)
    puskesmas = f.make_draft(
        other_operator, "partnership", title="Puskesmas ramah anak", indicators=[17], years=[2026]
    )
    theirs = {**people, "operator": other_operator}
    puskesmas = f.advance(puskesmas, "returned", **theirs)
    sekolah = f.make_draft(other_operator, "innovation", title="Sekolah ramah anak", indicators=[9])
    sekolah = f.advance(sekolah, "submitted", **theirs)
    return {"perwali": perwali, "forum": forum, "puskesmas": puskesmas, "sekolah": sekolah}


def listed(client: Any, query: str, path: str = "/api/v1/submissions/") -> list[int]:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_api_searches_and_filters_with_comma_separated_values(
    client_of: Any, verifier: Any, rows: dict[str, Submission]
) -> None:
    api = client_of(verifier)
    pk = {name: s.pk for name, s in rows.items()}
    # A verifier sees what was handed in, not the drafts.
    assert set(listed(api, "")) == {pk["forum"], pk["puskesmas"], pk["sekolah"]}
    assert set(listed(api, "search=RAMAH")) == {pk["puskesmas"], pk["sekolah"]}
    assert set(listed(api, "state=submitted")) == {pk["forum"], pk["sekolah"]}
    assert set(listed(api, "state=returned,submitted&agency=dinsos")) == {
        pk["puskesmas"],
        pk["sekolah"],
    }
    assert set(listed(api, "agency=dinkes,dinsos&category=program,innovation")) == {
        pk["forum"],
        pk["sekolah"],
    }
    assert set(listed(api, "indicator=17,3")) == {pk["forum"], pk["puskesmas"]}
    assert set(listed(api, "year=2024")) == {pk["forum"]}
    assert set(listed(api, "year=2026,2024")) == {pk["forum"], pk["puskesmas"]}
    assert listed(api, "search=tidak-ada") == []


def test_the_api_sorts_on_indexed_keys_and_puts_overdue_first_by_default(
    client_of: Any, verifier: Any, rows: dict[str, Submission]
) -> None:
    api = client_of(verifier)
    now = timezone.now()
    Submission.objects.filter(pk=rows["sekolah"].pk).update(due_at=now - dt.timedelta(days=2))
    Submission.objects.filter(pk=rows["forum"].pk).update(due_at=now + dt.timedelta(days=3))
    Submission.objects.filter(pk=rows["puskesmas"].pk).update(due_at=None)
    expected = [rows["sekolah"].pk, rows["forum"].pk, rows["puskesmas"].pk]
    assert listed(api, "") == expected  # overdue, then the nearest due time, then none
    assert listed(api, "ordering=due_at") == expected
    # Descending still leaves the rows without a due time last, on both databases.
    assert listed(api, "ordering=-due_at") == [rows["forum"].pk, rows["sekolah"].pk, expected[2]]
    by_title = listed(api, "ordering=title")
    assert by_title == [rows["forum"].pk, rows["puskesmas"].pk, rows["sekolah"].pk]
    assert listed(api, "ordering=-title") == by_title[::-1]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("state=submitted,bogus", "state", "“bogus” tidak dikenal"),
        ("category=regulasi", "category", "regulation"),
        ("agency=nope", "agency", "Kode perangkat tidak dikenal: nope"),
        ("agency=dinkes,nope,ga%20ada", "agency", "tidak dikenal: nope, ga ada"),
        ("indicator=25", "indicator", "“25” tidak dikenal"),
        ("year=1999", "year", "2026"),
        ("ordering=body__name", "ordering", "due_at"),
        ("ordering=-state", "ordering", "“-state” tidak dikenal"),
        ("search=" + "x" * 201, "search", "200"),
    ],
)
def test_a_bad_value_is_400_naming_what_is_accepted(
    client_of: Any, verifier: Any, rows: dict[str, Submission], query: str, field: str, words: str
) -> None:
    response = client_of(verifier).get(f"/api/v1/submissions/?{query}")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


def test_the_task_list_takes_the_same_names(
    client_of: Any, verifier: Any, rows: dict[str, Submission]
) -> None:
    api = client_of(verifier)
    waiting = {rows["forum"].pk, rows["sekolah"].pk}
    assert set(listed(api, "", "/api/v1/tasks/")) == waiting
    assert listed(api, "agency=dinsos", "/api/v1/tasks/") == [rows["sekolah"].pk]
    assert listed(api, "search=forum&indicator=2", "/api/v1/tasks/") == [rows["forum"].pk]
    assert client_of(verifier).get("/api/v1/tasks/?state=nope").status_code == 400


def test_the_schema_names_every_list_parameter(client_of: Any, verifier: Any) -> None:
    schema = client_of(verifier).get("/api/v1/schema/?format=json").json()
    for path, names in {
        "/api/v1/submissions/": set(SubmissionFilter.base_filters) | {"instruction"},
        "/api/v1/tasks/": set(SubmissionFilter.base_filters) | {"instruction"},
        "/api/v1/findings/": set(FindingFilter.base_filters) | {"instruction"},
    }.items():
        given = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert names <= given, (path, names - given)
    state = next(
        p
        for p in schema["paths"]["/api/v1/submissions/"]["get"]["parameters"]
        if p["name"] == "state"
    )
    assert "`submitted`" in state["description"] and "comma-separated" in state["description"]


def _indexed(model: type[models.Model], field: str) -> bool:
    if getattr(model._meta.get_field(field), "db_index", False):
        return True
    return any(
        index.fields and index.fields[0].lstrip("-") == field for index in model._meta.indexes
    )


@pytest.mark.parametrize("filterset", [SubmissionFilter, FindingFilter, TrailFilter])
def test_every_sort_key_has_an_index(filterset: type[ListFilter]) -> None:
    ordering = filterset.base_filters["ordering"]
    model = filterset._meta.model
    keys = ordering.param_map.values()
    assert keys
    for key in keys:
        assert _indexed(model, key), f"{model.__name__}.{key} is sorted on without an index"


# --- the pages ---------------------------------------------------------------------------------


def test_the_submission_page_filters_from_a_bookmarkable_url(
    client: Client, verifier: Any, rows: dict[str, Submission]
) -> None:
    as_(client, verifier)
    response = client.get(reverse("submission-list"), {"search": "ramah", "agency": "dinsos"})
    assert response.status_code == 200
    page = body_of(response)
    assert rows["puskesmas"].title in page and rows["sekolah"].title in page
    assert rows["forum"].title not in page
    # The form shows what the URL asked for, so the view can be changed and bookmarked.
    assert 'name="search" value="ramah"' in page
    # The body is a search field holding the code, with the body's name beside it.
    assert 'type="search" name="agency" value="dinsos"' in page
    assert '<small class="body-picked">Dinas Sosial</small>' in page
    page = body_of(client.get(reverse("submission-list"), {"state": "returned,submitted"}))
    assert rows["forum"].title in page and rows["puskesmas"].title in page


def test_the_pager_keeps_the_filters(
    client: Client, verifier: Any, rows: dict[str, Submission], monkeypatch: Any
) -> None:
    monkeypatch.setattr("kla.web.views.submissions.PAGE_SIZE", 1)
    as_(client, verifier)
    page = body_of(client.get(reverse("submission-list"), {"search": "ramah", "ordering": "title"}))
    assert rows["puskesmas"].title in page and rows["sekolah"].title not in page
    assert "search=ramah&amp;ordering=title&amp;halaman=2" in page
    second = body_of(
        client.get(
            reverse("submission-list"), {"search": "ramah", "ordering": "title", "halaman": "2"}
        )
    )
    assert rows["sekolah"].title in second


def test_the_task_page_filters_and_refuses_a_bad_value(
    client: Client, verifier: Any, rows: dict[str, Submission]
) -> None:
    as_(client, verifier)
    page = body_of(client.get(reverse("tasks"), {"agency": "dinkes"}))
    assert rows["forum"].title in page and rows["sekolah"].title not in page
    response = client.get(reverse("tasks"), {"indicator": "99"})
    assert response.status_code == 400
    assert "“99” tidak dikenal" in body_of(response)


def test_an_operator_with_one_body_has_no_body_choice_but_a_bookmark_still_counts(
    client: Client, operator: Any, rows: dict[str, Submission]
) -> None:
    as_(client, operator)
    page = body_of(client.get(reverse("submission-list")))
    assert '<select name="agency"' not in page and 'type="search" name="agency"' not in page
    assert client.get(reverse("submission-list"), {"agency": "nope"}).status_code == 400


def _finding(auditor: Any, submission: Submission, title: str) -> Finding:
    return finding_create(
        user=auditor,
        submission=submission.pk,
        agency=None,
        instruction=None,
        title=title,
        condition="Kondisi",
        criteria="Kriteria",
        cause="",
        effect="",
        recommendations=["Perbaiki"],
    )


def test_findings_are_searched_filtered_and_overdue_first(
    client: Client,
    client_of: Any,
    auditor: Any,
    operator: Any,
    rows: dict[str, Submission],
) -> None:
    late = _finding(auditor, rows["forum"], "Anggaran forum tidak sesuai")
    fresh = _finding(auditor, rows["sekolah"], "Sekolah belum ber-SK")
    Finding.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    Finding.objects.filter(pk=fresh.pk).update(due_at=timezone.now() + dt.timedelta(days=30))
    api = client_of(auditor)
    assert listed(api, "", "/api/v1/findings/") == [late.pk, fresh.pk]
    assert listed(api, "ordering=-due_at", "/api/v1/findings/") == [fresh.pk, late.pk]
    assert listed(api, "search=SEKOLAH", "/api/v1/findings/") == [fresh.pk]
    assert listed(api, "agency=dinsos&category=innovation", "/api/v1/findings/") == [fresh.pk]
    assert listed(api, "indicator=2", "/api/v1/findings/") == [late.pk]
    assert listed(api, "status=closed", "/api/v1/findings/") == []
    assert api.get("/api/v1/findings/?ordering=condition").status_code == 400
    as_(client, auditor)
    page = body_of(client.get(reverse("finding-list"), {"search": "anggaran"}))
    assert late.title in page and fresh.title not in page
    assert "lewat batas" in page
    response = client.get(reverse("finding-list"), {"status": "bogus"})
    assert response.status_code == 400
    assert "“bogus” tidak dikenal" in body_of(response)
    # The operator of dinkes still sees only their own body's finding, whatever they ask.
    assert listed(client_of(operator), "agency=dinsos,dinkes", "/api/v1/findings/") == [late.pk]


def test_the_trail_page_searches_titles_and_takes_several_bodies_and_actions(
    client: Client, auditor: Any, rows: dict[str, Submission]
) -> None:
    as_(client, auditor)
    page = body_of(client.get(reverse("trail-list"), {"search": "forum", "action": "submit"}))
    assert f"/pengajuan/{rows['forum'].pk}/" in page
    assert f"/pengajuan/{rows['sekolah'].pk}/" not in page
    page = body_of(
        client.get(reverse("trail-list"), {"agency": "dinkes,dinsos", "action": "submit,return"})
    )
    assert f"/pengajuan/{rows['forum'].pk}/" in page
    assert f"/pengajuan/{rows['puskesmas'].pk}/" in page
    oldest = body_of(client.get(reverse("trail-list"), {"ordering": "at"}))
    newest = body_of(client.get(reverse("trail-list")))
    first_created = f"/pengajuan/{rows['forum'].pk}/"
    last_returned = f"/pengajuan/{rows['sekolah'].pk}/"
    assert oldest.index(first_created) < oldest.index(last_returned)
    assert newest.index(last_returned) < newest.index(first_created)
    assert client.get(reverse("trail-list"), {"ordering": "seq"}).status_code == 400


def test_column_headers_sort_and_keep_the_filters(
    client: Client, verifier: Any, rows: dict[str, Submission]
) -> None:
    as_(client, verifier)
    page = body_of(client.get(reverse("submission-list"), {"search": "ramah"}))
    assert 'href="?search=ramah&amp;ordering=title"' in page
    page = body_of(client.get(reverse("submission-list"), {"search": "ramah", "ordering": "title"}))
    assert 'aria-sort="ascending"' in page
    assert 'href="?search=ramah&amp;ordering=-title"' in page  # a second click reverses it
    assert page.index(rows["puskesmas"].title) < page.index(rows["sekolah"].title)


def test_the_filters_fold_behind_the_search_until_one_is_used(
    client: Client, verifier: Any, rows: dict[str, Submission]
) -> None:
    as_(client, verifier)
    plain = body_of(client.get(reverse("submission-list"), {"search": "ramah"}))
    assert '<details class="filters-more">' in plain
    used = body_of(client.get(reverse("submission-list"), {"category": "program"}))
    assert '<details class="filters-more" open>' in used
    refused = body_of(client.get(reverse("tasks"), {"ordering": "nope"}))
    assert '<details class="filters-more" open>' in refused


def test_each_task_section_is_a_page_at_a_time_and_keeps_returned_work_first(
    client: Client, operator: Any, people: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setattr("kla.web.views.tasks.PAGE_SIZE", 2)
    drafts = [f.make_draft(operator, title=f"Draf {i}") for i in range(3)]
    returned = f.advance(f.make_draft(operator, title="Perbaikan SK"), "returned", **people)
    client.force_login(operator)
    first = body_of(client.get(reverse("tasks")))
    # The returned one leads the first page, with its reason; two rows a page.
    assert first.index(returned.title) < min(
        first.index(d.title) for d in drafts if d.title in first
    )
    assert "Kurang" in first
    assert sum(d.title in first for d in drafts) == 1
    assert "halaman-operator=2" in first
    second = body_of(client.get(reverse("tasks"), {"halaman-operator": "2"}))
    assert returned.title not in second
    assert sum(d.title in second for d in drafts) == 2
    # The page's filters ride along with its page number.
    filtered = body_of(client.get(reverse("tasks"), {"search": "Draf"}))
    assert "search=Draf&amp;halaman-operator=2" in filtered
