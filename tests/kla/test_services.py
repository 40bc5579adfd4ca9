"""Drafting services: formats checked at once, edits only in draft and returned."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from kla.drafting import evidence_add, evidence_download, evidence_remove, submission_create
from kla.drafting import submission_update as update
from kla.errors import Conflict, Forbidden, Invalid, NotVisible, TooLarge
from kla.models import Body, Submission
from tests import factories as f
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


def create(user: User, category: str = "regulation", **fields: Any) -> Any:
    f.InstructionFactory()
    f.ensure_indicators()
    agency = fields.pop("agency", None)
    return submission_create(user=user, category=category, agency=agency, fields=fields)


class TestCreate:
    def test_an_operator_creates_a_draft_for_their_body(self, operator: User, body: Body) -> None:
        s = create(operator, title="Perwali", years=[2025], indicators=[1, 17])
        assert (s.body, s.state, s.years) == (body, "draft", [2025])
        assert sorted(s.indicators.values_list("number", flat=True)) == [1, 17]
        event = TrailEvent.objects.get(submission=s)
        assert (event.action, event.from_state, event.to_state) == ("create", "", "draft")
        assert event.stream.name == f"submission:{s.pk}"

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"details": {"enacted_on": "2025-02-30"}}, "details.enacted_on"),
            ({"details": {"kind": "undang_undang"}}, "details.kind"),
            ({"details": {"color": "red"}}, "details.color"),
            ({"indicators": [25]}, "indicators"),
            ({"indicators": ["satu"]}, "indicators"),
            ({"years": [2023]}, "years"),
            ({"title": 12}, "title"),
            ({"details": "perwali"}, "details"),
        ],
    )
    def test_bad_formats_are_refused_and_nothing_is_created(
        self, operator: User, fields: Any, field: Any
    ) -> None:
        with pytest.raises(Invalid) as exc:
            create(operator, **fields)
        assert field in exc.value.errors
        assert not Submission.objects.exists()
        assert not TrailEvent.objects.filter(action="create").exists()

    def test_program_money_accepts_dotted_rupiah_and_refuses_negative(self, operator: User) -> None:
        s = create(operator, "program", years=[2025], details={"budget": "1.500.000", "year": 2025})
        assert s.details["budget"] == 1500000
        with pytest.raises(Invalid) as exc:
            create(operator, "program", details={"realization": -5})
        assert "details.realization" in exc.value.errors

    def test_program_year_must_be_one_of_the_years(self, operator: User) -> None:
        with pytest.raises(Invalid) as exc:
            create(operator, "program", years=[2024], details={"year": 2025})
        assert "details.year" in exc.value.errors

    def test_unknown_category_is_400(self, operator: User) -> None:
        with pytest.raises(Invalid) as exc:
            create(operator, "sports")
        assert "category" in exc.value.errors

    def test_an_operator_of_several_bodies_must_name_one(
        self, operator: User, other_body: Body
    ) -> None:
        f.Membership.objects.create(user=operator, body=other_body)
        with pytest.raises(Invalid) as exc:
            create(operator)
        assert "agency" in exc.value.errors
        assert create(operator, agency="dinsos").body == other_body

    def test_naming_a_body_one_does_not_operate_is_403(
        self, operator: User, other_body: Body
    ) -> None:
        with pytest.raises(Forbidden):
            create(operator, agency="dinsos")

    def test_people_without_a_body_cannot_create(self, verifier: User) -> None:
        with pytest.raises(Forbidden):
            create(verifier)


class TestUpdate:
    def test_an_edit_records_the_changed_fields(self, draft: Submission, operator: User) -> None:
        s = update(user=operator, submission_id=draft.pk, fields={"title": "Baru", "years": [2025]})
        assert s.title == "Baru" and s.version == draft.version + 1
        event = TrailEvent.objects.filter(submission=s).latest("seq")
        assert event.action == "edit" and event.data["changed"] == ["title"]

    def test_patching_details_keeps_the_fields_not_sent(
        self, draft: Submission, operator: User
    ) -> None:
        s = update(user=operator, submission_id=draft.pk, fields={"details": {"number": "13"}})
        assert s.details == {**f.COMPLETE_DETAILS["regulation"], "number": "13"}
        s = update(user=operator, submission_id=draft.pk, fields={"details": {"number": None}})
        assert "number" not in s.details and s.details["kind"] == "perwali"

    def test_a_float_year_is_refused_not_truncated(self, operator: User) -> None:
        with pytest.raises(Invalid) as exc:
            create(operator, "program", years=[2025], details={"year": 2025.7})
        assert "details.year" in exc.value.errors

    def test_a_bad_date_changes_nothing(self, draft: Submission, operator: User) -> None:
        with pytest.raises(Invalid):
            update(
                user=operator,
                submission_id=draft.pk,
                fields={"title": "Baru", "details": {"enacted_on": "kemarin"}},
            )
        draft_after = Submission.objects.get(pk=draft.pk)
        assert (draft_after.title, draft_after.version) == (draft.title, draft.version)

    def test_the_category_is_fixed(self, draft: Submission, operator: User) -> None:
        with pytest.raises(Invalid) as exc:
            update(user=operator, submission_id=draft.pk, fields={"category": "program"})
        assert "category" in exc.value.errors

    @pytest.mark.parametrize("state", ["submitted", "verified", "consolidated", "audited"])
    def test_no_edit_outside_draft_and_returned(
        self, draft: Submission, people: dict[str, Any], state: str
    ) -> None:
        s = f.advance(draft, state, **people)
        with pytest.raises(Conflict):
            update(user=people["operator"], submission_id=s.pk, fields={"title": "x"})
        with pytest.raises(Conflict):
            evidence_add(user=people["operator"], submission_id=s.pk, upload=f.pdf_upload())

    def test_a_returned_submission_can_be_edited(
        self, draft: Submission, people: dict[str, Any]
    ) -> None:
        s = f.advance(draft, "returned", **people)
        s = update(user=people["operator"], submission_id=s.pk, fields={"title": "Diperbaiki"})
        assert s.title == "Diperbaiki"

    def test_a_reviewer_who_sees_it_may_not_edit(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        s = submission_act_withdraw(submitted, people["operator"])
        with pytest.raises(Forbidden):
            update(user=people["verifier"], submission_id=s.pk, fields={"title": "x"})

    def test_an_operator_of_another_body_gets_404(
        self, draft: Submission, other_operator: User
    ) -> None:
        with pytest.raises(NotVisible):
            update(user=other_operator, submission_id=draft.pk, fields={"title": "x"})

    def test_stale_version_is_409(self, draft: Submission, operator: User) -> None:
        with pytest.raises(Conflict):
            update(user=operator, submission_id=draft.pk, fields={"title": "x"}, version=0)


def submission_act_withdraw(submission: Submission, operator: User) -> Any:
    from workflows.services import submission_act

    return submission_act(user=operator, submission_id=submission.pk, action="withdraw")


class TestEvidence:
    def test_files_are_recognised_by_content_not_name(
        self, draft: Submission, operator: User
    ) -> None:
        fake = SimpleUploadedFile("laporan.pdf", b"just some text, not a pdf at all")
        with pytest.raises(Invalid) as exc:
            evidence_add(user=operator, submission_id=draft.pk, upload=fake)
        assert "PDF, JPEG, PNG" in exc.value.errors["file"][0]
        png = SimpleUploadedFile("foto.pdf", f.PNG_BYTES)
        assert evidence_add(user=operator, submission_id=draft.pk, upload=png).content_type == (
            "image/png"
        )

    def test_the_hash_and_size_are_those_of_the_content(
        self, draft: Submission, operator: User
    ) -> None:
        import hashlib

        e = evidence_add(user=operator, submission_id=draft.pk, upload=f.pdf_upload())
        assert e.sha256 == hashlib.sha256(f.PDF_BYTES).hexdigest()
        assert e.size == len(f.PDF_BYTES)
        with e.file.open("rb") as handle:
            assert handle.read() == f.PDF_BYTES

    def test_an_oversized_file_is_413(
        self, draft: Submission, operator: User, settings: Any
    ) -> None:
        settings.EVIDENCE_MAX_MB = 1
        big = SimpleUploadedFile("besar.pdf", f.PDF_BYTES + b"0" * (1024 * 1024))
        with pytest.raises(TooLarge):
            evidence_add(user=operator, submission_id=draft.pk, upload=big)

    def test_removed_files_stay_stored_and_in_the_trail(
        self, draft: Submission, operator: User
    ) -> None:
        e = draft.evidence.get()
        evidence_remove(user=operator, submission_id=draft.pk, evidence_id=e.pk)
        e.refresh_from_db()
        assert e.removed_at is not None and e.file.storage.exists(str(e.file.name))
        actions = list(TrailEvent.objects.filter(submission=draft).values_list("action", flat=True))
        assert actions[-1] == "evidence_remove"
        with pytest.raises(NotVisible):
            evidence_remove(user=operator, submission_id=draft.pk, evidence_id=e.pk)

    def test_every_download_is_a_trail_event(self, submitted: Submission, auditor: User) -> None:
        e = submitted.evidence.get()
        evidence_download(user=auditor, submission_id=submitted.pk, evidence_id=e.pk)
        event = TrailEvent.objects.filter(submission=submitted).latest("seq")
        assert (event.action, event.actor_name, event.role) == (
            "evidence_download",
            "inspektorat",
            "auditor",
        )
        assert event.files == [{"name": e.name, "sha256": e.sha256}]

    def test_outsiders_cannot_download(self, submitted: Submission, other_operator: User) -> None:
        with pytest.raises(NotVisible):
            evidence_download(
                user=other_operator,
                submission_id=submitted.pk,
                evidence_id=submitted.evidence.get().pk,
            )
