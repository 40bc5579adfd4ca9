"""Django's ``flush``, allowed past the trail's append-only guard (and nothing else is)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from workflows.trail.guard import flush_allowed


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        with flush_allowed(connections[options.get("database") or DEFAULT_DB_ALIAS]):
            super().handle(**options)
