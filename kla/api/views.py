"""The JSON API under /api/v1/ (DESIGN, "Interfaces").

Views only authenticate, load through the visibility queryset (404), check the request's
shape and types (400), and call one service; the services hold the rules and raise
``kla.errors``, which ``kla.api.errors.exception_handler`` turns into status codes.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kla.models import Evidence, Submission
from kla.services import evidence_add, evidence_download, evidence_remove, submission_update
from kla.services import submission_create as submission_create_service
from roles.roles import Roles, roles_of
from roles.visibility import visible_to, waiting_for
from workflows.models import Notification, TrailEvent
from workflows.services import action_facts, submission_act

from .serializers import (
    ActionSerializer,
    EvidenceSerializer,
    NotificationSerializer,
    SubmissionFilterSerializer,
    SubmissionSerializer,
    SubmissionWriteSerializer,
    TokenResponseSerializer,
    TrailEventSerializer,
    VersionSerializer,
    json_object,
    object_id,
)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, also answering 400 for input nested too deep to decode."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON bertingkat terlalu dalam.")) from None
        except UnicodeDecodeError:
            raise ParseError(_("Isi permintaan bukan UTF-8 yang sah.")) from None
        except ParseError as exc:
            # DRF wraps the decoder's ValueError (UnicodeDecodeError included) in a message
            # built without gettext, which would stay English; say it in the request's language.
            cause = exc.__context__
            if isinstance(cause, UnicodeDecodeError):
                raise ParseError(_("Isi permintaan bukan UTF-8 yang sah.")) from None
            if isinstance(cause, ValueError):
                raise ParseError(_("JSON parse error - {detail}").format(detail=cause)) from None
            raise


def with_related(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """What the serializer reads, in a fixed number of queries per page."""
    return queryset.select_related("body").prefetch_related(
        "indicators",
        Prefetch(
            "evidence",
            queryset=Evidence.objects.filter(removed_at__isnull=True).order_by("uploaded_at", "id"),
            to_attr="current_evidence",
        ),
    )


def _version(data: dict[str, Any]) -> int | None:
    checked = VersionSerializer(data={"version": data.get("version")})
    checked.is_valid(raise_exception=True)
    version: int | None = checked.validated_data.get("version")
    return version


def caller(request: Request) -> User:
    """The authenticated person (every view here requires authentication)."""
    return cast(User, request.user)


class CallerMixin:
    """The caller's roles, read once per request, and loading a submission they see."""

    request: Any  # the view's DRF Request

    @cached_property
    def roles(self) -> Roles:
        return roles_of(caller(self.request))

    def visible(self) -> QuerySet[Submission]:
        return with_related(visible_to(caller(self.request), self.roles))

    def load(self, submission_id: str) -> Submission:
        """The submission if the caller may see it, else 404."""
        submission = self.visible().filter(pk=object_id(submission_id)).first()
        if submission is None:
            raise NotFound(_("Pengajuan tidak ditemukan."))
        return submission


class SubmissionAPIView(CallerMixin, GenericAPIView[Submission]):
    """Base of the submission endpoints: loading through visibility and rendering."""

    serializer_class = SubmissionSerializer
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> QuerySet[Submission]:
        return self.visible()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "roles": self.roles}

    def paginated(self, queryset: QuerySet[Submission]) -> Response:
        """One page of submissions, the trail facts for all of them read at once."""
        page = self.paginate_queryset(queryset) or []
        facts = action_facts(user=caller(self.request), submission_ids=[s.pk for s in page])
        serializer = SubmissionSerializer(
            page, many=True, context={**self.get_serializer_context(), "facts": facts}
        )
        return self.get_paginated_response(serializer.data)

    def respond(self, submission_id: int, code: int = status.HTTP_200_OK) -> Response:
        """The submission as it is now, re-read after the service changed it."""
        submission = self.get_queryset().get(pk=submission_id)
        return Response(self.get_serializer(submission).data, status=code)


class TokenView(ObtainAuthToken):
    """Trade a username and password for an API token: ``Authorization: Token <t>``."""

    parser_classes = (FormParser, MultiPartParser, SafeJSONParser)

    @extend_schema(responses=TokenResponseSerializer)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        json_object(request.data)
        return super().post(request, *args, **kwargs)


