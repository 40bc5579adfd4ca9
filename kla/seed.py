"""The seed: the region's instruction, bodies and indicators, read from the files of ``kla/data``.

Nothing about a region is written here: another kabupaten/kota runs the product with its own
data files. Every run creates what is missing and never overwrites what an administrator
changed, so it can run again after each release:

* the instruction (``metro-instruction.json``) is created when missing, current only if none
  is; when it exists only its blank fields (issuer, years, title) are filled;
* the bodies (``metro-bodies.csv``) are created when missing; a body's name is brought up to
  date only while it still equals what a seed wrote (its ``seeded_name``, or the old name in
  ``metro-bodies-superseded.csv``), so a name an administrator changed stays;
* a body whose code the file supersedes is marked inactive and, unless it has submissions to
  the current instruction, dropped from that instruction's addressees; one with submissions
  stays an addressee and the report warns about it;
* the starter checklist of evidence requirements (``metro-requirements.csv``) is loaded for
  the instruction while it has none;
* a body becomes an addressee of the instruction only in the run that creates the body or the
  instruction, so a body an administrator removed from the addressees is never added back.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from kla.models import Body, EvidenceKind, Indicator, Instruction, Requirement, Submission
from roles.models import Membership
from roles.roles import GLOBAL_ROLE_GROUPS, VERIFY_CODENAME, Role

DATA = Path(__file__).resolve().parent / "data"
INSTRUCTION_FILE = "metro-instruction.json"
BODIES_FILE = "metro-bodies.csv"
SUPERSEDED_FILE = "metro-bodies-superseded.csv"
INDICATORS_FILE = "indicators.csv"
REQUIREMENTS_FILE = "metro-requirements.csv"
# The instruction's budgets in the data file, as the API shows them, and their model fields.
BUDGET_FIELDS = {
    "verify": "budget_verify",
    "revise": "budget_revise",
    "consolidate": "budget_consolidate",
    "audit": "budget_audit",
    "follow_up_days": "follow_up_days",
}
# The fields an administrator may have left blank; the seed fills them and touches no other.
FILLABLE_FIELDS = ("title", "issuer", "years")
# The demo accounts' addresses: a reserved domain (RFC 2606), so no mail can reach anybody.
DEMO_EMAIL_DOMAIN = "demo.invalid"


class SeedDataError(ValueError):
    """A data file of the seed is malformed; the message names the file and the field."""


@dataclass
class SeedReport:
    """What a run created and changed, by kind, and what an administrator should look at."""

    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, kind: str, made: bool) -> None:
        self.created[kind] = self.created.get(kind, 0) + int(made)

    def change(self, kind: str) -> None:
        self.changed[kind] = self.changed.get(kind, 0) + 1


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _date(data: dict[str, Any], key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(data[key]))
    except (KeyError, ValueError):
        raise SeedDataError(f"{INSTRUCTION_FILE}: {key} must be a date YYYY-MM-DD") from None


def instruction_data() -> dict[str, Any]:
    """The instruction of ``metro-instruction.json`` as model field values."""
    data = json.loads((DATA / INSTRUCTION_FILE).read_text(encoding="utf-8"))
    budgets = data.get("budgets", {})
    unknown = sorted(set(budgets) - set(BUDGET_FIELDS))
    if unknown:
        raise SeedDataError(f"{INSTRUCTION_FILE}: unknown budgets {', '.join(unknown)}")
    years = data.get("years")
    if not isinstance(years, list) or not years or not all(isinstance(y, int) for y in years):
        raise SeedDataError(f"{INSTRUCTION_FILE}: years must be a list of years")
    try:
        values: dict[str, Any] = {
            "number": int(data["number"]),
            "year": int(data["year"]),
            "title": str(data["title"]),
            "issuer": str(data.get("issuer", "")),
        } | {BUDGET_FIELDS[key]: int(days) for key, days in budgets.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise SeedDataError(
            f"{INSTRUCTION_FILE}: number, year and title are needed, budgets are whole days"
        ) from exc
    values |= {
        "issued_on": _date(data, "issued_on"),
        "effective_on": _date(data, "effective_on" if "effective_on" in data else "issued_on"),
        "deadline": _date(data, "deadline"),
        "years": years,
    }
    return values


@transaction.atomic
def seed_metro(
    *, demo_password: str | None = None, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Seed the instruction, its addressee bodies, the 24 indicators and the role groups from
    the data files, and the demo users when a password is given; see the module's rules.
    ``progress`` hears a line at each step (the demo accounts take most of the time)."""
    say = progress if progress is not None else (lambda line: None)
    report = SeedReport()
    say("instruction")
    instruction, instruction_made = _seed_instruction(report)
    say("bodies")
    new_bodies = _seed_bodies(report)
    # A body joins the addressees only in the run that creates it (or the instruction): a
    # body an administrator removed from the addressees stays removed on later runs.
    joining = _file_bodies() if instruction_made else new_bodies
    for body in joining:
        if body.active:
            instruction.addressees.add(body)
            report.add("addressee", True)
    _supersede_bodies(report)
    say("indicators and evidence checklist")
    for row in _rows(INDICATORS_FILE):
        _, made = Indicator.objects.get_or_create(
            number=int(row["number"]),
            defaults={
                "cluster": row["cluster"],
                "name": row["name"],
                "typical_owners": row["typical_owners"],
            },
        )
        report.add("indicator", made)
    _seed_requirements(instruction, report)
    groups = {}
    for role in GLOBAL_ROLE_GROUPS:
        groups[role], made = Group.objects.get_or_create(name=role.value)
        report.add("group", made)
    verify = Permission.objects.get(codename=VERIFY_CODENAME, content_type__app_label="kla")
    if not groups[Role.VERIFIER].permissions.filter(pk=verify.pk).exists():
        groups[Role.VERIFIER].permissions.add(verify)
    if demo_password:
        _seed_demo_users(demo_password, groups, report, say)
    return report


