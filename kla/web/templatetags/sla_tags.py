"""Template helpers of the SLA section: whether a submission's current step is overdue."""

from __future__ import annotations

from django import template
from django.utils import timezone

from kla.models import Submission
from workflows.sla.timers import is_overdue

register = template.Library()


@register.filter
def overdue(submission: Submission) -> bool:
    """``{% if submission|overdue %}``: the current step is past its due time."""
    return is_overdue(submission, timezone.now())
