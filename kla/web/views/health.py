"""``/healthz/`` for a load balancer: 200 when everything answers, else 503 naming what does not.

No login, and nothing but the names of the parts and a word each: the database (a query),
the broker (a round trip, bounded), the evidence storage (a file written and removed), beat
(its relay ran within three of its intervals) and, when ``CLAMAV_SOCKET`` is set, the virus
scanner (clamd answers ``PING`` with ``PONG``). Each probe is bounded by a short timeout,
so a hung part makes this page slow by seconds, never by minutes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kla import scanning
from workflows.models import Heartbeat
from workflows.notifications.outbox import RELAY

PROBE_TIMEOUT = 2.0


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    url = str(settings.CELERY_BROKER_URL)
    if url.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders = [Path(str(options[k])) for k in ("data_folder_in", "processed_folder")]
        return "ok" if all(folder.is_dir() for folder in folders) else "folders missing"
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
    )
    try:
        return "ok" if client.ping() else "no answer"
    finally:
        client.close()


def _storage() -> str:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)
    return "ok"


def _beat() -> str:
    beat = Heartbeat.objects.filter(name=RELAY).first()
    if beat is None:
        return "never ran"
    interval = dt.timedelta(seconds=settings.RELAY_SECONDS)
    return "ok" if timezone.now() - beat.at <= 3 * interval else "late"


def _scanner() -> str:
    return (
        "ok"
        if scanning.ping(timeout=min(PROBE_TIMEOUT, float(settings.CLAMAV_TIMEOUT)))
        else "no answer"
    )


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
    "beat": _beat,
}


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    """Every part's state; 503 when any is not ``ok``."""
    checks = dict(CHECKS)
    if scanning.configured():
        checks["scanner"] = _scanner
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception:  # a probe that fails for any reason means the part is down
            results[name] = "down"
    down = sorted(name for name, state in results.items() if state != "ok")
    return JsonResponse(
        {"status": "down" if down else "ok", "down": down, "checks": results},
        status=503 if down else 200,
    )
