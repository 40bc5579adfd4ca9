"""The person's notifications in the app (/notifikasi/): the list, opening one, marking all read.

Everybody signed in has their own list. Opening a notification marks it read and goes to its
submission; somebody else's notification does not exist for them (404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from kla.web.requests import AuthenticatedHttpRequest
from workflows.notifications.inbox import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_of,
)

PAGE_SIZE = 50
# The largest id a PostgreSQL bigint holds: a larger one cannot name a notification.
MAX_ID = 2**63 - 1


@login_required
@require_GET
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person's notifications, newest first, unread ones marked."""
    page = Paginator(
        notifications_of(request.user).select_related("submission"),
        PAGE_SIZE,
    ).get_page(request.GET.get("halaman"))
    return render(request, "kla/notifications.html", {"page": page})


@login_required
@require_GET
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read, then go to its submission (or back to the list)."""
    if pk > MAX_ID:
        raise Http404(_("Notifikasi tidak ditemukan."))
    notification = notification_mark_read(user=request.user, notification_id=pk)
    if notification.submission_id is not None:
        return redirect("submission-detail", pk=notification.submission_id)
    return redirect("notifications")


@login_required
@require_POST
def notification_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mark every unread notification of the person read."""
    count = notifications_mark_all_read(user=request.user)
    messages.success(
        request,
        ngettext(
            "%(n)s notifikasi ditandai sudah dibaca.",
            "%(n)s notifikasi ditandai sudah dibaca.",
            count,
        )
        % {"n": count},
    )
    return redirect("notifications")
