"""Indicator coverage: how much evidence supports each of the 24 KLA indicators, by state.

BAPPERIDA gathers verified evidence per indicator before the national window (domain.md,
"Why it matters"); this answers, for what reviewers see in the caller's scope
(``roles.selectors``), which indicators are covered, by how many submissions and current
evidence files, in which states, from which bodies, and which have no verified evidence at
all. No score is invented: an indicator's weight appears only when an administrator entered
it.

Against the instruction's evidence checklist (``kla.requirements``), each indicator also says how
many of its requirements are met and which nobody has met yet: that describes the whole
instruction whoever asks, as the national evaluation will see it.

Everything is read from the summary rows the actions keep (``workflows.summaries``), with a
fixed number of grouped queries whatever the number of indicators, bodies or submissions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import DenseRank
from django.utils.translation import gettext as _

from kla.errors import Forbidden
from kla.models import Body, Cluster, Indicator, Instruction, SubmissionState
from kla.requirements import requirements_by_indicator
from roles.permissions import may_view_coverage, reviews_every_body
from roles.roles import Roles, roles_of
from workflows.models import CoverageCount, CoverageReach, CoverageTotal

S = SubmissionState
# The groups coverage counts in: drafts still in the body's or verifier's hands apart from
# what P3AP2KB verified and what came after it.
IN_PROGRESS = "in_progress"
GROUPS = (IN_PROGRESS, S.VERIFIED.value, S.CONSOLIDATED.value, S.AUDITED.value)
GROUP_OF = {
    S.DRAFT.value: IN_PROGRESS,
    S.SUBMITTED.value: IN_PROGRESS,
    S.RETURNED.value: IN_PROGRESS,
    S.VERIFIED.value: S.VERIFIED.value,
    S.CONSOLIDATED.value: S.CONSOLIDATED.value,
    S.AUDITED.value: S.AUDITED.value,
}
VERIFIED_OR_BEYOND = (S.VERIFIED.value, S.CONSOLIDATED.value, S.AUDITED.value)
# How many contributing bodies an indicator names (by code); all of them are counted.
BODIES_SHOWN = 50


def _zero() -> dict[str, int]:
    return dict.fromkeys(GROUPS, 0)


def _zero_states() -> dict[str, int]:
    return dict.fromkeys(S.values, 0)


@dataclass
class IndicatorCoverage:
    """What the caller sees supporting one indicator."""

    number: int
    name: str
    cluster: str
    cluster_label: str
    weight: Decimal | None
    submissions: dict[str, int] = field(default_factory=_zero)
    evidence: dict[str, int] = field(default_factory=_zero)
    # The contributing bodies: how many, and the first ``BODIES_SHOWN`` codes.
    bodies: list[str] = field(default_factory=list)
    bodies_count: int = 0
    # The same counts for each state of the flow (API identifiers), besides the groups.
    submissions_by_state: dict[str, int] = field(default_factory=_zero_states)
    evidence_by_state: dict[str, int] = field(default_factory=_zero_states)
    # Each requirement of the checklist under the indicator: its code and whether it is met.
    requirements: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def submissions_total(self) -> int:
        return sum(self.submissions.values())

    @property
    def evidence_total(self) -> int:
        return sum(self.evidence.values())

    @property
    def verified_evidence(self) -> int:
        """Current files of submissions that are verified or beyond."""
        return sum(self.evidence[g] for g in GROUPS if g != IN_PROGRESS)

    @property
    def no_verified_evidence(self) -> bool:
        return self.verified_evidence == 0

    @property
    def requirements_total(self) -> int:
        return len(self.requirements)

    @property
    def requirements_met(self) -> int:
        return sum(1 for _code, met in self.requirements if met)

    @property
    def requirements_missing(self) -> list[str]:
        """The codes of the requirements nobody has met yet."""
        return [code for code, met in self.requirements if not met]


@dataclass
class ClusterCoverage:
    """One cluster's indicators and how many of them have verified evidence."""

    code: str
    label: str
    indicators: list[IndicatorCoverage]

    @property
    def covered(self) -> int:
        return sum(1 for i in self.indicators if not i.no_verified_evidence)

    @property
    def requirements_total(self) -> int:
        return sum(i.requirements_total for i in self.indicators)

    @property
    def requirements_met(self) -> int:
        return sum(i.requirements_met for i in self.indicators)


