"""Sessions that end (OWASP ASVS 3.3): after ``SESSION_IDLE_MINUTES`` without a request and
``SESSION_MAX_HOURS`` after signing in, whatever happens in between; and what a person typed
when theirs ended is not lost: the form is kept (its text, not its files) and offered again,
to the same person, once they have signed in.

Also here: every response of the site is private (``Cache-Control: no-store``) unless it says
otherwise: pages and downloads can hold children's personal data (UU 27/2022), and a shared
office computer's cache must not keep them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kla.web.requests import AuthenticatedHttpRequest

SIGNED_IN_AT = "_kla_signed_in_at"
SEEN_AT = "_kla_seen_at"
PENDING = "_kla_pending_form"
# The last request is written back at most this often, so a page is not a session write.
SEEN_EVERY = 60
# What may be kept of a form whose session ended: its text fields, up to this much.
PENDING_MAX_CHARS = 200_000
NOT_KEPT = {"csrfmiddlewaretoken"}


def _now() -> int:
    return int(time.time())


@receiver(user_logged_in)
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # A page's sign-in; the API's token endpoint sends the signal too, with no page session.
    if request is not None and hasattr(request, "session") and not request.path.startswith("/api/"):
        now = _now()
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now


def _ended(request: HttpRequest, now: int) -> bool:
    session = request.session
    signed_in = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT)
    if not isinstance(signed_in, int) or not isinstance(seen, int):
        # A session from before these limits: it starts counting now.
        session[SIGNED_IN_AT] = session[SEEN_AT] = now
        return False
    idle = now - seen > settings.SESSION_IDLE_MINUTES * 60
    too_old = now - signed_in > settings.SESSION_MAX_HOURS * 3600
    return idle or too_old


def _pending_form(request: HttpRequest) -> list[tuple[str, str]] | None:
    """The text of a page form being sent, if it is worth keeping."""
    if request.method != "POST" or request.path.startswith(("/api/", "/admin/")):
        return None
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in NOT_KEPT
        for value in values
    ]
    if not fields or sum(len(k) + len(v) for k, v in fields) > PENDING_MAX_CHARS:
        return None
    return fields


class SessionLimitsMiddleware:
    """Ends a session past its idle or absolute limit; keeps the form it was sending."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = _now()
        if not _ended(request, now):
            if now - request.session.get(SEEN_AT, 0) >= SEEN_EVERY:
                request.session[SEEN_AT] = now
            return self.get_response(request)
        username = user.get_username()
        pending = _pending_form(request)
        path = request.path
        logout(request)
        if pending is not None:
            request.session[PENDING] = {"user": username, "path": path, "fields": pending}
        if request.path.startswith("/api/"):
            # The browsable API: the request goes on as an anonymous one (401).
            return self.get_response(request)
        messages.info(request, _("Sesi Anda berakhir; silakan masuk lagi."))
        after = reverse("session-resume") if pending is not None else request.get_full_path()
        login = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': after})}"
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login
            return response
        return redirect(login)


@login_required
@require_http_methods(["GET", "POST"])
def session_resume(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The form a person was sending when their session ended, to look over and send again
    (only to them: another person signing in on that browser never sees it)."""
    pending = request.session.get(PENDING)
    mine = isinstance(pending, dict) and pending.get("user") == request.user.get_username()
    if request.method == "POST" or not mine:
        request.session.pop(PENDING, None)
        if request.method == "POST":
            messages.info(request, _("Isian yang tertunda dibuang."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    assert isinstance(pending, dict)
    path = str(pending.get("path", ""))
    if not path.startswith("/") or path.startswith("//"):
        request.session.pop(PENDING, None)
        return redirect(settings.LOGIN_REDIRECT_URL)
    request.session.pop(PENDING, None)
    return render(
        request,
        "registration/session_resume.html",
        {"action": path, "fields": [tuple(f) for f in pending.get("fields", [])]},
    )


class PrivateResponsesMiddleware:
    """``Cache-Control: no-store`` on every response that does not say how it may be kept
    (static files are served before this, by WhiteNoise, with their own headers)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            patch_cache_control(response, no_store=True, private=True)
        elif "no-store" not in response["Cache-Control"]:
            patch_cache_control(response, no_store=True)
        return response
