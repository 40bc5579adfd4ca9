"""A scratch PostgreSQL database for one bench, made with Django's test-database machinery."""

from __future__ import annotations

import os
from typing import Any


def scratch_database(name: str, bench: str) -> Any:
    """Set Django up on a new database ``name``; returns what ``teardown`` needs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")
    import django

    django.setup()
    from django.db import connections
    from django.test.utils import setup_databases

    connection = connections["default"]
    if connection.vendor != "postgresql":
        raise SystemExit(f"bench.{bench} needs DATABASE_URL naming a PostgreSQL server")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    return setup_databases(
        verbosity=0,
        interactive=False,
        aliases={"default"},  # type: ignore[arg-type]  # Django takes a set of aliases
        serialized_aliases=set(),
    )


def teardown(old_config: Any) -> None:
    from django.test.utils import teardown_databases

    teardown_databases(old_config, verbosity=0)
