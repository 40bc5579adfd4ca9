"""The caller's notifications: the list, newest first, and marking them read.

* ``GET /api/v1/notifications/`` -> the caller's notifications, newest first.

* ``POST /api/v1/notifications/{id}/read/`` -> the notification with its ``read_at``; an id
  that is not one of the caller's is 404.
* ``POST /api/v1/notifications/read/`` -> ``{marked}``: every unread one of the caller's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import caller
from kla.api.serializers import NotificationSerializer, object_id
from workflows.models import Notification
from workflows.notifications.inbox import notification_mark_read, notifications_mark_all_read


class NotificationListView(GenericAPIView[Notification]):
    """The caller's notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        mine = Notification.objects.filter(user_id=caller(self.request).pk)
        return mine.order_by("-created_at", "-id")

    @extend_schema(operation_id="notifications_list", responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class NotificationReadView(GenericAPIView[Notification]):
    """Mark one of the caller's notifications read (idempotent: the first time is kept)."""

    serializer_class = NotificationSerializer

    @extend_schema(operation_id="notifications_read", request=None)
    def post(self, request: Request, notification_id: str) -> Response:
        notification = notification_mark_read(
            user=caller(request), notification_id=object_id(notification_id)
        )
        return Response(self.get_serializer(notification).data)


class NotificationsMarkedSerializer(serializers.Serializer[Any]):
    """``{marked}``: how many notifications were marked read."""

    marked = serializers.IntegerField()


class NotificationReadAllView(GenericAPIView[Any]):
    """Mark every unread notification of the caller read."""

    # OPTIONS describes the view through its serializer: without one it would be a 500.
    serializer_class = NotificationsMarkedSerializer

    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses=NotificationsMarkedSerializer,
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notifications_mark_all_read(user=caller(request))})
