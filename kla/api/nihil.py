"""The API of the SLA section: declaring "nihil" (nothing to report) for a category.

``POST /api/v1/nihil/`` ``{category, agency?, reason}`` -> the declaration (201);
``GET /api/v1/nihil/`` -> the declarations the caller may read, paginated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser, caller
from kla.api.instructions import INSTRUCTION_OR_ALL, requested_scope
from kla.models import Category
from roles.roles import roles_of
from workflows.models import NihilDeclaration
from workflows.sla.nihil import nihil_declare, nihil_visible_to


class NihilSerializer(serializers.ModelSerializer[NihilDeclaration]):
    """One declaration as the API shows it."""

    agency = serializers.CharField(source="body.code", read_only=True)
    declared_by = serializers.CharField(source="declared_by.username", read_only=True)

    class Meta:
        model = NihilDeclaration
        fields = (
            "id",
            "instruction",
            "agency",
            "category",
            "reason",
            "declared_by",
            "declared_at",
        )
        read_only_fields = fields


@extend_schema_field(serializers.ChoiceField(Category.choices))
class CategoryCodeField(serializers.CharField):
    """A category's code: text here, the service refusing an unknown one in its own words."""


class NihilInputSerializer(serializers.Serializer[Any]):
    """The request's shape only; the service checks the rules and answers field by field."""

    category = CategoryCodeField(max_length=40)
    agency = serializers.CharField(max_length=40, required=False, allow_null=True, allow_blank=True)
    reason = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    instruction = serializers.IntegerField(required=False, allow_null=True)


class NihilView(GenericAPIView[NihilDeclaration]):
    """Declare nihil for one of the caller's bodies, or list the declarations they may read."""

    serializer_class = NihilSerializer
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> Any:
        return nihil_visible_to(roles_of(caller(self.request))).order_by("-declared_at", "-id")

    @extend_schema(
        operation_id="nihil_list",
        parameters=[INSTRUCTION_OR_ALL],
        responses=NihilSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = self.get_queryset()
        scope = requested_scope(request)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="nihil_declare", request=NihilInputSerializer, responses={201: NihilSerializer}
    )
    def post(self, request: Request) -> Response:
        data = NihilInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        declaration = nihil_declare(
            user=caller(request),
            category=data.validated_data["category"],
            agency=data.validated_data.get("agency"),
            reason=data.validated_data.get("reason", ""),
            instruction=data.validated_data.get("instruction"),
        )
        return Response(self.get_serializer(declaration).data, status=status.HTTP_201_CREATED)
