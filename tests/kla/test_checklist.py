"""Keeping the evidence checklist (data dukung): who may, what is refused, what is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import Evidence, Indicator, Instruction, Requirement, Submission
from kla.requirements import (
    checklist_compute,
    requirement_create,
    requirement_delete,
    requirement_update,
    requirements_by_indicator,
    requirements_met,
)
from tests import factories as f
from tests.concurrency import race
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


def requirement(
    instruction: Instruction, code: str = "17.1", number: int = 17, **kw: Any
) -> Requirement:
    """A requirement made directly, as the seed makes them."""
    values = {"label": "Perwali KTR", "evidence_kinds": ["regulation_text"]} | kw
    return Requirement.objects.create(
        instruction=instruction,
        indicator=Indicator.objects.get(number=number),
        code=code,
        **values,
    )


def tag(evidence: Evidence, *requirements: Requirement, kind: str | None = None) -> Evidence:
    """Tag a file directly (the tagging service is another part's)."""
    if kind is not None:
        evidence.kind = kind
        evidence.save()
    evidence.requirements.add(*requirements)
    return evidence


def system(action: str) -> QuerySet[TrailEvent]:
    return TrailEvent.objects.filter(stream__name="system", action=action).order_by("seq")


NEW: dict[str, Any] = {"code": "2.9", "indicator": 2, "label": "SK Gugus Tugas KLA"}


@pytest.fixture
def editor(verifier: User) -> User:
    return verifier


@pytest.fixture
def req(instruction: Instruction) -> Requirement:
    return requirement(instruction)


@pytest.fixture
def served(draft: Submission, req: Requirement) -> Evidence:
    """The draft's file, tagged with ``req``."""
    return tag(f.first(draft.evidence.all()), req, kind="regulation_text")


# --- adding -----------------------------------------------------------------------------------


def test_a_verifier_of_every_body_adds_a_requirement_to_the_current_instruction(
    editor: User, instruction: Instruction
) -> None:
    made = requirement_create(
        user=editor,
        code=" 2.9 ",
        indicator="2",
        label=" SK Gugus Tugas KLA ",
        description="Keputusan Wali Kota",
        evidence_kinds=["kak_tor", "decree", "decree"],
    )
    made.refresh_from_db()
    assert (made.instruction, made.indicator.number, made.code, made.label) == (
        instruction,
        2,
        "2.9",
        "SK Gugus Tugas KLA",
    )
    # Once each, in the order of the kinds.
    assert made.evidence_kinds == ["decree", "kak_tor"]


def test_an_administrator_keeps_the_checklist_too(
    superuser: User, instruction: Instruction
) -> None:
    made = requirement_create(user=superuser, **NEW)
    requirement_update(user=superuser, requirement_id=made.pk, fields={"label": "SK baru"})
    requirement_delete(user=superuser, requirement_id=made.pk)
    assert not Requirement.objects.filter(pk=made.pk).exists()


def test_empty_kinds_mean_any_kind(editor: User, instruction: Instruction) -> None:
    made = requirement_create(user=editor, **NEW)
    assert made.evidence_kinds == []
    assert made.accepts("photo")


def test_it_goes_to_the_instruction_named(editor: User, instruction: Instruction) -> None:
    other = f.InstructionFactory(number=3, year=2027, is_current=False)
    made = requirement_create(user=editor, instruction=other.pk, **NEW)
    assert made.instruction == other


def test_an_unknown_instruction_is_400(editor: User, instruction: Instruction) -> None:
    with pytest.raises(Invalid) as refused:
        requirement_create(user=editor, instruction=9999, **NEW)
    assert "instruction" in refused.value.errors


# --- who may ------------------------------------------------------------------------------------


@pytest.fixture
def read_only(
    operator: User, consolidator: User, auditor: User, outsider: User, other_body: Any
) -> dict[str, User]:
    return {
        "operator": operator,
        "consolidator": consolidator,
        "auditor": auditor,
        "scoped verifier": f.make_scoped_verifier([other_body], "verifikator-dinsos"),
        "outsider": outsider,
    }


@pytest.mark.parametrize(
    "who", ["operator", "consolidator", "auditor", "scoped verifier", "outsider"]
)
def test_nobody_else_adds_changes_or_deletes(
    who: str, read_only: dict[str, User], req: Requirement
) -> None:
    person = read_only[who]
    with pytest.raises(Forbidden, match="P3AP2KB"):
        requirement_create(user=person, **NEW)
    with pytest.raises(Forbidden):
        requirement_update(user=person, requirement_id=req.pk, fields={"label": "Lain"})
    with pytest.raises(Forbidden):
        requirement_delete(user=person, requirement_id=req.pk)
    req.refresh_from_db()
    assert req.label == "Perwali KTR"
    assert Requirement.objects.count() == 1


def test_an_unknown_requirement_is_404(editor: User, instruction: Instruction) -> None:
    for missing in (9999, "1", None):
        with pytest.raises(NotVisible):
            requirement_update(user=editor, requirement_id=missing, fields={})  # type: ignore[arg-type]
        with pytest.raises(NotVisible):
            requirement_delete(user=editor, requirement_id=missing)  # type: ignore[arg-type]


@pytest.mark.parametrize("who", ["operator", "consolidator", "auditor", "scoped verifier"])
def test_reviewers_and_operators_read_the_checklist(
    who: str, read_only: dict[str, User], req: Requirement, instruction: Instruction
) -> None:
    rows = checklist_compute(user=read_only[who], instruction=instruction)
    assert [r.requirement.code for r in rows] == ["17.1"]


def test_people_without_a_role_do_not_read_it(
    outsider: User, req: Requirement, instruction: Instruction
) -> None:
    with pytest.raises(NotVisible):
        checklist_compute(user=outsider, instruction=instruction)


# --- bad input ---------------------------------------------------------------------------------

BAD = [
    ("code", "", "Wajib diisi"),
    ("code", "   ", "Wajib diisi"),
    ("code", None, "Wajib diisi"),
    ("code", 21, "Harus berupa teks"),
    ("code", "1" * 21, "Paling banyak 20 karakter"),
    ("code", "2 1", "huruf, angka, titik dan tanda hubung"),
    ("code", "2..1", "huruf, angka, titik dan tanda hubung"),
    ("code", ".1", "huruf, angka, titik dan tanda hubung"),
    ("code", "2/1", "huruf, angka, titik dan tanda hubung"),
    ("code", "17.1", "Kode 17.1 sudah dipakai di instruksi ini"),
    ("code", "17.1", "sudah dipakai"),
    ("indicator", 0, "Indikator harus nomor 1 sampai 24"),
    ("indicator", 25, "Indikator harus nomor 1 sampai 24"),
    ("indicator", 10**30, "Indikator harus nomor 1 sampai 24"),
    ("indicator", "tujuh", "Indikator harus nomor 1 sampai 24"),
    ("indicator", "²", "Indikator harus nomor 1 sampai 24"),
    ("indicator", None, "Indikator harus nomor 1 sampai 24"),
    ("indicator", True, "Indikator harus nomor 1 sampai 24"),
    ("label", "", "Wajib diisi"),
    ("label", "x" * 301, "Paling banyak 300 karakter"),
    ("label", ["SK"], "Harus berupa teks"),
    ("description", "x" * 2001, "Paling banyak 2000 karakter"),
    ("evidence_kinds", ["decree", "tablet", "scroll"], "tidak dikenal: scroll, tablet"),
    ("evidence_kinds", "decree", "daftar kode jenis"),
    ("evidence_kinds", [1], "daftar kode jenis"),
]


@pytest.mark.parametrize(
    ("key", "value", "message"), BAD, ids=[f"{k}={v!r:.20}" for k, v, _ in BAD]
)
def test_bad_input_is_400_on_its_field_and_changes_nothing(
    editor: User, req: Requirement, key: str, value: Any, message: str
) -> None:
    events = TrailEvent.objects.count()
    with pytest.raises(Invalid) as refused:
        requirement_create(user=editor, **(NEW | {key: value}))
    assert list(refused.value.errors) == [key]
    assert message in refused.value.errors[key][0]
    if key != "code":  # the code of an existing requirement is its own
        with pytest.raises(Invalid) as again:
            requirement_update(user=editor, requirement_id=req.pk, fields={key: value})
        assert message in again.value.errors[key][0]
    assert Requirement.objects.count() == 1
    req.refresh_from_db()
    assert (req.code, req.label, req.indicator.number) == ("17.1", "Perwali KTR", 17)
    assert TrailEvent.objects.count() == events


def test_every_bad_field_is_named_at_once(editor: User, instruction: Instruction) -> None:
    with pytest.raises(Invalid) as refused:
        requirement_create(user=editor, code="", indicator=99, label="", evidence_kinds=["sihir"])
    assert sorted(refused.value.errors) == ["code", "evidence_kinds", "indicator", "label"]


def test_codes_differing_only_in_case_are_the_same_code(
    editor: User, instruction: Instruction
) -> None:
    requirement(instruction, code="K1-a", number=4)
    with pytest.raises(Invalid) as refused:
        requirement_create(user=editor, **(NEW | {"code": "k1-A"}))
    assert "sudah dipakai" in refused.value.errors["code"][0]


def test_a_code_is_unique_within_its_instruction_only(
    editor: User, req: Requirement, instruction: Instruction
) -> None:
    other = f.InstructionFactory(number=3, year=2027, is_current=False)
    made = requirement_create(user=editor, instruction=other, **(NEW | {"code": "17.1"}))
    assert made.code == req.code and made.instruction != req.instruction


def test_renaming_to_another_code_taken_is_400_to_its_own_is_fine(
    editor: User, req: Requirement, instruction: Instruction
) -> None:
    second = requirement(instruction, code="17.2")
    with pytest.raises(Invalid):
        requirement_update(user=editor, requirement_id=second.pk, fields={"code": "17.1"})
    requirement_update(user=editor, requirement_id=req.pk, fields={"code": "17.1"})
    changed = requirement_update(user=editor, requirement_id=req.pk, fields={"code": "17.1a"})
    assert changed.code == "17.1a"


def test_an_unknown_field_is_400(editor: User, req: Requirement) -> None:
    with pytest.raises(Invalid) as refused:
        requirement_update(user=editor, requirement_id=req.pk, fields={"instruction": 2})
    assert list(refused.value.errors) == ["instruction"]


# --- files that serve it ------------------------------------------------------------------------


def test_deleting_a_requirement_current_files_serve_is_409_naming_how_many(
    editor: User, req: Requirement, served: Evidence, operator: User
) -> None:
    second = f.make_draft(operator, title="Kedua")
    tag(f.first(second.evidence.all()), req)
    with pytest.raises(Conflict, match="2 berkas"):
        requirement_delete(user=editor, requirement_id=req.pk)
    assert Requirement.objects.filter(pk=req.pk).exists()
    assert set(req.evidence.all()) == {served, f.first(second.evidence.all())}


def test_a_requirement_only_removed_files_named_can_be_deleted(
    editor: User, req: Requirement, served: Evidence
) -> None:
    served.removed_at = timezone.now()
    served.save()
    requirement_delete(user=editor, requirement_id=req.pk)
    assert not Requirement.objects.filter(pk=req.pk).exists()
    assert not served.requirements.exists()


def test_the_indicator_of_a_served_requirement_cannot_change(
    editor: User, req: Requirement, served: Evidence
) -> None:
    with pytest.raises(Conflict, match="1 berkas"):
        requirement_update(user=editor, requirement_id=req.pk, fields={"indicator": 13})
    req.refresh_from_db()
    assert req.indicator.number == 17
    # Naming the indicator it already has changes nothing, and is no conflict.
    requirement_update(user=editor, requirement_id=req.pk, fields={"indicator": 17, "label": "L"})
    assert served.requirements.get() == req


def test_the_indicator_of_a_requirement_no_file_serves_may_change(
    editor: User, req: Requirement
) -> None:
    changed = requirement_update(user=editor, requirement_id=req.pk, fields={"indicator": 13})
    assert changed.indicator.number == 13


def test_changing_its_kinds_keeps_the_files_tags(
    editor: User, req: Requirement, served: Evidence
) -> None:
    changed = requirement_update(
        user=editor, requirement_id=req.pk, fields={"evidence_kinds": ["photo"]}
    )
    assert changed.evidence_kinds == ["photo"]
    # The file is still tagged, though its kind would not be accepted for a new tag.
    assert list(served.requirements.all()) == [req]
    assert not changed.accepts(served.kind)


# --- the trail ---------------------------------------------------------------------------------


def test_every_change_is_an_event_on_the_system_stream_naming_its_author(
    editor: User, instruction: Instruction
) -> None:
    made = requirement_create(user=editor, **NEW)
    requirement_update(
        user=editor,
        requirement_id=made.pk,
        fields={"label": "SK Gugus Tugas", "evidence_kinds": ["decree"]},
    )
    requirement_delete(user=editor, requirement_id=made.pk)
    created = system("requirement_create").get()
    changed = system("requirement_change").get()
    removed = system("requirement_remove").get()
    assert {created.actor, changed.actor, removed.actor} == {editor}
    assert created.data["requirement"] == "2.9"
    assert created.data["values"]["label"] == "SK Gugus Tugas KLA"
    assert changed.data["changes"] == {
        "label": {"before": "SK Gugus Tugas KLA", "after": "SK Gugus Tugas"},
        "evidence_kinds": {"before": [], "after": ["decree"]},
    }
    assert removed.data["values"]["code"] == "2.9"
    assert created.seq < changed.seq < removed.seq


def test_an_indicator_change_is_recorded(editor: User, req: Requirement) -> None:
    requirement_update(user=editor, requirement_id=req.pk, fields={"indicator": 13})
    changed = system("requirement_change").get()
    assert set(changed.data["changes"]) == {"indicator_id"}


def test_saving_what_it_already_is_records_nothing(editor: User, req: Requirement) -> None:
    requirement_update(
        user=editor,
        requirement_id=req.pk,
        fields={"code": "17.1", "label": "Perwali KTR", "evidence_kinds": ["regulation_text"]},
    )
    assert not system("requirement_change").exists()


def test_a_refusal_records_nothing(operator: User, req: Requirement) -> None:
    with pytest.raises(Forbidden):
        requirement_delete(user=operator, requirement_id=req.pk)
    assert not system("requirement_remove").exists()


# --- met -----------------------------------------------------------------------------------------


def test_met_counts_only_current_files_of_verified_or_later_submissions(
    req: Requirement, served: Evidence, instruction: Instruction, people: dict[str, Any]
) -> None:
    assert requirements_met(instruction) == set()
    submitted = f.advance(served.submission, "submitted", **people)
    assert requirements_met(instruction) == set()
    f.advance(submitted, "verified", **people)
    assert requirements_met(instruction) == {req.pk}
    served.removed_at = timezone.now()
    served.save()
    assert requirements_met(instruction) == set()


def test_requirements_by_indicator_says_each_code_and_whether_it_is_met(
    req: Requirement, served: Evidence, instruction: Instruction, people: dict[str, Any]
) -> None:
    requirement(instruction, code="17.2")
    f.advance(served.submission, "verified", **people)
    seventeen = Indicator.objects.get(number=17)
    assert requirements_by_indicator(instruction)[seventeen.pk] == [
        ("17.1", True),
        ("17.2", False),
    ]
    assert requirements_by_indicator(None) == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_adding_the_same_code_at_once_make_one_and_hear_400(
    verifier: User, superuser: User, instruction: Instruction
) -> None:
    results = race(
        [
            lambda: requirement_create(user=verifier, **NEW),
            lambda: requirement_create(user=superuser, **NEW),
        ]
    )
    made = [r for r in results if isinstance(r, Requirement)]
    refused = [r for r in results if isinstance(r, Invalid)]
    assert len(made) == 1 and len(refused) == 1, results
    assert "sudah dipakai" in refused[0].errors["code"][0]
    assert Requirement.objects.filter(code="2.9").count() == 1
    assert system("requirement_create").count() == 1
