"""``/sandi/lupa/``: Django's password reset, throttled (OWASP ASVS 2.2).

At most ``ADDRESS_LIMIT`` requests for one address (as typed, case aside) and
``CLIENT_LIMIT`` requests from one client address in any ``WINDOW``; beyond, 429 with when to
try again. The answer is the same whether the address has an account or not: the count is of
requests, not of mails sent. The counts live in the shared cache (Redis); when it cannot be
reached the reset still works, unthrottled, and the failure is logged.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from django.contrib.auth.views import PasswordResetView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from kla.web.lockout import client_ip

log = logging.getLogger(__name__)

WINDOW = 15 * 60
ADDRESS_LIMIT = 3
CLIENT_LIMIT = 10
PREFIX = "password-reset"


def _slot(key: str, limit: int, window: int = WINDOW) -> float | None:
    """Take one of ``limit`` slots of ``key``, each held for ``window`` seconds: ``None`` when
    one was free, else the seconds until the oldest frees. A slot per request held for the
    whole window, so no ``window`` ever sees more than ``limit``, across its edges too."""
    now = time.time()
    keys = [f"{PREFIX}:{key}:{slot}" for slot in range(limit)]
    held = cache.get_many(keys)
    for slot_key in keys:
        if slot_key not in held and cache.add(slot_key, now, timeout=window):
            return None
    held = cache.get_many(keys)
    taken = [float(value) for value in held.values()]
    if len(taken) < limit:
        return 1.0  # one freed as we looked: try again
    return max(1.0, min(taken) + window - now)


def _wait(key: str, limit: int) -> float | None:
    """``_slot``, failing open: a cache that cannot be reached throttles nothing."""
    try:
        return _slot(key, limit)
    except Exception:
        log.exception("Password reset throttle skipped: the cache cannot be reached")
        return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ThrottledPasswordResetView(PasswordResetView):
    """``PasswordResetView`` that refuses, with 429, more requests than the limits allow."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = _wait(f"client:{_digest(client_ip(request) or '')}", CLIENT_LIMIT)
        if wait is not None:
            return self.refused(request, wait)
        form = self.get_form()
        if not form.is_valid():
            return self.form_invalid(form)
        address = str(form.cleaned_data["email"]).strip().casefold()
        wait = _wait(f"address:{_digest(address)}", ADDRESS_LIMIT)
        if wait is not None:
            return self.refused(request, wait)
        return self.form_valid(form)

    @staticmethod
    def refused(request: HttpRequest, wait: float) -> HttpResponse:
        seconds = math.ceil(wait)
        minutes = math.ceil(seconds / 60)
        message = ngettext(
            "Terlalu banyak permintaan atur ulang kata sandi. Coba lagi dalam %(minutes)d menit.",
            "Terlalu banyak permintaan atur ulang kata sandi. Coba lagi dalam %(minutes)d menit.",
            minutes,
        ) % {"minutes": minutes}
        response = render(
            request, "registration/password_reset_limited.html", {"message": message}, status=429
        )
        response["Retry-After"] = str(seconds)
        return response
