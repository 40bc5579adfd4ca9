"""The forms an operator fills in: indicators by cluster, several files at once each with its
kind, errors beside their fields with a summary on top, money and dates in one style."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from kla.details import parse_money
from kla.models import Cluster, Indicator, Requirement, Submission
from tests import factories as f
from tests.kla.pages_support import REGULATION_POST, as_, detail_url, edit_url, upload_url
from tests.kla.test_evidence_tags import make_checklist
from workflows.models import TrailEvent

pytestmark = pytest.mark.django_db


# --- a small reading of the HTML: elements with their attributes, children and text -------

VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.texts: list[str] = []

    def text(self) -> str:
        return " ".join(
            " ".join(t.split()) for t in [*self.texts, *(c.text() for c in self.children)] if t
        ).strip()

    def iter(self) -> list[Node]:
        found: list[Node] = []
        for child in self.children:
            found.append(child)
            found.extend(child.iter())
        return found

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        def matches(node: Node) -> bool:
            if node.tag != tag:
                return False
            for key, value in attrs.items():
                key = key.rstrip("_").replace("_", "-")
                if key == "class":
                    if value not in node.attrs.get("class", "").split():
                        return False
                elif node.attrs.get(key) != value:
                    return False
            return True

        return [n for n in self.iter() if matches(n)]

    def find(self, tag: str, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def by_id(self, id_: str) -> Node:
        found = [n for n in self.iter() if n.attrs.get("id") == id_]
        assert len(found) == 1, f"{len(found)} elements with id {id_}"
        return found[0]


class Tree(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Node("#root", {}, None)
        self.here = self.root
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.here)
        self.here.children.append(node)
        if tag not in VOID:
            self.here = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.here
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.here = node.parent

    def handle_data(self, data: str) -> None:
        self.here.texts.append(data)


def page(response: Any) -> Node:
    return Tree(response.content.decode()).root


def described_by(node: Node) -> list[str]:
    return node.attrs.get("aria-describedby", "").split()


def upload(name: str, content: bytes = f.PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def uploads(submission: Submission) -> list[TrailEvent]:
    return list(
        TrailEvent.objects.filter(submission=submission, action="evidence_upload").order_by("seq")
    )


def new_url(category: str = "regulation") -> str:
    return reverse("submission-new", args=[category])


# --- indicators by cluster -------------------------------------------------------------------


def test_the_indicators_are_checkboxes_in_one_fieldset_per_cluster_in_number_order(
    client: Client, operator: Any, instruction: Any
) -> None:
    tree = page(as_(client, operator).get(new_url()))
    clusters = tree.find_all("fieldset", class_="cluster")
    expected = [
        (str(label), list(Indicator.objects.filter(cluster=code).values_list("number", flat=True)))
        for code, label in Cluster.choices
    ]
    expected = [(label, numbers) for label, numbers in expected if numbers]
    shown = [
        (
            node.children[0].text() if node.children[0].tag == "legend" else "",
            [int(i.attrs["value"]) for i in node.find_all("input", type="checkbox")],
        )
        for node in clusters
    ]
    assert shown == expected
    assert [n for _label, numbers in shown for n in numbers] == list(range(1, 25))
    assert {i.attrs["name"] for c in clusters for i in c.find_all("input")} == {"indicators"}
    # The clusters sit inside the field's own group, under its label.
    group = clusters[0].parent
    assert group is not None and group.tag == "fieldset"
    assert group.children[0].text() == "Indikator KLA"
    assert "Klaster III: Kesehatan Dasar dan Kesejahteraan" in [label for label, _ in shown]


def test_the_edit_form_ticks_the_submissions_indicators_in_their_cluster(
    client: Client, draft: Submission
) -> None:
    tree = page(as_(client, draft.created_by).get(edit_url(draft)))
    ticked = [
        (cluster.children[0].text(), i.attrs["value"])
        for cluster in tree.find_all("fieldset", class_="cluster")
        for i in cluster.find_all("input")
        if "checked" in i.attrs
    ]
    assert ticked == [("Klaster III: Kesehatan Dasar dan Kesejahteraan", "17")]


def test_indicators_ticked_in_several_clusters_are_saved(
    client: Client, operator: Any, instruction: Any
) -> None:
    response = as_(client, operator).post(
        new_url(), {**REGULATION_POST, "indicators": ["1", "17", "24"]}
    )
    assert response.status_code == 302
    created = Submission.objects.get(title=REGULATION_POST["title"])
    assert sorted(created.indicators.values_list("number", flat=True)) == [1, 17, 24]


# --- several files at once -------------------------------------------------------------------


def test_several_files_in_one_post_each_with_its_own_kind(
    client: Client, draft: Submission
) -> None:
    before = uploads(draft)
    response = as_(client, draft.created_by).post(
        upload_url(draft),
        {
            "file": [upload("sk.pdf"), upload("foto.png", f.PNG_BYTES), upload("lain.pdf")],
            "kind": "other",
            "kind_0": "decree",
            "kind_1": "photo",
        },
    )
    assert response.status_code == 302
    kinds = {e.name: e.kind for e in draft.evidence.all()}
    assert kinds["sk.pdf"] == "decree"
    assert kinds["foto.png"] == "photo"
    assert kinds["lain.pdf"] == "other"  # no kind of its own: the batch's
    events = uploads(draft)[len(before) :]
    assert [[file["name"] for file in e.files] for e in events] == [
        ["sk.pdf"],
        ["foto.png"],
        ["lain.pdf"],
    ]
    assert [e.data["kind"] for e in events] == ["decree", "photo", "other"]
    html = client.get(detail_url(draft)).content.decode()
    for name in ("sk.pdf", "foto.png", "lain.pdf"):
        assert f"Berkas {name} diunggah." in html


def test_without_javascript_one_kind_and_the_requirements_serve_the_whole_batch(
    client: Client, draft: Submission, instruction: Any
) -> None:
    make_checklist(instruction)
    response = as_(client, draft.created_by).post(
        upload_url(draft),
        {"file": [upload("a.pdf"), upload("b.pdf")], "kind": "decree", "requirements": ["17.1"]},
    )
    assert response.status_code == 302
    for name in ("a.pdf", "b.pdf"):
        evidence = f.first(draft.evidence.filter(name=name))
        assert evidence.kind == "decree"
        assert [r.code for r in evidence.requirements.all()] == ["17.1"]
    assert len(uploads(draft)) == 3  # make_draft's file, then one event per file


def test_the_upload_form_takes_several_files_and_offers_a_drop_zone(
    client: Client, draft: Submission
) -> None:
    tree = page(as_(client, draft.created_by).get(detail_url(draft)))
    form = tree.find("form", id="evidence-upload")
    assert form.attrs["enctype"] == "multipart/form-data"
    file_input = form.find("input", type="file")
    assert "multiple" in file_input.attrs and file_input.attrs["name"] == "file"
    zone = form.find("div", class_="dropzone")
    assert "data-dropzone" in zone.attrs and file_input in zone.iter()
    assert "id_file_helptext" in described_by(file_input)
    # Nothing runs from the page itself: the script is site.js, under the strict CSP.
    assert not [n for n in form.iter() if n.tag == "script" or "style" in n.attrs]
    assert not [n for n in form.iter() for k in n.attrs if k.startswith(("on", "hx-on"))]


def test_a_refused_file_is_named_with_its_reason_and_the_others_are_kept(
    client: Client, draft: Submission
) -> None:
    before = len(uploads(draft))
    response = as_(client, draft.created_by).post(
        upload_url(draft),
        {
            "file": [upload("satu.pdf"), upload("catatan.pdf", b"plain text"), upload("tiga.pdf")],
            "kind_0": "decree",
            "kind_1": "decree",
            "kind_2": "photo",
        },
    )
    assert response.status_code == 400
    names = set(draft.evidence.values_list("name", flat=True))
    assert {"satu.pdf", "tiga.pdf"} <= names and "catatan.pdf" not in names
    assert f.first(draft.evidence.filter(name="tiga.pdf")).kind == "photo"
    assert len(uploads(draft)) == before + 2
    tree = page(response)
    beside = tree.by_id("id_file_error").text()
    assert "catatan.pdf" in beside and "PDF, JPEG, PNG" in beside
    assert "satu.pdf" not in beside and "tiga.pdf" not in beside
    outcome = tree.find("div", class_="batch-outcome").text()
    assert "satu.pdf" in outcome and "tiga.pdf" in outcome and "catatan.pdf" not in outcome
    file_input = tree.find("input", type="file")
    assert file_input.attrs.get("aria-invalid") == "true"
    assert "id_file_error" in described_by(file_input)
    summary = tree.find("div", class_="error-summary")
    assert summary.find("a").attrs["href"] == "#id_file"
    # The saved ones are in the list of files, as on any page after an upload.
    table = tree.find("table", class_="list").text()
    assert "satu.pdf" in table and "tiga.pdf" in table and "catatan.pdf" not in table


def test_a_file_of_an_unknown_kind_is_refused_alone(client: Client, draft: Submission) -> None:
    response = as_(client, draft.created_by).post(
        upload_url(draft),
        {"file": [upload("a.pdf"), upload("b.pdf")], "kind_0": "nonsense", "kind_1": "photo"},
    )
    assert response.status_code == 400
    assert "Jenis bukti" in page(response).by_id("id_file_error").text()
    assert set(draft.evidence.values_list("name", flat=True)) == {"bukti.pdf", "b.pdf"}


def test_an_oversized_file_of_a_batch_is_413_and_the_others_are_kept(
    client: Client, draft: Submission, settings: Any
) -> None:
    settings.EVIDENCE_MAX_MB = 1
    big = upload("besar.pdf", f.PDF_BYTES + b"0" * (1100 * 1024))
    before = len(uploads(draft))
    response = as_(client, draft.created_by).post(
        upload_url(draft), {"file": [upload("kecil.pdf"), big, upload("juga.pdf")]}
    )
    assert response.status_code == 413
    names = set(draft.evidence.values_list("name", flat=True))
    assert {"kecil.pdf", "juga.pdf"} <= names and "besar.pdf" not in names
    assert len(uploads(draft)) == before + 2
    beside = page(response).by_id("id_file_error").text()
    assert "besar.pdf" in beside and "terlalu besar" in beside and "1 MB" in beside


def test_a_reviewer_uploading_a_batch_is_refused_before_any_file(
    client: Client, submitted: Submission, verifier: Any
) -> None:
    response = as_(client, verifier).post(
        upload_url(submitted), {"file": [upload("a.pdf"), upload("b.pdf")]}
    )
    assert response.status_code == 403
    assert submitted.evidence.count() == 1


def test_a_batch_on_a_submitted_one_is_409_and_keeps_nothing(
    client: Client, submitted: Submission
) -> None:
    response = as_(client, submitted.created_by).post(
        upload_url(submitted), {"file": [upload("a.pdf"), upload("b.pdf")]}
    )
    assert response.status_code == 409
    assert submitted.evidence.count() == 1


def test_more_files_than_a_batch_holds_are_refused_whole(client: Client, draft: Submission) -> None:
    files = [upload(f"b{n}.pdf") for n in range(11)]
    response = as_(client, draft.created_by).post(upload_url(draft), {"file": files})
    assert response.status_code == 400
    assert "Paling banyak 10 berkas" in page(response).by_id("id_file_error").text()
    assert draft.evidence.count() == 1


def test_an_upload_without_a_file_says_so_beside_the_field(
    client: Client, draft: Submission
) -> None:
    response = as_(client, draft.created_by).post(upload_url(draft), {"kind": "photo"})
    assert response.status_code == 400
    tree = page(response)
    assert "Pilih berkas" in tree.by_id("id_file_error").text()
    assert tree.find("div", class_="error-summary").find("a").attrs["href"] == "#id_file"


def test_a_requirement_refusing_a_files_kind_names_the_file(
    client: Client, draft: Submission, instruction: Any
) -> None:
    checklist: dict[str, Requirement] = make_checklist(instruction)
    assert "17.1" in checklist
    response = as_(client, draft.created_by).post(
        upload_url(draft),
        {"file": [upload("sk.pdf"), upload("foto.pdf")], "kind_0": "decree", "kind_1": "photo",
         "requirements": ["17.1"]},
    )  # fmt: skip
    assert response.status_code == 400
    beside = page(response).by_id("id_file_error").text()
    assert "foto.pdf" in beside and "Kebutuhan data dukung" in beside and "17.1" in beside
    assert "sk.pdf" not in beside
    assert set(draft.evidence.values_list("name", flat=True)) == {"bukti.pdf", "sk.pdf"}


# --- money and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1.500.000", 1500000),
        ("Rp 1.500.000", 1500000),
        ("Rp1.500.000", 1500000),
        ("1500000", 1500000),
        (" 750 ", 750),
        ("0", 0),
    ],
)
def test_money_is_read_in_the_three_ways_people_type_it(typed: str, amount: int) -> None:
    assert parse_money(typed) == amount


@pytest.mark.parametrize(
    "typed",
    ["1,500,000", "1.500.000,00", "1.5", "15.00.000", "Rp -5", "-5", "Rp", "satu juta", "1 500"],
)
def test_other_money_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_money(typed)


PROGRAM_POST = {
    "title": "Forum Anak",
    "years": ["2025"],
    "detail_year": "2025",
    "detail_funding_source": "APBD",
}


@pytest.mark.parametrize("typed", ["Rp 1.500.000", "1500000", "1.500.000"])
def test_the_program_form_takes_rupiah_and_shows_it_back_in_one_style(
    client: Client, operator: Any, instruction: Any, typed: str
) -> None:
    response = as_(client, operator).post(
        new_url("program"),
        {**PROGRAM_POST, "detail_budget": typed, "detail_realization": "250.000"},
    )
    assert response.status_code == 302
    created = Submission.objects.get(title="Forum Anak")
    assert (created.details["budget"], created.details["realization"]) == (1500000, 250000)
    detail = page(client.get(detail_url(created)))
    facts = [dd.text() for dd in detail.find_all("dd")]
    assert "Rp 1.500.000" in facts and "Rp 250.000" in facts
    edit = page(client.get(edit_url(created)))
    assert edit.by_id("id_detail_budget").attrs["value"] == "Rp 1.500.000"
    # What the edit form shows is accepted back as it is.
    again = client.post(
        edit_url(created),
        {**PROGRAM_POST, "detail_budget": "Rp 1.500.000", "version": created.version},
    )
    assert again.status_code == 302


@pytest.mark.parametrize("typed", ["1,500,000", "1.500.000,50", "Rp -5", "dua juta"])
def test_bad_money_is_refused_beside_its_field(
    client: Client, operator: Any, instruction: Any, typed: str
) -> None:
    response = as_(client, operator).post(
        new_url("program"), {**PROGRAM_POST, "detail_budget": typed}
    )
    assert response.status_code == 400
    assert not Submission.objects.filter(title="Forum Anak").exists()
    tree = page(response)
    message = tree.by_id("id_detail_budget_error").text()
    assert "1.500.000" in message and "Rp 1.500.000" in message and "1500000" in message
    field = tree.by_id("id_detail_budget")
    assert field.attrs["value"] == typed  # what was typed stays to be corrected
    assert field.attrs.get("aria-invalid") == "true"
    assert described_by(field) == ["id_detail_budget_helptext", "id_detail_budget_error"]
    links = [a.attrs["href"] for a in tree.find("div", class_="error-summary").find_all("a")]
    assert links == ["#id_detail_budget"]


def test_the_rupiah_filter() -> None:
    rendered = Template("{% load kla_tags %}{{ a|rupiah }}|{{ b|rupiah }}|{{ c|rupiah }}").render(
        Context({"a": 1500000, "b": 0, "c": "tidak diisi"})
    )
    assert rendered == "Rp 1.500.000|Rp 0|tidak diisi"


def test_a_date_field_is_shown_as_day_month_year(client: Client, operator: Any) -> None:
    draft = f.make_draft(
        operator, details={"kind": "perwali", "number": "1/2026", "enacted_on": "2026-03-17"}
    )
    facts = [dd.text() for dd in page(as_(client, operator).get(detail_url(draft))).find_all("dd")]
    assert "17 Maret 2026" in facts


# --- errors beside their fields --------------------------------------------------------------


def test_each_error_of_the_submission_form_is_beside_its_field_and_linked_from_the_top(
    client: Client, operator: Any, instruction: Any
) -> None:
    response = as_(client, operator).post(
        new_url(),
        {
            **REGULATION_POST,
            "title": "x" * 301,
            "detail_enacted_on": "2025-13-45",
            "indicators": ["99"],
        },
    )
    assert response.status_code == 400
    tree = page(response)
    for name in ("title", "detail_enacted_on"):
        field = tree.by_id(f"id_{name}")
        assert field.attrs.get("aria-invalid") == "true"
        assert f"id_{name}_error" in described_by(field)
        error = tree.by_id(f"id_{name}_error")
        assert error.text()
        # Beside its field: in the same field block.
        assert error.parent is field.parent
    indicators = tree.by_id("id_indicators_error")
    group = indicators.parent.find("fieldset", class_="checks") if indicators.parent else None
    assert group is not None and "id_indicators_error" in described_by(group)
    assert all(i.attrs.get("aria-invalid") == "true" for i in group.find_all("input"))
    summary = tree.find("div", class_="error-summary")
    links = [a.attrs["href"] for a in summary.find_all("a")]
    assert links == ["#id_title", "#id_indicators_0", "#id_detail_enacted_on"]
    for href in links:
        tree.by_id(href.removeprefix("#"))  # each link leads to a field of the page
    assert not [n for n in tree.iter() if n.tag == "script" and not n.attrs.get("src")]


def test_a_valid_form_has_no_error_marks(client: Client, operator: Any, instruction: Any) -> None:
    tree = page(as_(client, operator).get(new_url("program")))
    assert not tree.find_all("div", class_="error-summary")
    assert not [n for n in tree.iter() if n.attrs.get("aria-invalid")]
    assert described_by(tree.by_id("id_detail_budget")) == ["id_detail_budget_helptext"]
    tree.by_id("id_detail_budget_helptext")
