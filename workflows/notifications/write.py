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
from django.utils.translation import gettext_lazy as _l

from kla.models import Submission, SubmissionState
from kla.queue import publish_on_commit
from workflows.duties import people_waited_for
from workflows.models import Notification
from workflows.notifications.outbox import EMAIL_TASK

# What people are told when a submission enters a state that waits for them; who they are
# comes from the flow (``workflows.duties``). A withdrawn draft is announced to nobody.
TITLES = {
    SubmissionState.RETURNED: _l("Dikembalikan untuk perbaikan: %s"),
    SubmissionState.SUBMITTED: _l("Menunggu verifikasi: %s"),
    SubmissionState.VERIFIED: _l("Siap dikonsolidasi: %s"),
    SubmissionState.CONSOLIDATED: _l("Siap diaudit: %s"),
}
# States whose notice carries the transition's note (the reason, or what was changed).
WITH_NOTE = frozenset({SubmissionState.RETURNED, SubmissionState.SUBMITTED})


def recipients_for(
    submission: Submission, to_state: str, note: str
) -> tuple[Iterable[User], str, str]:
    """The people a transition into ``to_state`` concerns, with a title and message."""
    if to_state not in TITLES:
        return (), "", ""
    title = str(TITLES[SubmissionState(to_state)]) % f"#{submission.pk} {submission.title}"
    message = note if to_state in WITH_NOTE else ""
    return people_waited_for(submission, to_state), title, message


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
