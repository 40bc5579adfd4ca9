"""``manage.py trail_keygen``: write the log's signing key if there is none (never over one)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflows.trail.checkpoints import KeyMissing, key_generate, key_path


class Command(BaseCommand):
    help = "Write the Ed25519 key that signs the trail's checkpoints, if none exists yet."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            signer, new = key_generate()
        except KeyMissing as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{key_path()}: {exc}") from None
        what = "written" if new else "kept (it exists already)"
        self.stdout.write(f"signing key {what}: {key_path()}")
        self.stdout.write(f"verifier key: {signer.verifier}")
