"""Marking notifications read through the API (the list is ``views.NotificationListView``).

* ``POST /api/v1/notifications/{id}/read/`` -> the notification with its ``read_at``; an id
  that is not one of the caller's is 404.
* ``POST /api/v1/notifications/read/`` -> ``{marked}``: every unread one of the caller's.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from workflows.models import Notification
from workflows.notifications import notification_mark_read, notifications_mark_all_read

from .serializers import NotificationSerializer, object_id
from .views import caller


class NotificationReadView(GenericAPIView[Notification]):
    """Mark one of the caller's notifications read (idempotent: the first time is kept)."""

    serializer_class = NotificationSerializer

    @extend_schema(operation_id="notifications_read", request=None)
    def post(self, request: Request, notification_id: str) -> Response:
        notification = notification_mark_read(
            user=caller(request), notification_id=object_id(notification_id)
        )
        return Response(self.get_serializer(notification).data)


class NotificationReadAllView(GenericAPIView[Any]):
    """Mark every unread notification of the caller read."""

    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses=inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notifications_mark_all_read(user=caller(request))})
