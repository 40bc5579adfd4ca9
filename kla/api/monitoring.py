"""Monitoring (Diktum KELIMA): ``GET``, ``POST /api/v1/monitoring-notes/`` and ``POST
/api/v1/compliance/reminders/``.

The rules are ``workflows.supervision.monitoring``'s: the list holds what the caller may read
(operators their bodies' notes, reviewers every body's; anybody else 404), writing and
reminding are for verifiers (a scoped one within their bodies) and consolidators. This
checks shapes only.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser, caller, valid_input
from kla.api.instructions import INSTRUCTION_OR_ALL, requested_scope
from kla.api.serializers import InputSerializer, TextField
from kla.models import Body
from roles.permissions import may_view_monitoring
from roles.roles import Role, Roles, roles_of
from workflows.models import ManualReminder, MonitoringNote
from workflows.supervision.monitoring import (
    compliance_remind,
    monitoring_note_write,
    monitoring_notes_visible_to,
)


class MonitoringNoteSerializer(serializers.ModelSerializer[MonitoringNote]):
    """A monitoring note: to which body, for which instruction and indicator, by whom."""

    agency = serializers.CharField(source="body.code", read_only=True)
    body = serializers.CharField(source="body.name", read_only=True)
    indicator = serializers.SerializerMethodField()
    author = serializers.CharField(source="author.username", read_only=True)
    role = serializers.ChoiceField(
        [(role.value, role.value) for role in (Role.VERIFIER, Role.CONSOLIDATOR)],
        read_only=True,
        help_text="The role the author wrote in",
    )

    class Meta:
        model = MonitoringNote
        fields = (
            "id",
            "instruction",
            "agency",
            "body",
            "indicator",
            "note",
            "author",
            "role",
            "created_at",
        )
        read_only_fields = fields

    def get_indicator(self, obj: MonitoringNote) -> int | None:
        return obj.indicator.number if obj.indicator is not None else None


class MonitoringNoteInputSerializer(InputSerializer):
    """``{agency, instruction?, indicator?, note}``."""

    agency = TextField(help_text="The body's code")
    instruction = serializers.IntegerField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _l("Instruksi harus berupa id (bilangan bulat).")},
    )
    indicator = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="An indicator's number, 1 to 24",
        error_messages={"invalid": _l("Indikator harus nomor 1 sampai 24.")},
    )
    note = TextField()


class MonitoringFilterSerializer(serializers.Serializer[Any]):
    """The list's filters besides ``instruction``; an unknown value is refused."""

    agency = serializers.CharField(required=False)
    indicator = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=24,
        error_messages={
            "invalid": _l("Indikator harus nomor 1 sampai 24."),
            "min_value": _l("Indikator harus nomor 1 sampai 24."),
            "max_value": _l("Indikator harus nomor 1 sampai 24."),
        },
    )

    def validate_agency(self, value: str) -> str:
        if not Body.objects.filter(code=value).exists():
            raise ValidationError(_("Kode perangkat tidak dikenal: %s.") % value)
        return value


class ReminderInputSerializer(InputSerializer):
    """``{agency, note?, instruction?}``."""

    agency = TextField(help_text="The body's code")
    note = TextField(allow_null=True)
    instruction = serializers.IntegerField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _l("Instruksi harus berupa id (bilangan bulat).")},
    )


class ReminderSerializer(serializers.ModelSerializer[ManualReminder]):
    """What a manual reminder answers: ``{id, agency, sent_to, at}``."""

    agency = serializers.CharField(source="body.code", read_only=True)
    sent_to = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Who was told: the operators' usernames, or the body's own address",
    )
    at = serializers.DateTimeField(source="sent_at", read_only=True)

    class Meta:
        model = ManualReminder
        fields = ("id", "agency", "sent_to", "at")
        read_only_fields = fields


class MonitoringNoteListView(GenericAPIView[MonitoringNote]):
    """The notes the caller may read, newest first; and writing one."""

    serializer_class = MonitoringNoteSerializer
    parser_classes = [SafeJSONParser]

    @cached_property
    def roles(self) -> Roles:
        return roles_of(caller(self.request))

    def get_queryset(self) -> QuerySet[MonitoringNote]:
        return monitoring_notes_visible_to(self.roles)

    @extend_schema(
        operation_id="monitoring_notes_list",
        parameters=[
            INSTRUCTION_OR_ALL,
            OpenApiParameter("agency", str, description="Body code"),
            OpenApiParameter("indicator", int, description="An indicator's number, 1 to 24"),
        ],
        responses=MonitoringNoteSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not may_view_monitoring(self.roles):
            raise NotFound(_("Tidak ditemukan."))
        filters = MonitoringFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        scope = requested_scope(request)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
        values = filters.validated_data
        if "agency" in values:
            queryset = queryset.filter(body__code=values["agency"])
        if "indicator" in values:
            queryset = queryset.filter(indicator__number=values["indicator"])
        page = self.paginate_queryset(queryset.order_by("-created_at", "-id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=MonitoringNoteInputSerializer, responses={201: MonitoringNoteSerializer})
    def post(self, request: Request) -> Response:
        data = valid_input(MonitoringNoteInputSerializer, request)
        note = monitoring_note_write(
            user=caller(request),
            agency=data.get("agency"),
            instruction=data.get("instruction"),
            indicator=data.get("indicator"),
            note=data.get("note"),
        )
        written = MonitoringNote.objects.select_related("body", "indicator", "author").get(
            pk=note.pk
        )
        return Response(self.get_serializer(written).data, status.HTTP_201_CREATED)


class ComplianceReminderView(GenericAPIView[ManualReminder]):
    """Remind a body by hand, from the compliance matrix: once a body a WIB day (409)."""

    serializer_class = ReminderSerializer
    parser_classes = [SafeJSONParser]

    @extend_schema(
        operation_id="compliance_reminders_create",
        request=ReminderInputSerializer,
        responses={201: ReminderSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(ReminderInputSerializer, request)
        reminder = compliance_remind(
            user=caller(request),
            agency=data.get("agency"),
            note=data.get("note"),
            instruction=data.get("instruction"),
        )
        return Response(self.get_serializer(reminder).data, status.HTTP_201_CREATED)
