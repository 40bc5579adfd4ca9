"""Inspektorat's findings: the list and recording one, one finding and its correction, adding
a recommendation, a body's follow-up and an auditor's assessment.

``GET``, ``POST /api/v1/findings/``; ``GET``, ``PATCH .../findings/{id}/``; ``POST
.../findings/{id}/recommendations/``; ``POST .../recommendations/{rid}/follow-ups/`` (multipart
or JSON: ``note``, repeated ``file``); ``POST .../recommendations/{rid}/assessment/``. The
rules and their order are ``workflows.supervision.findings``'s; this checks shapes only.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser, caller, valid_input
from kla.api.instructions import requested_scope
from kla.api.listing import filtered, list_parameters
from kla.api.serializers import InputSerializer, TextField, json_object, object_id
from kla.evidence import download_name
from kla.listing import FindingFilter
from roles.permissions import may_view_findings
from roles.roles import Roles, roles_of
from workflows.models import (
    Finding,
    FindingStatus,
    FollowUpEntry,
    FollowUpKind,
    Recommendation,
    RecommendationStatus,
)
from workflows.supervision.files import follow_up_file_download
from workflows.supervision.findings import (
    ASSESSMENTS,
    finding_correct,
    finding_create,
    findings_visible_to,
    follow_up_post,
    recommendation_assess,
    with_history,
)

# --- output ----------------------------------------------------------------------------------


class HistorySerializer(serializers.ModelSerializer[FollowUpEntry]):
    """One follow-up or assessment, with the files of a follow-up (name and SHA-256)."""

    actor = serializers.CharField(source="actor.username", read_only=True)
    # Enums named apart from the evidence's kind (ENUM_NAME_OVERRIDES in kla.settings).
    kind = serializers.ChoiceField(FollowUpKind.choices, read_only=True)
    status = serializers.ChoiceField(
        RecommendationStatus.choices, read_only=True, help_text="the status after this step"
    )
    files = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpEntry
        fields = ("kind", "at", "actor", "status", "note", "files")
        read_only_fields = fields

    def get_files(self, obj: FollowUpEntry) -> list[dict[str, Any]]:
        # ``id`` names the file for its download: GET .../findings/{id}/files/{file id}/.
        return [{"id": f.pk, "name": f.name, "sha256": f.sha256} for f in obj.files.all()]


class RecommendationSerializer(serializers.ModelSerializer[Recommendation]):
    """One recommendation, where its follow-up stands and how it got there."""

    status = serializers.ChoiceField(RecommendationStatus.choices, read_only=True)
    history = HistorySerializer(many=True, read_only=True)

    class Meta:
        model = Recommendation
        fields = ("id", "text", "status", "due_at", "history")
        read_only_fields = fields


class FindingSerializer(serializers.ModelSerializer[Finding]):
    """A finding as DESIGN's "Interfaces" lists it."""

    agency = serializers.CharField(source="body.code", read_only=True)
    status = serializers.ChoiceField(
        FindingStatus.choices,
        read_only=True,
        help_text="open while any recommendation is neither resolved nor unresolvable",
    )
    recommendations = RecommendationSerializer(many=True, read_only=True)

    class Meta:
        model = Finding
        fields = (
            "id",
            "instruction",
            "agency",
            "submission",
            "title",
            "condition",
            "criteria",
            "cause",
            "effect",
            "created_at",
            "due_at",
            "status",
            "recommendations",
        )
        read_only_fields = fields


# --- input -----------------------------------------------------------------------------------


class FindingEditSerializer(InputSerializer):
    """``PATCH .../findings/{id}/``: the fields given change (the service limits lengths)."""

    title = TextField()
    condition = TextField()
    criteria = TextField()
    cause = TextField()
    effect = TextField()


class FindingCreateSerializer(FindingEditSerializer):
    """A finding on a submission or on a body (exactly one), with its recommendations."""

    instruction = serializers.IntegerField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _l("Instruksi harus berupa id (bilangan bulat).")},
    )
    agency = TextField(allow_null=True, help_text="Body code, for a finding on a body")
    submission = serializers.IntegerField(
        required=False,
        allow_null=True,
        error_messages={"invalid": _l("Pengajuan harus berupa id (bilangan bulat).")},
    )
    recommendations = serializers.ListField(child=TextField(), required=False)


class RecommendationAddSerializer(InputSerializer):
    """``{text}``: one more recommendation, while the finding's are all open."""

    text = TextField()


class FollowUpInputSerializer(InputSerializer):
    """``{note}``, with repeated multipart ``file`` fields."""

    note = TextField(allow_null=True)


class AssessmentSerializer(InputSerializer):
    """``{status, note}``: ``resolved``, ``in_progress`` (note) or ``unresolvable`` (reason).

    For the schema: the view checks the keys and the service the values, in DESIGN's order."""

    status = serializers.ChoiceField(
        [(code, RecommendationStatus(code).label) for code in ASSESSMENTS],
        help_text="resolved, in_progress (with a note) or unresolvable (with the reason)",
    )
    note = TextField(allow_null=True)


FILTERS = [
    *list_parameters(FindingFilter),
    OpenApiParameter("instruction", str, description="An instruction id; every one when absent"),
]
FOLLOW_UP_FORM = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "note": {"type": "string"},
            "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
    }
}


# --- views -----------------------------------------------------------------------------------


