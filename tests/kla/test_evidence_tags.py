"""Files know what they are: each file's kind and the requirements it serves (DESIGN, "Evidence
requirements per indicator"), set at upload and changed while the submission is editable, through
the services and the API; the KEEMPAT rule; what the trail records of them. The pages are in
``test_evidence_tag_pages``."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kla.drafting import evidence_add, evidence_remove, evidence_tag, submission_update
from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import Evidence, Indicator, Instruction, Requirement, Submission
from roles.models import Membership
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import allowed_actions, submission_act
from workflows.trail.reading import verify_database

from .conftest import snapshot, url

pytestmark = pytest.mark.django_db


def make_checklist(instruction: Instruction) -> dict[str, Requirement]:
    """Two requirements of indicator 17 (one for regulations and decrees, one for any kind)
    and one of indicator 2, which make_draft's submissions do not have."""

    def make(code: str, number: int, kinds: list[str]) -> Requirement:
        return Requirement.objects.create(
            instruction=instruction,
            indicator=Indicator.objects.get(number=number),
            code=code,
            label=f"Kebutuhan {code}",
            evidence_kinds=kinds,
        )

    return {
        "17.1": make("17.1", 17, ["regulation_text", "decree"]),
        "17.2": make("17.2", 17, []),
        "2.1": make("2.1", 2, ["decree"]),
    }


@pytest.fixture
def checklist(instruction: Instruction) -> dict[str, Requirement]:
    return make_checklist(instruction)


def only_file(submission: Submission) -> Evidence:
    return f.first(submission.evidence.filter(removed_at__isnull=True))


def codes(evidence: Evidence) -> list[str]:
    return sorted(evidence.requirements.values_list("code", flat=True))


def last_event(submission: Submission) -> TrailEvent:
    return f.first(TrailEvent.objects.filter(submission=submission).order_by("-seq"))


def item(submission: Submission, evidence: Evidence) -> str:
    return url(submission, "evidence", evidence.pk)


def upload(client: Any, submission: Submission, **fields: Any) -> Any:
    return client.post(
        url(submission, "evidence"), {"file": f.pdf_upload(), **fields}, format="multipart"
    )


# --- at upload --------------------------------------------------------------------------------