FILTERS = [
    OpenApiParameter("state", str, description="draft, submitted, returned, ..."),
    OpenApiParameter("agency", str, description="Body code"),
    OpenApiParameter("category", str, description="regulation, program, ..."),
]


class SubmissionListView(SubmissionAPIView):
    """The submissions the caller may see (filtered), and creating a draft."""

    @extend_schema(
        operation_id="submissions_list",
        parameters=FILTERS,
        responses=SubmissionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = SubmissionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        lookups = {"state": "state", "agency": "body__code", "category": "category"}
        for name, lookup in lookups.items():
            if name in filters.validated_data:
                queryset = queryset.filter(**{lookup: filters.validated_data[name]})
        return self.paginated(queryset)

    @extend_schema(request=SubmissionWriteSerializer, responses={201: SubmissionSerializer})
    def post(self, request: Request) -> Response:
        data = json_object(request.data)
        fields = {k: v for k, v in data.items() if k not in ("category", "agency")}
        submission = submission_create_service(
            user=caller(request),
            category=data.get("category"),
            agency=data.get("agency"),
            fields=fields,
        )
        return self.respond(submission.pk, status.HTTP_201_CREATED)


class SubmissionDetailView(SubmissionAPIView):
    """One submission; PATCH edits a draft or returned one (optional ``version``: 409)."""

    def get(self, request: Request, submission_id: str) -> Response:
        return Response(self.get_serializer(self.load(submission_id)).data)

    @extend_schema(request=SubmissionWriteSerializer)
    def patch(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        data = json_object(request.data)
        version = _version(data)
        fields = {k: v for k, v in data.items() if k != "version"}
        submission_update(
            user=caller(request), submission_id=submission.pk, fields=fields, version=version
        )
        return self.respond(submission.pk)


class EvidenceListView(SubmissionAPIView):
    """Upload an evidence file (multipart field ``file``); 413 when over EVIDENCE_MAX_MB."""

    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]
    serializer_class = EvidenceSerializer  # type: ignore[assignment]

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {"file": {}}}},
        responses={201: EvidenceSerializer},
    )
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        upload = request.FILES.get("file")  # parses the body: the size flag is set now
        too_large = bool(getattr(request._request, "evidence_too_large", False))
        evidence = evidence_add(
            user=caller(request), submission_id=submission.pk, upload=upload, too_large=too_large
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class EvidenceDetailView(SubmissionAPIView):
    """Download a file (every download is a trail event) or take it out of the current set."""

    serializer_class = EvidenceSerializer  # type: ignore[assignment]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, submission_id: str, evidence_id: str) -> FileResponse:
        evidence = evidence_download(
            user=caller(request),
            submission_id=object_id(submission_id),
            evidence_id=object_id(evidence_id),
        )
        return FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.name,
            content_type=evidence.content_type,
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, submission_id: str, evidence_id: str) -> Response:
        evidence_remove(
            user=caller(request),
            submission_id=object_id(submission_id),
            evidence_id=object_id(evidence_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActionView(SubmissionAPIView):
    """Take a flow action: ``{action, note, version?}`` -> the submission."""

    @extend_schema(request=ActionSerializer)
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        data = json_object(request.data)
        version = _version(data)
        submission_act(
            user=caller(request),
            submission_id=submission.pk,
            action=data.get("action"),
            note=data.get("note", ""),
            version=version,
        )
        return self.respond(submission.pk)


class TrailView(CallerMixin, GenericAPIView[TrailEvent]):
    """The submission's trail events in order, with their hash chain."""

    serializer_class = TrailEventSerializer

    @extend_schema(operation_id="submissions_trail_list", responses=TrailEventSerializer(many=True))
    def get(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        events = TrailEvent.objects.filter(stream__name=submission.stream).order_by("seq")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(TrailEventSerializer(page, many=True).data)


class TaskListView(SubmissionAPIView):
    """The submissions waiting for the caller's duty ("Tugas saya"), shaped as the list."""

    @extend_schema(operation_id="tasks_list", responses=SubmissionSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = with_related(waiting_for(caller(request), self.roles))
        return self.paginated(queryset)


class NotificationListView(GenericAPIView[Notification]):
    """The caller's notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self) -> QuerySet[Notification]:
        mine = Notification.objects.filter(user_id=cast(int, caller(self.request).pk))
        return mine.order_by("-created_at", "-id")

    @extend_schema(operation_id="notifications_list", responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
