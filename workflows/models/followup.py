"""What the sweep sent about a recommendation's follow-up (imported by ``workflows.models``).

A ``RecommendationNotice`` row is a reminder to the body before the follow-up is due or an
escalation to Inspektorat and BAPPERIDA once it is past due. Its UNIQUE constraint on
(recommendation, kind) is what makes each go out exactly once, however many sweeps run at
the same moment (insert-or-skip, as ``Reminder`` and ``Escalation`` do for submissions).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from workflows.models.supervision import Recommendation, RecommendationStatus


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", _("Pengingat tindak lanjut")
    ESCALATION = "escalation", _("Eskalasi tindak lanjut")


class RecommendationNotice(models.Model):
    """A reminder or an escalation sent about one recommendation, once per kind."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pemberitahuan tindak lanjut")
        verbose_name_plural = _("pemberitahuan tindak lanjut")
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "kind"], name="recommendation_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recommendation_id} {self.kind}"


# The statuses in which a recommendation waits for its body: reminded before it is due,
# escalated and counted overdue after. ``responded`` is not one of them: the body has
# answered and the recommendation waits for Inspektorat's assessment, so nothing is owed
# by the body (an answer assessed ``in_progress`` past the due time escalates then).
BODY_OWES = frozenset({RecommendationStatus.OPEN, RecommendationStatus.IN_PROGRESS})
