"""Service refusals become pages, in one place: the views call services and let them refuse.

The database gone (a restart, a dropped connection) is 503 with Retry-After, never a 500; so is
a part a service needs that does not answer (``Unavailable``: the virus scanner).
Not visible is Django's 404 page. Forbidden is the refusal page, saying why (403). Any other
refusal (a state that does not allow it 409, bad input 400, an oversized file 413) is shown by
the page itself when it said how (``kla.web.requests.on_refusal``: the form again with its
errors, the submission with the message), else by the refusal page with its status.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.handlers.exception import response_for_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kla.api.idempotency import (
    API_PREFIX,
    RETRY_AFTER,
    database_unavailable,
    database_unavailable_message,
)
from kla.errors import Forbidden, Invalid, NotVisible, ServiceError, Unavailable


def refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    """A page that says why the person may not do this."""
    titles = {
        403: _("Tidak diizinkan"),
        409: _("Tidak dapat dilakukan sekarang"),
        413: _("Berkas terlalu besar"),
        400: _("Masukan tidak valid"),
        503: _("Sedang tidak tersedia"),
    }
    return render(
        request,
        "kla/refused.html",
        {"title": titles.get(status, _("Tidak dapat diproses")), "message": message},
        status=status,
    )


def refusal_messages(exc: ServiceError) -> list[str]:
    """What a refusal says: its message, or every field's messages for bad input."""
    if isinstance(exc, Invalid):
        return [m for messages in exc.errors.values() for m in messages]
    return [exc.message]


def database_unavailable_page(request: HttpRequest) -> HttpResponse:
    """503 while the database cannot be reached (JSON for the API): nothing was lost."""
    if request.path.startswith(API_PREFIX):
        return database_unavailable()
    response = render(
        request,
        "kla/refused.html",
        {
            "title": _("Sedang tidak tersedia"),
            "message": database_unavailable_message(),
        },
        status=503,
    )
    response["Retry-After"] = RETRY_AFTER
    return response


class ServiceErrorMiddleware:
    """Maps the services' refusals (``kla.errors``) to statuses and pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return database_unavailable_page(request)
        if isinstance(exception, NotVisible):
            return response_for_exception(request, Http404(exception.message))
        if not isinstance(exception, ServiceError):
            return None
        page = getattr(request, "refusal_page", None)
        if page is not None and not isinstance(exception, Forbidden):
            response: HttpResponse = page(exception)
        else:
            response = refused(request, " ".join(refusal_messages(exception)), exception.status)
        if isinstance(exception, Unavailable):
            # A part the service needs is down (the virus scanner): 503, try again later.
            response.status_code = 503
            response["Retry-After"] = str(exception.retry_after)
        return response
