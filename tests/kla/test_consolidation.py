"""The consolidation screen: one or many at once, each row on its own; returning one; rights."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kla.errors import Forbidden, Invalid
from kla.models import Submission
from kla.reports.consolidation import consolidation_apply
from roles.models import Membership
from roles.roles import Role
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import submission_act

from .world import logged_in, make, real_indicators

pytestmark = pytest.mark.django_db
URL = "/konsolidasi/"


@pytest.fixture
def verified_three(operator: Any, other_operator: Any, people: dict[str, Any]) -> list[Submission]:
    real_indicators()
    return [
        make(operator, "verified", people, indicators=[17], title="KTR"),
        make(other_operator, "verified", people, category="program", indicators=[9], title="LKSA"),
        make(operator, "verified", people, category="innovation", indicators=[13], title="Gizi"),
    ]


def pick(*subs: Submission) -> list[str]:
    return [f"{s.pk}:{s.version}" for s in subs]


def events(s: Submission, action: str) -> int:
    return TrailEvent.objects.filter(submission=s, action=action).count()


def states(*subs: Submission) -> list[str]:
    return [Submission.objects.get(pk=s.pk).state for s in subs]


# --- the service ---------------------------------------------------------------------------


def test_consolidates_many_each_with_its_own_trail_event(
    verified_three: list[Submission], consolidator: Any
) -> None:
    items = [(s.pk, s.version) for s in verified_three]
    outcomes = consolidation_apply(user=consolidator, action="consolidate", items=items)
    assert [o.ok for o in outcomes] == [True, True, True]
    assert states(*verified_three) == ["consolidated"] * 3
    assert [events(s, "consolidate") for s in verified_three] == [1, 1, 1]


def test_a_failing_row_does_not_undo_the_others(
    verified_three: list[Submission], consolidator: Any, other_body: Any, people: dict[str, Any]
) -> None:
    first, second, third = verified_three
    # Four eyes: the consolidator is also an operator of Dinsos and drafted this one.
    Membership.objects.create(user=consolidator, body=other_body)
    own = make(consolidator, "verified", {**people, "operator": consolidator}, indicators=[9])
    # Somebody else acted first on the second; the third was loaded at an older version.
    other_consolidator = f.make_role(Role.CONSOLIDATOR, "bapperida2")
    submission_act(user=other_consolidator, submission_id=second.pk, action="consolidate")
    items = [
        (first.pk, first.version),
        (second.pk, second.version),
        (third.pk, third.version - 1),
        (own.pk, own.version),
        (999999, None),
    ]
    outcomes = consolidation_apply(user=consolidator, action="consolidate", items=items)
    assert [(o.submission_id, o.ok, o.status) for o in outcomes] == [
        (first.pk, True, 200),
        (second.pk, False, 409),
        (third.pk, False, 409),
        (own.pk, False, 403),
        (999999, False, 404),
    ]
    assert "empat mata" in outcomes[3].message
    assert states(first, second, third, own) == [
        "consolidated",
        "consolidated",
        "verified",
        "verified",
    ]


def test_returns_one_to_the_verifier_with_its_reason(
    verified_three: list[Submission], consolidator: Any
) -> None:
    target = verified_three[0]
    (outcome,) = consolidation_apply(
        user=consolidator, action="return", items=[(target.pk, target.version)], note="Kurang SK"
    )
    assert outcome.ok
    target.refresh_from_db()
    assert target.state == "submitted"
    event = TrailEvent.objects.filter(submission=target, action="return").get()
    assert (event.note, event.role, event.from_state) == ("Kurang SK", "consolidator", "verified")


@pytest.mark.parametrize(
    ("action", "count", "note", "field"),
    [
        ("return", 1, "", "note"),
        ("return", 2, "Kurang", "pilih"),
        ("consolidate", 0, "", "pilih"),
        ("approve", 1, "", "action"),
        (None, 1, "", "action"),
    ],
)
def test_bad_requests_change_nothing(
    verified_three: list[Submission],
    consolidator: Any,
    action: Any,
    count: int,
    note: str,
    field: str,
) -> None:
    items = [(s.pk, s.version) for s in verified_three[:count]]
    with pytest.raises(Invalid) as refused:
        consolidation_apply(user=consolidator, action=action, items=items, note=note)
    assert field in refused.value.errors
    assert states(*verified_three) == ["verified"] * 3


@pytest.mark.parametrize("who", ["verifier", "auditor", "operator"])
def test_only_consolidators_act(
    verified_three: list[Submission], who: str, people: dict[str, Any]
) -> None:
    items = [(s.pk, s.version) for s in verified_three]
    with pytest.raises(Forbidden):
        consolidation_apply(user=people[who], action="consolidate", items=items)
    assert states(*verified_three) == ["verified"] * 3


# --- the page ------------------------------------------------------------------------------


def test_screen_lists_the_verified_submissions_with_checkboxes(
    verified_three: list[Submission], consolidator: Any, submitted: Submission
) -> None:
    response = logged_in(consolidator).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for s in verified_three:
        assert f'value="{s.pk}:{s.version}"' in body
    assert reverse("submission-detail", args=[submitted.pk]) not in body


def test_screen_filters_by_body_category_and_indicator(
    verified_three: list[Submission], consolidator: Any
) -> None:
    client = logged_in(consolidator)
    ktr, lksa, gizi = verified_three

    def listed(query: str) -> set[int]:
        body = client.get(f"{URL}?{query}").content.decode()
        return {s.pk for s in verified_three if f'value="{s.pk}:' in body}

    assert listed("agency=dinsos") == {lksa.pk}
    assert listed("category=innovation") == {gizi.pk}
    assert listed("indicator=17") == {ktr.pk}
    assert listed("indicator=abc&category=bogus") == {ktr.pk, lksa.pk, gizi.pk}


def test_posting_many_reports_every_row(
    verified_three: list[Submission], consolidator: Any
) -> None:
    first, second, third = verified_three
    stale = f"{third.pk}:{third.version - 1}"
    response = logged_in(consolidator).post(
        URL, {"action": "consolidate", "pilih": [*pick(first, second), stale]}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hasil: 2 berhasil, 1 gagal" in body
    assert "Gagal" in body and "(409)" not in body  # the reason in words, no status code
    assert states(first, second, third) == ["consolidated", "consolidated", "verified"]


def test_posting_a_return_needs_a_reason(
    verified_three: list[Submission], consolidator: Any
) -> None:
    client = logged_in(consolidator)
    target = verified_three[0]
    assert client.post(URL, {"action": "return", "pilih": pick(target)}).status_code == 400
    assert states(target) == ["verified"]
    response = client.post(URL, {"action": "return", "pilih": pick(target), "note": "Kurang SK"})
    assert response.status_code == 200
    assert states(target) == ["submitted"]


@pytest.mark.parametrize("pilih", [["x:1"], ["1:y"], ["-1:1"], [""]])
def test_malformed_selection_is_400(
    verified_three: list[Submission], consolidator: Any, pilih: list[str]
) -> None:
    response = logged_in(consolidator).post(URL, {"action": "consolidate", "pilih": pilih})
    assert response.status_code == 400
    assert states(*verified_three) == ["verified"] * 3


@pytest.mark.parametrize("who", ["verifier", "auditor"])
def test_reviewers_may_look_but_not_act(
    verified_three: list[Submission], who: str, people: dict[str, Any]
) -> None:
    client = logged_in(people[who])
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="pilih"' not in page.content.decode()
    response = client.post(URL, {"action": "consolidate", "pilih": pick(*verified_three)})
    assert response.status_code == 403
    assert states(*verified_three) == ["verified"] * 3


def test_the_screen_does_not_exist_for_operators_and_outsiders(
    verified_three: list[Submission], operator: Any, outsider: Any
) -> None:
    for person in (operator, outsider):
        client = logged_in(person)
        assert client.get(URL).status_code == 404
        response = client.post(URL, {"action": "consolidate", "pilih": pick(*verified_three)})
        assert response.status_code == 404
    assert states(*verified_three) == ["verified"] * 3


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert client.post(URL, {"action": "consolidate"}).status_code == 302


def test_own_submissions_have_no_checkbox(
    verified_three: list[Submission], consolidator: Any, other_body: Any, people: dict[str, Any]
) -> None:
    Membership.objects.create(user=consolidator, body=other_body)
    own = make(consolidator, "verified", {**people, "operator": consolidator}, indicators=[9])
    body = logged_in(consolidator).get(URL).content.decode()
    assert f'value="{own.pk}:' not in body
    assert reverse("submission-detail", args=[own.pk]) in body
