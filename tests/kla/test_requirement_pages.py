"""The checklist's pages (``/data-dukung/``): the list by cluster and indicator, and the forms of
the people who keep it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.models import Instruction, Requirement, Submission
from tests import factories as f
from workflows.models import TrailEvent

from .test_checklist import requirement, tag
from .world import logged_in

pytestmark = pytest.mark.django_db
LIST = reverse("requirements")
NEW = reverse("requirement-new")


def edit_url(r: Requirement) -> str:
    return reverse("requirement-edit", args=[r.pk])


def remove_url(r: Requirement) -> str:
    return reverse("requirement-remove", args=[r.pk])


def main(response: Any) -> str:
    """The page's own content, without the header every page shares."""
    html: str = response.content.decode()
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def field_errors(response: Any) -> dict[str, str]:
    """Each field marked in error, with the messages shown beside it."""
    html = main(response)
    found: dict[str, str] = {}
    for block in re.findall(
        r'<div class="field has-error">(.*?)</div>\s*(?=<div class="field|<div class="actions)',
        html,
        re.S,
    ):
        name = re.search(r'name="([a-z_]+)"', block)
        messages = " ".join(re.findall(r'<p class="error-text">(.*?)</p>', block))
        if name:
            found[name.group(1)] = messages
    return found


GOOD = {
    "code": "2.9",
    "indicator": "2",
    "label": "SK Gugus Tugas KLA",
    "description": "Keputusan Wali Kota",
    "evidence_kinds": ["decree", "kak_tor"],
}


@pytest.fixture
def checklist(instruction: Instruction) -> dict[str, Requirement]:
    return {
        "17.1": requirement(instruction, "17.1", 17),
        "2.1": requirement(instruction, "2.1", 2, label="SK Gugus Tugas", evidence_kinds=[]),
    }


@pytest.fixture
def verified(operator: User, people: dict[str, User], checklist: Any) -> Submission:
    """A verified submission whose file serves 17.1."""
    draft = f.make_draft(operator)
    tag(f.first(draft.evidence.all()), checklist["17.1"], kind="regulation_text")
    return f.advance(draft, "verified", **people)


# --- the list ------------------------------------------------------------------------------------


def test_the_list_groups_requirements_by_cluster_and_indicator_met_or_not(
    verified: Submission, consolidator: User
) -> None:
    response = logged_in(consolidator).get(LIST)
    assert response.status_code == 200
    html = main(response)
    kelembagaan = html.index("Kelembagaan")
    k3 = html.index("Klaster III: Kesehatan Dasar dan Kesejahteraan")
    two = html.index('id="indikator-2"')
    seventeen = html.index('id="indikator-17"')
    assert kelembagaan < two < k3 < seventeen
    assert html.index(">2.1<") > two and html.index(">17.1<") > seventeen
    row_171 = html[html.index(">17.1<") :].split("</tr>", 1)[0]
    row_21 = html[html.index(">2.1<") :].split("</tr>", 1)[0]
    assert "Terpenuhi" in row_171 and "Naskah regulasi" in row_171
    assert "Dinas Kesehatan" in row_171
    assert "Belum terpenuhi" in row_21 and "Jenis apa pun" in row_21
    assert "1 dari 2 terpenuhi" in html
    # Indicators without requirements yet are listed all the same.
    assert 'id="indikator-24"' in html
    assert "Belum ada kebutuhan data dukung untuk indikator ini." in html


def test_operators_read_it_without_the_forms(operator: User, checklist: Any) -> None:
    response = logged_in(operator).get(LIST)
    assert response.status_code == 200
    html = main(response)
    assert "17.1" in html
    assert NEW not in html
    assert edit_url(checklist["17.1"]) not in html


def test_its_keepers_see_links_to_add_and_change(verifier: User, checklist: Any) -> None:
    html = main(logged_in(verifier).get(LIST))
    assert NEW in html
    assert edit_url(checklist["17.1"]) in html
    assert "indikator=5" in html  # adding under one indicator


def test_people_without_a_role_get_404_and_anonymous_visitors_the_login(
    outsider: User, client: Client, checklist: dict[str, Requirement]
) -> None:
    person = logged_in(outsider)
    r = checklist["17.1"]
    assert person.get(LIST).status_code == 404
    assert person.get(NEW).status_code == 404
    assert person.post(NEW, GOOD).status_code == 404
    assert person.get(edit_url(r)).status_code == 404
    assert person.post(remove_url(r)).status_code == 404
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("who", ["operator", "consolidator", "auditor"])
def test_read_only_people_get_403_on_the_forms(
    who: str, people: dict[str, User], checklist: dict[str, Requirement]
) -> None:
    person = logged_in(people[who])
    r = checklist["17.1"]
    assert person.get(NEW).status_code == 403
    assert person.post(NEW, GOOD).status_code == 403
    assert person.get(edit_url(r)).status_code == 403
    assert person.post(edit_url(r), GOOD).status_code == 403
    assert person.post(remove_url(r)).status_code == 403
    assert Requirement.objects.count() == 2


def test_the_nav_links_it_for_those_who_read_it(
    operator: User, outsider: User, instruction: Instruction
) -> None:
    assert LIST in logged_in(operator).get(reverse("tasks")).content.decode()
    assert LIST not in logged_in(outsider).get(reverse("tasks")).content.decode()


def test_the_pages_carry_no_inline_style_or_script(
    verifier: User, checklist: dict[str, Requirement]
) -> None:
    client = logged_in(verifier)
    for url in (LIST, NEW, edit_url(checklist["17.1"]), reverse("coverage")):
        html = main(client.get(url))
        assert "style=" not in html and "<style" not in html and "<script" not in html, url


