"""The evidence checklist of an instruction (data dukung): which requirements are met.

A requirement is met when a current file tagged with it belongs to a submission of the
instruction that is verified or beyond. ``met`` describes the whole instruction whoever asks;
counts of files and submissions (elsewhere) cover only what the caller may see.
"""

from __future__ import annotations

from kla.models import Instruction, Requirement, SubmissionState

# The states in which a submission's files count for the national evaluation.
COUNTING_STATES = (
    SubmissionState.VERIFIED,
    SubmissionState.CONSOLIDATED,
    SubmissionState.AUDITED,
)


def requirements_met(instruction: Instruction) -> set[int]:
    """The ids of the instruction's requirements that are met (one query)."""
    return set(
        Requirement.objects.filter(
            instruction=instruction,
            evidence__removed_at__isnull=True,
            evidence__submission__instruction=instruction,
            evidence__submission__state__in=COUNTING_STATES,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
