"""The submissions: the list and drafting, one submission, its actions, its trail, the tasks."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import (
    BoundedPagination,
    CallerMixin,
    SubmissionAPIView,
    caller,
    valid_input,
    with_related,
)
from kla.api.instructions import INSTRUCTION_OR_ALL, requested_scope
from kla.api.listing import filtered, list_parameters
from kla.api.serializers import (
    ActionSerializer,
    SubmissionCreateSerializer,
    SubmissionEditSerializer,
    SubmissionSerializer,
    TrailEventSerializer,
)
from kla.drafting import submission_create as submission_create_service
from kla.drafting import submission_update
from kla.listing import SubmissionFilter
from workflows.duties import waiting_for
from workflows.models import TrailEvent
from workflows.services import submission_act

TASK_INSTRUCTION = OpenApiParameter(
    "instruction", str, description="An instruction id; every instruction when absent"
)
FILTERS = list_parameters(SubmissionFilter)


class SubmissionListView(SubmissionAPIView):
    """The submissions the caller may see (filtered), and creating a draft."""

    @extend_schema(
        operation_id="submissions_list",
        parameters=[*FILTERS, INSTRUCTION_OR_ALL],
        responses=SubmissionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = self.get_queryset()
        scope = requested_scope(request)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
        return self.paginated(filtered(SubmissionFilter, request, queryset))

    @extend_schema(request=SubmissionCreateSerializer, responses={201: SubmissionSerializer})
    def post(self, request: Request) -> Response:
        fields = valid_input(SubmissionCreateSerializer, request)
        category = fields.pop("category")
        agency = fields.pop("agency", None)
        instruction = fields.pop("instruction", None)
        submission = submission_create_service(
            user=caller(request),
            category=category,
            agency=agency,
            instruction=instruction,
            fields=fields,
        )
        return self.respond(submission.pk, status.HTTP_201_CREATED)


class SubmissionDetailView(SubmissionAPIView):
    """One submission; PATCH edits a draft or returned one (optional ``version``: 409)."""

    def get(self, request: Request, submission_id: str) -> Response:
        return Response(self.get_serializer(self.load(submission_id)).data)

    @extend_schema(request=SubmissionEditSerializer)
    def patch(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        fields = valid_input(SubmissionEditSerializer, request)
        version = fields.pop("version", None)
        submission_update(
            user=caller(request), submission_id=submission.pk, fields=fields, version=version
        )
        return self.respond(submission.pk)


class ActionView(SubmissionAPIView):
    """Take a flow action: ``{action, note, version?}`` -> the submission."""

    @extend_schema(request=ActionSerializer)
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        data = valid_input(ActionSerializer, request)
        submission_act(
            user=caller(request),
            submission_id=submission.pk,
            action=data["action"],
            note=data.get("note") or "",
            version=data.get("version"),
            roles=self.roles,
        )
        return self.respond(submission.pk)


class TrailView(CallerMixin, GenericAPIView[TrailEvent]):
    """The submission's trail events in order, with their hash chain."""

    serializer_class = TrailEventSerializer
    pagination_class = BoundedPagination

    @extend_schema(operation_id="submissions_trail_list", responses=TrailEventSerializer(many=True))
    def get(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        events = TrailEvent.objects.filter(stream__name=submission.stream).order_by("seq")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(TrailEventSerializer(page, many=True).data)


class TaskListView(SubmissionAPIView):
    """The submissions waiting for the caller's duty ("Tugas saya"), shaped as the list."""

    @extend_schema(
        operation_id="tasks_list",
        parameters=[*FILTERS, TASK_INSTRUCTION],
        responses=SubmissionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        queryset = with_related(waiting_for(caller(request), self.roles))
        # Work outlives its instruction: every instruction unless one is named.
        scope = requested_scope(request, default_all=True)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
        return self.paginated(filtered(SubmissionFilter, request, queryset))
