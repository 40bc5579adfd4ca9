"""Flow actions through the API: every action allowed and refused per role and state."""

from __future__ import annotations

from typing import Any

import pytest

from kla.models import Submission
from roles.models import Membership
from roles.roles import Role
from tests import factories as f
from workflows.models import Notification
from workflows.services import submission_act

from .conftest import snapshot, url

pytestmark = pytest.mark.django_db

ROLES = ("operator", "verifier", "consolidator", "auditor")
STATES = ("draft", "submitted", "returned", "verified", "consolidated", "audited")
ACTIONS = ("submit", "withdraw", "approve", "return", "resubmit", "consolidate", "audit")
NOTES = {"return": "Bukti kurang", "resubmit": "Sudah dilengkapi", "audit": ""}

# (state, role) -> the actions that succeed; everything else is refused.
ALLOWED = {
    ("draft", "operator"): {"submit"},
    ("submitted", "operator"): {"withdraw"},
    ("returned", "operator"): {"resubmit"},
    ("submitted", "verifier"): {"approve", "return"},
    ("verified", "consolidator"): {"consolidate", "return"},
    ("consolidated", "auditor"): {"audit"},
}
# Which roles can ever take an action (else 403 before the state is looked at).
EVER = {
    "submit": {"operator"},
    "withdraw": {"operator"},
    "resubmit": {"operator"},
    "approve": {"verifier"},
    "return": {"verifier", "consolidator"},
    "consolidate": {"consolidator"},
    "audit": {"auditor"},
}
TARGETS = {
    ("draft", "submit"): "submitted",
    ("submitted", "withdraw"): "draft",
    ("returned", "resubmit"): "submitted",
    ("submitted", "approve"): "verified",
    ("submitted", "return"): "returned",
    ("verified", "consolidate"): "consolidated",
    ("verified", "return"): "submitted",
    ("consolidated", "audit"): "audited",
}


def expected_refusal(state: str, role: str, action: str) -> int:
    # 403 when no role of the caller ever takes the action; otherwise the state is what
    # stands in the way (409), even where another role takes the same action from it
    # (a verifier's "return" on a verified submission is the consolidator's).
    return 403 if role not in EVER[action] else 409


def act(client: Any, submission: Submission, action: Any, **extra: Any) -> Any:
    return client.post(url(submission, "actions"), {"action": action, **extra}, format="json")


@pytest.fixture
def at_state(draft: Submission, people: dict[str, Any]) -> Any:
    """A submission in ``state``; a draft is one submitted and withdrawn, so reviewers see it."""

    def make(state: str) -> Submission:
        if state == "draft":
            submission = f.advance(draft, "submitted", **people)
            return submission_act(
                user=people["operator"], submission_id=submission.pk, action="withdraw"
            )
        return f.advance(draft, state, **people)

    return make


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_refused_actions_answer_403_or_409_and_change_nothing(
    api: Any, people: dict[str, Any], at_state: Any, state: str, role: str
) -> None:
    submission = at_state(state)
    client = api.as_(people[role])
    before = snapshot(submission)
    allowed = ALLOWED.get((state, role), set())
    for action in ACTIONS:
        if action in allowed:
            continue
        response = act(client, submission, action, note="catatan")
        assert response.status_code == expected_refusal(state, role, action), (action, response)
        assert "detail" in response.json()
    assert snapshot(submission) == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_list_exactly_what_succeeds(
    api: Any, people: dict[str, Any], at_state: Any, state: str, role: str
) -> None:
    submission = at_state(state)
    response = api.as_(people[role]).get(url(submission))
    assert response.status_code == 200
    assert set(response.json()["allowed_actions"]) == ALLOWED.get((state, role), set())