def _seed_requirements(instruction: Instruction, report: SeedReport) -> None:
    """The starter checklist (``metro-requirements.csv``), for an instruction that has none
    yet: once it has one, the checklist is P3AP2KB's, and a requirement they deleted stays
    deleted."""
    if instruction.requirements.exists():
        return
    indicators = {i.number: i for i in Indicator.objects.all()}
    kinds = set(EvidenceKind.values)
    for row in _rows(REQUIREMENTS_FILE):
        indicator = indicators.get(int(row["indicator"]))
        wanted = [k.strip() for k in row["document_kinds"].split(";") if k.strip()]
        if indicator is None or not set(wanted) <= kinds:
            raise SeedDataError(
                f"{REQUIREMENTS_FILE}: {row['code']}: unknown indicator or evidence kind"
            )
        Requirement.objects.create(
            instruction=instruction,
            indicator=indicator,
            code=row["code"],
            label=row["label"],
            description=row["description"],
            evidence_kinds=wanted,
        )
        report.add("requirement", True)


def _seed_instruction(report: SeedReport) -> tuple[Instruction, bool]:
    """The data file's instruction, created when missing, else with its blank fields filled."""
    values = instruction_data()
    instruction = Instruction.objects.filter(number=values["number"], year=values["year"]).first()
    if instruction is None:
        instruction = Instruction(
            **values, is_current=not Instruction.objects.filter(is_current=True).exists()
        )
        instruction.save()
        report.add("instruction", True)
        return instruction, True
    report.add("instruction", False)
    blank = [name for name in FILLABLE_FIELDS if not getattr(instruction, name)]
    for name in blank:
        setattr(instruction, name, values[name])
    if blank:
        instruction.save(update_fields=blank)
        report.change("instruction filled")
    return instruction, False


def _file_bodies() -> list[Body]:
    codes = [row["code"] for row in _rows(BODIES_FILE)]
    return list(Body.objects.filter(code__in=codes).order_by("code"))


def _seed_bodies(report: SeedReport) -> list[Body]:
    """Create the bodies of the file that are missing, bring seeded names up to date; the
    bodies created in this run."""
    earlier_names = {
        row["code"]: row["name"] for row in _rows(SUPERSEDED_FILE) if not row["superseded_by"]
    }
    existing = {body.code: body for body in Body.objects.all()}
    created = []
    for row in _rows(BODIES_FILE):
        code, name = row["code"], row["name"]
        body = existing.get(code)
        if body is None:
            created.append(
                Body.objects.create(code=code, name=name, kind=row["kind"], seeded_name=name)
            )
            report.add("body", True)
            continue
        report.add("body", False)
        if body.name == name:
            if body.seeded_name != name:
                # The name is already what the file says: remember it as the seed's, so that
                # the file's next rename reaches it.
                body.seeded_name = name
                body.save(update_fields=["seeded_name"])
            continue
        written_by_a_seed = {body.seeded_name, earlier_names.get(code, "")} - {""}
        if body.name in written_by_a_seed:
            body.name = body.seeded_name = name
            body.save(update_fields=["name", "seeded_name"])
            report.change("body renamed")
    return created


def _supersede_bodies(report: SeedReport) -> None:
    """Retire the bodies whose code another one replaces, and say which could not leave."""
    current = Instruction.current()
    for row in _rows(SUPERSEDED_FILE):
        successor = row["superseded_by"]
        body = Body.objects.filter(code=row["code"]).first() if successor else None
        if body is None:
            continue
        # Inactive is the mark that the supersession was applied: a later run leaves the
        # body's addressee rows to the administrator.
        if body.active:
            body.active = False
            body.save(update_fields=["active"])
            report.change("body deactivated")
            dropping = True
        else:
            dropping = False
        if current is None or not current.addressees.filter(pk=body.pk).exists():
            continue
        answered = Submission.objects.filter(body=body, instruction=current).count()
        if answered:
            report.warnings.append(
                f"{body.code} superseded by {successor} but has {answered} submissions to "
                f"{current.label}: left as addressee"
            )
        elif dropping:
            current.addressees.remove(body)
            report.change("addressee removed")


def _seed_demo_users(
    password: str, groups: dict[Role, Group], report: SeedReport, say: Callable[[str], None]
) -> None:
    User = get_user_model()

    def user(username: str, **extra: Any) -> tuple[Any, bool]:
        account = User.objects.filter(username=username).first()
        if account is not None:
            return account, False
        account = User(username=username, email=f"{username}@{DEMO_EMAIL_DOMAIN}", **extra)
        account.set_password(password)
        account.save()
        return account, True

    say("demo accounts: admin and reviewers")
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
    # A superseded body has no operator to sign in: its successor's operator does the work.
    bodies = list(Body.objects.filter(active=True))
    for done, body in enumerate(bodies, start=1):
        account, made = user(f"op-{body.code}", first_name=f"Operator {body.code}")
        report.add("user", made)
        if made:
            Membership.objects.get_or_create(user=account, body=body)
        if done % 10 == 0 or done == len(bodies):
            say(f"demo accounts: operators {done}/{len(bodies)}")
    verifier = User.objects.get(username="verifikator")
    p3a = Body.objects.filter(code="dp3ap2kb").first()
    if p3a is not None:
        _, made = Membership.objects.get_or_create(user=verifier, body=p3a)
        report.add("membership", made)