# --- adding, changing, deleting ------------------------------------------------------------------


def test_a_verifier_adds_a_requirement_through_the_page(
    verifier: User, instruction: Instruction
) -> None:
    client = logged_in(verifier)
    form = client.get(NEW + "?indikator=2")
    assert form.status_code == 200
    assert '<option value="2" selected>' in form.content.decode()
    assert "<optgroup" in form.content.decode()  # indicators by cluster
    response = client.post(NEW, GOOD)
    assert response.status_code == 302
    made = Requirement.objects.get(code="2.9")
    assert response["Location"] == f"{LIST}?instruction={instruction.pk}#indikator-2"
    assert (made.instruction, made.indicator.number, made.evidence_kinds) == (
        instruction,
        2,
        ["decree", "kak_tor"],
    )
    event = TrailEvent.objects.get(stream__name="system", action="requirement_create")
    assert event.actor == verifier
    assert "Kebutuhan 2.9 ditambahkan." in client.get(response["Location"]).content.decode()


def test_an_odd_indicator_to_start_with_is_ignored(
    verifier: User, instruction: Instruction
) -> None:
    response = logged_in(verifier).get(NEW + "?indikator=²")
    assert response.status_code == 200
    assert '<option value="" selected>' in response.content.decode()


def test_it_goes_to_the_instruction_shown(verifier: User, instruction: Instruction) -> None:
    other = f.InstructionFactory(number=3, year=2027, is_current=False)
    response = logged_in(verifier).post(f"{NEW}?instruction={other.pk}", GOOD)
    assert response.status_code == 302
    assert Requirement.objects.get(code="2.9").instruction == other


def test_bad_input_is_400_with_each_error_beside_its_field(
    verifier: User, checklist: dict[str, Requirement]
) -> None:
    response = logged_in(verifier).post(
        NEW,
        {
            "code": "2.1",
            "indicator": "",
            "label": "",
            "description": "x" * 2001,
            "evidence_kinds": ["decree"],
        },
    )
    assert response.status_code == 400
    errors = field_errors(response)
    assert set(errors) == {"code", "indicator", "label", "description"}
    assert "sudah dipakai" in errors["code"]
    assert "1 sampai 24" in errors["indicator"]
    assert "Wajib diisi" in errors["label"]
    assert "2000" in errors["description"]
    # What the person typed stays in the form.
    assert 'value="2.1"' in main(response)
    assert Requirement.objects.count() == 2


def test_an_unknown_kind_or_indicator_is_400_on_its_field(
    verifier: User, instruction: Instruction
) -> None:
    response = logged_in(verifier).post(
        NEW, GOOD | {"indicator": "99", "evidence_kinds": ["sihir"]}
    )
    assert response.status_code == 400
    assert set(field_errors(response)) == {"indicator", "evidence_kinds"}


def test_a_requirement_is_changed_through_the_page(
    superuser: User, checklist: dict[str, Requirement]
) -> None:
    client = logged_in(superuser)
    r = checklist["2.1"]
    form = client.get(edit_url(r))
    assert form.status_code == 200
    assert 'value="SK Gugus Tugas"' in main(form)
    response = client.post(edit_url(r), GOOD | {"code": "2.1", "evidence_kinds": ["photo"]})
    assert response.status_code == 302
    r.refresh_from_db()
    assert (r.label, r.evidence_kinds) == ("SK Gugus Tugas KLA", ["photo"])
    change = TrailEvent.objects.get(stream__name="system", action="requirement_change")
    assert change.actor == superuser


def test_a_bad_change_is_400_beside_the_field(
    verifier: User, checklist: dict[str, Requirement]
) -> None:
    r = checklist["2.1"]
    response = logged_in(verifier).post(edit_url(r), GOOD | {"code": "17.1"})
    assert response.status_code == 400
    assert "sudah dipakai" in field_errors(response)["code"]
    r.refresh_from_db()
    assert r.code == "2.1"


def test_moving_a_served_requirement_to_another_indicator_is_409_in_place(
    verifier: User, verified: Submission, checklist: dict[str, Requirement]
) -> None:
    r = checklist["17.1"]
    response = logged_in(verifier).post(edit_url(r), GOOD | {"code": "17.1", "indicator": "13"})
    assert response.status_code == 409
    assert "1 berkas" in main(response)
    r.refresh_from_db()
    assert r.indicator.number == 17


def test_a_requirement_is_deleted_through_the_page(
    verifier: User, checklist: dict[str, Requirement], instruction: Instruction
) -> None:
    r = checklist["2.1"]
    response = logged_in(verifier).post(remove_url(r))
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?instruction={instruction.pk}#indikator-2"
    assert not Requirement.objects.filter(pk=r.pk).exists()
    assert TrailEvent.objects.get(stream__name="system", action="requirement_remove").actor == (
        verifier
    )


def test_deleting_a_served_requirement_is_409_saying_how_many_files(
    verifier: User, verified: Submission, checklist: dict[str, Requirement]
) -> None:
    r = checklist["17.1"]
    response = logged_in(verifier).post(remove_url(r))
    assert response.status_code == 409
    assert "1 berkas bukti dukung" in main(response)
    assert Requirement.objects.filter(pk=r.pk).exists()


def test_deleting_is_post_only(verifier: User, checklist: dict[str, Requirement]) -> None:
    assert logged_in(verifier).get(remove_url(checklist["2.1"])).status_code == 405


def test_an_unknown_requirement_is_404(verifier: User, instruction: Instruction) -> None:
    client = logged_in(verifier)
    assert client.get(reverse("requirement-edit", args=[9999])).status_code == 404
    assert client.post(reverse("requirement-remove", args=[9999])).status_code == 404
