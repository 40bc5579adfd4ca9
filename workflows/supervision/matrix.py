"""The follow-up matrix (matriks tindak lanjut) and the recommendations waiting for someone.

The matrix has one row per body with findings in scope: how many findings (and how many of
them still open), its recommendations counted under each status's name, how many are
``overdue`` (past due while the body still owes them, ``BODY_OWES``: the same rule the
sweep escalates by) and whether the body has no active operator to follow anything up.
Counted in a fixed number of queries, whatever the number of bodies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kla.models import Body, Instruction
from roles.models import Membership
from roles.permissions import may_record_findings
from roles.roles import Role, Roles
from workflows.models import Finding, Recommendation, RecommendationStatus
from workflows.models.followup import BODY_OWES
from workflows.models.supervision import FINAL_STATUSES
from workflows.supervision.findings import findings_visible_to

STATUSES: tuple[str, ...] = tuple(RecommendationStatus.values)
# A finding is open while any of its recommendations is in one of these.
PENDING = [status for status in STATUSES if status not in FINAL_STATUSES]


@dataclass
class MatrixRow:
    """One body's line of the matrix."""

    agency: str
    body_name: str
    no_operator: bool
    findings: int = 0
    findings_open: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    overdue: int = 0

    @property
    def recommendations(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, object]:
        """The API's shape: counts under each status's name, beside ``overdue``."""
        return {
            "agency": self.agency,
            "body": self.body_name,
            "no_operator": self.no_operator,
            "findings": self.findings,
            "findings_open": self.findings_open,
            "recommendations": self.recommendations,
            **self.counts,
            "overdue": self.overdue,
        }


def matrix_findings(roles: Roles, instruction: Instruction | None) -> QuerySet[Finding]:
    """The findings the matrix counts: those the person sees, of one instruction or all."""
    findings = findings_visible_to(roles)
    return findings if instruction is None else findings.filter(instruction=instruction)


def followup_matrix(
    *, roles: Roles, instruction: Instruction | None = None, now: dt.datetime | None = None
) -> list[MatrixRow]:
    """The matrix of the findings these roles see (every instruction's when none is given),
    bodies by name."""
    now = now if now is not None else timezone.now()
    findings = matrix_findings(roles, instruction)
    recommendations = Recommendation.objects.filter(finding__in=findings)
    per_body = findings.values("body_id").annotate(
        n=Count("id", distinct=True),
        open=Count("id", filter=Q(recommendations__status__in=PENDING), distinct=True),
    )
    body_ids = [row["body_id"] for row in per_body]
    bodies = Body.objects.in_bulk(body_ids)
    operated = set(
        Membership.objects.filter(body_id__in=body_ids, user__is_active=True).values_list(
            "body_id", flat=True
        )
    )
    rows = {
        body_id: MatrixRow(
            agency=bodies[body_id].code,
            body_name=bodies[body_id].name,
            no_operator=body_id not in operated,
        )
        for body_id in body_ids
    }
    for counted in per_body:
        rows[counted["body_id"]].findings = counted["n"]
        rows[counted["body_id"]].findings_open = counted["open"]
    by_status = recommendations.values("finding__body_id", "status").annotate(n=Count("id"))
    for entry in by_status:
        rows[entry["finding__body_id"]].counts[entry["status"]] = entry["n"]
    overdue = (
        recommendations.filter(status__in=BODY_OWES, due_at__lt=now)
        .values("finding__body_id")
        .annotate(n=Count("id"))
    )
    for late in overdue:
        rows[late["finding__body_id"]].overdue = late["n"]
    return sorted(rows.values(), key=lambda row: (row.body_name, row.agency))


def recommendations_waiting(roles: Roles) -> dict[Role, QuerySet[Recommendation]]:
    """What waits for the person ("Tugas saya"): ``Role.OPERATOR``: the recommendations their
    bodies owe (``open`` and ``in_progress``); ``Role.AUDITOR``: the answers waiting for
    Inspektorat's assessment (``responded``). Only the roles the person holds; due first."""
    waiting: dict[Role, QuerySet[Recommendation]] = {}
    base = Recommendation.objects.select_related("finding__body").order_by("due_at", "id")
    if roles.operator_of:
        waiting[Role.OPERATOR] = base.filter(
            finding__body_id__in=roles.operator_of, status__in=BODY_OWES
        )
    if may_record_findings(roles):
        waiting[Role.AUDITOR] = base.filter(status=RecommendationStatus.RESPONDED)
    return waiting
