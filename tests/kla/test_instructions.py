"""Instructions as data: the API's instructions and ``instruction`` parameter, drafts answering
the instruction they name, figures and exports of one instruction, and ``instruction_copy``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook

from kla.drafting import submission_create
from kla.errors import Invalid
from kla.models import Body, Instruction, Preference, Submission
from kla.reports.exports import export_request, export_run
from tests import factories as f
from tests.workflows.sla_support import Clock, wib

pytestmark = pytest.mark.django_db

URL = "/api/v1/submissions/"


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    """10:00 WIB on 1 March 2027: the 2026 instruction is in force, 2/2027 too."""
    from django.utils import timezone

    c = Clock(wib(2027, 3, 1, 10))
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def next_year(instruction: Instruction, body: Body, other_body: Body) -> Instruction:
    """2/2027, not current, in force from 1 March 2027, to the same bodies."""
    return f.InstructionFactory(
        number=2,
        year=2027,
        title="Pelaksanaan Kota Layak Anak Tahun 2027",
        issued_on=dt.date(2027, 3, 1),
        deadline=dt.date(2027, 4, 1),
        is_current=False,
    )


def draft_in(operator: User, instruction: Instruction, **fields: Any) -> Submission:
    return f.make_draft(operator, instruction=instruction, **fields)


class TestInstructionsEndpoint:
    def test_lists_every_instruction_with_its_fields(
        self, api: Any, operator: User, next_year: Instruction, instruction: Instruction
    ) -> None:
        r = api.as_(operator).get("/api/v1/instructions/")
        assert r.status_code == 200
        rows = r.json()["results"]
        assert [row["year"] for row in rows] == [2027, 2026]
        assert rows[1] == {
            "id": instruction.pk,
            "number": 2,
            "year": 2026,
            "title": instruction.title,
            "issuer": "Wali Kota Metro",
            "issued_on": "2026-03-17",
            "effective_on": "2026-03-17",
            "deadline": "2026-04-01",
            "years": [2024, 2025, 2026],
            "current": True,
            "budgets": {
                "verify": 2,
                "revise": 2,
                "consolidate": 2,
                "audit": 5,
                "follow_up_days": 60,
            },
        }
        assert rows[0]["current"] is False
        assert rows[0]["years"] == [2025, 2026, 2027]

    def test_anonymous_callers_get_401(self, api: Any) -> None:
        assert api.get("/api/v1/instructions/").status_code == 401


class TestDraftingForAnInstruction:
    def test_a_draft_goes_to_the_current_instruction_by_default(
        self, clock: Clock, operator: User, next_year: Instruction, instruction: Instruction
    ) -> None:
        assert f.make_draft(operator).instruction == instruction

    def test_a_draft_names_another_instruction_and_takes_its_years(
        self, clock: Clock, api: Any, operator: User, next_year: Instruction
    ) -> None:
        f.ensure_indicators()
        r = api.as_(operator).post(
            URL,
            {"category": "regulation", "instruction": next_year.pk, "years": [2027]},
            format="json",
        )
        assert r.status_code == 201, r.content
        assert r.json()["instruction"] == next_year.pk
        assert r.json()["years"] == [2027]

    def test_a_year_outside_the_instruction_is_400_and_creates_nothing(
        self, clock: Clock, api: Any, operator: User, instruction: Instruction
    ) -> None:
        r = api.as_(operator).post(URL, {"category": "regulation", "years": [2027]}, format="json")
        assert r.status_code == 400
        assert r.json() == {
            "years": ["Tahun harus daftar tahun dari instruksi 2/2026: 2024, 2025, 2026."]
        }
        assert not Submission.objects.exists()

    def test_a_body_that_is_not_an_addressee_is_400(
        self, clock: Clock, api: Any, instruction: Instruction
    ) -> None:
        outside = f.BodyFactory(code="bumn-x", name="BUMN X", addressed_by=[])
        operator = f.make_operator(outside)
        r = api.as_(operator).post(URL, {"category": "regulation"}, format="json")
        assert r.status_code == 400
        assert r.json() == {"agency": ["BUMN X tidak termasuk yang dituju instruksi 2/2026."]}
        assert not Submission.objects.exists()

    def test_an_unknown_instruction_is_400(
        self, clock: Clock, api: Any, operator: User, instruction: Instruction
    ) -> None:
        for value in (999_999, "abc", -1):
            r = api.as_(operator).post(
                URL, {"category": "regulation", "instruction": value}, format="json"
            )
            assert r.status_code == 400, value
            assert "instruction" in r.json()
        assert not Submission.objects.exists()

    def test_no_draft_before_the_instruction_is_in_force(
        self, clock: Clock, operator: User, next_year: Instruction
    ) -> None:
        clock.set(2027, 2, 28, 23, 59)
        with pytest.raises(Invalid) as refused:
            submission_create(
                user=operator, category="regulation", instruction=next_year.pk, fields={}
            )
        assert refused.value.errors == {
            "instruction": ["Instruksi 2/2027 baru berlaku mulai 1 Maret 2027."]
        }
        clock.set(2027, 3, 1, 0, 0)
        made = submission_create(
            user=operator, category="regulation", instruction=next_year.pk, fields={}
        )
        assert made.instruction == next_year

    def test_the_instruction_is_fixed_at_creation(
        self, clock: Clock, api: Any, operator: User, next_year: Instruction
    ) -> None:
        draft = f.make_draft(operator)
        r = api.as_(operator).patch(
            f"{URL}{draft.pk}/", {"instruction": next_year.pk}, format="json"
        )
        assert r.status_code == 400
        assert Submission.objects.get(pk=draft.pk).instruction_id != next_year.pk


class TestListsAndFigures:
    @pytest.fixture
    def both(
        self,
        clock: Clock,
        operator: User,
        other_operator: User,
        people: dict[str, Any],
        next_year: Instruction,
        instruction: Instruction,
    ) -> dict[str, Submission]:
        old = f.advance(draft_in(operator, instruction, title="Lama"), "verified", **people)
        new = f.advance(
            draft_in(other_operator, next_year, title="Baru", years=[2027], indicators=[3]),
            "submitted",
            **{**people, "operator": other_operator},
        )
        return {"old": old, "new": new}

    def test_the_list_shows_the_current_instruction_unless_asked(
        self, api: Any, auditor: User, both: dict[str, Submission], next_year: Instruction
    ) -> None:
        def titles(query: str) -> set[str]:
            r = api.as_(auditor).get(URL + query)
            assert r.status_code == 200, r.content
            return {row["title"] for row in r.json()["results"]}

        assert titles("") == {"Lama"}
        assert titles(f"?instruction={next_year.pk}") == {"Baru"}
        assert titles("?instruction=all") == {"Lama", "Baru"}

    def test_an_unknown_instruction_filter_is_400(
        self, api: Any, auditor: User, both: dict[str, Submission]
    ) -> None:
        for value in ("999999", "x", "0"):
            r = api.as_(auditor).get(URL + f"?instruction={value}")
            assert r.status_code == 400, value
            assert list(r.json()) == ["instruction"]

    def test_tasks_span_every_instruction_unless_one_is_named(
        self, api: Any, verifier: User, both: dict[str, Submission], instruction: Instruction
    ) -> None:
        assert [s["title"] for s in api.as_(verifier).get("/api/v1/tasks/").json()["results"]] == [
            "Baru"
        ]
        named = api.as_(verifier).get(f"/api/v1/tasks/?instruction={instruction.pk}").json()
        assert named["results"] == []

    def test_compliance_of_one_instruction_ignores_the_other(
        self, api: Any, verifier: User, both: dict[str, Submission], next_year: Instruction
    ) -> None:
        def cell(query: str, agency: str) -> dict[str, Any]:
            rows = api.as_(verifier).get("/api/v1/compliance/" + query).json()["results"]
            return next(r for r in rows if r["agency"] == agency and r["category"] == "regulation")

        assert cell("", "dinkes")["least_state"] == "verified"
        assert cell("", "dinsos")["count"] == 0
        assert cell(f"?instruction={next_year.pk}", "dinkes")["count"] == 0
        assert cell(f"?instruction={next_year.pk}", "dinsos")["least_state"] == "submitted"
        deadline = api.as_(verifier).get(f"/api/v1/compliance/?instruction={next_year.pk}")
        assert deadline.json()["deadline"]["deadline"] == "2027-04-01"

    def test_coverage_of_one_instruction_ignores_the_other(
        self, api: Any, auditor: User, both: dict[str, Submission], next_year: Instruction
    ) -> None:
        def counts(query: str, number: int) -> dict[str, int]:
            rows = api.as_(auditor).get("/api/v1/coverage/?page_size=50" + query).json()
            row = next(r for r in rows["results"] if r["number"] == number)
            return dict(row["submissions"])

        assert counts("", 17)["verified"] == 1
        assert counts("", 3)["total"] == 0
        assert counts(f"&instruction={next_year.pk}", 17)["total"] == 0
        assert counts(f"&instruction={next_year.pk}", 3)["submitted"] == 1

    def test_an_export_holds_its_own_instruction_only(
        self,
        consolidator: User,
        people: dict[str, Any],
        operator: User,
        both: dict[str, Submission],
        next_year: Instruction,
    ) -> None:
        f.advance(Submission.objects.get(pk=both["new"].pk), "verified", **people)
        export = export_request(user=consolidator, kind="rekap_xlsx", instruction=next_year.pk)
        assert export_run(export_id=export.pk) == "done"
        export.refresh_from_db()
        assert export.instruction == next_year
        assert "-2-2027-" in export.filename
        with default_storage.open(export.file, "rb") as handle:
            book = load_workbook(io.BytesIO(handle.read()))
        data = [sheet for sheet in book.worksheets if sheet.title != "Ringkasan"]
        titles = [row[0].value for sheet in data for row in sheet.iter_rows(min_row=2)]
        cells = " ".join(str(c.value) for sheet in data for row in sheet.iter_rows() for c in row)
        assert "Baru" in cells and "Lama" not in cells, titles

    def test_an_export_of_an_unknown_instruction_is_400(
        self, api: Any, consolidator: User, instruction: Instruction
    ) -> None:
        r = api.as_(consolidator).post(
            "/api/v1/exports/", {"kind": "rekap_xlsx", "instruction": 424242}, format="json"
        )
        assert r.status_code == 400
        assert list(r.json()) == ["instruction"]


class TestPages:
    def test_the_switch_is_remembered_per_person(
        self,
        client: Client,
        verifier: User,
        auditor: User,
        next_year: Instruction,
        instruction: Instruction,
    ) -> None:
        client.force_login(verifier)
        r = client.post(
            "/instruksi/pilih/",
            {"instruction": str(next_year.pk), "next": f"/kepatuhan/?instruction={instruction.pk}"},
        )
        assert r.status_code == 302
        assert r["Location"] == "/kepatuhan/"  # the page's own choice would override it
        assert Preference.objects.get(user=verifier).instruction == next_year
        page = client.get("/kepatuhan/")
        assert page.context["matrix"].instruction == next_year
        # Another person still sees the current one.
        client.force_login(auditor)
        assert client.get("/kepatuhan/").context["matrix"].instruction == instruction

    def test_the_switch_refuses_another_site_as_the_way_back(
        self, client: Client, verifier: User, instruction: Instruction
    ) -> None:
        client.force_login(verifier)
        r = client.post(
            "/instruksi/pilih/", {"instruction": str(instruction.pk), "next": "https://evil.test/"}
        )
        assert r["Location"] == "/"

    def test_an_unknown_instruction_changes_nothing(
        self, client: Client, verifier: User, instruction: Instruction
    ) -> None:
        client.force_login(verifier)
        client.post("/instruksi/pilih/", {"instruction": "4242", "next": "/kepatuhan/"})
        assert not Preference.objects.filter(user=verifier).exists()

    def test_the_list_page_filters_by_instruction(
        self,
        clock: Clock,
        client: Client,
        operator: User,
        next_year: Instruction,
        instruction: Instruction,
    ) -> None:
        draft_in(operator, instruction, title="Lama")
        draft_in(operator, next_year, title="Baru", years=[2027])
        client.force_login(operator)

        def titles(query: str) -> set[str]:
            r = client.get("/pengajuan/" + query)
            assert r.status_code == 200
            return {s.title for s in r.context["page"].object_list}

        assert titles("") == {"Lama"}
        assert titles(f"?instruction={next_year.pk}") == {"Baru"}
        assert titles("?instruction=all") == {"Lama", "Baru"}
        assert client.get("/pengajuan/?instruction=9999").status_code == 400

    def test_the_new_draft_form_offers_the_years_of_its_instruction(
        self, clock: Clock, client: Client, operator: User, next_year: Instruction
    ) -> None:
        client.force_login(operator)
        r = client.get(f"/pengajuan/baru/regulation/?instruction={next_year.pk}")
        assert [c[0] for c in r.context["form"].fields["years"].choices] == [2025, 2026, 2027]
        f.ensure_indicators()
        r = client.post(
            "/pengajuan/baru/regulation/",
            {"instruction": str(next_year.pk), "title": "Perwali 2027", "years": ["2027"]},
        )
        assert r.status_code == 302
        assert Submission.objects.get(title="Perwali 2027").instruction == next_year


class TestCopy:
    def run(self, *args: str) -> list[str]:
        out = io.StringIO()
        call_command("instruction_copy", *args, stdout=out)
        return out.getvalue().strip().splitlines()

    def test_copies_addressees_and_budgets_shifts_years_and_replaces_the_title_year(
        self, instruction: Instruction, body: Body, other_body: Body
    ) -> None:
        Instruction.objects.filter(pk=instruction.pk).update(budget_verify=3, follow_up_days=45)
        retired = f.BodyFactory(code="lama", active=False)
        lines = self.run(
            "--number", "4", "--year", "2027", "--issued-on", "2027-03-16",
            "--deadline", "2027-04-01",
        )  # fmt: skip
        copy = Instruction.objects.get(pk=int(lines[-1]))
        assert (copy.number, copy.year, copy.years) == (4, 2027, [2025, 2026, 2027])
        assert copy.title == "Pelaksanaan Kota Layak Anak Kota Metro Tahun 2027"
        assert copy.issuer == instruction.issuer
        assert (copy.issued_on, copy.effective_on) == (dt.date(2027, 3, 16),) * 2
        assert copy.deadline == dt.date(2027, 4, 1)
        assert (copy.budget_verify, copy.follow_up_days) == (3, 45)
        assert set(copy.addressees.all()) == set(instruction.addressees.exclude(pk=retired.pk))
        assert not copy.is_current
        assert Instruction.current() == instruction

    def test_the_options_win_and_make_current_hands_over(self, instruction: Instruction) -> None:
        lines = self.run(
            "--number", "1", "--year", "2027", "--issued-on", "2027-03-10",
            "--deadline", "2027-04-05", "--effective-on", "2027-03-12",
            "--title", "KLA 2027", "--years", "2026,2027", "--make-current",
        )  # fmt: skip
        copy = Instruction.objects.get(pk=int(lines[-1]))
        assert (copy.title, copy.years, copy.effective_on) == (
            "KLA 2027",
            [2026, 2027],
            dt.date(2027, 3, 12),
        )
        assert Instruction.current() == copy
        assert list(Instruction.objects.filter(is_current=True)) == [copy]

    def test_a_number_and_year_that_exist_are_refused_and_nothing_is_made(
        self, instruction: Instruction
    ) -> None:
        with pytest.raises(CommandError, match="2/2026 sudah ada"):
            self.run(
                "--number", "2", "--year", "2026", "--issued-on", "2026-03-17",
                "--deadline", "2026-04-01",
            )  # fmt: skip
        assert Instruction.objects.count() == 1

    @pytest.mark.parametrize(
        ("args", "says"),
        [
            (["--deadline", "2027-02-01"], "Batas waktu"),
            (["--deadline", "1 April"], "not a date"),
            (["--years", "2026,dua"], "--years"),
            (["--from", "999"], "--from"),
        ],
    )
    def test_bad_input_is_refused_with_its_reason(
        self, instruction: Instruction, args: list[str], says: str
    ) -> None:
        base = {"--number": "3", "--year": "2027", "--issued-on": "2027-03-16",
                "--deadline": "2027-04-01"}  # fmt: skip
        given = dict(zip(args[::2], args[1::2], strict=True))
        flat = [x for pair in {**base, **given}.items() for x in pair]
        with pytest.raises(CommandError, match=says):
            self.run(*flat)
        assert Instruction.objects.count() == 1

    def test_the_admin_copies_one_for_next_year(
        self, client: Client, superuser: User, instruction: Instruction
    ) -> None:
        client.force_login(superuser)
        r = client.post(
            "/admin/kla/instruction/",
            {"action": "copy_for_next_year", "_selected_action": [str(instruction.pk)]},
        )
        copy = Instruction.objects.get(year=2027)
        assert r.status_code == 302
        assert r["Location"] == f"/admin/kla/instruction/{copy.pk}/change/"
        assert (copy.number, copy.deadline, copy.years) == (
            2,
            dt.date(2027, 4, 1),
            [2025, 2026, 2027],
        )
        again = client.post(
            "/admin/kla/instruction/",
            {"action": "copy_for_next_year", "_selected_action": [str(instruction.pk)]},
            follow=True,
        )
        assert "2/2027 sudah ada" in again.content.decode()
        assert Instruction.objects.filter(year=2027).count() == 1


class TestAdmin:
    def test_making_another_instruction_current_hands_over(
        self, client: Client, superuser: User, instruction: Instruction
    ) -> None:
        other = f.InstructionFactory(
            number=2, year=2027, issued_on=dt.date(2027, 3, 1), deadline=dt.date(2027, 4, 1),
            is_current=False,
        )  # fmt: skip
        client.force_login(superuser)
        data = {
            "number": 2, "year": 2027, "title": other.title, "issuer": other.issuer,
            "issued_on": "2027-03-01", "effective_on": "", "deadline": "2027-04-01",
            "years": "2025, 2026, 2027", "budget_verify": 2, "budget_revise": 2,
            "budget_consolidate": 2, "budget_audit": 5, "follow_up_days": 60,
            "is_current": "on",
        }  # fmt: skip
        r = client.post(f"/admin/kla/instruction/{other.pk}/change/", data)
        assert r.status_code == 302, r.content.decode()[:2000]
        assert Instruction.current() == other
        other.refresh_from_db()
        assert other.effective_on == dt.date(2027, 3, 1)  # empty: from the day it was set

    def test_years_that_are_not_years_are_refused(
        self, client: Client, superuser: User, instruction: Instruction
    ) -> None:
        client.force_login(superuser)
        data = {
            "number": 2, "year": 2026, "title": instruction.title, "issued_on": "2026-03-17",
            "deadline": "2026-04-01", "years": "2026, dua", "budget_verify": 2,
            "budget_revise": 2, "budget_consolidate": 2, "budget_audit": 5,
            "follow_up_days": 60, "is_current": "on",
        }  # fmt: skip
        r = client.post(f"/admin/kla/instruction/{instruction.pk}/change/", data)
        assert r.status_code == 200
        assert "Tulis tahun dipisah koma" in r.content.decode()
        instruction.refresh_from_db()
        assert instruction.years == [2024, 2025, 2026]

    def test_the_only_current_instruction_cannot_be_unset(
        self, client: Client, superuser: User, instruction: Instruction
    ) -> None:
        client.force_login(superuser)
        data = {
            "number": 2, "year": 2026, "title": instruction.title, "issued_on": "2026-03-17",
            "deadline": "2026-04-01", "years": "2024, 2025, 2026", "budget_verify": 2,
            "budget_revise": 2, "budget_consolidate": 2, "budget_audit": 5,
            "follow_up_days": 60,
        }  # fmt: skip
        r = client.post(f"/admin/kla/instruction/{instruction.pk}/change/", data)
        assert r.status_code == 200
        assert Instruction.current() == instruction


def test_a_body_taken_out_of_the_addressees_keeps_its_draft_but_cannot_submit_it(
    operator: User, body: Body
) -> None:
    from workflows.services import submission_act

    draft = f.make_draft(operator)
    draft.instruction.addressees.remove(body)
    with pytest.raises(Invalid) as refused:
        submission_act(user=operator, submission_id=draft.pk, action="submit")
    assert refused.value.errors == {
        "agency": ["Dinas Kesehatan tidak termasuk yang dituju instruksi 2/2026."]
    }
    assert Submission.objects.get(pk=draft.pk).state == "draft"
