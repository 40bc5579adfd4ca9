"""Django's ``flush``, allowed past the trail's append-only guard (and nothing else is).

It refuses to run unless the environment sets ``TRAIL_FLUSH_ALLOWED=1``: the test runs do
(they flush between transactional tests); a deployment never does, so nobody empties the
trail of a live database by a slip of the keyboard.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from workflows.trail.guard import flush_allowed

FLAG = "TRAIL_FLUSH_ALLOWED"


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        if os.environ.get(FLAG) != "1":
            raise CommandError(
                f"flush empties the trail, which is append-only; it runs only where {FLAG}=1 "
                "is set (the test runs set it)."
            )
        with flush_allowed(connections[options.get("database") or DEFAULT_DB_ALIAS]):
            super().handle(**options)
