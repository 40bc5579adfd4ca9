"""Trail events for every change of membership, role or per-body permission.

Changes come from the admin, the seed or the shell, so they are caught at the model level.
The person making them is read from ``current_actor``, which ``ActorMiddleware`` sets for
each request; outside a request the trail records ``system``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from roles.models import BodyUserObjectPermission, Membership
from roles.roles import Role
from workflows.trail.append import SYSTEM_STREAM, trail_append

current_actor: ContextVar[User | None] = ContextVar("current_actor", default=None)


class ActorMiddleware:
    """Remembers who is making the request, for the trail of rights changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        token = current_actor.set(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            current_actor.reset(token)


def _record(**kwargs: Any) -> None:
    with transaction.atomic():
        trail_append(actor=current_actor.get(), role=Role.ADMIN, **kwargs)


@receiver(post_save, sender=Membership)
def membership_saved(sender: type, instance: Membership, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        _record(
            stream=f"body:{instance.body.code}",
            action="membership_add",
            data={"user": instance.user.get_username(), "body": instance.body.code},
            body=instance.body,
        )


@receiver(post_delete, sender=Membership)
def membership_deleted(sender: type, instance: Membership, **kwargs: Any) -> None:
    _record(
        stream=f"body:{instance.body.code}",
        action="membership_remove",
        data={"user": instance.user.get_username(), "body": instance.body.code},
        body=instance.body,
    )


@receiver(post_save, sender=BodyUserObjectPermission)
def body_permission_saved(
    sender: type, instance: BodyUserObjectPermission, created: bool, **kwargs: Any
) -> None:
    if created and not kwargs.get("raw"):
        _record(
            stream=f"body:{instance.content_object.code}",
            action="permission_grant",
            data={
                "user": instance.user.get_username(),
                "permission": instance.permission.codename,
            },
            body=instance.content_object,
        )


@receiver(post_delete, sender=BodyUserObjectPermission)
def body_permission_deleted(
    sender: type, instance: BodyUserObjectPermission, **kwargs: Any
) -> None:
    _record(
        stream=f"body:{instance.content_object.code}",
        action="permission_revoke",
        data={"user": instance.user.get_username(), "permission": instance.permission.codename},
        body=instance.content_object,
    )


@receiver(m2m_changed, sender=get_user_model().groups.through)
def groups_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    verb = "role_grant" if action == "post_add" else "role_revoke"
    if reverse:  # group.user_set changed: instance is the group, pk_set the users
        pairs = [
            (u.get_username(), instance.name)
            for u in get_user_model().objects.filter(pk__in=pk_set)
        ]
    else:
        pairs = [(instance.get_username(), g.name) for g in Group.objects.filter(pk__in=pk_set)]
    for username, group in pairs:
        _record(stream=SYSTEM_STREAM, action=verb, data={"user": username, "role": group})
