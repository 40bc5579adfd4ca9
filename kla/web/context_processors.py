"""Template context of every page: the notification bell's unread count, the region's name.

The count is lazy: it costs one COUNT query the first time a template reads it and nothing
at all for anonymous visitors or pages that never show the bell. The current instruction is
lazy in the same way.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kla.models import Instruction
from workflows.notifications.inbox import notifications_unread_count
from workflows.sla.recompute import recomputing


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


def region(request: HttpRequest) -> dict[str, Any]:
    """``region_name`` (``KLA_REGION_NAME``) and ``current_instruction`` (None when there is
    none; read the first time a template shows it), for everybody, signed in or not."""
    return {
        "region_name": settings.KLA_REGION_NAME,
        "current_instruction": SimpleLazyObject(Instruction.current),
    }


class Switcher:
    """``{{ switcher }}``: the instructions a person can switch between, read when shown."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def chosen(self) -> Any:
        """The page's own instruction when it names one, else the person's choice."""
        from kla.web.views.instructions import chosen_instruction

        shown = getattr(self._request, "_kla_shown", None)
        return shown if shown is not None else chosen_instruction(self._request)

    @cached_property
    def choices(self) -> list[Any]:
        from kla.models import Instruction

        return list(Instruction.objects.order_by("-year", "-number"))


def instruction_switcher(request: HttpRequest) -> dict[str, Any]:
    """``switcher`` for signed-in people: the instruction shown and the others."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"switcher": Switcher(request)}


def due_times(request: HttpRequest) -> dict[str, Any]:
    """``due_recomputing``: open due times are being recomputed (one EXISTS query, asked only
    by a page that shows a due time)."""
    return {"due_recomputing": SimpleLazyObject(recomputing)}
