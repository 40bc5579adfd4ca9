"""Indicator coverage: counts of submissions and evidence per indicator, by state."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import CallerMixin, caller
from kla.api.instructions import INSTRUCTION, requested_instruction
from kla.reports.coverage import IndicatorCoverage, coverage_compute
from roles.permissions import may_view_coverage


class CountsSerializer(serializers.Serializer[Any]):
    """Counts by state (each flow state) and by group (in progress apart from verified+)."""

    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    returned = serializers.IntegerField()
    verified = serializers.IntegerField()
    consolidated = serializers.IntegerField()
    audited = serializers.IntegerField()
    in_progress = serializers.IntegerField(help_text="draft, submitted and returned")
    total = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer[IndicatorCoverage]):
    """One indicator's coverage; ``weight`` is null unless an administrator entered it.

    Counts of submissions and files cover what the caller may see; ``requirements_*`` the
    whole instruction."""

    number = serializers.IntegerField()
    name = serializers.CharField()
    cluster = serializers.CharField(source="cluster_label")
    cluster_code = serializers.CharField(source="cluster")
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    submissions = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    agencies = serializers.ListField(
        child=serializers.CharField(),
        source="bodies",
        help_text="Codes of the contributing bodies, by code: the first 50 (agencies_count "
        "counts them all)",
    )
    agencies_count = serializers.IntegerField(
        source="bodies_count", help_text="How many bodies contribute"
    )
    no_verified_evidence = serializers.BooleanField()
    requirements_total = serializers.IntegerField(
        help_text="Requirements of the instruction's evidence checklist under the indicator"
    )
    requirements_met = serializers.IntegerField(
        help_text="Of those, the ones a current file of a verified-or-later submission serves "
        "(the whole instruction, whoever asks)"
    )
    requirements_missing = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the requirements nobody has met yet"
    )

    @extend_schema_field(CountsSerializer)
    def get_submissions(self, obj: IndicatorCoverage) -> dict[str, int]:
        return {**obj.submissions_by_state, **obj.submissions, "total": obj.submissions_total}

    @extend_schema_field(CountsSerializer)
    def get_evidence(self, obj: IndicatorCoverage) -> dict[str, int]:
        return {**obj.evidence_by_state, **obj.evidence, "total": obj.evidence_total}


class CoverageView(CallerMixin, GenericAPIView[Any]):
    """Indicator coverage for the caller's view, one entry per indicator, by number."""

    serializer_class = CoverageSerializer

    @extend_schema(
        operation_id="coverage_list",
        parameters=[INSTRUCTION],
        responses=CoverageSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not may_view_coverage(self.roles):
            # A reviewers' view, like the compliance matrix: others do not see it (404).
            raise NotFound(_("Tidak ditemukan."))
        rows = coverage_compute(
            user=caller(request), roles=self.roles, instruction=requested_instruction(request)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(CoverageSerializer(page, many=True).data)  # type: ignore[arg-type]
