"""``GET /api/v1/instructions/``, and the ``instruction`` parameter the other endpoints take."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.instructions import instruction_get, instruction_scope
from kla.models import Instruction

INSTRUCTION = OpenApiParameter(
    "instruction", str, description="An instruction id; the current one when absent"
)
INSTRUCTION_OR_ALL = OpenApiParameter(
    "instruction",
    str,
    description="An instruction id, or `all` for every instruction; the current one when absent",
)


def requested_instruction(request: Request) -> Instruction | None:
    """The instruction the query names (400 when unknown), else the current one if any."""
    value = request.query_params.get("instruction")
    if value in (None, ""):
        return Instruction.current()
    return instruction_get(value)


def requested_scope(request: Request, *, default_all: bool = False) -> Instruction | None:
    """For lists: the instruction the query names, None for ``all`` (and, where the list
    outlives an instruction, when none is named)."""
    value = request.query_params.get("instruction")
    if value in (None, ""):
        # With no instruction current yet there is nothing to narrow to.
        return None if default_all else Instruction.current()
    return instruction_scope(value)


class BudgetsSerializer(serializers.Serializer[Any]):
    """Working days per step, and the days a finding's follow-up is given."""

    verify = serializers.IntegerField()
    revise = serializers.IntegerField()
    consolidate = serializers.IntegerField()
    audit = serializers.IntegerField()
    follow_up_days = serializers.IntegerField()


class InstructionSerializer(serializers.ModelSerializer[Instruction]):
    """One instruction as data: what it asks about, by when, with which budgets."""

    current = serializers.BooleanField(source="is_current", read_only=True)
    years = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    budgets = BudgetsSerializer(read_only=True)

    class Meta:
        model = Instruction
        fields = (
            "id",
            "number",
            "year",
            "title",
            "issuer",
            "issued_on",
            "effective_on",
            "deadline",
            "years",
            "current",
            "budgets",
        )
        read_only_fields = fields


class InstructionListView(GenericAPIView[Instruction]):
    """Every instruction, newest first; any signed-in person."""

    serializer_class = InstructionSerializer

    def get_queryset(self) -> QuerySet[Instruction]:
        return Instruction.objects.order_by("-year", "-number", "-pk")

    @extend_schema(operation_id="instructions_list", responses=InstructionSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
