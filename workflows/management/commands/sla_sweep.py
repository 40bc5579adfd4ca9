"""``manage.py sla_sweep [--now ISO-DATETIME]``: run the SLA sweep for any moment.

The same sweep the Celery beat task runs: escalations of overdue steps, the reminder owed
that day, then the notification emails not sent yet. ``--now`` without an offset is WIB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kla.time import WIB
from workflows.sla.sweep import sla_sweep


def parse_moment(value: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without an offset it is read as WIB."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--now {value!r} is not an ISO 8601 date-time (e.g. 2030-03-29T09:00+07:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return moment


class Command(BaseCommand):
    help = "Sweep the SLA timers: escalations, reminders and the email outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="sweep as of this moment (ISO 8601), default now")
        parser.add_argument(
            "--no-email", action="store_true", help="leave the email outbox for later"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_moment(options["now"]) if options["now"] else None
        result = sla_sweep(now=now, send_emails=not options["no_email"])
        self.stdout.write(
            f"escalations: {result.escalations}, reminders: {result.reminders}, "
            f"follow-up reminders: {result.follow_up_reminders}, "
            f"follow-up escalations: {result.follow_up_escalations}, emails: {result.emails}"
        )
