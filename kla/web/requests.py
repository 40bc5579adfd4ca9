"""What a page knows about the request it answers: who is asking, and how to refuse them."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from kla.errors import ServiceError
from roles.roles import Roles, roles_of

Refusal = Callable[[ServiceError], HttpResponse]


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind ``login_required``: its user is a ``User``, never anonymous.

    ``refusal_page`` is how the page shows a service's refusal in place (the form again, the
    submission with the message); ``kla.web.middleware.ServiceErrorMiddleware`` reads it.
    """

    user: User
    refusal_page: Refusal | None
    # django-htmx's middleware: is this an htmx request, and what did it ask for.
    htmx: HtmxDetails


def request_roles(request: HttpRequest) -> Roles:
    """The person's roles, read once per request."""
    cached: Roles | None = getattr(request, "_kla_roles", None)
    if cached is None:
        cached = roles_of(request.user)
        request._kla_roles = cached  # type: ignore[attr-defined]
    return cached


def on_refusal(request: AuthenticatedHttpRequest, render: Refusal) -> None:
    """Show this page's refusals (other than 403 and 404) with ``render``."""
    request.refusal_page = render
