"""``GET /api/v1/requirements/``: an instruction's evidence checklist (data dukung).

Reviewers and operators alike read it, as the page ``/data-dukung/``; for anyone else it does
not exist (404); anonymous callers get 401. ``met`` describes the whole instruction whoever
asks; ``files`` and ``agencies`` only what the caller may see.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import CallerMixin, caller
from kla.api.instructions import INSTRUCTION, requested_instruction
from kla.models import EvidenceKind
from kla.requirements import INDICATOR_COUNT, RequirementStatus, checklist_compute
from roles.permissions import may_read_checklist


class FileCountsSerializer(serializers.Serializer[Any]):
    """Current files tagged with the requirement, by the state of their submission."""

    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    returned = serializers.IntegerField()
    verified = serializers.IntegerField()
    consolidated = serializers.IntegerField()
    audited = serializers.IntegerField()
    total = serializers.IntegerField()


class RequirementSerializer(serializers.Serializer[RequirementStatus]):
    """One requirement of the checklist, whether it is met, and the files the caller sees."""

    id = serializers.IntegerField(source="requirement.pk")
    code = serializers.CharField(source="requirement.code")
    indicator = serializers.IntegerField(
        source="requirement.indicator.number", help_text="The indicator's number (1-24)"
    )
    # ``label`` is also an attribute of every DRF field; the metaclass takes this one as a field.
    label = serializers.CharField(source="requirement.label")  # type: ignore[assignment]
    description = serializers.CharField(source="requirement.description")
    evidence_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=EvidenceKind.choices),
        source="requirement.evidence_kinds",
        help_text="The kinds of file that satisfy it; empty: any",
    )
    met = serializers.BooleanField(
        help_text="A current file of a verified-or-later submission of the instruction serves "
        "it (the whole instruction, whoever asks)"
    )
    files = serializers.SerializerMethodField()
    agencies = serializers.ListField(
        child=serializers.CharField(),
        source="bodies",
        help_text="Codes of the bodies of those files",
    )

    @extend_schema_field(FileCountsSerializer)
    def get_files(self, obj: RequirementStatus) -> dict[str, int]:
        return {**obj.files, "total": obj.files_total}


INDICATOR = OpenApiParameter("indicator", int, description="An indicator's number, 1-24")


def requested_indicator(request: Request) -> int | None:
    """The ``indicator`` filter: a number 1-24 (400 otherwise), or None when absent."""
    value = request.query_params.get("indicator", "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= INDICATOR_COUNT:
        raise ValidationError(
            {
                "indicator": [
                    _("Indikator harus nomor 1 sampai %(count)d.") % {"count": INDICATOR_COUNT}
                ]
            }
        )
    return int(value)


class RequirementListView(CallerMixin, GenericAPIView[Any]):
    """The checklist of one instruction (``instruction``; the current one by default), by
    indicator and code, optionally of one ``indicator``."""

    serializer_class = RequirementSerializer

    @extend_schema(
        operation_id="requirements_list",
        parameters=[INSTRUCTION, INDICATOR],
        responses=RequirementSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        if not may_read_checklist(self.roles):
            raise NotFound(_("Tidak ditemukan."))
        indicator = requested_indicator(request)
        rows = checklist_compute(
            user=caller(request),
            roles=self.roles,
            instruction=requested_instruction(request),
            indicator=indicator,
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RequirementSerializer(page, many=True).data)  # type: ignore[arg-type]
