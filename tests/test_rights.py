"""The rights of every page and endpoint, as one table, in the manner of NetBox's view tests.

Each row is a request (every page, the admin and every endpoint; signing in to the API has
its own tests in ``tests/kla/test_api_access.py``) and what four people get from it, in
this order: the person allowed to do it, the person who may look but not act (``-`` where
nobody is in between), the outsider (an operator of another body, or somebody with no role)
and the anonymous caller. Pages send anonymous people to the login page (302); the API
answers them 401, except for its schema, which is public. The person allowed goes last,
because their request may change what the others would see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from kla.models import Evidence, Export, Indicator, Requirement, Submission
from kla.reports.exports import export_request, export_run
from tests import factories as f
from workflows.models import Finding, FollowUpFile, Notification, TrailEvent
from workflows.notifications.outbox import relay_run
from workflows.supervision.findings import finding_create, follow_up_post
from workflows.trail.checkpoints import checkpoint_cut

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """What the requests are about, built through the services."""

    people: dict[str, User]
    submitted: Submission
    returned: Submission
    verified: Submission
    evidence: Evidence
    returned_evidence: Evidence
    export: Export
    notification: Notification


@dataclass(frozen=True)
class Right:
    """One request, and the status each of its four people gets."""

    api: bool
    method: str
    name: str
    path: Callable[[World], str]
    expect: str
    data: Callable[[World], dict[str, Any]] | None = None

    def people(self) -> list[tuple[str, int]]:
        """``(who, status)`` in the order they ask: anonymous, outsider, read-only, allowed."""
        allowed, read_only, outsider, anonymous = (p.split() for p in self.expect.split("|"))
        rows = [("anonymous", int(anonymous[-1])), (outsider[0], int(outsider[1]))]
        if read_only != ["-"]:
            rows.append((read_only[0], int(read_only[1])))
        return [*rows, (allowed[0], int(allowed[1]))]


Path = Callable[[World], Any]


def page(method: str, name: str, *args: Path, expect: str, data: Any = None) -> Right:
    def path(w: World) -> str:
        return reverse(name, args=[a(w) for a in args])

    return Right(False, method, name, path, expect, data)


def endpoint(method: str, template: str, expect: str, data: Any = None) -> Right:
    def path(w: World) -> str:
        return "/api/v1/" + template.format(w=w)

    return Right(True, method, template, path, expect, data)


def S(w: World) -> int:
    return w.submitted.pk


def R(w: World) -> int:
    return w.returned.pk


def _finding(w: World, title: str, *, responded: bool = False) -> Finding:
    """A finding on the submitted submission, made once per world (the allowed person goes
    last, so the others see it as it was); ``responded``: its body has answered."""
    found = Finding.objects.filter(title=title).first()
    if found is not None:
        return found
    finding = finding_create(
        user=w.people["auditor"],
        submission=w.submitted.pk,
        title=title,
        condition="Kondisi",
        criteria="Kriteria",
        recommendations=["Rekomendasi"],
    )
    if responded:
        follow_up_post(
            user=w.people["operator"],
            finding_id=finding.pk,
            recommendation_id=f.first(finding.recommendations.all()).pk,
            note="Sudah",
            uploads=[f.pdf_upload("tindak-lanjut.pdf")],
        )
    return finding


def FD(w: World) -> int:
    return _finding(w, "Temuan").pk


def RD(w: World) -> int:
    return f.first(_finding(w, "Temuan").recommendations.all()).pk


def FR(w: World) -> int:
    return _finding(w, "Dijawab", responded=True).pk


def FF(w: World) -> int:
    """The file the body sent with its answer to the "Dijawab" finding."""
    finding = _finding(w, "Dijawab", responded=True)
    return f.first(FollowUpFile.objects.filter(entry__recommendation__finding=finding)).pk


def RR(w: World) -> int:
    return f.first(_finding(w, "Dijawab", responded=True).recommendations.all()).pk


def endpoint_at(
    method: str, name: str, path: Callable[[World], str], expect: str, data: Any = None
) -> Right:
    """An endpoint whose path needs a finding made lazily (``name`` is the row's id)."""
    return Right(True, method, name, path, expect, data)


def CP(w: World) -> int:
    """The size of a checkpoint of the world as it is (cut when the tree grew since the last)."""
    checkpoint = checkpoint_cut()
    assert checkpoint is not None
    return checkpoint.tree_size


def EV(w: World) -> int:
    """The submitted submission's first event, in a checkpoint."""
    CP(w)
    return f.first(TrailEvent.objects.filter(submission=w.submitted).order_by("seq")).pk


def after_cut(path: str) -> Callable[[World], str]:
    """An endpoint's path, once a checkpoint of the world is stored."""

    def cut_then(w: World) -> str:
        CP(w)
        return path

    return cut_then


def inclusion(stream: Callable[[World], str]) -> Callable[[World], str]:
    """The inclusion proof of an event with ``seq`` 1, once a checkpoint holds it."""

    def path(w: World) -> str:
        CP(w)
        return f"/api/v1/trail/proof/inclusion/?stream={stream(w)}&seq=1"

    return path


FINDING_IN = {"agency": "dinkes", "title": "Tidak melapor", "condition": "K", "criteria": "R",
              "recommendations": ["Ajukan"]}  # fmt: skip


EDIT = {
    "title": "Perwali KTR (perbaikan)",
    "years": ["2025"],
    "indicators": ["17"],
    "detail_kind": "perwali",
    "detail_number": "12/2025",
    "detail_enacted_on": "2025-02-01",
}
NIHIL = {"category": "innovation", "reason": "Belum ada"}
NOTE_IN = {"agency": "dinkes", "note": "Lengkapi SK gugus tugas"}
REQUIREMENT_IN = {"code": "2.9", "indicator": "2", "label": "SK Gugus Tugas KLA"}


def RQ(w: World) -> int:
    """A requirement of the checklist no file serves, made once per world."""
    made, _ = Requirement.objects.get_or_create(
        instruction=w.submitted.instruction,
        code="17.9",
        defaults={"indicator": Indicator.objects.get(number=17), "label": "Perwali KTR"},
    )
    return made.pk


def TK(w: World) -> str:
    """The id of an API token of the operator's, made when first asked (the oldest: every call
    gets a token of its own, made after this one)."""
    if not AuthToken.objects.filter(user=w.people["operator"]).exists():
        f.api_token(w.people["operator"])
    oldest = AuthToken.objects.filter(user=w.people["operator"]).order_by("created").first()
    return str(oldest.token_key)


# fmt: off
PAGES = [
    page("get", "home", expect="operator 302 | - | outsider 302 | 302"),
    page("get", "login", expect="operator 302 | - | outsider 302 | 200"),
    page("get", "password_reset", expect="operator 200 | - | outsider 200 | 200"),
    page("get", "admin:index", expect="superuser 200 | - | operator 302 | 302"),
    page("get", "healthz", expect="operator 200 | - | outsider 200 | 200"),
    page("get", "tasks", expect="operator 200 | verifier 200 | outsider 200 | 302"),
    page("get", "body-search", expect="operator 200 | - | outsider 200 | 302"),
    page("get", "submission-list", expect="operator 200 | auditor 200 | outsider 200 | 302"),
    page("get", "submission-new", lambda w: "regulation",
         expect="operator 200 | verifier 403 | outsider 403 | 302"),
    page("get", "submission-detail", S,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("get", "submission-edit", R,
         expect="operator 200 | verifier 403 | other_operator 404 | 302"),
    page("post", "submission-edit", R, data=lambda w: EDIT,
         expect="operator 302 | verifier 403 | other_operator 404 | 302"),
    page("post", "submission-action", S, data=lambda w: {"action": "approve"},
         expect="verifier 302 | operator 403 | other_operator 404 | 302"),
    page("post", "evidence-upload", R, data=lambda w: {"file": f.pdf_upload()},
         expect="operator 302 | verifier 403 | other_operator 404 | 302"),
    page("get", "evidence-download", S, lambda w: w.evidence.pk,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("get", "evidence-view", S, lambda w: w.evidence.pk,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("get", "evidence-inline", S, lambda w: w.evidence.pk,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("post", "evidence-remove", R, lambda w: w.returned_evidence.pk,
         expect="operator 302 | verifier 403 | other_operator 404 | 302"),
    page("post", "evidence-tag", R, lambda w: w.returned_evidence.pk,
         data=lambda w: {"kind": "data"},
         expect="operator 302 | verifier 403 | other_operator 404 | 302"),
    page("get", "nihil", expect="operator 200 | verifier 200 | outsider 404 | 302"),
    page("post", "nihil", data=lambda w: NIHIL,
         expect="operator 302 | verifier 403 | outsider 404 | 302"),
    page("get", "trail-list", expect="auditor 200 | verifier 200 | operator 404 | 302"),
    page("get", "trail-download", lambda w: "csv",
         expect="auditor 200 | consolidator 403 | operator 404 | 302"),
    page("get", "trail-proof", EV,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("post", "trail-bundle", expect="auditor 302 | consolidator 403 | operator 404 | 302"),
    page("get", "coverage", expect="consolidator 200 | auditor 200 | operator 404 | 302"),
    page("get", "coverage-indicator", lambda w: 17,
         expect="consolidator 200 | verifier 200 | operator 404 | 302"),
    page("get", "consolidation", expect="consolidator 200 | verifier 200 | operator 404 | 302"),
    page("post", "consolidation",
         data=lambda w: {"action": "consolidate", "pilih": [str(w.verified.pk)]},
         expect="consolidator 200 | auditor 403 | operator 404 | 302"),
    page("get", "exports", expect="consolidator 200 | auditor 200 | operator 403 | 302"),
    page("post", "exports", data=lambda w: {"kind": "rekap_xlsx"},
         expect="consolidator 302 | - | operator 403 | 302"),
    page("post", "exports", data=lambda w: {"kind": "trail_bundle"},
         expect="auditor 302 | verifier 403 | operator 403 | 302"),
    page("get", "export-file", lambda w: w.export.pk,
         expect="consolidator 200 | verifier 404 | operator 404 | 302"),
    page("get", "compliance", expect="verifier 200 | auditor 200 | operator 404 | 302"),
    page("post", "compliance-remind", data=lambda w: {"agency": "dinkes"},
         expect="consolidator 302 | auditor 403 | operator 404 | 302"),
    page("get", "monitoring", expect="operator 200 | verifier 200 | outsider 404 | 302"),
    page("post", "monitoring", data=lambda w: NOTE_IN,
         expect="verifier 302 | auditor 403 | outsider 404 | 302"),
    page("get", "requirements", expect="verifier 200 | operator 200 | outsider 404 | 302"),
    page("get", "requirement-new", expect="verifier 200 | operator 403 | outsider 404 | 302"),
    page("post", "requirement-new", data=lambda w: REQUIREMENT_IN,
         expect="verifier 302 | consolidator 403 | outsider 404 | 302"),
    page("get", "requirement-edit", RQ,
         expect="superuser 200 | auditor 403 | outsider 404 | 302"),
    page("post", "requirement-edit", RQ, data=lambda w: REQUIREMENT_IN,
         expect="superuser 302 | operator 403 | outsider 404 | 302"),
    page("post", "requirement-remove", RQ,
         expect="verifier 302 | consolidator 403 | outsider 404 | 302"),
    page("post", "instruction-choose", data=lambda w: {"instruction": "", "next": "/tugas/"},
         expect="operator 302 | - | outsider 302 | 302"),
    page("get", "finding-list", expect="auditor 200 | verifier 200 | outsider 404 | 302"),
    page("get", "finding-matrix", expect="auditor 200 | verifier 200 | operator 404 | 302"),
    page("get", "finding-new", expect="auditor 200 | verifier 403 | outsider 404 | 302"),
    page("post", "finding-new", data=lambda w: FINDING_IN,
         expect="auditor 302 | verifier 403 | outsider 404 | 302"),
    page("get", "finding-detail", FD,
         expect="operator 200 | auditor 200 | other_operator 404 | 302"),
    page("get", "finding-file", FR, FF,
         expect="auditor 200 | consolidator 200 | other_operator 404 | 302"),
    page("post", "finding-follow-up", FD, RD, data=lambda w: {f"r{RD(w)}-note": "Sudah"},
         expect="operator 302 | auditor 403 | other_operator 404 | 302"),
    page("post", "finding-assess", FR, RR, data=lambda w: {f"r{RR(w)}-status": "resolved"},
         expect="auditor 302 | consolidator 403 | other_operator 404 | 302"),
    page("get", "notifications", expect="verifier 200 | - | outsider 200 | 302"),
    page("post", "notifications-read-all", expect="verifier 302 | - | outsider 302 | 302"),
    page("get", "notification-open", lambda w: w.notification.pk,
         expect="verifier 302 | - | operator 404 | 302"),
]

ENDPOINTS = [
    endpoint("get", "auth/tokens/", "operator 200 | - | outsider 200 | 401"),
    endpoint_at("delete", "auth/tokens/{id}/", lambda w: f"/api/v1/auth/tokens/{TK(w)}/",
                "operator 204 | verifier 404 | outsider 404 | 401"),
    endpoint("post", "auth/logout/", "operator 204 | - | outsider 204 | 401"),
    endpoint("post", "auth/logout-all/", "operator 204 | - | outsider 204 | 401"),
    endpoint("get", "instructions/", "operator 200 | - | outsider 200 | 401"),
    endpoint("get", "bodies/", "operator 200 | - | outsider 200 | 401"),
    endpoint("get", "submissions/", "operator 200 | auditor 200 | outsider 200 | 401"),
    endpoint("post", "submissions/", "operator 201 | verifier 403 | outsider 403 | 401",
             data=lambda w: {"category": "regulation", "title": "Perwali baru"}),
    endpoint("get", "submissions/{w.submitted.pk}/",
             "operator 200 | consolidator 200 | other_operator 404 | 401"),
    endpoint("patch", "submissions/{w.returned.pk}/",
             "operator 200 | verifier 403 | other_operator 404 | 401",
             data=lambda w: {"title": "Baru"}),
    endpoint("post", "submissions/{w.returned.pk}/evidence/",
             "operator 201 | verifier 403 | other_operator 404 | 401",
             data=lambda w: {"file": f.pdf_upload()}),
    endpoint("get", "submissions/{w.submitted.pk}/evidence/{w.evidence.pk}/",
             "operator 200 | auditor 200 | other_operator 404 | 401"),
    endpoint("delete", "submissions/{w.returned.pk}/evidence/{w.returned_evidence.pk}/",
             "operator 204 | verifier 403 | other_operator 404 | 401"),
    endpoint("patch", "submissions/{w.returned.pk}/evidence/{w.returned_evidence.pk}/",
             "operator 200 | verifier 403 | other_operator 404 | 401",
             data=lambda w: {"kind": "data"}),
    endpoint("post", "submissions/{w.submitted.pk}/actions/",
             "verifier 200 | operator 403 | other_operator 404 | 401",
             data=lambda w: {"action": "approve"}),
    endpoint("get", "submissions/{w.submitted.pk}/trail/",
             "operator 200 | auditor 200 | other_operator 404 | 401"),
    endpoint("get", "tasks/", "verifier 200 | - | outsider 200 | 401"),
    endpoint("get", "notifications/", "verifier 200 | - | outsider 200 | 401"),
    endpoint("post", "notifications/read/", "verifier 200 | - | outsider 200 | 401"),
    endpoint("post", "notifications/{w.notification.pk}/read/",
             "verifier 200 | - | operator 404 | 401"),
    endpoint("post", "nihil/", "operator 201 | verifier 403 | outsider 403 | 401",
             data=lambda w: NIHIL),
    endpoint("get", "compliance/", "verifier 200 | auditor 200 | operator 404 | 401"),
    endpoint("post", "compliance/reminders/", "verifier 201 | auditor 403 | outsider 403 | 401",
             data=lambda w: {"agency": "dinkes"}),
    endpoint("get", "monitoring-notes/", "operator 200 | consolidator 200 | outsider 404 | 401"),
    endpoint("post", "monitoring-notes/", "consolidator 201 | auditor 403 | operator 403 | 401",
             data=lambda w: NOTE_IN),
    endpoint("get", "coverage/", "consolidator 200 | verifier 200 | operator 404 | 401"),
    endpoint("get", "requirements/", "consolidator 200 | operator 200 | outsider 404 | 401"),
    endpoint("post", "exports/", "consolidator 201 | - | operator 403 | 401",
             data=lambda w: {"kind": "rekap_xlsx"}),
    endpoint("post", "exports/", "auditor 201 | consolidator 403 | operator 403 | 401",
             data=lambda w: {"kind": "trail_bundle"}),
    endpoint("get", "exports/{w.export.pk}/",
             "consolidator 200 | verifier 404 | operator 404 | 401"),
    endpoint("get", "exports/{w.export.pk}/download/",
             "consolidator 200 | auditor 404 | operator 404 | 401"),
    endpoint("get", "findings/", "operator 200 | verifier 200 | outsider 404 | 401"),
    endpoint("get", "findings/matrix/", "auditor 200 | consolidator 200 | operator 404 | 401"),
    endpoint("post", "findings/", "auditor 201 | verifier 403 | outsider 403 | 401",
             data=lambda w: FINDING_IN),
    endpoint_at("get", "findings/{id}/", lambda w: f"/api/v1/findings/{FD(w)}/",
                "operator 200 | consolidator 200 | other_operator 404 | 401"),
    endpoint_at("get", "findings/{id}/files/{fid}/",
                lambda w: f"/api/v1/findings/{FR(w)}/files/{FF(w)}/",
                "auditor 200 | operator 200 | other_operator 404 | 401"),
    endpoint_at("patch", "findings/{id}/", lambda w: f"/api/v1/findings/{FD(w)}/",
                "auditor 200 | verifier 403 | other_operator 404 | 401",
                data=lambda w: {"title": "Temuan"}),
    endpoint_at("post", "findings/{id}/recommendations/",
                lambda w: f"/api/v1/findings/{FD(w)}/recommendations/",
                "auditor 201 | verifier 403 | other_operator 404 | 401",
                data=lambda w: {"text": "Tambahan"}),
    endpoint_at("post", "findings/{id}/recommendations/{rid}/follow-ups/",
                lambda w: f"/api/v1/findings/{FD(w)}/recommendations/{RD(w)}/follow-ups/",
                "operator 200 | auditor 403 | other_operator 404 | 401",
                data=lambda w: {"note": "Sudah", "file": f.pdf_upload()}),
    endpoint_at("post", "findings/{id}/recommendations/{rid}/assessment/",
                lambda w: f"/api/v1/findings/{FR(w)}/recommendations/{RR(w)}/assessment/",
                "auditor 200 | consolidator 403 | other_operator 404 | 401",
                data=lambda w: {"status": "resolved"}),
    endpoint("get", "trail/key/", "operator 200 | - | outsider 200 | 401"),
    endpoint("get", "trail/checkpoints/", "operator 200 | - | outsider 200 | 401"),
    endpoint_at("get", "trail/checkpoints/latest/",
                after_cut("/api/v1/trail/checkpoints/latest/"),
                "operator 200 | - | outsider 200 | 401"),
    endpoint_at("get", "trail/proof/inclusion/ (a submission)",
                inclusion(lambda w: w.submitted.stream),
                "operator 200 | verifier 200 | other_operator 404 | 401"),
    endpoint_at("get", "trail/proof/inclusion/ (the system stream)",
                inclusion(lambda w: "system"),
                "auditor 200 | consolidator 200 | verifier 404 | 401"),
    endpoint_at("get", "trail/proof/consistency/",
                lambda w: f"/api/v1/trail/proof/consistency/?first={CP(w)}",
                "operator 200 | - | outsider 200 | 401"),
    endpoint("get", "schema/", "operator 200 | - | outsider 200 | 200"),
]
# fmt: on


@pytest.fixture
def world(
    operator: User,
    other_operator: User,
    verifier: User,
    consolidator: User,
    auditor: User,
    outsider: User,
    superuser: User,
    submitted: Submission,
    django_capture_on_commit_callbacks: Any,
) -> World:
    people = {
        "operator": operator,
        "other_operator": other_operator,
        "verifier": verifier,
        "consolidator": consolidator,
        "auditor": auditor,
        "outsider": outsider,
        "superuser": superuser,
    }
    flow = {k: people[k] for k in ("operator", "verifier", "consolidator", "auditor")}
    returned = f.advance(f.make_draft(operator, title="Dikembalikan"), "returned", **flow)
    verified = f.advance(f.make_draft(operator, title="Terverifikasi"), "verified", **flow)
    export = export_request(user=consolidator, kind="rekap_xlsx")
    export_run(export_id=export.pk)
    relay_run()  # beat is alive, so /healthz/ answers 200
    return World(
        people=people,
        submitted=submitted,
        returned=returned,
        verified=verified,
        evidence=f.first(submitted.evidence.all()),
        returned_evidence=f.first(returned.evidence.all()),
        export=export,
        notification=f.first(Notification.objects.filter(user=verifier)),
    )


def _call(right: Right, w: World, who: str) -> int:
    client: Client | APIClient
    if right.api:
        client = APIClient()
        if who != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(w.people[who])}")
    else:
        client = Client()
        if who != "anonymous":
            client.force_login(w.people[who])
    data = right.data(w) if right.data else None
    kwargs: dict[str, Any] = {}
    if right.api and data is not None and right.method != "get":
        multipart = any(hasattr(v, "read") for v in data.values())
        kwargs["format"] = "multipart" if multipart else "json"
    status: int = getattr(client, right.method)(right.path(w), data, **kwargs).status_code
    return status


@pytest.mark.parametrize(
    "right",
    [*PAGES, *ENDPOINTS],
    ids=lambda r: f"{'api' if r.api else 'page'} {r.method} {r.name}",
)
def test_who_gets_what(right: Right, world: World) -> None:
    expected = right.people()
    got = [(who, _call(right, world, who)) for who, _status in expected]
    assert got == expected