def coverage_compute(
    *,
    user: User | AnonymousUser,
    roles: Roles | None = None,
    instruction: Instruction | None = None,
) -> list[IndicatorCoverage]:
    """Coverage of every indicator for one instruction (the current one unless given), as
    reviewers see it: what the caller's scope holds (every body, or a scoped verifier's).

    Read from the summary rows (``workflows.summaries``), a fixed number of queries whatever
    the number of submissions or bodies: the indicators with the codes of their first
    ``BODIES_SHOWN`` contributing bodies, the counts per indicator and state with how many
    bodies contribute (for a reviewer of every body from the deployment's totals, in two),
    and the checklist's requirements with whether each is met (SQLite, without arrays, ranks
    the codes in one more).
    """
    roles = roles if roles is not None else roles_of(user)
    if not may_view_coverage(roles):
        raise Forbidden(_("Cakupan indikator hanya untuk verifikator, konsolidator dan auditor."))
    labels = dict(Cluster.choices)
    instruction = instruction if instruction is not None else Instruction.current()
    counts = CoverageCount.objects.all()
    if instruction is not None:
        counts = counts.filter(instruction=instruction)
    if not reviews_every_body(roles):
        counts = counts.filter(body_id__in=roles.verifier_of)
    indicators: Any = Indicator.objects.order_by("number")
    postgresql = connections[indicators.db].vendor == "postgresql"
    if postgresql:
        indicators = indicators.annotate(first_codes=ArraySubquery(_first_codes(counts)))
    rows = {
        i.pk: IndicatorCoverage(
            number=i.number,
            name=i.name,
            cluster=i.cluster,
            cluster_label=str(labels.get(i.cluster, i.cluster)),
            weight=i.weight,
            bodies=list(i.first_codes or ()) if postgresql else [],
        )
        for i in indicators
    }
    per_state: dict[str, Any] = {}
    for state in S.values:
        per_state[f"n_{state}"] = Sum("submissions", filter=Q(state=state))
        per_state[f"files_{state}"] = Sum("evidence", filter=Q(state=state))
    grouped: Any
    if instruction is not None and reviews_every_body(roles):
        # Every body's counts: the deployment's totals, whose rows do not grow with the
        # bodies (``workflows.models.CoverageTotal``), and the bodies contributing to each
        # (``CoverageReach``) as a subquery of the same query.
        reach = (
            CoverageReach.objects.filter(
                instruction=instruction, indicator_id=OuterRef("indicator_id")
            )
            .order_by()
            .values("indicator_id")
            .annotate(n=Sum("bodies"))
            .values("n")
        )
        grouped = (
            CoverageTotal.objects.filter(instruction=instruction)
            .order_by()
            .values("indicator_id")
            .annotate(**per_state, bodies=Subquery(reach))
        )
    else:
        # A scoped reviewer's bodies: every indicator's counts in each state and its
        # contributing bodies in one pass over its rows, in the order of the index that
        # holds them all (``coverage_count_indicator``).
        grouped = (
            counts.order_by()
            .values("indicator_id")
            .annotate(bodies=Count("body_id", distinct=True), **per_state)
        )
    for entry in grouped:
        row = rows.get(entry["indicator_id"])
        if row is None:
            continue
        # Never below zero, even from totals that drifted (``summaries_rebuild --check``).
        row.bodies_count = max(entry["bodies"] or 0, 0)
        for state in S.values:
            n, files = max(entry[f"n_{state}"] or 0, 0), max(entry[f"files_{state}"] or 0, 0)
            row.submissions[GROUP_OF[state]] += n
            row.submissions_by_state[state] += n
            row.evidence[GROUP_OF[state]] += files
            row.evidence_by_state[state] += files
    if not postgresql:
        for pk, codes in _first_codes_ranked(counts).items():
            if pk in rows:
                rows[pk].bodies = codes
    checklist = requirements_by_indicator(instruction)
    for pk, row in rows.items():
        row.requirements = checklist.get(pk, [])
    return list(rows.values())


def _first_codes(counts: QuerySet[CoverageCount]) -> QuerySet[Body, Any]:
    """The codes of an indicator's first ``BODIES_SHOWN`` contributing bodies, by code, as a
    subquery of the indicators: the bodies are read in the order of their codes and each is
    asked whether it has a row of the indicator (by the index ``coverage_count_indicator``),
    until there are enough. Ranking every row instead read all of the instruction's rows and
    sorted them, which grew with the number of bodies (16 ms of 38 with 2,200 bodies)."""
    contributes = counts.filter(indicator_id=OuterRef(OuterRef("pk")), body_id=OuterRef("pk"))
    return Body.objects.filter(Exists(contributes)).order_by("code").values("code")[:BODIES_SHOWN]


def _first_codes_ranked(counts: QuerySet[CoverageCount]) -> dict[int, list[str]]:
    """``_first_codes`` for every indicator at once, for SQLite (no arrays): the bodies ranked
    by code within each indicator."""
    ranked = (
        counts.annotate(
            rank=Window(DenseRank(), partition_by=F("indicator_id"), order_by=F("body__code").asc())
        )
        .filter(rank__lte=BODIES_SHOWN)
        .values_list("indicator_id", "body__code")
    )
    codes: dict[int, set[str]] = defaultdict(set)
    for indicator_id, code in ranked:
        codes[indicator_id].add(code)
    return {pk: sorted(found) for pk, found in codes.items()}


def coverage_by_cluster(indicators: list[IndicatorCoverage]) -> list[ClusterCoverage]:
    """The indicators grouped by cluster, in the order of Perpres 25/2021."""
    grouped: dict[str, list[IndicatorCoverage]] = defaultdict(list)
    for row in indicators:
        grouped[row.cluster].append(row)
    return [
        ClusterCoverage(code=code, label=str(label), indicators=grouped[code])
        for code, label in Cluster.choices
        if grouped.get(code)
    ]
