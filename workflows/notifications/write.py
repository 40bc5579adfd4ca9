"""Who is told when something waits for them; rows in the action's transaction, email after.

Rows are written inside the action's transaction, so nothing owed is lost; emails are queued
after commit by task name and, if the broker is down, sent later by the sweep (the rows are
the outbox, ``workflows.notifications.outbox``).

What is owed to a body's operators goes to the body's own address instead while the body has
no operator with an active account (DESIGN, "Instructions, years and places"): one row
without a user, which the same outbox sends once. A body with neither is told nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext_lazy as _l

from kla.models import Body, Submission, SubmissionState
from kla.queue import publish_on_commit
from roles.roles import Role
from roles.selectors import members_of_group, operators_of, operators_of_body
from workflows.duties import people_waited_for
from workflows.flow import duty_roles
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


def body_address_row(
    body: Body, *, kind: str, title: str, message: str, submission: Submission | None = None
) -> Notification | None:
    """The row that emails the body's own address; ``None`` when it has none.

    For callers that already know the body has no operator to tell.
    """
    if not body.email:
        return None
    return Notification(
        user=None, email=body.email, kind=kind, submission=submission, title=title, message=message
    )


def body_address_owed(submission: Submission, state: str) -> bool:
    """Whether what a submission in ``state`` owes its body's operators goes to the body's
    address: the state waits for them, there is none, and the body has an address."""
    return (
        bool(submission.body.email)
        and Role.OPERATOR in duty_roles(state)
        and not operators_of(submission).exists()
    )


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
    if to_state in TITLES and body_address_owed(submission, to_state):
        row = body_address_row(
            submission.body,
            kind=f"state:{to_state}",
            title=title,
            message=message,
            submission=submission,
        )
        if row is not None:
            rows.append(row)
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        publish_on_commit(EMAIL_TASK, ids)
    return ids


def notify_supervision(
    *,
    body: Body,
    to_body: bool,
    kind: str,
    title: str,
    message: str,
    submission: Submission | None,
    actor: User,
) -> list[int]:
    """A finding's notices (DESIGN, "Supervision"): to the body (its operators, or its own
    address when it has none) or to Inspektorat's auditors; never to the actor."""
    rows: list[Notification] = []
    if to_body:
        people = list(operators_of_body(body.pk))
        if not people:
            row = body_address_row(
                body, kind=kind, title=title, message=message, submission=submission
            )
            rows.extend([row] if row is not None else [])
    else:
        people = list(members_of_group(Role.AUDITOR))
    rows.extend(
        Notification(user=person, kind=kind, submission=submission, title=title, message=message)
        for person in people
        if person.pk != actor.pk
    )
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        publish_on_commit(EMAIL_TASK, ids)
    return ids
