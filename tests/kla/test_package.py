"""The evidence package the national application asks for (DESIGN, "Evidence requirements per
indicator"): cluster / indicator / requirement or ``lainnya`` / body, a manifest row per place
checked against the ZIP's bytes and the trail, and the summary per indicator.

Files are tagged directly (``evidence.requirements.add``): the tagging service is not what is
tested here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kla.models import Evidence, Indicator, Instruction, Requirement, Submission
from kla.reports import exports
from kla.reports.exports import export_request, export_run
from kla.reports.package import build_evidence_zip
from tests import factories as f
from workflows.models import TrailEvent

from .world import make, unique_pdf
from .xlsx_checks import assert_opens_well

pytestmark = pytest.mark.django_db

K3 = "klaster-iii-kesehatan-dasar-dan-kesejahteraan"
FOLDER = {
    6: "klaster-i-hak-sipil-dan-kebebasan/06-partisipasi-anak-forum-anak",
    13: f"{K3}/13-prevalensi-gizi-stunting",
    14: f"{K3}/14-pemberian-makan-bayi-dan-anak-asi-mp-asi",
}
LISTS = ("README.txt", "manifest.csv", "ringkasan.csv", "ringkasan.xlsx")


def requirement(instruction: Instruction, number: int, code: str, **fields: Any) -> Requirement:
    return Requirement.objects.create(
        instruction=instruction,
        indicator=Indicator.objects.get(number=number),
        code=code,
        label=f"Kebutuhan {code}",
        **fields,
    )


def files_of(submission: Submission) -> list[Evidence]:
    return list(submission.evidence.filter(removed_at__isnull=True).order_by("pk"))


def tag(evidence: Evidence, *requirements: Requirement, kind: str | None = None) -> None:
    evidence.requirements.add(*requirements)
    if kind is not None:
        evidence.kind = kind
        evidence.save()


@pytest.fixture
def world(operator: Any, other_operator: Any, people: dict[str, Any]) -> dict[str, Any]:
    """Instruction 2/2026 with a checklist under indicators 6, 13 and 14, and submissions in
    and out of the package.

    In: dinkes' verified submission (indicators 13 and 14) with ``both`` (13.1 and 14.1),
    ``none`` (no requirement) and ``one`` (13.2 of 13 only, a decree), and dinsos' consolidated
    one (indicator 6) with an untagged file. Out: a submitted, a returned and a draft
    submission with files tagged 14.2 and 6.1, a removed file, and a verified submission of
    another instruction whose file serves that instruction's own 14.2.
    """
    instruction = f.InstructionFactory()
    checklist = {
        code: requirement(instruction, int(code.split(".")[0]), code, evidence_kinds=kinds)
        for code, kinds in (
            ("13.1", []),
            ("13.2", ["decree"]),
            ("14.1", []),
            ("14.2", []),
            ("6.1", []),
        )
    }
    verified = make(
        operator,
        "verified",
        people,
        indicators=[13, 14],
        files=[unique_pdf("both"), unique_pdf("none"), unique_pdf("one")],
        removed=1,
    )
    both, none, one = files_of(verified)
    tag(both, checklist["13.1"], checklist["14.1"])
    tag(one, checklist["13.2"], kind="decree")
    consolidated = make(
        other_operator, "consolidated", people, indicators=[6], files=[unique_pdf("dinsos")]
    )
    outside = []
    for state, number, code in (
        ("submitted", 14, "14.2"),
        ("returned", 6, "6.1"),
        ("draft", 14, "14.2"),
    ):
        submission = make(
            operator, state, people, indicators=[number], files=[unique_pdf(f"out-{state}")]
        )
        tag(files_of(submission)[0], checklist[code])
        outside.append(submission)
    later = f.InstructionFactory(number=2, year=2027, title="Tahun berikut", is_current=False)
    theirs = requirement(later, 14, "14.2")
    other = make(
        operator,
        "verified",
        people,
        instruction=later,
        indicators=[14],
        files=[unique_pdf("later")],
    )
    tag(files_of(other)[0], theirs)
    outside.append(other)
    return {
        "instruction": instruction,
        "checklist": checklist,
        "verified": verified,
        "consolidated": consolidated,
        "both": both,
        "none": none,
        "one": one,
        "dinsos": files_of(consolidated)[0],
        "outside": outside,
    }


def package_of(user: Any, instruction: Instruction, monkeypatch: Any) -> zipfile.ZipFile:
    """The package as an export of ``instruction`` builds and stores it."""
    monkeypatch.setattr(exports, "queue_export", lambda pk: None)
    export = export_request(user=user, kind="evidence_zip", instruction=instruction.pk)
    assert export_run(export_id=export.pk) == "done"
    export.refresh_from_db()
    with default_storage.open(export.file, "rb") as handle:
        package = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert package.testzip() is None
    return package


def manifest_of(package: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(package.read("manifest.csv").decode("utf-8-sig"))))


def summary_of(package: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    data = package.read("ringkasan.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
    return {row["Nomor"]: row for row in rows}


def where(evidence: Evidence, number: int, folder: str) -> str:
    body = evidence.submission.body.code
    return f"{FOLDER[number]}/{folder}/{body}/{evidence.submission_id}-{evidence.pk}-bukti-"


def test_each_file_sits_under_each_requirement_it_names_and_lainnya_of_the_rest(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    package = package_of(consolidator, world["instruction"], monkeypatch)
    members = sorted(n for n in package.namelist() if n not in LISTS)
    both, none, one, dinsos = (world[k] for k in ("both", "none", "one", "dinsos"))
    expected = [
        # 13.1 and 14.1: under both indicators, in each one's requirement.
        where(both, 13, "13.1"),
        where(both, 14, "14.1"),
        # No requirement: under lainnya of each of its submission's indicators.
        where(none, 13, "lainnya"),
        where(none, 14, "lainnya"),
        # 13.2 of indicator 13 only: there, and under lainnya of indicator 14.
        where(one, 13, "13.2"),
        where(one, 14, "lainnya"),
        where(dinsos, 6, "lainnya"),
    ]
    assert len(members) == len(expected)
    for prefix in expected:
        (member,) = [m for m in members if m.startswith(prefix)]
        assert member.endswith(".pdf")
    # Every place holds the whole file, copied again.
    for evidence in (both, none, one):
        copies = [package.read(m) for m in members if f"-{evidence.pk}-bukti-" in m]
        assert len(copies) == 2
        assert {hashlib.sha256(c).hexdigest() for c in copies} == {evidence.sha256}


def test_the_manifest_has_a_row_per_place_matching_the_bytes_and_the_trail(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    package = package_of(consolidator, world["instruction"], monkeypatch)
    manifest = manifest_of(package)
    members = [n for n in package.namelist() if n not in LISTS]
    assert sorted(r["path"] for r in manifest) == sorted(members)
    places = Counter((r["evidence"], r["indicator"], r["requirement"]) for r in manifest)
    both, none, one = (str(world[k].pk) for k in ("both", "none", "one"))
    assert places == Counter(
        {
            (both, "13", "13.1"): 1,
            (both, "14", "14.1"): 1,
            (none, "13", ""): 1,
            (none, "14", ""): 1,
            (one, "13", "13.2"): 1,
            (one, "14", ""): 1,
            (str(world["dinsos"].pk), "6", ""): 1,
        }
    )
    for row in manifest:
        evidence = Evidence.objects.select_related("submission__body").get(pk=row["evidence"])
        content = package.read(row["path"])
        assert hashlib.sha256(content).hexdigest() == row["sha256"] == evidence.sha256
        assert int(row["size"]) == len(content) == evidence.size
        assert row["status"] == "ok"
        assert row["file_name"] == evidence.name
        assert row["kind"] == evidence.kind
        assert row["body"] == evidence.submission.body.code
        assert row["submission"] == str(evidence.submission_id)
        assert row["state"] == evidence.submission.state
        # The stream and seq name the upload event of this very file, with its hash.
        event = TrailEvent.objects.get(stream__name=row["stream"], seq=int(row["seq"]))
        assert event.action == "evidence_upload"
        assert event.submission_id == evidence.submission_id
        assert event.data["evidence"] == evidence.pk
        assert {"name": evidence.name, "sha256": row["sha256"]} in event.files
    kinds = {r["evidence"]: r["kind"] for r in manifest}
    assert (kinds[one], kinds[none]) == ("decree", "other")


def test_only_verified_or_beyond_submissions_of_the_exports_instruction(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    manifest = manifest_of(package_of(consolidator, world["instruction"], monkeypatch))
    held = {int(r["submission"]) for r in manifest}
    assert held == {world["verified"].pk, world["consolidated"].pk}
    assert {r["state"] for r in manifest} == {"verified", "consolidated"}
    # The removed file of the verified submission stays out too.
    assert {int(r["evidence"]) for r in manifest} == {
        world[k].pk for k in ("both", "none", "one", "dinsos")
    }
    assert not held & {s.pk for s in world["outside"]}


def test_the_summary_says_per_indicator_what_is_met_and_missing(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    package = package_of(consolidator, world["instruction"], monkeypatch)
    summary = summary_of(package)
    assert len(summary) == 24
    assert list(summary["13"]) == [
        "Nomor",
        "Indikator",
        "Klaster",
        "Kebutuhan terdaftar",
        "Kebutuhan terpenuhi",
        "Kebutuhan belum terpenuhi",
        "Berkas",
        "Perangkat/lembaga",
        "Kode perangkat",
    ]
    met = {
        n: (r["Kebutuhan terdaftar"], r["Kebutuhan terpenuhi"], r["Kebutuhan belum terpenuhi"])
        for n, r in summary.items()
    }
    assert met["13"] == ("2", "2", "")
    # 14.2 is served only by a submitted file, a draft's, and another instruction's own 14.2.
    assert met["14"] == ("2", "1", "14.2")
    assert met["6"] == ("1", "0", "6.1")  # only a returned submission's file serves it
    assert met["17"] == ("0", "0", "")
    files = {
        n: (r["Berkas"], r["Perangkat/lembaga"], r["Kode perangkat"]) for n, r in summary.items()
    }
    # A file counts once per indicator it sits under, whatever its places there.
    assert files["13"] == files["14"] == ("3", "1", "dinkes")
    assert files["6"] == ("1", "1", "dinsos")
    assert summary["13"]["Klaster"] == "Klaster III: Kesehatan Dasar dan Kesejahteraan"
    assert summary["13"]["Indikator"] == "Prevalensi gizi (stunting)"
    # The workbook holds the same rows, numbers as numbers, with a frozen header and filters.
    book = load_workbook(io.BytesIO(package.read("ringkasan.xlsx")))
    assert book.sheetnames == ["Ringkasan", "Per indikator"]
    sheet = book["Per indikator"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Nomor", "Indikator", "Klaster")
    assert rows[14][:7] == (
        14,
        summary["14"]["Indikator"],
        summary["14"]["Klaster"],
        2,
        1,
        "14.2",
        3,
    )
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:I25"
    readme = package.read("README.txt").decode()
    assert "lainnya" in readme
    assert "ringkasan.csv" in readme


def test_the_summary_workbook_opens_well_and_sums_the_indicators_up(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    package = package_of(consolidator, world["instruction"], monkeypatch)
    book = load_workbook(io.BytesIO(package.read("ringkasan.xlsx")))
    summary = assert_opens_well(book)
    per_indicator = summary_of(package)
    assert summary["Instruksi"] == str(world["instruction"])
    assert summary["Indikator"] == len(per_indicator) == 24
    listed = sum(int(r["Kebutuhan terdaftar"]) for r in per_indicator.values())
    met = sum(int(r["Kebutuhan terpenuhi"]) for r in per_indicator.values())
    assert (summary["Kebutuhan terdaftar"], summary["Kebutuhan terpenuhi"]) == (listed, met)
    assert (listed, met) == (5, 3)
    held = [n for n, r in per_indicator.items() if r["Berkas"] != "0"]
    assert summary["Indikator dengan berkas"] == len(held) == 3  # 6, 13 and 14
    assert summary["Perangkat/lembaga"] == 2  # dinkes and dinsos
    assert summary["Diminta oleh"] == (consolidator.get_full_name() or consolidator.username)


def test_met_is_the_whole_instructions_while_files_are_what_the_requester_sees(
    world: dict[str, Any], other_body: Any, monkeypatch: Any
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verifikator-dinsos")
    package = package_of(scoped, world["instruction"], monkeypatch)
    assert {r["evidence"] for r in manifest_of(package)} == {str(world["dinsos"].pk)}
    row = summary_of(package)["13"]
    # dinkes' files meet 13.1 and 13.2 although this verifier may not see them.
    assert (row["Kebutuhan terpenuhi"], row["Kebutuhan belum terpenuhi"]) == ("2", "")
    assert (row["Berkas"], row["Perangkat/lembaga"]) == ("0", "0")


def test_a_changed_stored_file_is_left_out_of_each_of_its_places(
    world: dict[str, Any], consolidator: Any, monkeypatch: Any
) -> None:
    changed = world["both"]
    tampered = unique_pdf("tampered")
    with default_storage.open(changed.file.name, "wb") as handle:
        handle.write(tampered)
    # Even with the editable column made to match: the upload event is the reference.
    type(changed).objects.filter(pk=changed.pk).update(sha256=hashlib.sha256(tampered).hexdigest())
    gone = world["none"]
    default_storage.delete(gone.file.name)
    package = package_of(consolidator, world["instruction"], monkeypatch)
    manifest = manifest_of(package)
    mismatched = [r for r in manifest if r["evidence"] == str(changed.pk)]
    assert [(r["status"], r["path"]) for r in mismatched] == [("changed", ""), ("changed", "")]
    for row in mismatched:
        # The manifest names the hash of what was found; the ZIP does not hold it.
        assert row["sha256"] == hashlib.sha256(tampered).hexdigest()
    assert tampered not in [package.read(n) for n in package.namelist()]
    assert TrailEvent.objects.filter(action="evidence_fixity_failed").count() == 2
    missing = [r for r in manifest if r["evidence"] == str(gone.pk)]
    assert [(r["status"], r["path"], r["indicator"]) for r in missing] == [
        ("missing", "", "13"),
        ("missing", "", "14"),
    ]
    # Neither a missing nor a changed file counts among the files the package holds.
    assert summary_of(package)["13"]["Berkas"] == "1"


def test_the_queries_do_not_grow_with_the_files_or_their_places(
    world: dict[str, Any], operator: Any, people: dict[str, Any], consolidator: Any
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            build_evidence_zip(
                user=consolidator,
                out=io.BytesIO(),
                progress=lambda done, total: None,
                instruction=world["instruction"],
            )
        return len(captured)

    before = queries()
    checklist = world["checklist"]
    for n in range(3):
        more = make(
            operator,
            "verified",
            people,
            indicators=[6, 13, 14],
            files=[unique_pdf(f"more-{n}-{k}") for k in range(3)],
        )
        for evidence in files_of(more):
            tag(evidence, checklist["13.1"], checklist["14.2"], checklist["6.1"])
    assert queries() == before