def _known(data: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The body as given, once no key is unknown (400 naming them); the services check the
    values themselves, after the rights and the status, in DESIGN's order."""
    unknown = {key: [_("Kolom tidak dikenal.")] for key in data if key not in names}
    if unknown:
        raise ValidationError(unknown)
    return data


class FindingAPIView(GenericAPIView[Finding]):
    """Base: the findings the caller sees, loaded with their history, rendered re-read."""

    serializer_class = FindingSerializer
    parser_classes = [SafeJSONParser]

    @cached_property
    def roles(self) -> Roles:
        return roles_of(caller(self.request))

    def get_queryset(self) -> QuerySet[Finding]:
        return with_history(findings_visible_to(self.roles))

    def load(self, finding_id: str) -> Finding:
        finding = self.get_queryset().filter(pk=object_id(finding_id)).first()
        if finding is None:
            raise NotFound(_("Temuan tidak ditemukan."))
        return finding

    def respond(self, finding_id: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=finding_id)).data, code)


class FindingListView(FindingAPIView):
    """The findings the caller may see (filtered), and recording one (Inspektorat)."""

    @extend_schema(
        operation_id="findings_list", parameters=FILTERS, responses=FindingSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        if not may_view_findings(self.roles):
            raise NotFound(_("Tidak ditemukan."))
        queryset = self.get_queryset()
        # Findings outlive their instruction: every instruction unless one is named.
        scope = requested_scope(request, default_all=True)
        if scope is not None:
            queryset = queryset.filter(instruction=scope)
        page = self.paginate_queryset(filtered(FindingFilter, request, queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=FindingCreateSerializer, responses={201: FindingSerializer})
    def post(self, request: Request) -> Response:
        data = valid_input(FindingCreateSerializer, request)
        finding = finding_create(
            user=caller(request),
            submission=data.get("submission"),
            agency=data.get("agency"),
            instruction=data.get("instruction"),
            title=data.get("title", ""),
            condition=data.get("condition", ""),
            criteria=data.get("criteria", ""),
            cause=data.get("cause", ""),
            effect=data.get("effect", ""),
            recommendations=data.get("recommendations", []),
        )
        return self.respond(finding.pk, status.HTTP_201_CREATED)


class FindingDetailView(FindingAPIView):
    """One finding; PATCH corrects it (its auditor, while every recommendation is open)."""

    def get(self, request: Request, finding_id: str) -> Response:
        return Response(self.get_serializer(self.load(finding_id)).data)

    @extend_schema(request=FindingEditSerializer)
    def patch(self, request: Request, finding_id: str) -> Response:
        finding = self.load(finding_id)
        # The service checks fields in DESIGN's order (rights and state before their types).
        fields = json_object(request.data)
        finding_correct(user=caller(request), finding_id=finding.pk, fields=fields)
        return self.respond(finding.pk)


class RecommendationListView(FindingAPIView):
    """Add a recommendation to a finding while all of its are open (a correction)."""

    @extend_schema(request=RecommendationAddSerializer, responses={201: FindingSerializer})
    def post(self, request: Request, finding_id: str) -> Response:
        finding = self.load(finding_id)
        data = _known(json_object(request.data), {"text"})
        finding_correct(
            user=caller(request),
            finding_id=finding.pk,
            add_recommendations=[data.get("text", "")],
        )
        return self.respond(finding.pk, status.HTTP_201_CREATED)


class FollowUpView(FindingAPIView):
    """The body's follow-up: a note and files (413 past EVIDENCE_MAX_MB, as evidence)."""

    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]

    @extend_schema(request=FOLLOW_UP_FORM | {"application/json": FollowUpInputSerializer})
    def post(self, request: Request, finding_id: str, recommendation_id: str) -> Response:
        finding = self.load(finding_id)
        rid = object_id(recommendation_id)
        uploads = request.FILES.getlist("file")  # parses the body: the size flag is set now
        too_large = bool(getattr(request._request, "evidence_too_large", False))
        raw: Any = request.data
        if hasattr(raw, "getlist") and len(raw.getlist("file")) > len(uploads):
            # A ``file`` sent as text, not as a file: refused rather than dropped.
            raise ValidationError({"file": [_("Kirim berkas sebagai unggahan (multipart).")]})
        if hasattr(raw, "getlist") and len(raw.getlist("note")) > 1:
            raise ValidationError({"note": [_("Kirim satu catatan saja.")]})
        # A multipart body is a QueryDict whose files sit beside the fields: the note alone.
        fields = json_object(
            {key: raw.get(key) for key in raw if key != "file"} if hasattr(raw, "getlist") else raw
        )
        _known(fields, {"note"})
        follow_up_post(
            user=caller(request),
            finding_id=finding.pk,
            recommendation_id=rid,
            note=fields.get("note"),
            uploads=uploads,
            too_large=too_large,
        )
        return self.respond(finding.pk)


class AssessmentView(FindingAPIView):
    """Inspektorat's assessment of a recommendation's follow-up."""

    @extend_schema(request=AssessmentSerializer)
    def post(self, request: Request, finding_id: str, recommendation_id: str) -> Response:
        finding = self.load(finding_id)
        rid = object_id(recommendation_id)
        data = _known(json_object(request.data), {"status", "note"})
        recommendation_assess(
            user=caller(request),
            finding_id=finding.pk,
            recommendation_id=rid,
            status=data.get("status"),
            note=data.get("note"),
        )
        return self.respond(finding.pk)


class FollowUpFileView(FindingAPIView):
    """Download a file a body sent with a follow-up; every download is a trail event."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, finding_id: str, file_id: str) -> FileResponse:
        found = follow_up_file_download(
            user=caller(request), finding_id=object_id(finding_id), file_id=object_id(file_id)
        )
        try:
            handle = found.file.open("rb")
        except OSError:
            raise NotFound(_("Berkas tidak ditemukan di penyimpanan.")) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=download_name(found.name, found.content_type),
            content_type=found.content_type,
        )
