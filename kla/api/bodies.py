"""``GET /api/v1/bodies/?search=``: the active bodies, 50 a page by code, narrowed by part of
their name or code; any signed-in caller (a body's name and code are not secret). This is how
a program finds the codes the lists' ``agency`` takes: no list enumerates every body."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.listing import filtered, list_parameters
from kla.listing import BodySearch
from kla.models import Body


class BodySerializer(serializers.ModelSerializer[Body]):
    """A body: its code (what ``agency`` takes), its name and kind."""

    class Meta:
        model = Body
        fields = ("code", "name", "kind")
        read_only_fields = fields


class BodyListView(GenericAPIView[Body]):
    """The active bodies, by code; ``search`` narrows them by part of the name or code."""

    serializer_class = BodySerializer

    def get_queryset(self) -> QuerySet[Body]:
        return Body.objects.filter(active=True)

    @extend_schema(
        operation_id="bodies_list",
        parameters=list_parameters(BodySearch),
        responses=BodySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(filtered(BodySearch, request, self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
