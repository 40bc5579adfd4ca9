"""Signing in to the API and managing one's tokens (django-rest-knox, ``kla.api.tokens``).

Tokens are stored hashed, expire after hours without use, are several per person and are
revoked by their owner; every token of a person dies when their password changes.

* ``POST /api/v1/auth/token/`` ``{username, password}`` -> ``{token}``; 409 once the person
  holds ``REST_KNOX["TOKEN_LIMIT_PER_USER"]`` live tokens (a state to change, not bad input).
* ``GET /api/v1/auth/tokens/`` -> the caller's live tokens: ``id``, ``created``, ``expiry``,
  ``current``.
* ``DELETE /api/v1/auth/tokens/{id}/`` revokes one of them (204); another's or unknown: 404.
* ``POST /api/v1/auth/logout/`` revokes the token of the request (204; 400 without one),
  ``POST /api/v1/auth/logout-all/`` every token of the caller (204).

A person signed in to the browsable API (the session) may list and revoke too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kla.api.base import SafeJSONParser, caller
from kla.api.serializers import (
    ApiTokenSerializer,
    TokenResponseSerializer,
    json_object,
)
from kla.api.tokens import live_tokens, token_issue, token_revoke, tokens_revoke_all
from kla.errors import ServiceError

REVOKED = OpenApiResponse(description="Revoked; nothing in the body")
UNAUTHENTICATED = OpenApiResponse(description="No token, or one unknown, revoked or expired")


class TokenView(APIView):
    """Trade a username and password for an API token: ``Authorization: Token <t>``."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = (FormParser, MultiPartParser, SafeJSONParser)
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong username or password"),
            409: OpenApiResponse(
                description="The person already holds the most tokens allowed: revoke one"
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        json_object(request.data)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        _row, token = token_issue(user)
        # A sign-in like any other: its failures so far are forgotten (django-axes), and the
        # person's last sign-in is recorded.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response({"token": token})


def _current_digest(request: Request) -> str | None:
    """The digest of the token making the request; None when it came with the session."""
    auth = request.auth
    return auth.digest if isinstance(auth, AuthToken) else None


class TokenListView(GenericAPIView[Any]):
    """The caller's live API tokens, newest first."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return live_tokens(caller(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "current_digest": _current_digest(self.request)}

    @extend_schema(
        operation_id="auth_tokens_list",
        responses={200: ApiTokenSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TokenDetailView(GenericAPIView[Any]):
    """Revoke one of the caller's tokens, named by its ``id``."""

    serializer_class = ApiTokenSerializer

    @extend_schema(
        operation_id="auth_tokens_revoke",
        responses={
            204: REVOKED,
            401: UNAUTHENTICATED,
            404: OpenApiResponse(description="Not one of the caller's live tokens"),
        },
    )
    def delete(self, request: Request, token_id: str) -> Response:
        token_revoke(caller(request), token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(GenericAPIView[Any]):
    """Revoke the token making the request."""

    serializer_class = ApiTokenSerializer

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={
            204: REVOKED,
            400: OpenApiResponse(description="The request came without a token (the session)"),
            401: UNAUTHENTICATED,
        },
    )
    def post(self, request: Request) -> Response:
        if _current_digest(request) is None:
            raise ServiceError(
                _(
                    "Permintaan ini tidak memakai token API. Cabut token tertentu dengan "
                    "DELETE /api/v1/auth/tokens/{id}/ atau semuanya dengan POST "
                    "/api/v1/auth/logout-all/."
                )
            )
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(GenericAPIView[Any]):
    """Revoke every token of the caller, the one making the request included."""

    serializer_class = ApiTokenSerializer

    @extend_schema(
        operation_id="auth_logout_all",
        request=None,
        responses={204: REVOKED, 401: UNAUTHENTICATED},
    )
    def post(self, request: Request) -> Response:
        tokens_revoke_all(caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
