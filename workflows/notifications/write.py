"""Who is told when something waits for them; rows in the action's transaction, email after.

Rows are written inside the action's transaction, so nothing owed is lost; emails are queued
after commit by task name and, if the broker is down, sent later by the sweep (the rows are
the outbox, ``workflows.notifications.outbox``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext as _

from kla.models import Submission
from kla.queue import publish_on_commit
from roles.roles import Role
from roles.selectors import members_of_group, operators_of, verifiers_of
from workflows.models import Notification
from workflows.notifications.outbox import EMAIL_TASK


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
        publish_on_commit(EMAIL_TASK, ids)
    return ids
