"""Who is told when something waits for them; rows in the action's transaction, email after.

Rows are written inside the action's transaction, so nothing owed is lost; emails are queued
after commit by task name and, if the broker is down, sent later by the sweep (the rows are
the outbox, ``workflows.notifications.outbox``).

What is owed to a body's operators goes to the body's own address instead while the body has
no operator with an active account (DESIGN, "Instructions, years and places"): one row
without a user, which the same outbox sends once. A body with neither is told nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _l

from kla.models import Body, Submission, SubmissionState
from kla.queue import publish_ids_on_commit
from roles.roles import Role
from roles.selectors import members_of_group, operators_of, operators_of_body
from workflows.compiled import Mark, bind, compiled_cursor
from workflows.duties import waiting_people
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


def notice_of(submission: Submission, to_state: str, note: str) -> tuple[str, str]:
    """The title and message of what a transition into ``to_state`` tells people."""
    title = str(TITLES[SubmissionState(to_state)]) % f"#{submission.pk} {submission.title}"
    return title, note if to_state in WITH_NOTE else ""


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


# Stand-ins for the body and the actor in the compiled statements of ``notify_transition``.
BODY_MARK, ACTOR_MARK = -7_700_000_021, -7_700_000_022
# ... and for the values of each row and the body's own address.
ROW_MARKS = tuple(Mark(name) for name in ("kind", "submission", "title", "message", "at"))
ADDRESS_MARK = Mark("address")


@cache
def _transition_sql(
    vendor: str, to_state: str, to_body_address: bool
) -> tuple[str, tuple[Any, ...]]:
    """The ``INSERT ... SELECT`` of a transition into ``to_state``, compiled once per process
    and ``vendor`` (its recipients' subqueries cost more to build than to run), with
    ``BODY_MARK`` and ``ACTOR_MARK`` among its parameters after the ``ROW_MARKS`` of each row
    (and the body's address first in the second branch)."""
    someone = Submission(body_id=BODY_MARK)
    people, people_params = (
        waiting_people(someone, to_state).exclude(pk=ACTOR_MARK).values("pk").query
    ).sql_with_params()
    table = Notification._meta.db_table
    sql = (
        f"INSERT INTO {table} (user_id, email, kind, submission_id, title, message, "  # noqa: S608 -- names only
        f"created_at) SELECT r.pk, '', %s, %s, %s, %s, %s FROM ({people}) r"
    )
    params: tuple[Any, ...] = (*ROW_MARKS, *people_params)
    if to_body_address:
        operators, operators_params = operators_of(someone).values("pk").query.sql_with_params()
        sql += f" UNION ALL SELECT NULL, %s, %s, %s, %s, %s, %s WHERE NOT EXISTS ({operators})"
        params += (ADDRESS_MARK, *ROW_MARKS, *operators_params)
    return sql + " RETURNING id", params


def notify_transition(
    *, submission: Submission, to_state: str, note: str, actor: User
) -> list[int]:
    """Write the notification rows a transition owes and queue their email after commit.

    One ``INSERT ... SELECT``: a row for each person the new state waits for but the actor,
    and, when it waits for the body's operators and the body has none, one to the body's own
    address (see the module docstring).
    """
    if to_state not in TITLES:
        return []
    # Stored text is read later by other people: it is written in the site's language (Indonesian),
    # not in the language the actor happened to choose for their own pages.
    with translation.override(settings.LANGUAGE_CODE):
        title, message = notice_of(submission, to_state, note)
    to_body_address = bool(submission.body.email) and Role.OPERATOR in duty_roles(to_state)
    sql, compiled = _transition_sql(connection.vendor, to_state, to_body_address)
    row = (f"state:{to_state}", submission.pk, title, message, timezone.now())
    marks: dict[Any, Any] = {
        **dict(zip(ROW_MARKS, row, strict=True)),
        ADDRESS_MARK: submission.body.email,
        BODY_MARK: submission.body_id,
        ACTOR_MARK: actor.pk,
    }
    params = bind(compiled, marks)
    with compiled_cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    if ids:
        publish_ids_on_commit(EMAIL_TASK, ids)
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
        publish_ids_on_commit(EMAIL_TASK, ids)
    return ids
