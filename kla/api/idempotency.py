"""Writes through the API: one transaction each, answered 503 when the database is gone, and
an ``Idempotency-Key`` honoured on every POST.

A client that lost the answer (a timeout, a dropped connection, a 503) may send the same POST
again with the same key: it gets the first answer again, with its status, and nothing is
done twice. The same key with another body is 409. The key's row is written in the request's
own transaction, so a request whose work was not committed left no key behind either.

The person is read the way the API reads them (a token, or the session with its CSRF check);
a request nobody signed gets no key handling and is refused by the view as usual.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from kla.models import IdempotentRequest

API_PREFIX = "/api/"
SECRETS = f"{API_PREFIX}v1/auth/"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY = 200
RETRY_AFTER = "5"


def database_unavailable_message() -> str:
    return _("Basis data sedang tidak dapat dijangkau; coba lagi sebentar lagi.")


def database_unavailable() -> JsonResponse:
    """The API's answer while the database cannot be reached: retry in a moment."""
    response = JsonResponse({"detail": database_unavailable_message()}, status=503)
    response["Retry-After"] = RETRY_AFTER
    return response


def _caller(request: HttpRequest) -> User | None:
    """The person the API will see (its own authenticators), without touching the request."""
    drf = Request(request)
    classes = cast(list[type[BaseAuthentication]], api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    for authentication in classes:
        authenticator = authentication()
        try:
            found = authenticator.authenticate(drf)
        except APIException:
            return None  # a bad token or a failed CSRF check: the view refuses it
        if found is not None:
            user = found[0]
            return user if isinstance(user, User) and user.is_active else None
    return None


def _fingerprint(request: HttpRequest) -> str:
    """What makes two requests the same: method, path, and the body as the view will read it."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    content_type = request.content_type or ""
    if content_type.startswith("multipart/") or content_type.startswith(
        "application/x-www-form-urlencoded"
    ):
        fields = sorted((k, v) for k in request.POST for v in request.POST.getlist(k))
        digest.update(json.dumps(fields).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"{name}:{upload.name}:{file_digest.hexdigest()}".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
    response["Idempotency-Replayed"] = "true"
    return response


def _body_too_large(request: HttpRequest) -> bool:
    """A body other than a file upload past ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 in JSON,
    before anything reads it (files are bounded while they stream in, ``kla.uploads``)."""
    if (request.content_type or "").startswith("multipart/"):
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return limit is not None and length > limit


class ApiWriteMiddleware:
    """Every write of the API in one transaction, with its ``Idempotency-Key`` if it has one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX) or request.method not in WRITES:
            return self.get_response(request)
        if _body_too_large(request):
            return JsonResponse(
                {
                    "detail": _("Isi permintaan terlalu besar: paling besar %(kb)s KB.")
                    % {"kb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024}
                },
                status=413,
            )
        try:
            with transaction.atomic():
                return self._write(request)
        except (OperationalError, InterfaceError):
            # The database went away, at the latest while committing: nothing was done.
            return database_unavailable()

    def _write(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None or request.path.startswith(SECRETS):
            # Sign-in answers hold a token: never kept to be answered again.
            return self.get_response(request)
        if not key or len(key) > MAX_KEY or not key.isprintable():
            return JsonResponse(
                {"Idempotency-Key": [_("Kunci idempotensi 1 sampai 200 karakter cetak.")]},
                status=400,
            )
        user = _caller(request)
        if user is None:
            return self.get_response(request)
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return self.get_response(request)  # the view refuses it as it always does
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            # Sent before, or being sent right now: the unique index made us wait for it.
            row = IdempotentRequest.objects.select_for_update().get(user=user, key=key)
            if row.fingerprint != fingerprint:
                return JsonResponse(
                    {"detail": _("Kunci idempotensi ini sudah dipakai untuk permintaan lain.")},
                    status=409,
                )
            return _replay(row)
        response = self.get_response(request)
        self._remember(row, response)
        return response

    @staticmethod
    def _remember(row: IdempotentRequest, response: Any) -> None:
        if response.status_code >= 500 or getattr(response, "streaming", False):
            row.delete()  # nothing to answer again: a retry does the work anew
            return
        row.status = response.status_code
        row.content_type = response.get("Content-Type", "")
        row.body = response.content
        row.save(update_fields=["status", "content_type", "body"])
