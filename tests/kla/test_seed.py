"""seed_metro: Metro 2026 from the shipped data, idempotent, never overwriting an admin's edits."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from kla.models import Body, Indicator, Instruction
from roles.roles import roles_of

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "kla" / "data"


def test_it_loads_the_instruction_the_bodies_and_the_24_indicators(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_metro")
    instruction = Instruction.current()
    assert instruction is not None
    assert (instruction.number, instruction.year) == (2, 2026)
    assert (instruction.issued_on, instruction.deadline) == (
        dt.date(2026, 3, 17),
        dt.date(2026, 4, 1),
    )
    with (DATA / "metro-bodies.csv").open(encoding="utf-8") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    assert set(Body.objects.values_list("code", flat=True)) == codes
    assert {"kec-metro-pusat", "kemenag", "tp-pkk", "gow", "dwp", "lpai", "bumn-usaha"} <= codes
    assert Body.objects.filter(kind="kecamatan").count() == 5
    assert list(Indicator.objects.values_list("number", flat=True)) == list(range(1, 25))
    assert Indicator.objects.get(number=21).cluster == "k5"
    assert "created" in capsys.readouterr().out


def test_running_twice_creates_nothing_more_and_keeps_admin_edits() -> None:
    call_command("seed_metro", "--demo-users", "--password", "metro2026")
    Body.objects.filter(code="dinkes").update(name="Dinas Kesehatan Kota Metro (diubah)")
    Instruction.objects.filter(number=2).update(deadline=dt.date(2026, 4, 6))
    counts = (Body.objects.count(), Indicator.objects.count(), get_user_model().objects.count())
    call_command("seed_metro", "--demo-users", "--password", "lain")
    assert (
        Body.objects.count(),
        Indicator.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert Body.objects.get(code="dinkes").name == "Dinas Kesehatan Kota Metro (diubah)"
    assert Instruction.objects.get(number=2).deadline == dt.date(2026, 4, 6)
    assert get_user_model().objects.get(username="op-dinkes").check_password("metro2026")


def test_demo_users_hold_the_roles_design_names() -> None:
    call_command("seed_metro", "--demo-users", "--password", "metro2026")
    User = get_user_model()
    verifier = roles_of(User.objects.get(username="verifikator"))
    assert verifier.verifier_everywhere
    assert verifier.operates(Body.objects.get(code="dp3ap2kb").pk)
    assert roles_of(User.objects.get(username="verifikator2")).verifier_everywhere
    assert roles_of(User.objects.get(username="bapperida")).consolidator
    assert roles_of(User.objects.get(username="inspektorat")).auditor
    assert User.objects.get(username="admin").is_superuser
    assert roles_of(User.objects.get(username="admin")).names() == []
    for body in Body.objects.all():
        assert roles_of(User.objects.get(username=f"op-{body.code}")).operates(body.pk)


def test_demo_users_need_a_password() -> None:
    with pytest.raises(CommandError):
        call_command("seed_metro", "--demo-users")


@pytest.mark.django_db
def test_seed_metro_says_how_far_it_is_with_the_demo_accounts() -> None:
    out = StringIO()
    call_command("seed_metro", "--demo-users", "--password", "metro2026", stdout=out)
    lines = out.getvalue().splitlines()
    operators = Body.objects.filter(active=True).count()
    assert lines[0] == "seed_metro: instruction ..."
    assert f"seed_metro: demo accounts: operators {operators}/{operators} ..." in lines
    assert lines[-1].startswith("seed_metro: created ")
    quiet = StringIO()
    call_command("seed_metro", verbosity=0, stdout=quiet)
    assert [line.split(":")[0] for line in quiet.getvalue().splitlines()] == ["seed_metro"]
    assert "..." not in quiet.getvalue()
