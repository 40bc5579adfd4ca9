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
