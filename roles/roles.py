"""The five roles and how a person's roles are read.

Flow rights come from these roles alone: ``is_superuser`` grants nothing here, so every
check reads groups, memberships and permission rows directly instead of ``user.has_perm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import models
from django.db.models import Q

from kla.models import Body
from roles.models import BodyGroupObjectPermission, BodyUserObjectPermission, Membership


class Role(models.TextChoices):
    """The roles of the flow; global ones are Django groups of the same name."""

    OPERATOR = "operator", "Operator"
    VERIFIER = "verifier", "Verifikator (Dinas P3AP2KB)"
    CONSOLIDATOR = "consolidator", "Konsolidator (BAPPERIDA)"
    AUDITOR = "auditor", "Auditor (Inspektorat)"
    ADMIN = "admin", "Administrator"


GLOBAL_ROLE_GROUPS = (Role.VERIFIER, Role.CONSOLIDATOR, Role.AUDITOR)
VERIFY_CODENAME = "verify_body"


@dataclass(frozen=True)
class Roles:
    """What one person is, read once: the bodies they operate for and their global roles."""

    operator_of: frozenset[int] = field(default_factory=frozenset)
    verifier_everywhere: bool = False
    verifier_of: frozenset[int] = field(default_factory=frozenset)
    consolidator: bool = False
    auditor: bool = False
    # Django staff: keeps reference data such as the evidence checklist. Not a flow role:
    # nothing in the flow, visibility or ``names()`` reads it.
    administrator: bool = False

    @property
    def verifier(self) -> bool:
        return self.verifier_everywhere or bool(self.verifier_of)

    def verifies(self, body_id: int) -> bool:
        return self.verifier_everywhere or body_id in self.verifier_of

    def operates(self, body_id: int) -> bool:
        return body_id in self.operator_of

    def names(self) -> list[str]:
        """The role identifiers this person holds, for display and the trail."""
        held = []
        if self.operator_of:
            held.append(Role.OPERATOR.value)
        if self.verifier:
            held.append(Role.VERIFIER.value)
        if self.consolidator:
            held.append(Role.CONSOLIDATOR.value)
        if self.auditor:
            held.append(Role.AUDITOR.value)
        return held


NOBODY = Roles()


def roles_of(user: User | AnonymousUser) -> Roles:
    """Read a person's roles from the database (a handful of indexed queries)."""
    if not user.is_authenticated or not user.is_active:
        return NOBODY
    groups = set(user.groups.values_list("name", flat=True))
    model_perm = Permission.objects.filter(
        Q(group__user=user) | Q(user=user),
        codename=VERIFY_CODENAME,
        content_type__app_label=Body._meta.app_label,
    ).exists()
    scoped = frozenset(
        BodyUserObjectPermission.objects.filter(
            user=user, permission__codename=VERIFY_CODENAME
        ).values_list("content_object_id", flat=True)
    ) | frozenset(
        BodyGroupObjectPermission.objects.filter(
            group__user=user, permission__codename=VERIFY_CODENAME
        ).values_list("content_object_id", flat=True)
    )
    return Roles(
        operator_of=frozenset(
            Membership.objects.filter(user=user, body__active=True).values_list(
                "body_id", flat=True
            )
        ),
        verifier_everywhere=model_perm,
        verifier_of=scoped,
        consolidator=Role.CONSOLIDATOR in groups,
        auditor=Role.AUDITOR in groups,
        administrator=user.is_staff or user.is_superuser,
    )
