"""Who is told when something waits for them; rows in the action's transaction, email after.

Rows are written inside the action's transaction, so nothing owed is lost; emails are queued
after commit and, if the broker is down, picked up later by the sweep (the rows are the outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from kla.models import Submission
from roles.roles import VERIFY_CODENAME, Role

from .models import Notification

logger = logging.getLogger(__name__)


def verifiers_of(submission: Submission) -> QuerySet[User]:
    """Verifiers whose scope holds the submission's body."""
    User = get_user_model()
    return User.objects.filter(
        Q(groups__permissions__codename=VERIFY_CODENAME)
        | Q(user_permissions__codename=VERIFY_CODENAME)
        | Q(
            bodyuserobjectpermission__permission__codename=VERIFY_CODENAME,
            bodyuserobjectpermission__content_object=submission.body_id,
        ),
        is_active=True,
    ).distinct()


def members_of_group(role: Role) -> QuerySet[User]:
    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


def operators_of(submission: Submission) -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(memberships__body=submission.body_id, is_active=True)
        .distinct()
    )


def recipients_for(
    submission: Submission, to_state: str, note: str
) -> tuple[Iterable[User], str, str]:
    """The people a transition into ``to_state`` concerns, with a title and message."""
    label = f"#{submission.pk} {submission.title}"
    if to_state == "returned":
        return operators_of(submission), _("Dikembalikan untuk perbaikan: %s") % label, note
    if to_state == "submitted":
        return verifiers_of(submission), _("Menunggu verifikasi: %s") % label, note
    if to_state == "verified":
        return members_of_group(Role.CONSOLIDATOR), _("Siap dikonsolidasi: %s") % label, ""
    if to_state == "consolidated":
        return members_of_group(Role.AUDITOR), _("Siap diaudit: %s") % label, ""
    return (), "", ""


def notify_transition(
    *, submission: Submission, to_state: str, note: str, actor: User
) -> list[int]:
    """Write the notification rows a transition owes and queue their email after commit."""
    # Stored text is read later by other people: it is written in the site's language (Indonesian),
    # not in the language the actor happened to choose for their own pages.
    with translation.override(settings.LANGUAGE_CODE):
        people, title, message = recipients_for(submission, to_state, note)
    rows = [
        Notification(
            user=person,
            kind=f"state:{to_state}",
            submission=submission,
            title=title,
            message=message,
        )
        for person in people
        if person.pk != actor.pk
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        transaction.on_commit(lambda: queue_emails(ids), robust=True)
    return ids


def queue_emails(ids: list[int]) -> None:
    """Hand the emails to the worker; a broker failure leaves them for the sweep."""
    from .tasks import send_notification_emails

    try:
        send_notification_emails.delay(ids)
    except Exception as exc:  # any broker failure: the rows stay unsent, the sweep sends them
        logger.warning("broker unavailable (%s); notifications %s wait for the sweep", exc, ids)
