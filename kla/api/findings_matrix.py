"""``GET /api/v1/findings/matrix/``: the follow-up matrix (matriks tindak lanjut).

For verifiers, consolidators and auditors; for anybody else, operators included, the matrix
does not exist (404, as the page answers: it is a reviewer's view of every body). Anonymous
callers get 401. Counting is ``workflows.supervision.matrix``'s.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import CallerMixin
from kla.api.instructions import requested_scope
from roles.permissions import may_view_followup_matrix
from workflows.models import RecommendationStatus
from workflows.supervision.matrix import followup_matrix

SCOPE = OpenApiParameter(
    "instruction", str, description="An instruction id; every instruction when absent or `all`"
)


def _count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(help_text=help_text)


class MatrixRowSerializer(serializers.Serializer[Any]):
    """One body: its findings, its recommendations under each status's name, overdue ones."""

    agency = serializers.CharField(help_text="The body's code")
    body = serializers.CharField(help_text="The body's name")
    no_operator = serializers.BooleanField(
        help_text="The body has no active operator to follow its findings up"
    )
    findings = _count("Findings on the body")
    findings_open = _count("Findings with a recommendation not yet resolved or unresolvable")
    recommendations = _count("All its recommendations")
    open = _count(str(RecommendationStatus.OPEN.label))
    responded = _count(str(RecommendationStatus.RESPONDED.label))
    in_progress = _count(str(RecommendationStatus.IN_PROGRESS.label))
    resolved = _count(str(RecommendationStatus.RESOLVED.label))
    unresolvable = _count(str(RecommendationStatus.UNRESOLVABLE.label))
    overdue = _count("Past due while open or in_progress (a responded one waits for Inspektorat)")


class FindingMatrixView(CallerMixin, GenericAPIView[Any]):
    """The follow-up matrix of one instruction (``instruction``; every instruction when it
    is absent or ``all``): ``{count, next, previous, results}``, one row per body with
    findings, bodies by name."""

    serializer_class = MatrixRowSerializer

    @extend_schema(
        operation_id="findings_matrix",
        parameters=[SCOPE],
        responses=MatrixRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not may_view_followup_matrix(self.roles):
            raise NotFound(_("Tidak ditemukan."))
        rows = followup_matrix(
            roles=self.roles, instruction=requested_scope(request, default_all=True)
        )
        page = self.paginate_queryset([row.as_dict() for row in rows])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
