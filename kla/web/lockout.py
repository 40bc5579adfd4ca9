"""Sign-in locks (django-axes; OWASP ASVS 2.2): the pages, the admin and the token endpoint.

After ``AXES_FAILURE_LIMIT`` failures in a row for one account, or from one address, further
attempts are refused, the right password included, with 429. The lock grows with the failures
(1, 2, 4, 8, then 15 minutes: one failure more each time it ends) and never passes 15 minutes,
so nobody can lock a Kepala Dinas out for long on the deadline day. Attempts refused during a
lock are not failures: they neither lengthen it nor count. Failures are remembered for
``REMEMBERED`` after the last one, so a lock that ends does not reset the count; a successful
sign-in of the account forgets that account's failures.

axes' own handler counts the failures of its cool-off window and locks for as long as that
window: one length for both, which cannot grow. ``LockoutHandler`` keeps axes' records and
signals and only changes how long failures count (``REMEMBERED``) and how long a lock lasts
(``lock_for``); ``cooloff`` is that length for a request, from its count.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from typing import Any

from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_parameters, get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import ngettext

# The first lock, doubled with each failure more, up to the longest (DESIGN: 15 minutes).
FIRST_LOCK = dt.timedelta(minutes=1)
LOCK_MAX = dt.timedelta(minutes=15)
# How long failures in a row are remembered after the last one (longer than any lock).
REMEMBERED = dt.timedelta(hours=24)


def lock_for(failures: int, limit: int) -> dt.timedelta:
    """The lock that ``failures`` in a row earn: none below ``limit``, then 1, 2, 4, 8, 15
    minutes."""
    over = failures - limit
    if over < 0:
        return dt.timedelta(0)
    doubled: dt.timedelta = FIRST_LOCK * 2 ** min(over, 16)
    return min(doubled, LOCK_MAX)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (``AXES_CLIENT_IP_CALLABLE``, the reset throttle): ``REMOTE_ADDR``,
    or, behind ``PROXY_COUNT`` proxies, the address the outermost of them saw
    (``X-Forwarded-For`` read from the right, where a client cannot write)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies:
        candidate = forwarded[-proxies]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


def _credentials(request: HttpRequest, credentials: Any = None) -> Any:
    return credentials if credentials is not None else getattr(request, "axes_credentials", None)


def _remembered(request: HttpRequest, credentials: Any = None) -> list[QuerySet[AccessAttempt]]:
    """The remembered failures of the request's account and of its address, one set each."""
    AxesProxyHandler.update_request(request)
    since = request.axes_attempt_time - REMEMBERED  # type: ignore[attr-defined]
    username = get_client_username(request, credentials)
    parameters = get_client_parameters(
        username,
        request.axes_ip_address,  # type: ignore[attr-defined]
        request.axes_user_agent,  # type: ignore[attr-defined]
        request,
        credentials,
    )
    return [
        AccessAttempt.objects.filter(**kwargs, attempt_time__gte=since) for kwargs in parameters
    ]


def _counts(request: HttpRequest, credentials: Any = None) -> list[tuple[int, dt.datetime]]:
    """``(failures, last failure)`` of the account and of the address that have failures."""
    counts = []
    for attempts in _remembered(request, credentials):
        found = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if found["failures"]:
            counts.append((int(found["failures"]), found["last"]))
    return counts


def locked_until(request: HttpRequest, credentials: Any = None) -> dt.datetime | None:
    """When the request's lock ends (the later of the account's and the address's), or
    ``None`` when neither has ever been locked since its failures began."""
    credentials = _credentials(request, credentials)
    limit = get_failure_limit(request, credentials)
    ends = [
        last + lock_for(failures, limit)
        for failures, last in _counts(request, credentials)
        if failures >= limit
    ]
    return max(ends, default=None)


def cooloff(request: HttpRequest | None = None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: how long the request's lock lasts, from its failures in a row
    (the larger count of its account and its address; below the limit, the first lock)."""
    if request is None:
        return LOCK_MAX
    credentials = _credentials(request)
    limit = get_failure_limit(request, credentials)
    failures = max((count for count, _last in _counts(request, credentials)), default=0)
    return lock_for(max(failures, limit), limit)


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """axes' database handler with locks that grow (``AXES_HANDLER``)."""

    def get_user_attempts(
        self, request: HttpRequest, credentials: Any = None
    ) -> list[QuerySet[AccessAttempt]]:
        return _remembered(request, credentials)

    def is_locked(self, request: HttpRequest, credentials: Any = None) -> bool:
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        until = locked_until(request, credentials)
        return until is not None and request.axes_attempt_time < until  # type: ignore[attr-defined]

    def clean_expired_user_attempts(
        self, request: HttpRequest | None = None, credentials: Any = None
    ) -> int:
        """Forget failures ``REMEMBERED`` after their last one (axes would use its cool-off,
        and with a lock as short as a minute it would forget them when the lock ends)."""
        count, _kinds = AccessAttempt.objects.filter(
            attempt_time__lt=timezone.now() - REMEMBERED
        ).delete()
        return int(count)

    def reset_user_attempts(self, request: HttpRequest, credentials: Any = None) -> int:
        """A successful sign-in forgets the failures of that account, wherever they came
        from; not, as axes does, every failure from its address too, which would let anybody
        with an account wipe the count of the account they are guessing at."""
        username = get_client_username(request, credentials)
        if username is None:
            return 0
        count, _kinds = AccessAttempt.objects.filter(username=username).delete()
        return int(count)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # DRF's AuthTokenSerializer authenticates with its Request, a wrapper: axes marks the
        # wrapper, and its middleware reads the Django request under it.
        inner = getattr(request, "_request", None)
        if isinstance(inner, HttpRequest) and inner is not request:
            for name, value in vars(request).items():
                if name.startswith("axes_"):
                    setattr(inner, name, value)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 saying when to try again, in the request's language;
    ``{"detail": ...}`` for the API, ``registration/locked.html`` for people."""
    AxesProxyHandler.update_request(request)
    attempt_time: dt.datetime = request.axes_attempt_time  # type: ignore[attr-defined]
    until = locked_until(request, credentials)
    if until is None or until <= attempt_time:
        until = attempt_time + cooloff(request)  # the lock ended as it was answered
    seconds = max(1, math.ceil((until - attempt_time).total_seconds()))
    minutes = math.ceil(seconds / 60)
    message = ngettext(
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit, "
        "pukul %(time)s.",
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit, "
        "pukul %(time)s.",
        minutes,
    ) % {"minutes": minutes, "time": time_format(timezone.localtime(until), "H:i")}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(
            request,
            "registration/locked.html",
            {"message": message, "retry_after": seconds},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response
