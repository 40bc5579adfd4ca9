"""``GET /api/v1/compliance/``: the compliance matrix, one row per body and category.

For verifiers, consolidators and auditors; for anyone else the matrix does not exist (404,
as the page answers: the matrix as a whole is a reviewer's). Anonymous callers get 401.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import CallerMixin, caller
from kla.api.instructions import INSTRUCTION, requested_instruction
from kla.models import Category, SubmissionState
from workflows.sla.compliance import (
    ComplianceCell,
    DeadlineStatus,
    MatrixView,
    matrix_view,
)
from workflows.summaries import CATEGORIES


class ComplianceCellSerializer(serializers.Serializer[ComplianceCell]):
    """One body in one category, counting only what the caller may see."""

    agency = serializers.CharField(help_text="The body's code")
    body = serializers.CharField(source="body_name", help_text="The body's name")
    category = serializers.ChoiceField(Category.choices)
    count = serializers.IntegerField(help_text="Visible submissions in the category")
    least_state = serializers.ChoiceField(
        SubmissionState.choices,
        allow_null=True,
        help_text="Least advanced state (draft < returned < submitted < verified < "
        "consolidated < audited); null without submissions",
    )
    nihil = serializers.BooleanField(help_text="The body declared nothing to report")
    answered = serializers.BooleanField(help_text="Nihil, or a submission past the draft state")
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="Earliest due time among its open steps"
    )
    overdue = serializers.BooleanField(
        help_text="A submission not audited is past its due time, or the instruction's deadline "
        "has passed and the cell is unanswered (no submission past the draft state, no nihil)"
    )


class DeadlineSerializer(serializers.Serializer[DeadlineStatus]):
    """The instruction's deadline and the working days left to it."""

    deadline = serializers.DateField()
    deadline_end = serializers.DateTimeField()
    working_days_left = serializers.IntegerField(
        help_text="Working days from today through the deadline day, both included; "
        "0 once the deadline has passed"
    )
    passed = serializers.BooleanField(help_text='The deadline has passed ("lewat")')


class CompliancePagination(PageNumberPagination):
    """DRF's page-number pagination with the matrix-wide ``deadline`` beside the page.

    The working days left are a property of the whole matrix, not of a cell, so they go in
    one top-level field next to ``count``, ``next``, ``previous`` and ``results`` instead of
    being repeated in every row; clients reading the usual four keys are unaffected.
    """

    deadline: dict[str, Any] | None = None

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data = {**response.data, "deadline": self.deadline}
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        base = super().get_paginated_response_schema(schema)
        base["properties"]["deadline"] = {
            "type": "object",
            "nullable": True,
            "description": "Null when no instruction is current",
            "properties": {
                "deadline": {"type": "string", "format": "date"},
                "deadline_end": {"type": "string", "format": "date-time"},
                "working_days_left": {"type": "integer"},
                "passed": {"type": "boolean"},
            },
        }
        return base


class ComplianceView(CallerMixin, GenericAPIView[Any]):
    """The compliance matrix of one instruction (``instruction``; the current one by default).

    Returns ``{count, next, previous, deadline, results}``: ``results`` holds one row per
    body and category (bodies by name, categories in the instruction's order: regulation,
    program, partnership, innovation) with ``agency``, ``body``, ``category``, ``count``,
    ``least_state``, ``nihil``, ``answered``, ``due_at`` and ``overdue`` (after the deadline an
    unanswered cell is overdue, as the page marks it); ``deadline`` is the
    matrix-wide ``{deadline, deadline_end, working_days_left, passed}`` (null without a
    current instruction), the same on every page. Times are ISO 8601 with their offset.
    """

    serializer_class = ComplianceCellSerializer
    pagination_class = CompliancePagination

    @extend_schema(
        operation_id="compliance_list",
        parameters=[INSTRUCTION],
        responses=ComplianceCellSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        view = matrix_view(
            user=caller(request), roles=self.roles, instruction=requested_instruction(request)
        )
        paginator = self.paginator
        assert isinstance(paginator, CompliancePagination)
        paginator.deadline = DeadlineSerializer(view.deadline).data if view is not None else None
        page = self.paginate_queryset(MatrixCells(view))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class MatrixCells(Sequence[ComplianceCell]):
    """The matrix's cells, body by body (by name) and category by category, read a page at a
    time: slicing fetches only the bodies the slice covers and their summary rows."""

    def __init__(self, view: MatrixView | None) -> None:
        self.view = view
        self.per_body = len(CATEGORIES)
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = 0 if self.view is None else self.view.bodies.count() * self.per_body
        return self._count

    def count(self) -> int:  # type: ignore[override]  # Django's Paginator asks count()
        return len(self)

    @overload
    def __getitem__(self, index: int) -> ComplianceCell: ...

    @overload
    def __getitem__(self, index: slice) -> list[ComplianceCell]: ...

    def __getitem__(self, index: int | slice) -> ComplianceCell | list[ComplianceCell]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(len(self))
        if self.view is None or start >= stop:
            return []
        first, last = start // self.per_body, (stop - 1) // self.per_body
        bodies = list(self.view.bodies.order_by("name", "code")[first : last + 1])
        cells = [cell for row in self.view.cells_of(bodies) for cell in row.cells]
        offset = first * self.per_body
        return cells[start - offset : stop - offset]
