"""Scratch PostgreSQL databases for the benches: made by this run, dropped only by it.

A bench's database is named ``BENCH_DATABASE_PREFIX`` (``bench_kla_`` by default) plus the
bench's own name (``bench_kla_trail``, ``bench_kla_pages_city``). ``CREATE DATABASE`` is the
test of whether it exists: when a database of that name is already there, this run did not
make it, and the bench stops with a message saying so, without touching it (another run may
be using it, or somebody kept it on purpose). What a run made it drops at the end, unless
``BENCH_KEEP=1`` asks to keep it for inspection (the bench says so; drop it by hand later,
or the next run refuses it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_PREFIX = "bench_kla_"
MAX_NAME = 63  # PostgreSQL's identifier limit


class ScratchExists(SystemExit):
    """A database of the scratch name exists and this run did not create it."""


@dataclass
class Scratch:
    """A database this run created, and the name Django's default alias had before."""

    name: str
    previous_name: str
    keep: bool
    dropped: bool = False


def prefix() -> str:
    return os.environ.get("BENCH_DATABASE_PREFIX", DEFAULT_PREFIX)


def scratch_name(bench: str) -> str:
    """The scratch database of ``bench``: the prefix and the bench's name, checked."""
    name = f"{prefix()}{bench}"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or len(name) > MAX_NAME:
        raise SystemExit(
            f"scratch database name {name!r}: letters, digits and _ only, starting with a "
            f"letter, at most {MAX_NAME} characters (BENCH_DATABASE_PREFIX)"
        )
    return name.lower()


def keep_requested() -> bool:
    return os.environ.get("BENCH_KEEP", "") not in ("", "0")


def setup_django() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kla.settings")
    import django

    django.setup()
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("the benches need DATABASE_URL naming a PostgreSQL server")
    return connection


def _server_execute(sql: str) -> None:
    """Run one statement outside any transaction on the server's maintenance database."""
    from django.db import connections

    connection = connections["default"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql)


def create_database(bench: str) -> str:
    """Create the scratch database of ``bench`` (empty, not migrated) and return its name.

    Refuses, with ``ScratchExists``, when a database of that name exists already.
    """
    from psycopg import errors

    setup_django()
    name = scratch_name(bench)
    try:
        _server_execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, errors.DuplicateDatabase):
            raise ScratchExists(
                f"bench.{bench}: database {name!r} already exists and this run did not create "
                "it, so it is left alone. Drop it yourself if it is a leftover "
                f"(psql -c 'DROP DATABASE \"{name}\"'), or set BENCH_DATABASE_PREFIX to use "
                "other names."
            ) from None
        raise
    return name


def drop_database(name: str) -> None:
    """Drop a database this run created (its own connections are closed first)."""
    from django.db import connections

    for connection in connections.all():
        if connection.settings_dict.get("NAME") == name:
            connection.close()
    _server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def use_database(name: str) -> None:
    """Point Django's default alias (and its settings) at database ``name``."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name


def migrate() -> None:
    """Migrate the database the default alias names (the trail's guard included)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def scratch_database(bench: str) -> Scratch:
    """Create, migrate and switch Django to the scratch database of ``bench``."""
    connection = setup_django()
    previous = str(connection.settings_dict["NAME"])
    name = create_database(bench)
    scratch = Scratch(name=name, previous_name=previous, keep=keep_requested())
    try:
        use_database(name)
        migrate()
    except BaseException:
        teardown(scratch)
        raise
    return scratch


def teardown(scratch: Scratch) -> None:
    """Switch back, and drop the scratch database unless ``BENCH_KEEP`` keeps it."""
    from django.db import connections

    connections.close_all()
    use_database(scratch.previous_name)
    if scratch.keep:
        print(f"scratch database {scratch.name} kept (BENCH_KEEP); drop it by hand when done")
        return
    drop_database(scratch.name)
    scratch.dropped = True


def fate(scratch: Scratch) -> str:
    """How the bench's closing line says what became of its database."""
    return "kept" if scratch.keep else "dropped"


def export_world() -> dict[str, Any]:
    """What the export benches share: an instruction, 40 bodies, the 24 indicators, an
    operator and a consolidator (who requests the exports)."""
    import csv
    import datetime as dt
    from pathlib import Path

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from kla.models import Body, BodyKind, Indicator, Instruction

    User = get_user_model()
    instruction = Instruction.objects.create(
        number=2,
        year=2026,
        title="Bench",
        issued_on=dt.date(2026, 3, 17),
        deadline=dt.date(2026, 4, 1),
    )
    bodies = Body.objects.bulk_create(
        Body(code=f"b{n}", name=f"Perangkat {n}", kind=BodyKind.PERANGKAT_DAERAH) for n in range(40)
    )
    csv_path = Path(__file__).resolve().parents[1] / "kla" / "data" / "indicators.csv"
    with csv_path.open(encoding="utf-8") as handle:
        indicators = Indicator.objects.bulk_create(
            Indicator(number=int(r["number"]), cluster=r["cluster"], name=r["name"])
            for r in csv.DictReader(handle)
        )
    operator = User.objects.create(username="op", email="op@example.test")
    consolidator = User.objects.create(username="bapperida", email="b@example.test")
    consolidator.groups.add(Group.objects.get_or_create(name="consolidator")[0])
    return {
        "instruction": instruction,
        "bodies": bodies,
        "indicators": indicators,
        "operator": operator,
        "consolidator": consolidator,
    }
