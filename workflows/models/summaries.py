"""Summary rows: what the compliance matrix and indicator coverage read instead of scanning
every submission (``workflows.summaries`` keeps them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Category, Indicator, Instruction, SubmissionState


class ComplianceCell(models.Model):
    """One body in one category of an instruction, as reviewers see it.

    Reviewers (verifiers in scope, consolidators, auditors) see a submission once it has been
    submitted, in every state after (``roles.selectors``): these counts are of those. A cell a
    body has never answered nor drafted into may have no row; it reads as empty.
    """

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="compliance_cells")
    category = models.CharField(_("kategori"), max_length=20, choices=Category.choices)
    submissions = models.PositiveIntegerField(default=0)
    # The least advanced state's rank in ``workflows.sla.compliance.STATE_ORDER``.
    least_rank = models.PositiveSmallIntegerField(null=True)
    # The earliest due time among the cell's steps not yet audited.
    due_at = models.DateTimeField(null=True)
    beyond_draft = models.PositiveIntegerField(default=0)
    # When the cell was first answered by a submission past the draft state (its first
    # submit), and when the body declared nihil for it, if it did.
    submitted_at = models.DateTimeField(null=True)
    nihil_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("ringkasan sel kepatuhan")
        verbose_name_plural = _("ringkasan sel kepatuhan")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "body", "category"], name="compliance_cell_once"
            )
        ]
        indexes = [models.Index(fields=["instruction", "due_at"], name="compliance_cell_due")]

    def __str__(self) -> str:
        return f"{self.body_id} {self.category}: {self.submissions}"


class CoverageCount(models.Model):
    """How many submissions of one body in one state support an indicator, and their current
    files, as reviewers see them (the same visibility as ``ComplianceCell``)."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=SubmissionState.choices)
    submissions = models.PositiveIntegerField(default=0)
    evidence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ringkasan cakupan")
        verbose_name_plural = _("ringkasan cakupan")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "indicator", "state", "body"], name="coverage_count_once"
            )
        ]
        indexes = [
            models.Index(fields=["instruction", "body"], name="coverage_count_body"),
            # Whether a body contributes to an indicator, asked body by body in the order of
            # their codes, and every indicator's counts read in indicator order
            # (``kla.reports.coverage``). The counts are left out of it: an action's refresh
            # rewrites them, and while no index holds them PostgreSQL rewrites the row in
            # place (a HOT update) without touching any index.
            models.Index(
                fields=["instruction", "indicator", "body"], name="coverage_count_indicator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.body_id} {self.state}: {self.submissions}"


# How many parts each of the deployment's coverage totals is kept in: a body's changes go to
# the part ``body_id % COVERAGE_SHARDS``, so actions on different bodies seldom wait for the
# same row; readers add the parts up.
COVERAGE_SHARDS = 16


class CoverageTotal(models.Model):
    """Every body's ``CoverageCount`` of one indicator in one state added up (in part
    ``shard`` of ``COVERAGE_SHARDS``): what a reviewer of every body reads, in rows that do
    not grow with the bodies. Plain integers: a change is written as a difference (negative
    for what leaves), and the database checks a proposed row before it merges it."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=SubmissionState.choices)
    shard = models.PositiveSmallIntegerField()
    submissions = models.IntegerField(default=0)
    evidence = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("jumlah cakupan")
        verbose_name_plural = _("jumlah cakupan")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "indicator", "state", "shard"], name="coverage_total_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.state} [{self.shard}]: {self.submissions}"


class CoverageReach(models.Model):
    """How many bodies contribute to one indicator (in part ``shard``): those with a
    ``CoverageCount`` row of it in any state."""

    instruction = models.ForeignKey(Instruction, on_delete=models.CASCADE, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    shard = models.PositiveSmallIntegerField()
    bodies = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("jangkauan cakupan")
        verbose_name_plural = _("jangkauan cakupan")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "indicator", "shard"], name="coverage_reach_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} [{self.shard}]: {self.bodies}"
