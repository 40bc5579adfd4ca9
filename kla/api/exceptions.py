"""DRF's exception handler, extended to the services' errors (``kla.errors``)."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kla.api.idempotency import RETRY_AFTER, database_unavailable_message
from kla.errors import Invalid, ServiceError, Unavailable


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``{field: [messages]}`` for bad input, ``{detail}`` for the rest, as DRF does."""
    if isinstance(exc, Invalid):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Unavailable):
        return Response(
            {"detail": ErrorDetail(exc.message)},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ServiceError):
        return Response({"detail": ErrorDetail(exc.message)}, status=exc.status)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return Response(
            {"detail": ErrorDetail(database_unavailable_message())},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER},
        )
    return drf_exception_handler(exc, context)
