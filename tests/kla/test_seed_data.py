"""The seed reads every region-specific fact from ``kla/data``, and the product names its region
from ``KLA_REGION_NAME``: corrected bodies, superseded codes, admin edits kept, no city in code.

An "earlier seed" is the database a seed of the bodies file before its corrections left: the
same run of ``seed_metro`` on a copy of the files with the superseded rows put back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from kla.models import Body, Instruction, Submission
from kla.reports.package import build_evidence_zip
from kla.seed import seed_metro
from tests import factories as f
from tests.kla.pages_support import as_, detail_url

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "kla" / "data"
NEW_IN_THE_CORRECTED_FILE = {"disdag"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def earlier_bodies() -> list[dict[str, str]]:
    """The bodies file as it was before the corrections the superseded file records."""
    superseded = read_csv(DATA / "metro-bodies-superseded.csv")
    replaced = {row["superseded_by"]: row for row in superseded if row["superseded_by"]}
    renamed = {row["code"]: row["name"] for row in superseded if not row["superseded_by"]}
    rows = []
    for row in read_csv(DATA / "metro-bodies.csv"):
        if row["code"] in NEW_IN_THE_CORRECTED_FILE:
            continue
        if row["code"] in replaced:
            old = replaced[row["code"]]
            row = {**row, "code": old["code"], "name": old["name"]}
        rows.append({**row, "name": renamed.get(row["code"], row["name"])})
    return rows


@pytest.fixture
def earlier_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database as a seed of the uncorrected bodies file left it."""
    for name in ("metro-instruction.json", "indicators.csv", "metro-requirements.csv"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    write_csv(tmp_path / "metro-bodies.csv", earlier_bodies())
    (tmp_path / "metro-bodies-superseded.csv").write_text(
        "code,name,superseded_by\n", encoding="utf-8"
    )
    with monkeypatch.context() as patched:
        patched.setattr("kla.seed.DATA", tmp_path)
        seed_metro()
    assert Body.objects.filter(code="bapenda", active=True).exists()


def seeded_instruction() -> Instruction:
    return Instruction.objects.get(number=2, year=2026)


def addressee_codes(instruction: Instruction) -> set[str]:
    return set(instruction.addressees.values_list("code", flat=True))


def state() -> tuple[Any, ...]:
    """Everything the seed may write, to compare two runs."""
    return (
        list(Body.objects.order_by("code").values_list("code", "name", "seeded_name", "active")),
        sorted(Instruction.addressees.through.objects.values_list("instruction_id", "body_id")),
        list(Instruction.objects.order_by("pk").values()),
        get_user_model().objects.count(),
    )


# --- the instruction ------------------------------------------------------------------------


def test_the_instruction_is_read_from_its_data_file() -> None:
    seed_metro()
    instruction = Instruction.current()
    assert instruction == seeded_instruction()
    assert instruction.title == "Pelaksanaan Kota Layak Anak Kota Metro Tahun 2026"
    assert instruction.issuer == "Wali Kota Metro"
    assert (instruction.issued_on, instruction.effective_on, instruction.deadline) == (
        dt.date(2026, 3, 17),
        dt.date(2026, 3, 17),
        dt.date(2026, 4, 1),
    )
    assert instruction.years == [2024, 2025, 2026]
    assert instruction.budgets == {
        "verify": 2,
        "revise": 2,
        "consolidate": 2,
        "audit": 5,
        "follow_up_days": 60,
    }
    data = json.loads((DATA / "metro-instruction.json").read_text(encoding="utf-8"))
    assert (instruction.number, instruction.year) == (data["number"], data["year"])


def test_a_new_instruction_is_addressed_to_every_body_of_the_file() -> None:
    seed_metro()
    codes = {row["code"] for row in read_csv(DATA / "metro-bodies.csv")}
    assert addressee_codes(seeded_instruction()) == codes
    assert {"disdag", "bpprd", "disnakertrans"} <= codes


def test_the_seeded_instruction_is_not_made_current_when_another_is() -> None:
    other = f.InstructionFactory(number=1, year=2025, title="Instruksi lain", is_current=True)
    seed_metro()
    assert Instruction.current() == other
    assert not seeded_instruction().is_current


def test_an_existing_instruction_gets_only_its_blank_fields_filled() -> None:
    f.InstructionFactory(
        title="Judul dari administrator",
        issuer="",
        years=[],
        deadline=dt.date(2026, 4, 6),
        budget_audit=7,
        addressees=[],
    )
    report = seed_metro()
    instruction = seeded_instruction()
    assert (instruction.issuer, instruction.years) == ("Wali Kota Metro", [2024, 2025, 2026])
    assert instruction.title == "Judul dari administrator"
    assert (instruction.deadline, instruction.budget_audit) == (dt.date(2026, 4, 6), 7)
    assert report.changed == {"instruction filled": 1}
    # The instruction was not made in this run: only the bodies made in it join.
    assert addressee_codes(instruction) == set(Body.objects.values_list("code", flat=True))


def test_a_malformed_instruction_file_stops_the_command_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads((DATA / "metro-instruction.json").read_text(encoding="utf-8"))
    (tmp_path / "metro-instruction.json").write_text(
        json.dumps({**data, "deadline": "1 April"}), encoding="utf-8"
    )
    monkeypatch.setattr("kla.seed.DATA", tmp_path)
    with pytest.raises(CommandError, match=r"metro-instruction\.json: deadline"):
        call_command("seed_metro")
    assert not Instruction.objects.exists()


# --- running again --------------------------------------------------------------------------


def test_a_second_run_creates_nothing_and_changes_nothing(earlier_seed: None) -> None:
    first = seed_metro(demo_password="rahasia-123")
    assert first.changed
    before = state()
    again = seed_metro(demo_password="rahasia-123")
    assert state() == before
    assert set(again.created.values()) == {0}
    assert again.changed == {}


def test_a_body_an_administrator_removed_from_the_addressees_is_not_added_back() -> None:
    seed_metro()
    instruction = seeded_instruction()
    instruction.addressees.remove(Body.objects.get(code="dinkes"))
    seed_metro()
    assert "dinkes" not in addressee_codes(instruction)


def test_bodies_new_in_the_file_join_but_removed_ones_stay_out(earlier_seed: None) -> None:
    instruction = seeded_instruction()
    instruction.addressees.remove(Body.objects.get(code="dinsos"))
    seed_metro()
    codes = addressee_codes(instruction)
    assert {"disdag", "bpprd", "disnakertrans"} <= codes
    assert "dinsos" not in codes
    assert Body.objects.get(code="disdag").seeded_name == "Dinas Perdagangan"


# --- superseded and renamed bodies ----------------------------------------------------------


def test_an_unused_superseded_body_is_retired_and_leaves_the_addressees(
    earlier_seed: None,
) -> None:
    report = seed_metro()
    instruction = seeded_instruction()
    for old, new in (("bapenda", "bpprd"), ("disnaker", "disnakertrans")):
        assert not Body.objects.get(code=old).active
        assert Body.objects.get(code=new).active
        assert old not in addressee_codes(instruction)
        assert new in addressee_codes(instruction)
    assert report.changed["body deactivated"] == 2
    assert report.changed["addressee removed"] == 2
    assert report.warnings == []


def test_a_superseded_body_with_submissions_stays_an_addressee_and_is_reported(
    earlier_seed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    instruction = seeded_instruction()
    bapenda = Body.objects.get(code="bapenda")
    author = f.make_operator(bapenda, "op-bapenda")
    for category in ("regulation", "program", "innovation"):
        Submission.objects.create(
            instruction=instruction, body=bapenda, category=category, created_by=author
        )
    call_command("seed_metro")
    bapenda.refresh_from_db()
    assert not bapenda.active
    assert "bapenda" in addressee_codes(instruction)
    assert "disnaker" not in addressee_codes(instruction)
    warnings = capsys.readouterr().err
    assert "bapenda superseded by bpprd but has 3 submissions" in warnings
    assert "left as addressee" in warnings
    assert "disnaker" not in warnings


def test_a_name_an_earlier_seed_wrote_gets_the_corrected_name(earlier_seed: None) -> None:
    assert Body.objects.get(code="kodim").name == "Komando Distrik Militer di Kota Metro"
    seed_metro()
    for code, name in (
        ("kodim", "Komando Distrik Militer 0411/Kota Metro"),
        ("diskopukm", "Dinas Koperasi, UMKM dan Perindustrian"),
    ):
        body = Body.objects.get(code=code)
        assert (body.name, body.seeded_name) == (name, name)


def test_the_old_name_in_the_superseded_file_counts_as_the_seeds_own() -> None:
    # A body whose seed record is lost still carries the old name the file lists.
    Body.objects.create(
        code="kodim", name="Komando Distrik Militer di Kota Metro", kind="forkopimda"
    )
    seed_metro()
    assert Body.objects.get(code="kodim").name == "Komando Distrik Militer 0411/Kota Metro"


def test_a_name_an_administrator_changed_stays(earlier_seed: None) -> None:
    Body.objects.filter(code="kodim").update(name="Kodim 0411 Metro (nama resmi)")
    Body.objects.filter(code="dinkes").update(name="Dinas Kesehatan (diubah)")
    seed_metro()
    assert Body.objects.get(code="kodim").name == "Kodim 0411 Metro (nama resmi)"
    assert Body.objects.get(code="dinkes").name == "Dinas Kesehatan (diubah)"
    assert Body.objects.get(code="diskopukm").name == "Dinas Koperasi, UMKM dan Perindustrian"


def test_demo_operators_are_made_for_active_bodies_only(earlier_seed: None) -> None:
    seed_metro(demo_password="rahasia-123")
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    assert {"op-bpprd", "op-disnakertrans", "op-disdag"} <= usernames
    assert not {"op-bapenda", "op-disnaker"} & usernames
    emails = get_user_model().objects.values_list("email", flat=True)
    assert all(email.endswith("@demo.invalid") for email in emails)


# --- the region's name ----------------------------------------------------------------------


@pytest.fixture
def elsewhere(settings: Any, db: Any) -> Instruction:
    """Another region, with an instruction of its own whose text names no city."""
    settings.KLA_REGION_NAME = "Kabupaten Contoh"
    return f.InstructionFactory(
        number=7,
        year=2025,
        title="Pelaksanaan Kabupaten Layak Anak",
        issuer="Bupati Contoh",
        issued_on=dt.date(2025, 1, 6),
        deadline=dt.date(2025, 12, 31),
        years=[2024, 2025],
    )


def shows_the_region(html: str) -> None:
    assert "KLA Kabupaten Contoh" in html
    assert "Metro" not in html


def test_pages_name_the_region_of_the_setting(
    client: Client, elsewhere: Instruction, operator: Any
) -> None:
    login = client.get(reverse("login"))
    shows_the_region(login.content.decode())
    assert "Pengumpulan dokumen Kota Layak Anak Kabupaten Contoh." in login.content.decode()
    draft = f.make_draft(operator, instruction=elsewhere)
    for url in (reverse("tasks"), detail_url(draft)):
        page = as_(client, operator).get(url)
        assert page.status_code == 200
        html = page.content.decode()
        shows_the_region(html)
        # The footer names the current instruction, from its data.
        assert "Instruksi Bupati Contoh 7/2025 tentang Pelaksanaan Kabupaten Layak Anak" in html


def test_the_api_schema_names_the_region(client: Client, elsewhere: Instruction) -> None:
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "KLA Kabupaten Contoh API"
    assert "Metro" not in schema.content.decode()


def test_the_password_reset_email_names_the_region(
    client: Client, elsewhere: Instruction, operator: Any
) -> None:
    client.post(reverse("password_reset"), {"email": operator.email})
    (message,) = mail.outbox
    assert message.subject == "Atur ulang kata sandi KLA Kabupaten Contoh"
    assert "akun KLA Kabupaten Contoh Anda" in message.body
    assert "Metro" not in message.subject + message.body
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "metro" not in message.from_email


def test_the_evidence_package_names_the_region_and_its_instruction(
    elsewhere: Instruction, consolidator: Any
) -> None:
    out = io.BytesIO()
    build_evidence_zip(
        user=consolidator, out=out, progress=lambda done, total: None, instruction=elsewhere
    )
    readme = zipfile.ZipFile(out).read("README.txt").decode()
    assert readme.startswith("Paket bukti dukung KLA Kabupaten Contoh")
    assert "Instruksi Bupati Contoh 7/2025: Pelaksanaan Kabupaten Layak Anak" in readme
    assert "Metro" not in readme


# What may still say the city or the year: the seed's names (the command, the function and
# the data files it reads) and the setting's default. Everything else takes them from data.
ALLOWED = re.compile(
    r"seed_metro|metro-[a-z-]+\.(?:csv|json)|"
    r'KLA_REGION_NAME = os\.environ\.get\("KLA_REGION_NAME", "Kota Metro"\)'
)


def test_no_code_or_template_names_the_city_or_the_year() -> None:
    sources = [
        path
        for package in ("kla", "roles", "workflows")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (ROOT / "kla" / "data") not in path.parents
    ]
    sources += [p for p in (ROOT / "templates").rglob("*") if p.suffix in {".html", ".txt"}]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"metro|2026", ALLOWED.sub("", line), re.IGNORECASE)
    ]
    assert found == []
