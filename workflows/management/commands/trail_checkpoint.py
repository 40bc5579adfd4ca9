"""``manage.py trail_checkpoint``: sequence what is committed and sign it now; print the note."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflows.trail.checkpoints import KeyMissing, LogForked, checkpoint_cut


class Command(BaseCommand):
    help = "Sequence the trail's new events into the log and print its signed checkpoint."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = checkpoint_cut(empty=True)
        except (KeyMissing, LogForked) as exc:
            raise CommandError(str(exc)) from None
        assert checkpoint is not None
        self.stdout.write(checkpoint.note, ending="")
