"""Who may do what: memberships of operators in bodies and per-body object permissions.

``verifier``, ``consolidator`` and ``auditor`` are Django groups (see ``roles.roles``);
``operator`` is a membership of a user in a body.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from kla.models import Body


class Membership(models.Model):
    """An operator of a body: a person who drafts and submits for it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("keanggotaan operator")
        verbose_name_plural = _("keanggotaan operator")
        constraints = [
            models.UniqueConstraint(fields=["user", "body"], name="membership_user_body")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.body.code}"


class BodyUserObjectPermission(UserObjectPermissionBase):
    """A permission of one user on one body (direct foreign key: indexed, no text cast)."""

    content_object = models.ForeignKey(Body, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("izin pengguna per perangkat")
        verbose_name_plural = _("izin pengguna per perangkat")


class BodyGroupObjectPermission(GroupObjectPermissionBase):
    """A permission of one group on one body."""

    content_object = models.ForeignKey(Body, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("izin grup per perangkat")
        verbose_name_plural = _("izin grup per perangkat")
