"""The action service: every action allowed and refused for each role, in DESIGN's order."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from kla.drafting import evidence_remove
from kla.errors import Conflict, Forbidden, Invalid, NotVisible
from kla.models import Body, Submission
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import allowed_actions, submission_act

pytestmark = pytest.mark.django_db


def act(user: User, submission: Submission, action: str, note: Any = "", **kw: Any) -> Any:
    return submission_act(user=user, submission_id=submission.pk, action=action, note=note, **kw)


def events(submission: Submission) -> Any:
    return list(
        TrailEvent.objects.filter(submission=submission)
        .order_by("seq")
        .values_list("action", "actor_name", "from_state", "to_state", "note")
    )


class TestHappyPath:
    def test_each_role_takes_its_step_to_audited(
        self, draft: Submission, people: dict[str, Any]
    ) -> None:
        s = act(people["operator"], draft, "submit")
        assert s.state == "submitted"
        s = act(people["verifier"], s, "return", note="Lampirkan SK yang ditandatangani")
        assert s.state == "returned"
        s = act(people["operator"], s, "resubmit", note="SK bertanda tangan dilampirkan")
        assert s.state == "submitted"
        s = act(people["verifier"], s, "approve")
        assert s.state == "verified"
        s = act(people["consolidator"], s, "consolidate")
        assert s.state == "consolidated"
        s = act(people["auditor"], s, "audit", note="")
        assert s.state == "audited"
        assert [e[0] for e in events(s)] == [
            "create",
            "evidence_upload",
            "submit",
            "return",
            "resubmit",
            "approve",
            "consolidate",
            "audit",
        ]

    def test_each_action_bumps_the_version(self, draft: Submission, people: dict[str, Any]) -> None:
        before = draft.version
        s = act(people["operator"], draft, "submit")
        assert s.version == before + 1

    def test_submit_records_details_and_file_hashes_in_the_trail(
        self, draft: Submission, operator: User
    ) -> None:
        act(operator, draft, "submit")
        event = TrailEvent.objects.get(submission=draft, action="submit")
        evidence = draft.evidence.get()
        assert event.files == [{"name": evidence.name, "sha256": evidence.sha256}]
        assert event.data["details"] == f.COMPLETE_DETAILS["regulation"]
        assert event.data["indicators"] == [17]

    def test_a_second_return_keeps_the_first_reason(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        s = act(people["verifier"], submitted, "return", note="Alasan pertama")
        s = act(people["operator"], s, "resubmit", note="Perbaikan pertama")
        s = act(people["verifier"], s, "return", note="Alasan kedua")
        notes = [e[4] for e in events(s) if e[0] == "return"]
        assert notes == ["Alasan pertama", "Alasan kedua"]

    def test_consolidator_returns_a_verified_submission_to_the_verifier(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        s = act(people["verifier"], submitted, "approve")
        s = act(people["consolidator"], s, "return", note="Angka realisasi tidak cocok")
        assert s.state == "submitted"
        assert events(s)[-1][2:] == ("verified", "submitted", "Angka realisasi tidak cocok")


class TestRefusals:
    @pytest.mark.parametrize(
        ("who", "action"),
        [
            ("operator", "approve"),
            ("operator", "consolidate"),
            ("operator", "audit"),
            ("verifier", "submit"),
            ("verifier", "consolidate"),
            ("verifier", "audit"),
            ("consolidator", "approve"),
            ("consolidator", "audit"),
            ("auditor", "approve"),
            ("auditor", "return"),
            ("auditor", "withdraw"),
        ],
    )
    def test_a_role_that_can_never_take_the_action_gets_403(
        self, submitted: Submission, people: dict[str, Any], who: str, action: str
    ) -> None:
        with pytest.raises(Forbidden):
            act(people[who], submitted, action, note="catatan")
        submitted.refresh_from_db()
        assert submitted.state == "submitted"

    def test_a_verifier_returning_what_is_already_verified_gets_409(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        # the verifier's return leaves "submitted"; from "verified" only BAPPERIDA returns
        s = act(people["verifier"], submitted, "approve")
        with pytest.raises(Conflict):
            act(people["verifier"], s, "return", note="x")

    @pytest.mark.parametrize(
        ("state", "who", "action"),
        [
            ("submitted", "operator", "submit"),
            ("submitted", "operator", "resubmit"),
            ("verified", "verifier", "approve"),
            ("verified", "operator", "withdraw"),
            ("consolidated", "consolidator", "consolidate"),
            ("audited", "auditor", "audit"),
            ("returned", "verifier", "approve"),
        ],
    )
    def test_an_action_the_state_does_not_allow_gets_409(
        self, draft: Submission, people: dict[str, Any], state: str, who: str, action: str
    ) -> None:
        s = f.advance(draft, state, **people)
        with pytest.raises(Conflict):
            act(people[who], s, action, note="catatan")
        assert Submission.objects.get(pk=s.pk).state == state

    def test_a_withdrawn_submission_stays_visible_but_cannot_be_approved(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        s = act(people["operator"], submitted, "withdraw")
        assert s.state == "draft"
        with pytest.raises(Conflict):
            act(people["verifier"], s, "approve")

    def test_unknown_action_is_400(self, submitted: Submission, verifier: User) -> None:
        with pytest.raises(Invalid) as exc:
            act(verifier, submitted, "publish")
        assert "action" in exc.value.errors

    def test_unknown_action_on_an_invisible_submission_is_404_first(
        self, draft: Submission, verifier: User
    ) -> None:
        with pytest.raises(NotVisible):
            act(verifier, draft, "publish")

    @pytest.mark.parametrize("action", ["return", "resubmit"])
    def test_a_reason_is_required(
        self, draft: Submission, people: dict[str, Any], action: str
    ) -> None:
        s = f.advance(draft, "submitted" if action == "return" else "returned", **people)
        who = people["verifier"] if action == "return" else people["operator"]
        before = (s.state, s.version, len(events(s)))
        with pytest.raises(Invalid) as exc:
            act(who, s, action, note="   ")
        assert "note" in exc.value.errors
        s.refresh_from_db()
        assert (s.state, s.version, len(events(s))) == before

    def test_submit_without_evidence_names_what_is_missing(self, operator: User) -> None:
        s = f.make_draft(operator, with_evidence=False, title="", details={})
        with pytest.raises(Invalid) as exc:
            act(operator, s, "submit")
        assert {"title", "evidence", "details.kind", "details.number"} <= set(exc.value.errors)
        s.refresh_from_db()
        assert s.state == "draft"

    def test_submit_after_the_evidence_was_removed_is_refused(
        self, draft: Submission, operator: User
    ) -> None:
        evidence_remove(user=operator, submission_id=draft.pk, evidence_id=draft.evidence.get().pk)
        with pytest.raises(Invalid) as exc:
            act(operator, draft, "submit")
        assert list(exc.value.errors) == ["evidence"]

    def test_stale_version_is_409(self, submitted: Submission, verifier: User) -> None:
        with pytest.raises(Conflict):
            act(verifier, submitted, "approve", version=submitted.version - 1)
        assert act(verifier, submitted, "approve", version=submitted.version).state == "verified"

    def test_an_outsider_gets_404(
        self, submitted: Submission, other_operator: User, outsider: User
    ) -> None:
        for person in (other_operator, outsider):
            with pytest.raises(NotVisible):
                act(person, submitted, "approve")

    def test_a_superuser_is_not_a_flow_actor(
        self, draft: Submission, submitted: Submission, superuser: User
    ) -> None:
        with pytest.raises(NotVisible):
            act(superuser, submitted, "approve")


class TestWithdraw:
    def test_operator_withdraws_their_own_submit(
        self, submitted: Submission, operator: User
    ) -> None:
        assert act(operator, submitted, "withdraw").state == "draft"

    def test_not_after_the_consolidator_returned_it(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        s = act(people["verifier"], submitted, "approve")
        s = act(people["consolidator"], s, "return", note="Periksa lagi")
        with pytest.raises(Conflict):
            act(people["operator"], s, "withdraw")

    def test_not_once_a_verifier_has_opened_the_evidence(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        from kla.drafting import evidence_download

        evidence_download(
            user=people["verifier"],
            submission_id=submitted.pk,
            evidence_id=submitted.evidence.get().pk,
        )
        assert "withdraw" not in allowed_actions(user=people["operator"], submission=submitted)
        with pytest.raises(Conflict):
            act(people["operator"], submitted, "withdraw")

    def test_still_after_the_bodys_own_operators_read_the_files(
        self, submitted: Submission, body: Body, people: dict[str, Any]
    ) -> None:
        from kla.drafting import evidence_download

        colleague = f.make_operator(body, "op-dinkes-2")
        for reader, preview in ((people["operator"], True), (colleague, False)):
            evidence_download(
                user=reader,
                submission_id=submitted.pk,
                evidence_id=submitted.evidence.get().pk,
                preview=preview,
            )
        assert "withdraw" in allowed_actions(user=people["operator"], submission=submitted)
        assert act(people["operator"], submitted, "withdraw").state == "draft"

    def test_not_once_a_verifier_has_previewed_a_file_after_the_operator(
        self, submitted: Submission, people: dict[str, Any]
    ) -> None:
        from kla.drafting import evidence_download

        for reader in (people["verifier"], people["operator"]):
            evidence_download(
                user=reader,
                submission_id=submitted.pk,
                evidence_id=submitted.evidence.get().pk,
                preview=True,
            )
        assert "withdraw" not in allowed_actions(user=people["operator"], submission=submitted)
        with pytest.raises(Conflict):
            act(people["operator"], submitted, "withdraw")

    def test_not_another_operators_submit(self, submitted: Submission, body: Body) -> None:
        colleague = f.make_operator(body, "op-dinkes-2")
        assert "withdraw" not in allowed_actions(user=colleague, submission=submitted)
        with pytest.raises(Conflict):
            act(colleague, submitted, "withdraw")


class TestFourEyes:
    def test_a_verifier_who_created_the_submission_cannot_approve_it(
        self, body: Body, verifier2: User
    ) -> None:
        verifier = f.make_role(f.Role.VERIFIER, "verifikator")
        f.Membership.objects.create(user=verifier, body=body)
        s = act(verifier, f.make_draft(verifier), "submit")
        assert "approve" not in allowed_actions(user=verifier, submission=s)
        with pytest.raises(Forbidden):
            act(verifier, s, "approve")
        # returning is not approving: four eyes does not bar it
        assert "return" in allowed_actions(user=verifier, submission=s)
        assert act(verifier2, s, "approve").state == "verified"

    def test_an_operator_who_only_edited_cannot_audit(
        self, draft: Submission, body: Body, people: dict[str, Any]
    ) -> None:
        auditor_operator = f.make_role(f.Role.AUDITOR, "auditor-operator")
        f.Membership.objects.create(user=auditor_operator, body=body)
        from kla.drafting import submission_update

        submission_update(
            user=auditor_operator, submission_id=draft.pk, fields={"title": "Judul baru"}
        )
        s = f.advance(draft, "consolidated", **people)
        with pytest.raises(Forbidden):
            act(auditor_operator, s, "audit")


class TestScope:
    def test_a_scoped_verifier_acts_only_on_bodies_in_scope(
        self, operator: User, body: Body, other_body: Body
    ) -> None:
        scoped = f.make_scoped_verifier([body], "verif-dinkes")
        mine = act(operator, f.make_draft(operator), "submit")
        theirs_operator = f.make_operator(other_body, "op-dinsos")
        theirs = act(theirs_operator, f.make_draft(theirs_operator), "submit")
        assert act(scoped, mine, "approve").state == "verified"
        with pytest.raises(NotVisible):
            act(scoped, theirs, "approve")


class TestLate:
    def test_submitted_after_the_deadline_day_is_marked_late_for_good(
        self, draft: Submission, people: dict[str, Any]
    ) -> None:
        # The deadline (1 April 2026) is past by now: the first submit is late.
        s = act(people["operator"], draft, "submit")
        assert s.late is True
        s = act(people["operator"], s, "withdraw")
        draft.instruction.deadline = draft.instruction.deadline.replace(year=2999)
        draft.instruction.save()
        s = act(people["operator"], s, "submit")
        assert s.late is True

    def test_submitted_before_the_deadline_is_not_late(
        self, draft: Submission, operator: User
    ) -> None:
        draft.instruction.deadline = draft.instruction.deadline.replace(year=2999)
        draft.instruction.save()
        assert act(operator, draft, "submit").late is False


def test_a_refusal_names_the_action_in_words_not_its_code(
    submitted: Submission, people: dict[str, Any]
) -> None:
    with pytest.raises(Conflict) as refused:
        act(people["operator"], submitted, "submit")
    assert "“Ajukan untuk verifikasi”" in str(refused.value.message)
    assert "'submit'" not in str(refused.value.message)
    with pytest.raises(Forbidden) as forbidden:
        act(people["operator"], submitted, "approve")
    assert "“Setujui (verifikasi)”" in str(forbidden.value.message)
