"""Exports: requesting one, following its progress, downloading it (its requester alone)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser, caller
from kla.api.serializers import json_object, object_id
from kla.models import Export, ExportKind, ExportState
from kla.reports.exports import export_download, export_get, export_request, exports_of


class ExportSerializer(serializers.ModelSerializer[Export]):
    """An export as its requester sees it; ``download`` only once it is done."""

    download = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
            "id",
            "kind",
            "instruction",
            "state",
            "progress",
            "error",
            "size",
            "sha256",
            "created_at",
            "finished_at",
            "download",
        )
        read_only_fields = fields

    def get_download(self, obj: Export) -> str | None:
        if obj.state != ExportState.DONE:
            return None
        path = reverse("api:export-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportRequestSerializer(serializers.Serializer[Any]):
    """``{kind, instruction?}``: ``rekap_xlsx``, ``evidence_zip``, ``compliance_xlsx`` or
    ``findings_xlsx`` (verifiers, consolidators and auditors) of one instruction (an id; the
    current one when absent); ``trail_bundle`` (auditors alone) with no instruction (400). The
    service refuses any other kind."""

    kind = serializers.ChoiceField(
        ExportKind.choices,
        help_text="trail_bundle for auditors alone, without an instruction; the others for "
        "verifiers, consolidators and auditors",
    )
    instruction = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="An instruction id; the current one when absent; never with trail_bundle",
    )


class ExportCreatedSerializer(serializers.Serializer[Any]):
    """``{id, state, progress}`` of the export just requested."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(ExportState.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)


class ExportListView(GenericAPIView[Export]):
    """The caller's exports, newest first; POST requests a new one."""

    serializer_class = ExportSerializer
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> Any:
        return exports_of(caller(self.request))

    @extend_schema(operation_id="exports_list", responses=ExportSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ExportRequestSerializer, responses={201: ExportCreatedSerializer})
    def post(self, request: Request) -> Response:
        data = json_object(request.data)
        export = export_request(
            user=caller(request), kind=data.get("kind"), instruction=data.get("instruction")
        )
        return Response(
            {"id": export.pk, "state": export.state, "progress": export.progress},
            status=status.HTTP_201_CREATED,
        )


class ExportDetailView(GenericAPIView[Export]):
    """One of the caller's exports: state, progress and, when done, the download URL."""

    serializer_class = ExportSerializer

    def get(self, request: Request, export_id: str) -> Response:
        export = export_get(user=caller(request), export_id=object_id(export_id))
        return Response(self.get_serializer(export).data)


class ExportDownloadView(GenericAPIView[Export]):
    """The finished file, for its requester only; the download is a trail event."""

    serializer_class = ExportSerializer

    @extend_schema(
        responses={
            (200, "application/octet-stream"): bytes,
            409: OpenApiResponse(description="The export is not done (pending, running, failed)"),
        }
    )
    def get(self, request: Request, export_id: str) -> FileResponse:
        export = export_download(user=caller(request), export_id=object_id(export_id))
        try:
            handle = default_storage.open(export.file, "rb")
        except OSError:
            raise NotFound(_("Berkas ekspor tidak ditemukan di penyimpanan.")) from None
        return FileResponse(handle, as_attachment=True, filename=export.filename)