def test_upload_with_a_kind_and_requirements_answers_and_records_them(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    response = upload(api.as_(operator), draft, kind="decree", requirements="17.2, 17.1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["kind"], data["requirements"]) == ("decree", ["17.1", "17.2"])
    evidence = Evidence.objects.get(pk=data["id"])
    assert (evidence.kind, codes(evidence)) == ("decree", ["17.1", "17.2"])
    event = last_event(draft)
    assert event.action == "evidence_upload"
    assert (event.data["kind"], event.data["requirements"]) == ("decree", ["17.1", "17.2"])


def test_upload_without_a_kind_is_other_and_serves_nothing(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    data = upload(api.as_(operator), draft).json()
    assert (data["kind"], data["requirements"]) == ("other", [])
    assert (last_event(draft).data["kind"], last_event(draft).data["requirements"]) == ("other", [])


def test_the_requirements_field_repeated_counts_every_value(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    response = upload(api.as_(operator), draft, kind="decree", requirements=["17.1", "17.2"])
    assert response.status_code == 201, response.content
    assert response.json()["requirements"] == ["17.1", "17.2"]


@pytest.mark.parametrize(
    ("fields", "field", "named"),
    [
        ({"kind": "sapi"}, "kind", ["regulation_text", "decree", "kak_tor", "other"]),
        ({"requirements": "17.1,99.9"}, "requirements", ["99.9"]),
        ({"kind": "decree", "requirements": "2.1"}, "requirements", ["2.1"]),
        ({"kind": "photo", "requirements": "17.1,17.2"}, "requirements", ["17.1"]),
    ],
    ids=["unknown kind", "unknown code", "code of another indicator", "kind not accepted"],
)
def test_upload_refusals_are_400_naming_what_is_wrong_and_store_nothing(
    api: Any,
    operator: User,
    draft: Submission,
    checklist: dict[str, Requirement],
    fields: dict[str, str],
    field: str,
    named: list[str],
) -> None:
    before = snapshot(draft)
    response = upload(api.as_(operator), draft, **fields)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    message = " ".join(response.json()[field])
    assert all(name in message for name in named), message
    assert snapshot(draft) == before
    if fields.get("kind") == "photo":
        assert "17.2" not in message  # any kind serves 17.2


def test_a_requirement_of_another_instruction_is_not_the_submissions(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    later = f.InstructionFactory(number=1, year=2027, is_current=False)
    Requirement.objects.create(
        instruction=later, indicator=Indicator.objects.get(number=17), code="17.9", label="Baru"
    )
    response = upload(api.as_(operator), draft, requirements="17.9")
    assert response.status_code == 400
    assert "17.9" in response.json()["requirements"][0]


def test_upload_checks_rights_and_state_before_the_tags(
    api: Any,
    operator: User,
    other_operator: User,
    verifier: User,
    submitted: Submission,
    checklist: dict[str, Requirement],
) -> None:
    bad = {"kind": "sapi", "requirements": "99.9"}
    assert upload(api.as_(other_operator), submitted, **bad).status_code == 404
    assert upload(api.as_(verifier), submitted, **bad).status_code == 403
    assert upload(api.as_(operator), submitted, **bad).status_code == 409


def test_hostile_codes_are_400_never_an_error(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    client = api.as_(operator)
    before = snapshot(draft)
    for codes_sent in ("17.1\x00", "x" * 5000, ",".join(str(n) for n in range(500))):
        response = upload(client, draft, kind="decree", requirements=codes_sent)
        assert response.status_code == 400, response.content
        assert list(response.json()) == ["requirements"]
    patched = client.patch(
        item(draft, only_file(draft)), {"requirements": ["17.1\x00"]}, format="json"
    )
    assert patched.status_code == 400
    assert snapshot(draft) == before


def test_the_service_takes_a_list_of_codes(
    operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = evidence_add(
        user=operator,
        submission_id=draft.pk,
        upload=f.pdf_upload(),
        kind="regulation_text",
        requirements=["17.1"],
    )
    assert codes(evidence) == ["17.1"]
    with pytest.raises(Invalid) as refused:
        evidence_add(user=operator, submission_id=draft.pk, upload=f.pdf_upload(), requirements=[5])
    assert list(refused.value.errors) == ["requirements"]


# --- changing them: PATCH .../evidence/{eid}/ -------------------------------------------------


def test_patch_changes_kind_and_replaces_the_requirements_bumping_the_version(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = only_file(draft)
    version = draft.version
    client = api.as_(operator)
    response = client.patch(
        item(draft, evidence), {"kind": "decree", "requirements": ["17.2", "17.1"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["kind"], response.json()["requirements"]) == (
        "decree",
        ["17.1", "17.2"],
    )
    draft.refresh_from_db()
    assert draft.version == version + 1
    event = last_event(draft)
    assert event.action == "evidence_tag"
    assert event.data == {
        "evidence": evidence.pk,
        "kind": "decree",
        "requirements": ["17.1", "17.2"],
        "version": version + 1,
    }
    assert event.files == [{"name": evidence.name, "sha256": evidence.sha256}]
    # requirements replace the set; kind alone keeps the requirements
    client.patch(item(draft, evidence), {"requirements": ["17.2"]}, format="json")
    client.patch(item(draft, evidence), {"kind": "photo"}, format="json")
    evidence.refresh_from_db()
    assert (evidence.kind, codes(evidence)) == ("photo", ["17.2"])
    assert client.get(url(draft)).json()["evidence"][0]["requirements"] == ["17.2"]


def test_a_patch_that_changes_nothing_changes_nothing(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = only_file(draft)
    client = api.as_(operator)
    client.patch(item(draft, evidence), {"requirements": ["17.2"]}, format="json")
    before = snapshot(draft)
    for body in (
        {},
        {"kind": "other"},
        {"requirements": ["17.2"]},
        {"kind": "other", "requirements": ["17.2"]},
    ):
        assert client.patch(item(draft, evidence), body, format="json").status_code == 200
    assert snapshot(draft) == before


@pytest.mark.parametrize(
    ("sent", "field", "named"),
    [
        ({"kind": "sapi"}, "kind", ["decree", "other"]),
        ({"kind": None}, "kind", ["decree", "other"]),
        ({"requirements": ["99.9"]}, "requirements", ["99.9"]),
        ({"requirements": ["2.1"], "kind": "decree"}, "requirements", ["2.1"]),
        ({"requirements": ["17.1"], "kind": "photo"}, "requirements", ["17.1"]),
        ({"requirements": "17.1"}, "requirements", []),
        ({"requirements": [17]}, "requirements", []),
        ({"requirements": None}, "requirements", []),
        ({"name": "lain.pdf"}, "name", []),
    ],
    ids=[
        "unknown kind",
        "null kind",
        "unknown code",
        "code of another indicator",
        "kind not accepted",
        "text not a list",
        "numbers",
        "null requirements",
        "unknown key",
    ],
)
def test_patch_refusals_are_400_and_change_nothing(
    api: Any,
    operator: User,
    draft: Submission,
    checklist: dict[str, Requirement],
    sent: dict[str, Any],
    field: str,
    named: list[str],
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(item(draft, only_file(draft)), sent, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    message = " ".join(response.json()[field])
    assert all(name in message for name in named), message
    assert snapshot(draft) == before


def test_a_new_kind_must_suit_the_requirements_kept(
    operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = only_file(draft)
    evidence_tag(
        user=operator,
        submission_id=draft.pk,
        evidence_id=evidence.pk,
        kind="decree",
        requirements=["17.1"],
    )
    with pytest.raises(Invalid) as refused:
        evidence_tag(user=operator, submission_id=draft.pk, evidence_id=evidence.pk, kind="photo")
    assert "17.1" in refused.value.errors["requirements"][0]


def test_patch_is_409_when_not_editable_or_on_a_stale_version(
    api: Any,
    operator: User,
    people: dict[str, Any],
    checklist: dict[str, Requirement],
) -> None:
    draft = f.make_draft(operator)
    evidence = only_file(draft)
    client = api.as_(operator)
    stale = client.patch(
        item(draft, evidence), {"kind": "decree", "version": draft.version - 1}, format="json"
    )
    assert stale.status_code == 409
    fresh = client.patch(
        item(draft, evidence), {"kind": "decree", "version": draft.version}, format="json"
    )
    assert fresh.status_code == 200
    submitted = f.advance(draft, "submitted", **people)
    before = snapshot(submitted)
    assert client.patch(item(submitted, evidence), {"kind": "data"}, format="json").status_code == (
        409
    )
    assert snapshot(submitted) == before


def test_patch_checks_who_asks_before_the_state_and_the_input(
    api: Any,
    operator: User,
    other_operator: User,
    verifier: User,
    submitted: Submission,
    checklist: dict[str, Requirement],
) -> None:
    evidence = only_file(submitted)
    bad = {"kind": "sapi"}
    assert (
        api.as_(other_operator).patch(item(submitted, evidence), bad, format="json").status_code
        == 404
    )
    with pytest.raises(Forbidden):  # the verifier sees it but is no operator of the body
        evidence_tag(user=verifier, submission_id=submitted.pk, evidence_id=evidence.pk, kind="x")
    with pytest.raises(Conflict):  # the operator may, but not in this state
        evidence_tag(user=operator, submission_id=submitted.pk, evidence_id=evidence.pk, kind="x")


def test_patch_of_a_file_that_is_not_there_is_404(
    api: Any, operator: User, draft: Submission
) -> None:
    client = api.as_(operator)
    assert client.patch(url(draft, "evidence", 10**9), {}, format="json").status_code == 404
    other = only_file(f.make_draft(operator))  # a file of another submission
    assert client.patch(item(draft, other), {}, format="json").status_code == 404
    with pytest.raises(NotVisible):
        evidence_tag(user=operator, submission_id=draft.pk, evidence_id=10**9, kind="data")


def test_a_file_taken_out_cannot_be_tagged(
    operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence = only_file(draft)
    evidence_remove(user=operator, submission_id=draft.pk, evidence_id=evidence.pk)
    with pytest.raises(NotVisible):
        evidence_tag(user=operator, submission_id=draft.pk, evidence_id=evidence.pk, kind="data")


def test_options_on_the_evidence_endpoints_never_500(
    api: Any, operator: User, draft: Submission
) -> None:
    client = api.as_(operator)
    for path in (url(draft, "evidence"), item(draft, only_file(draft))):
        assert client.options(path).status_code == 200


# --- indicators whose requirements files serve ---------------------------------------------------


def test_removing_an_indicator_whose_requirements_files_serve_is_400_naming_them(
    api: Any, operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence_add(
        user=operator,
        submission_id=draft.pk,
        upload=f.pdf_upload("sk-ktr.pdf"),
        kind="decree",
        requirements=["17.1"],
    )
    client = api.as_(operator)
    assert client.patch(url(draft), {"indicators": [17, 2]}, format="json").status_code == 200
    before = snapshot(draft)
    response = client.patch(url(draft), {"indicators": [2]}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["indicators"]
    message = response.json()["indicators"][0]
    assert "sk-ktr.pdf" in message and "17" in message
    assert "bukti.pdf" not in message  # the untagged file serves nothing
    assert snapshot(draft) == before
    # indicator 2 serves nothing: it may go, and 17 may go once the tag goes
    submission_update(user=operator, submission_id=draft.pk, fields={"indicators": [17]})
    tagged = f.first(draft.evidence.filter(name="sk-ktr.pdf"))
    evidence_tag(user=operator, submission_id=draft.pk, evidence_id=tagged.pk, requirements=[])
    submission_update(user=operator, submission_id=draft.pk, fields={"indicators": [2]})


def test_a_file_taken_out_does_not_hold_an_indicator(
    operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    tagged = evidence_add(
        user=operator, submission_id=draft.pk, upload=f.pdf_upload(), requirements=["17.2"]
    )
    evidence_remove(user=operator, submission_id=draft.pk, evidence_id=tagged.pk)
    submission_update(user=operator, submission_id=draft.pk, fields={"indicators": [2]})
    draft.refresh_from_db()
    assert list(draft.indicators.values_list("number", flat=True)) == [2]


# --- four eyes --------------------------------------------------------------------------------


def test_tagging_a_file_is_authoring_for_four_eyes(
    operator: User,
    verifier: User,
    people: dict[str, Any],
    body: Any,
    checklist: dict[str, Requirement],
) -> None:
    # As verifikator is an operator of dp3ap2kb: a verifier who also operates the body.
    Membership.objects.create(user=verifier, body=body)
    tagged, untouched = f.make_draft(operator), f.make_draft(operator)
    evidence_tag(
        user=verifier,
        submission_id=tagged.pk,
        evidence_id=only_file(tagged).pk,
        kind="decree",
        requirements=["17.1"],
    )
    for s in (tagged, untouched):
        submission_act(user=operator, submission_id=s.pk, action="submit")
    assert "approve" in allowed_actions(
        user=verifier, submission=Submission.objects.get(pk=untouched.pk)
    )
    assert "approve" not in allowed_actions(
        user=verifier, submission=Submission.objects.get(pk=tagged.pk)
    )
    with pytest.raises(Forbidden):
        submission_act(user=verifier, submission_id=tagged.pk, action="approve")
    submission_act(user=verifier, submission_id=untouched.pk, action="approve")


# --- KEEMPAT ----------------------------------------------------------------------------------


def test_an_innovation_declaring_kak_tor_and_sk_needs_files_of_those_kinds(
    operator: User, people: dict[str, Any], instruction: Instruction
) -> None:
    details = {"name": "Si Anak", "started_on": "2025-01-02", "document_kinds": ["kak_tor", "sk"]}
    draft = f.make_draft(operator, "innovation", with_evidence=False, details=details)
    photo = evidence_add(
        user=operator, submission_id=draft.pk, upload=f.pdf_upload("foto.pdf"), kind="photo"
    )

    def refusal() -> str:
        with pytest.raises(Invalid) as refused:
            submission_act(user=operator, submission_id=draft.pk, action="submit")
        assert list(refused.value.errors) == ["evidence"]
        return refused.value.errors["evidence"][0]

    first = refusal()
    assert "KAK/TOR" in first and "SK" in first
    evidence_add(user=operator, submission_id=draft.pk, upload=f.pdf_upload(), kind="kak_tor")
    second = refusal()
    assert "SK" in second and "KAK/TOR" not in second
    evidence_tag(user=operator, submission_id=draft.pk, evidence_id=photo.pk, kind="decree")
    submitted = submission_act(user=operator, submission_id=draft.pk, action="submit")
    assert submitted.state == "submitted"
    # and at resubmit: the SK taken out again is refused
    submission_act(user=people["verifier"], submission_id=draft.pk, action="return", note="Kurang")
    evidence_remove(user=operator, submission_id=draft.pk, evidence_id=photo.pk)
    with pytest.raises(Invalid) as refused:
        submission_act(user=operator, submission_id=draft.pk, action="resubmit", note="Sudah")
    assert "SK" in refused.value.errors["evidence"][0]


def test_other_declarations_and_categories_need_no_particular_kind(
    operator: User, instruction: Instruction
) -> None:
    other = {"name": "Si Anak", "started_on": "2025-01-02", "document_kinds": ["other"]}
    innovation = f.make_draft(operator, "innovation", details=other)
    assert submission_act(user=operator, submission_id=innovation.pk, action="submit").state == (
        "submitted"
    )
    regulation = f.make_draft(operator)
    assert submission_act(user=operator, submission_id=regulation.pk, action="submit").state == (
        "submitted"
    )


# --- what the trail records -------------------------------------------------------------------


def test_submit_and_resubmit_events_record_every_files_kind_and_requirements(
    api: Any,
    operator: User,
    people: dict[str, Any],
    checklist: dict[str, Requirement],
) -> None:
    draft = f.make_draft(operator)
    plain = only_file(draft)
    tagged = evidence_add(
        user=operator,
        submission_id=draft.pk,
        upload=f.pdf_upload("sk.pdf", f.PDF_BYTES + b"% sk\n"),
        kind="decree",
        requirements=["17.2", "17.1"],
    )
    f.advance(draft, "returned", **people)
    evidence_tag(user=operator, submission_id=draft.pk, evidence_id=plain.pk, kind="data")
    submission_act(user=operator, submission_id=draft.pk, action="resubmit", note="Sudah")
    for action, plain_kind in (("submit", "other"), ("resubmit", "data")):
        event = f.first(TrailEvent.objects.filter(submission=draft, action=action))
        assert event.files == [
            {"name": plain.name, "sha256": plain.sha256},
            {"name": "sk.pdf", "sha256": tagged.sha256},
        ]
        assert event.data["files"] == [
            {"evidence": plain.pk, "kind": plain_kind, "requirements": []},
            {"evidence": tagged.pk, "kind": "decree", "requirements": ["17.1", "17.2"]},
        ]
    # The trail API keeps DESIGN's shape of files: name and sha256.
    events = api.as_(operator).get(url(draft, "trail")).json()["results"]
    submit = next(e for e in events if e["action"] == "submit")
    assert all(set(file) == {"name", "sha256"} for file in submit["files"])


def test_the_chains_still_verify_with_the_tags(
    operator: User, draft: Submission, checklist: dict[str, Requirement]
) -> None:
    evidence_tag(
        user=operator,
        submission_id=draft.pk,
        evidence_id=only_file(draft).pk,
        kind="decree",
        requirements=["17.1"],
    )
    submission_act(user=operator, submission_id=draft.pk, action="submit")
    checker, breaks = verify_database()
    assert breaks == [] and checker.events >= 4


# --- the list keeps its query count -----------------------------------------------------------


def _list_queries(api: Any, user: User) -> tuple[int, int]:
    client = api.as_(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/submissions/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def _tagged_drafts(operator: User, n: int) -> None:
    for _ in range(n):
        draft = f.make_draft(operator)
        evidence_add(
            user=operator,
            submission_id=draft.pk,
            upload=f.pdf_upload(),
            kind="decree",
            requirements=["17.1", "17.2"],
        )


def test_the_list_keeps_its_query_count_when_files_carry_requirements(
    api: Any, operator: User, checklist: dict[str, Requirement]
) -> None:
    _tagged_drafts(operator, 2)
    few, count = _list_queries(api, operator)
    assert count == 2
    _tagged_drafts(operator, 10)
    many, count = _list_queries(api, operator)
    assert count == 12
    assert many == few


def test_an_unknown_file_is_404_even_when_the_submission_is_locked(
    api: Any, operator: User, submitted: Submission
) -> None:
    base = f"/api/v1/submissions/{submitted.pk}/evidence/999999/"
    assert api.as_(operator).patch(base, {"kind": "decree"}, format="json").status_code == 404
    assert api.as_(operator).delete(base).status_code == 404
    known = f.first(submitted.evidence.all())
    url = f"/api/v1/submissions/{submitted.pk}/evidence/{known.pk}/"
    assert api.as_(operator).patch(url, {"kind": "decree"}, format="json").status_code == 409
