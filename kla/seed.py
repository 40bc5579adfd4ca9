"""Seed data for Kota Metro 2026: creates what is missing, never overwrites what exists."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from kla.models import Body, Indicator, Instruction
from roles.models import Membership
from roles.roles import GLOBAL_ROLE_GROUPS, VERIFY_CODENAME, Role

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class SeedReport:
    """What a run created, by kind."""

    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, made: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + int(made)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def seed_metro(*, demo_password: str | None = None) -> SeedReport:
    """Instruksi 2/2026, the addressee bodies, the 24 indicators, the role groups; demo users."""
    report = SeedReport()
    _, made = Instruction.objects.get_or_create(
        number=2,
        year=2026,
        defaults={
            "title": "Pelaksanaan Kota Layak Anak Kota Metro Tahun 2026",
            "issued_on": dt.date(2026, 3, 17),
            "deadline": dt.date(2026, 4, 1),
            "is_current": not Instruction.objects.filter(is_current=True).exists(),
        },
    )
    report.add("instruction", made)
    for row in _rows("metro-bodies.csv"):
        _, made = Body.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "kind": row["kind"]}
        )
        report.add("body", made)
    for row in _rows("indicators.csv"):
        _, made = Indicator.objects.get_or_create(
            number=int(row["number"]),
            defaults={
                "cluster": row["cluster"],
                "name": row["name"],
                "typical_owners": row["typical_owners"],
            },
        )
        report.add("indicator", made)
    groups = {}
    for role in GLOBAL_ROLE_GROUPS:
        groups[role], made = Group.objects.get_or_create(name=role.value)
        report.add("group", made)
    verify = Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
    if not groups[Role.VERIFIER].permissions.filter(pk=verify.pk).exists():
        groups[Role.VERIFIER].permissions.add(verify)
    if demo_password:
        _seed_demo_users(demo_password, groups, report)
    return report


def _seed_demo_users(password: str, groups: dict[Role, Group], report: SeedReport) -> None:
    User = get_user_model()

    def user(username: str, **extra: Any) -> tuple[Any, bool]:
        account = User.objects.filter(username=username).first()
        if account is not None:
            return account, False
        account = User(username=username, email=f"{username}@demo.metrokota.go.id", **extra)
        account.set_password(password)
        account.save()
        return account, True

    _admin, made = user("admin", is_staff=True, is_superuser=True, first_name="Administrator")
    report.add("user", made)
    people = {
        "verifikator": Role.VERIFIER,
        "verifikator2": Role.VERIFIER,
        "bapperida": Role.CONSOLIDATOR,
        "inspektorat": Role.AUDITOR,
    }
    for username, role in people.items():
        account, made = user(username)
        report.add("user", made)
        if made:
            account.groups.add(groups[role])
    for body in Body.objects.all():
        account, made = user(f"op-{body.code}", first_name=f"Operator {body.code}")
        report.add("user", made)
        if made:
            Membership.objects.get_or_create(user=account, body=body)
    verifier = User.objects.get(username="verifikator")
    p3a = Body.objects.filter(code="dp3ap2kb").first()
    if p3a is not None:
        _, made = Membership.objects.get_or_create(user=verifier, body=p3a)
        report.add("membership", made)
