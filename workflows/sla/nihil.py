"""Declaring "nihil": a body has nothing to report in a category (with the reason).

A nihil answers the category for the reminders and the compliance matrix, as a submitted
submission does. It is an event in the body's trail stream (``body:<code>``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kla.errors import Conflict, Invalid
from kla.instructions import instruction_get
from kla.models import Body, Category, Submission, SubmissionState
from roles.permissions import reviews_every_body
from roles.roles import Role, Roles, roles_of
from roles.selectors import body_for_operator
from workflows import summaries
from workflows.models import NihilDeclaration
from workflows.trail.append import trail_append

REASON_MAX = 2000


@transaction.atomic
def nihil_declare(
    *, user: User, category: Any, reason: Any, agency: Any = None, instruction: Any = None
) -> NihilDeclaration:
    """Declare that one of the caller's bodies has nothing to report in ``category`` of an
    instruction (an id; the current one when absent) that it is an addressee of.

    403 for someone who operates no body (or not the one named); 400 for an unknown body or
    category; 409 when the category is already answered (a nihil, or a submission that is not
    a draft) or no instruction is current; 400 without a reason.
    """
    roles = roles_of(user)
    body = body_for_operator(
        roles, agency, refusal=_("Hanya operator perangkat/lembaga yang dapat menyatakan nihil.")
    )
    if not isinstance(category, str) or category not in Category.values:
        raise Invalid(
            {"category": _("Kategori tidak dikenal; pilih dari: %s.") % ", ".join(Category.values)}
        )
    answered = instruction_get(instruction)
    if not answered.addressees.filter(pk=body.pk).exists():
        raise Invalid(
            {
                "agency": _("%(body)s tidak termasuk yang dituju instruksi %(label)s.")
                % {"body": body.name, "label": answered.label}
            }
        )
    instruction = answered
    # The body's row lock queues two declarations of the same body, so the second one sees
    # the first and answers 409 instead of hitting the constraint.
    Body.objects.select_for_update(no_key=True).filter(pk=body.pk).first()
    label = Category(category).label
    if NihilDeclaration.objects.filter(
        instruction=instruction, body=body, category=category
    ).exists():
        raise Conflict(_("Kategori %(c)s sudah dinyatakan nihil.") % {"c": label})
    if (
        Submission.objects.filter(instruction=instruction, body=body, category=category)
        .exclude(state=SubmissionState.DRAFT)
        .exists()
    ):
        raise Conflict(
            _("%(body)s sudah mengajukan pengajuan kategori %(c)s; nihil tidak berlaku.")
            % {"body": body.name, "c": label}
        )
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise Invalid({"reason": _("Alasan harus berupa teks.")})
    reason = reason.strip()
    if not reason:
        raise Invalid({"reason": _("Alasan wajib diisi.")})
    if len(reason) > REASON_MAX:
        raise Invalid({"reason": _("Paling banyak %(n)s karakter.") % {"n": REASON_MAX}})
    try:
        with transaction.atomic():
            declaration = NihilDeclaration.objects.create(
                instruction=instruction,
                body=body,
                category=category,
                reason=reason,
                declared_by=user,
                declared_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict(_("Kategori %(c)s sudah dinyatakan nihil.") % {"c": label}) from None
    trail_append(
        stream=f"body:{body.code}",
        action="nihil",
        actor=user,
        role=Role.OPERATOR.value,
        note=reason,
        data={"instruction": instruction.pk, "category": category},
        body=body,
    )
    summaries.refresh(instruction.pk, body.pk)
    return declaration


def nihil_visible_to(roles: Roles) -> QuerySet[NihilDeclaration]:
    """Declarations this person may read: their bodies' ones; every one for reviewers."""
    qs = NihilDeclaration.objects.select_related("body", "declared_by")
    if reviews_every_body(roles):
        return qs
    bodies = set(roles.operator_of) | set(roles.verifier_of)
    return qs.filter(body_id__in=bodies) if bodies else qs.none()
