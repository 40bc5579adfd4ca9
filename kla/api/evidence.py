"""A submission's evidence files: upload, download, kind and requirements, taking one out."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser, SubmissionAPIView, caller, valid_input
from kla.api.serializers import (
    EvidenceSerializer,
    EvidenceTagSerializer,
    object_id,
)
from kla.drafting import evidence_add, evidence_download, evidence_remove, evidence_tag
from kla.evidence import download_name
from kla.models import EvidenceKind

UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": EvidenceKind.values, "default": EvidenceKind.OTHER},
        "requirements": {
            "type": "string",
            "description": "Codes of the requirements the file serves, comma-separated: 2.1,2.3",
        },
    },
}


class EvidenceListView(SubmissionAPIView):
    """Upload an evidence file (multipart field ``file``, optional ``kind`` and
    ``requirements``); 413 when over EVIDENCE_MAX_MB."""

    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]
    serializer_class = EvidenceSerializer  # type: ignore[assignment]

    @extend_schema(
        request={"multipart/form-data": UPLOAD_SCHEMA},
        responses={201: EvidenceSerializer},
    )
    def post(self, request: Request, submission_id: str) -> Response:
        submission = self.load(submission_id)
        upload = request.FILES.get("file")  # parses the body: the size flag is set now
        too_large = bool(getattr(request._request, "evidence_too_large", False))
        data = request.data if hasattr(request.data, "get") else {}
        requirements = data.get("requirements")
        if hasattr(data, "getlist") and "requirements" in data:
            # Multipart: "2.1,2.3", or the field repeated; the service checks what each value is.
            requirements = data.getlist("requirements")
        evidence = evidence_add(
            user=caller(request),
            submission_id=submission.pk,
            upload=upload,
            too_large=too_large,
            kind=data.get("kind"),
            requirements=requirements,
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class EvidenceDetailView(SubmissionAPIView):
    """Download a file (every download is a trail event), change its kind and requirements
    while the submission is editable, or take it out of the current set."""

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
            filename=download_name(evidence.name, evidence.content_type),
            content_type=evidence.content_type,
        )

    @extend_schema(request=EvidenceTagSerializer, responses={200: EvidenceSerializer})
    def patch(self, request: Request, submission_id: str, evidence_id: str) -> Response:
        submission = self.load(submission_id)
        data = valid_input(EvidenceTagSerializer, request)
        evidence = evidence_tag(
            user=caller(request),
            submission_id=submission.pk,
            evidence_id=object_id(evidence_id),
            kind=data.get("kind"),
            requirements=data.get("requirements"),
            version=data.get("version"),
        )
        return Response(EvidenceSerializer(evidence, context=self.get_serializer_context()).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, submission_id: str, evidence_id: str) -> Response:
        evidence_remove(
            user=caller(request),
            submission_id=object_id(submission_id),
            evidence_id=object_id(evidence_id),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
