"""Signing in to the API: a username and password for a token."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kla.api.base import SafeJSONParser
from kla.api.serializers import (
    TokenResponseSerializer,
    json_object,
)


class TokenView(ObtainAuthToken):
    """Trade a username and password for an API token: ``Authorization: Token <t>``."""

    parser_classes = (FormParser, MultiPartParser, SafeJSONParser)

    @extend_schema(responses=TokenResponseSerializer)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        json_object(request.data)
        return super().post(request, *args, **kwargs)
