"""Template context of every page: the notification bell's unread count.

The count is lazy: it costs one COUNT query the first time a template reads it and nothing
at all for anonymous visitors or pages that never show the bell.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from workflows.notifications.inbox import notifications_unread_count


class Bell:
    """``{{ bell.unread }}``: the person's unread notifications, counted once per request."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self._user = user

    @cached_property
    def unread(self) -> int:
        return notifications_unread_count(user=self._user)


def notifications(request: HttpRequest) -> dict[str, Any]:
    """``bell`` for signed-in people; nothing for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"bell": Bell(user)}
