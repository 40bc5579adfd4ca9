"""Duplicate evidence: the same file in another submission is flagged, as far as one may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kla.models import Submission
from kla.reports.duplicates import evidence_duplicates
from tests import factories as f

from .world import logged_in, make, real_indicators, unique_pdf

pytestmark = pytest.mark.django_db
SAME = unique_pdf("the-same-mou")


@pytest.fixture
def pair(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Submission]:
    """The same MoU handed in by Dinkes (regulation) and by Dinsos (partnership)."""
    real_indicators()
    return {
        "dinkes": make(operator, "submitted", people, files=[SAME, unique_pdf("own")]),
        "dinsos": make(other_operator, "submitted", people, category="partnership", files=[SAME]),
        "private": make(other_operator, "draft", people, files=[SAME]),
    }


def first_file(s: Submission) -> Any:
    return s.evidence.filter(removed_at__isnull=True).order_by("id").first()


def test_flags_the_same_file_in_another_body(pair: dict[str, Submission], verifier: Any) -> None:
    found = evidence_duplicates(user=verifier, evidence=pair["dinkes"].evidence.all())
    (dup,) = found[first_file(pair["dinkes"]).pk]
    assert (dup.submission_id, dup.agency, dup.category) == (
        pair["dinsos"].pk,
        "dinsos",
        "partnership",
    )
    assert len(found) == 1  # the file of its own is unique


def test_only_lists_duplicates_the_viewer_may_see(
    pair: dict[str, Submission], operator: Any, other_operator: Any
) -> None:
    # The Dinkes operator cannot see Dinsos' submissions: nothing is named.
    assert evidence_duplicates(user=operator, evidence=pair["dinkes"].evidence.all()) == {}
    # The Dinsos operator sees both of its own, including the never-submitted draft.
    found = evidence_duplicates(user=other_operator, evidence=pair["dinsos"].evidence.all())
    assert [d.submission_id for d in found[first_file(pair["dinsos"]).pk]] == [pair["private"].pk]


def test_submission_page_warns_next_to_the_file(
    pair: dict[str, Submission], verifier: Any, operator: Any
) -> None:
    url = reverse("submission-detail", args=[pair["dinkes"].pk])
    body = logged_in(verifier).get(url).content.decode()
    assert f"juga ada di pengajuan #{pair['dinsos'].pk} (Dinas Sosial)" in body
    assert f"#{pair['private'].pk}" not in body
    assert "juga ada di pengajuan" not in logged_in(operator).get(url).content.decode()


def test_api_lists_duplicates_per_file(
    pair: dict[str, Submission], consolidator: Any, operator: Any, api: Any
) -> None:
    data = api.as_(consolidator).get(f"/api/v1/submissions/{pair['dinkes'].pk}/").json()
    by_id = {e["id"]: e for e in data["evidence"]}
    dups = by_id[first_file(pair["dinkes"]).pk]["duplicates"]
    assert dups == [
        {
            "evidence": first_file(pair["dinsos"]).pk,
            "submission": pair["dinsos"].pk,
            "agency": "dinsos",
            "agency_name": "Dinas Sosial",
            "category": "partnership",
            "name": "bukti-0.pdf",
        }
    ]
    assert all(
        e["duplicates"] == []
        for e in api.as_(operator)
        .get(f"/api/v1/submissions/{pair['dinkes'].pk}/")
        .json()["evidence"]
    )


def test_api_list_carries_duplicates_too(
    pair: dict[str, Submission], verifier: Any, api: Any
) -> None:
    rows = api.as_(verifier).get("/api/v1/submissions/").json()["results"]
    flagged = {r["id"] for r in rows if any(e["duplicates"] for e in r["evidence"])}
    assert flagged == {pair["dinkes"].pk, pair["dinsos"].pk}


def test_removed_files_are_not_duplicates(
    operator: Any, other_operator: Any, people: dict[str, Any], verifier: Any
) -> None:
    real_indicators()
    kept = make(operator, "submitted", people, files=[SAME])
    draft = make(other_operator, "draft", people, files=[SAME, unique_pdf("x")])
    from kla.drafting import evidence_remove

    evidence_remove(user=other_operator, submission_id=draft.pk, evidence_id=first_file(draft).pk)
    f.advance(draft, "submitted", **{**people, "operator": other_operator})
    assert evidence_duplicates(user=verifier, evidence=kept.evidence.all()) == {}