@pytest.mark.parametrize(("state", "action"), sorted(TARGETS))
def test_each_allowed_action_moves_the_state_and_writes_the_trail(
    api: Any,
    people: dict[str, Any],
    at_state: Any,
    state: str,
    action: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    submission = at_state(state)
    role = next(r for (s, r), acts in ALLOWED.items() if s == state and action in acts)
    version = submission.version
    note = NOTES.get(action, "")
    with django_capture_on_commit_callbacks(execute=True):
        response = act(api.as_(people[role]), submission, action, note=note, version=version)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == TARGETS[(state, action)]
    assert data["version"] == version + 1
    event = f.first(submission.trail.order_by("-seq"))
    assert (event.action, event.role, event.from_state, event.to_state, event.note) == (
        action,
        role,
        state,
        TARGETS[(state, action)],
        note,
    )


def test_submit_records_the_files_hashes_and_notifies_verifiers(
    api: Any,
    operator: Any,
    verifier: Any,
    draft: Submission,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = act(api.as_(operator), draft, "submit")
    assert response.status_code == 200
    event = f.first(draft.trail.order_by("-seq"))
    assert event.files == [{"name": "bukti.pdf", "sha256": draft.evidence.get().sha256}]
    assert Notification.objects.filter(user=verifier, kind="state:submitted").count() == 1


def test_a_second_verifier_on_a_stale_state_gets_409(
    api: Any, verifier: Any, verifier2: Any, submitted: Submission
) -> None:
    assert act(api.as_(verifier), submitted, "approve").status_code == 200
    before = snapshot(submitted)
    assert act(api.as_(verifier2), submitted, "approve").status_code == 409
    assert act(api.as_(verifier2), submitted, "return", note="x").status_code == 409
    assert snapshot(submitted) == before


@pytest.mark.parametrize("role", ["verifier", "consolidator", "auditor"])
def test_reviewers_acting_on_a_private_draft_get_404(
    api: Any, people: dict[str, Any], draft: Submission, role: str
) -> None:
    before = snapshot(draft)
    for action in ACTIONS:
        assert act(api.as_(people[role]), draft, action, note="x").status_code == 404
    assert snapshot(draft) == before


def test_stale_version_on_an_action_is_409_and_changes_nothing(
    api: Any, verifier: Any, submitted: Submission
) -> None:
    before = snapshot(submitted)
    response = act(api.as_(verifier), submitted, "approve", version=submitted.version - 1)
    assert response.status_code == 409
    assert snapshot(submitted) == before


def test_null_version_is_the_same_as_none(api: Any, verifier: Any, submitted: Submission) -> None:
    response = act(api.as_(verifier), submitted, "approve", version=None)
    assert response.status_code == 200
    assert response.json()["state"] == "verified"


@pytest.mark.parametrize(("state", "action"), [("submitted", "return"), ("returned", "resubmit")])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_required_note_missing_is_a_400_on_note(
    api: Any, people: dict[str, Any], at_state: Any, state: str, action: str, note: Any
) -> None:
    submission = at_state(state)
    role = "verifier" if action == "return" else "operator"
    before = snapshot(submission)
    response = act(api.as_(people[role]), submission, action, note=note)
    assert response.status_code == 400
    assert "note" in response.json()
    assert snapshot(submission) == before


def test_consolidator_return_without_note_is_400(
    api: Any, consolidator: Any, verified: Submission
) -> None:
    response = act(api.as_(consolidator), verified, "return")
    assert response.status_code == 400
    assert "note" in response.json()


def test_audit_with_findings_keeps_the_note(
    api: Any, auditor: Any, consolidated: Submission
) -> None:
    response = act(api.as_(auditor), consolidated, "audit", note="Temuan: bukti lengkap")
    assert response.status_code == 200
    assert f.first(consolidated.trail.order_by("-seq")).note == "Temuan: bukti lengkap"


def test_submit_without_evidence_is_400_on_evidence(api: Any, operator: Any, db: Any) -> None:
    bare = f.make_draft(operator, with_evidence=False)
    before = snapshot(bare)
    response = act(api.as_(operator), bare, "submit")
    assert response.status_code == 400
    assert "evidence" in response.json()
    assert snapshot(bare) == before


def test_submit_of_an_incomplete_draft_names_each_missing_field(
    api: Any, operator: Any, db: Any
) -> None:
    bare = f.make_draft(operator, title="", indicators=[], details={"kind": "perda"})
    response = act(api.as_(operator), bare, "submit")
    assert response.status_code == 400
    assert {"title", "indicators", "details.number", "details.enacted_on"} <= set(response.json())


def test_withdraw_after_the_consolidator_returned_it_is_409(
    api: Any, operator: Any, consolidator: Any, verified: Submission
) -> None:
    assert act(api.as_(consolidator), verified, "return", note="Cek lagi").status_code == 200
    before = snapshot(verified)
    assert act(api.as_(operator), verified, "withdraw").status_code == 409
    assert snapshot(verified) == before


def test_withdraw_after_a_resubmit_by_the_operator_is_allowed(
    api: Any, operator: Any, returned: Submission
) -> None:
    client = api.as_(operator)
    assert act(client, returned, "resubmit", note="Lengkap").status_code == 200
    response = act(client, returned, "withdraw")
    assert response.status_code == 200
    assert response.json()["state"] == "draft"


# Four eyes -----------------------------------------------------------------------------


@pytest.fixture
def verifier_operator(body: Any) -> Any:
    """P3AP2KB staff: a verifier who is also an operator of the body."""
    user = f.make_role(Role.VERIFIER, "verif-op")
    Membership.objects.create(user=user, body=body)
    return user


def test_verifier_who_created_and_submitted_cannot_approve(
    api: Any, verifier_operator: Any, submitted: Submission, db: Any
) -> None:
    own = f.make_draft(verifier_operator)
    client = api.as_(verifier_operator)
    assert act(client, own, "submit").status_code == 200
    assert "approve" not in client.get(url(own)).json()["allowed_actions"]
    before = snapshot(own)
    response = act(client, own, "approve")
    assert response.status_code == 403
    assert "empat mata" in response.json()["detail"]
    assert snapshot(own) == before
    # Returning is not a four-eyes step: they may still send it back.
    assert client.get(url(own)).json()["allowed_actions"] == ["withdraw", "return"]


def test_verifier_who_only_edited_cannot_approve(
    api: Any, verifier_operator: Any, operator: Any, draft: Submission
) -> None:
    client = api.as_(verifier_operator)
    assert client.patch(url(draft), {"title": "Disunting"}, format="json").status_code == 200
    assert act(api.as_(operator), draft, "submit").status_code == 200
    before = snapshot(draft)
    assert act(api.as_(verifier_operator), draft, "approve").status_code == 403
    assert snapshot(draft) == before


def test_verifier_who_is_an_operator_may_approve_what_others_wrote(
    api: Any, verifier_operator: Any, submitted: Submission
) -> None:
    response = act(api.as_(verifier_operator), submitted, "approve")
    assert response.status_code == 200
    assert response.json()["state"] == "verified"


def test_consolidator_who_uploaded_evidence_cannot_consolidate(
    api: Any, body: Any, operator: Any, people: dict[str, Any], draft: Submission
) -> None:
    author = f.make_role(Role.CONSOLIDATOR, "bapperida-op")
    Membership.objects.create(user=author, body=body)
    upload = {"file": f.pdf_upload("tambahan.pdf")}
    response = api.as_(author).post(url(draft, "evidence"), upload, format="multipart")
    assert response.status_code == 201
    submission = f.advance(draft, "verified", **people)
    client = api.as_(author)
    assert "consolidate" not in client.get(url(submission)).json()["allowed_actions"]
    assert act(client, submission, "consolidate").status_code == 403
    assert submission.state == "verified"


def test_auditor_who_created_it_cannot_audit(
    api: Any, body: Any, people: dict[str, Any], db: Any
) -> None:
    author = f.make_role(Role.AUDITOR, "inspektorat-op")
    Membership.objects.create(user=author, body=body)
    submission = f.advance(f.make_draft(author), "consolidated", **people)
    before = snapshot(submission)
    assert act(api.as_(author), submission, "audit").status_code == 403
    assert snapshot(submission) == before


def test_scoped_verifier_out_of_scope_but_seeing_as_operator_gets_403(
    api: Any, body: Any, other_body: Any, people: dict[str, Any], submitted: Submission
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    Membership.objects.create(user=scoped, body=body)
    client = api.as_(scoped)
    assert client.get(url(submitted)).json()["allowed_actions"] == []
    before = snapshot(submitted)
    response = act(client, submitted, "return", note="x")
    assert response.status_code == 403
    assert snapshot(submitted) == before


def test_scoped_verifier_in_scope_approves(api: Any, body: Any, submitted: Submission) -> None:
    scoped = f.make_scoped_verifier([body], "verif-dinkes")
    response = act(api.as_(scoped), submitted, "approve")
    assert response.status_code == 200
    assert response.json()["state"] == "verified"


# Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["publish", "", None, 5, ["approve"], {"a": 1}, "APPROVE"])
def test_unknown_action_is_a_400_on_action(
    api: Any, verifier: Any, submitted: Submission, action: Any
) -> None:
    before = snapshot(submitted)
    response = act(api.as_(verifier), submitted, action)
    assert response.status_code == 400
    assert "action" in response.json()
    assert snapshot(submitted) == before


def test_missing_action_is_a_400(api: Any, verifier: Any, submitted: Submission) -> None:
    response = api.as_(verifier).post(url(submitted, "actions"), {}, format="json")
    assert response.status_code == 400
    assert "action" in response.json()


@pytest.mark.parametrize("note", [5, ["a"], {"x": None}, True])
def test_note_that_is_not_text_is_a_400(
    api: Any, verifier: Any, submitted: Submission, note: Any
) -> None:
    response = act(api.as_(verifier), submitted, "return", note=note)
    assert response.status_code == 400
    assert "note" in response.json()


@pytest.mark.parametrize("version", ["x", True, [1], {"v": 1}, 1.5])
def test_version_that_is_not_an_integer_is_a_400(
    api: Any, verifier: Any, submitted: Submission, version: Any
) -> None:
    before = snapshot(submitted)
    response = act(api.as_(verifier), submitted, "approve", version=version)
    assert response.status_code == 400
    assert "version" in response.json()
    assert snapshot(submitted) == before


def test_outsider_with_an_unknown_action_still_gets_404(
    api: Any, other_operator: Any, submitted: Submission
) -> None:
    assert act(api.as_(other_operator), submitted, "publish").status_code == 404
