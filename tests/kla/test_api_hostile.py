"""Hostile and malformed input: always a 4xx with a message, never a 500, nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kla.models import Submission
from tests import factories as f

from .conftest import snapshot, url

pytestmark = pytest.mark.django_db

RAW_BODIES = [
    "{",
    '{"title": }',
    "[]",
    '[{"title": "x"}]',
    '"title"',
    "42",
    "null",
    '{"title": NaN}',
    '{"version": Infinity}',
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5000 + "1" + "}" * 5000,
]


@pytest.fixture
def targets(draft: Submission) -> list[tuple[str, str]]:
    return [("post", url()), ("patch", url(draft)), ("post", url(draft, "actions"))]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_malformed_or_non_object_json_is_a_400(
    api: Any, operator: Any, draft: Submission, targets: list[tuple[str, str]], raw: str
) -> None:
    before = snapshot(draft)
    client = api.as_(operator)
    for method, path in targets:
        response = getattr(client, method)(path, raw, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:200])
        assert "detail" in response.json() or response.json()
    assert snapshot(draft) == before
    assert Submission.objects.count() == 1


def test_invalid_utf8_is_a_400(
    api: Any, operator: Any, draft: Submission, targets: list[tuple[str, str]]
) -> None:
    client = api.as_(operator)
    for method, path in targets:
        response = getattr(client, method)(
            path, b'{"title": "\xff\xfe"}', content_type="application/json"
        )
        assert response.status_code == 400, path


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "a\x00b"}, "title"),
        ({"description": "\ud800"}, "description"),
        ({"details": {"number": "12\x00"}}, "details.number"),
        ({"details": {"kind": "perda", "number": ["\udfff"]}}, "details.number"),
        ({"details": {"nu\x00mber": "1"}}, "details"),
        ({"ti\x00tle": "x"}, "detail"),
    ],
)
def test_text_the_database_cannot_store_is_a_400_naming_the_field(
    api: Any, operator: Any, draft: Submission, payload: dict[str, Any], field: str
) -> None:
    before = snapshot(draft)
    # json.dumps escapes NUL and lone surrogates, as a hostile client would send them.
    body = json.dumps(payload)
    response = api.as_(operator).patch(url(draft), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(draft) == before


def test_nul_in_a_note_or_an_action_is_a_400(
    api: Any, verifier: Any, submitted: Submission
) -> None:
    before = snapshot(submitted)
    client = api.as_(verifier)
    for payload in ({"action": "return", "note": "x\x00"}, {"action": "appr\x00ve"}):
        response = client.post(
            url(submitted, "actions"), json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 400
    assert snapshot(submitted) == before


def test_nul_in_a_new_drafts_agency_is_a_400(api: Any, operator: Any, db: Any) -> None:
    f.InstructionFactory()
    body = json.dumps({"category": "regulation", "agency": "dinkes\x00"})
    response = api.as_(operator).post(url(), body, content_type="application/json")
    assert response.status_code == 400
    assert "agency" in response.json()
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"years": None}, "years"),
        ({"indicators": None}, "indicators"),
        ({"details": None}, "details"),
        ({"years": [[2025]]}, "years"),
        ({"indicators": [{"n": 1}]}, "indicators"),
        ({"indicators": [-(10**40)]}, "indicators"),
        ({"years": [10**40]}, "years"),
        ({"details": {"enacted_on": {"y": 2025}}}, "details.enacted_on"),
        ({"details": {"enacted_on": "9999999-01-01"}}, "details.enacted_on"),
        ({"title": {"id": "x"}}, "title"),
        ({"title": "x" * 100_000}, "title"),
    ],
)
def test_nested_nulls_wrong_types_and_huge_values_are_400(
    api: Any, operator: Any, draft: Submission, payload: dict[str, Any], field: str
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(url(draft), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(draft) == before


def test_null_details_values_are_treated_as_empty(
    api: Any, operator: Any, draft: Submission
) -> None:
    response = api.as_(operator).patch(
        url(draft), {"title": None, "details": {"kind": None, "number": ""}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == ""
    # the fields sent empty are cleared; PATCH keeps the field not sent
    assert response.json()["details"] == {"enacted_on": "2025-02-01"}


def test_unicode_text_round_trips(api: Any, operator: Any, draft: Submission) -> None:
    title = "Perlindungan anak 👶 — ñ, 日本語, العربية"
    response = api.as_(operator).patch(url(draft), {"title": title}, format="json")
    assert response.status_code == 200
    assert api.as_(operator).get(url(draft)).json()["title"] == title


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_non_json_bodies_for_json_endpoints_are_415(
    api: Any, operator: Any, draft: Submission, content_type: str
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(url(draft), "title=x", content_type=content_type)
    assert response.status_code == 415
    assert "detail" in response.json()
    assert snapshot(draft) == before


def test_an_unacceptable_accept_header_is_406(api: Any, operator: Any, draft: Submission) -> None:
    response = api.as_(operator).get(url(draft), HTTP_ACCEPT="application/xml")
    assert response.status_code == 406


@pytest.mark.parametrize(
    "query", ["page=-1", "page=0", "page=" + "9" * 40, "page=%00", "state=draft&state=x"]
)
def test_hostile_query_strings_are_4xx(
    api: Any, operator: Any, draft: Submission, query: str
) -> None:
    response = api.as_(operator).get(url() + "?" + query)
    assert 400 <= response.status_code < 500


def test_repeated_filter_uses_the_last_value(api: Any, operator: Any, draft: Submission) -> None:
    response = api.as_(operator).get(url() + "?state=x&state=draft")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_huge_multipart_form_values_do_not_break_the_upload(
    api: Any, operator: Any, draft: Submission
) -> None:
    response = api.as_(operator).post(
        url(draft, "evidence"),
        {"file": f.pdf_upload(), "note": "x" * 10_000, "other": "\u2603"},
        format="multipart",
    )
    assert response.status_code == 201


def _multipart(disposition: str) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    body = head.encode() + f.PDF_BYTES + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("disposition", "stored", "served"),
    [
        ("filename*=UTF-8''a%0Ab.pdf", "ab.pdf", "ab.pdf"),
        ("filename*=UTF-8''a%00b.pdf", "ab.pdf", "ab.pdf"),
        ('filename="a\x01b.pdf"', "ab.pdf", "ab.pdf"),
        # Stored as named; served with the extension of what it is (a PDF).
        ("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd", "passwd.pdf"),
    ],
)
def test_hostile_file_names_are_stored_safely_and_download(
    api: Any, operator: Any, draft: Submission, disposition: str, stored: str, served: str
) -> None:
    client = api.as_(operator)
    body, content_type = _multipart(disposition)
    response = client.post(url(draft, "evidence"), body, content_type=content_type)
    assert response.status_code == 201
    assert response.json()["name"] == stored
    download = client.get(url(draft, "evidence", response.json()["id"]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{served}"'


def test_multipart_part_without_a_file_name_is_a_400(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    body, content_type = _multipart('filename=""')
    response = api.as_(operator).post(url(draft, "evidence"), body, content_type=content_type)
    assert response.status_code == 400
    assert "file" in response.json()
    assert snapshot(draft) == before


def test_rupiah_amounts_up_to_fifteen_digits_round_trip_and_beyond_are_400(
    api: Any, operator: Any, db: Any
) -> None:
    program = f.make_draft(operator, "program")
    budget = 10**15
    response = api.as_(operator).patch(
        url(program), {"details": {"budget": budget, "realization": "0"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["details"]["budget"] == budget
    assert response.json()["details"]["realization"] == 0
    before = snapshot(program)
    response = api.as_(operator).patch(url(program), {"details": {"budget": 10**30}}, format="json")
    assert response.status_code == 400
    assert "details.budget" in response.json()
    assert snapshot(program) == before


def test_an_indicator_number_too_large_for_the_database_is_400(
    api: Any, operator: Any, draft: Submission
) -> None:
    before = snapshot(draft)
    response = api.as_(operator).patch(url(draft), {"indicators": [10**22]}, format="json")
    assert response.status_code == 400
    assert "indicators" in response.json()
    assert snapshot(draft) == before


def test_an_integer_too_long_to_parse_is_a_400(api: Any, operator: Any, draft: Submission) -> None:
    before = snapshot(draft)
    body = '{"indicators": [' + "9" * 5000 + "]}"
    response = api.as_(operator).patch(url(draft), body, content_type="application/json")
    assert response.status_code == 400
    assert snapshot(draft) == before
