"""Inspektorat's supervision (DESIGN, "Supervision and monitoring"): findings, their
recommendations, and each recommendation's follow-ups and assessments.

Nothing here is ever deleted: a correction rewrites a finding only while every recommendation
is still ``open`` (and is a trail event), and a recommendation's history only grows. The
moves themselves are ``workflows.supervision.findings``'s.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kla.models import Body, Instruction, Submission


class RecommendationStatus(models.TextChoices):
    """The four statuses of Indonesian audit follow-up (Peraturan BPK 2/2017), plus waiting."""

    OPEN = "open", _("Belum ditindaklanjuti")
    RESPONDED = "responded", _("Menunggu penilaian")
    IN_PROGRESS = "in_progress", _("Belum sesuai")
    RESOLVED = "resolved", _("Sesuai")
    UNRESOLVABLE = "unresolvable", _("Tidak dapat ditindaklanjuti")


# A recommendation in one of these is done with; a finding is closed when all of its are.
FINAL_STATUSES = frozenset({RecommendationStatus.RESOLVED, RecommendationStatus.UNRESOLVABLE})


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    CLOSED = "closed", _("Selesai")


class Finding(models.Model):
    """A temuan: about one submission, or about a body as a whole (one that never answered)."""

    instruction = models.ForeignKey(Instruction, on_delete=models.PROTECT, related_name="+")
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="findings")
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="findings"
    )
    title = models.CharField(_("judul"), max_length=300)
    condition = models.TextField(_("kondisi"))
    criteria = models.TextField(_("kriteria"))
    cause = models.TextField(_("sebab"), blank=True)
    effect = models.TextField(_("akibat"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # When its recommendations' follow-ups are due (DESIGN: follow_up_days, next working day).
    due_at = models.DateTimeField()
    # Whether any recommendation is neither resolved nor unresolvable: kept by the services
    # that record and assess them (``workflows.supervision.findings``), for the lists' order.
    is_open = models.BooleanField(default=True, db_default=True)

    class Meta:
        verbose_name = _("temuan")
        verbose_name_plural = _("temuan")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["instruction", "body"], name="finding_instruction_body"),
            # The keys the findings list sorts by (``kla.listing.FindingFilter``).
            models.Index(fields=["due_at"], name="finding_due_at"),
            models.Index(fields=["created_at"], name="finding_created_at"),
            models.Index(fields=["title"], name="finding_title"),
            # The lists' default order (``kla.listing.findings_default_order``).
            models.Index(
                fields=["-is_open", "due_at", "-created_at", "-id"], name="finding_default_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def stream(self) -> str:
        """The trail stream its events go to: the submission's, else the body's."""
        if self.submission_id is not None:
            return f"submission:{self.submission_id}"
        return f"body:{self.body.code}"

    @property
    def status(self) -> str:
        """``open`` while any recommendation is neither resolved nor unresolvable."""
        done = all(r.status in FINAL_STATUSES for r in self.recommendations.all())
        return FindingStatus.CLOSED if done else FindingStatus.OPEN

    def get_status_display(self) -> str:
        return str(FindingStatus(self.status).label)


class Recommendation(models.Model):
    """One rekomendasi of a finding and where its follow-up stands."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="recommendations")
    text = models.TextField(_("rekomendasi"))
    status = models.CharField(
        _("status tindak lanjut"),
        max_length=20,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.OPEN,
        db_index=True,
    )
    due_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rekomendasi")
        verbose_name_plural = _("rekomendasi")
        ordering = ["finding", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class FollowUpKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Tindak lanjut")
    ASSESSMENT = "assessment", _("Penilaian")


class FollowUpEntry(models.Model):
    """One step of a recommendation's history: a body's follow-up or an auditor's assessment.

    ``status`` is the recommendation's status after the step.
    """

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.PROTECT, related_name="history"
    )
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=RecommendationStatus.choices)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("riwayat tindak lanjut")
        verbose_name_plural = _("riwayat tindak lanjut")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


def follow_up_path(instance: FollowUpFile, filename: str) -> str:
    # A random name, as for evidence: the original one is kept in the row, never a path.
    return f"follow-up/{instance.entry.recommendation_id}/{uuid.uuid4().hex}"


class FollowUpFile(models.Model):
    """A file a body attached to a follow-up: stored, hashed and accepted like evidence."""

    entry = models.ForeignKey(FollowUpEntry, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to=follow_up_path, max_length=300)
    name = models.CharField(_("nama berkas"), max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("berkas tindak lanjut")
        verbose_name_plural = _("berkas tindak lanjut")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
