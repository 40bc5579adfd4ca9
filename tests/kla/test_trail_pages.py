"""The auditor's trail pages: the chain on the submission page, the trail across submissions at
/jejak/ with its filters, and its CSV and JSON Lines downloads.

Rights: the auditor reads and downloads; verifiers and consolidators read the rows of the
submissions they see (downloads 403); operators, people without a role and a superuser
without one get 404; the anonymous visitor is sent to the login page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kla.models import Submission
from kla.time import WIB
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import submission_act
from workflows.trail.append import trail_append

pytestmark = pytest.mark.django_db

TRAIL = reverse("trail-list")
CSV = reverse("trail-download", args=["csv"])
JSONL = reverse("trail-download", args=["jsonl"])


def label(stream: str) -> str:
    """How the pages name a stream, in words: "Pengajuan #5", never "submission:5"."""
    kind, _, rest = stream.partition(":")
    assert kind == "submission", stream
    return f"Pengajuan #{rest}"


def shown(stream: str) -> str:
    """A submission's stream as the trail page's link shows it (the whole text of the link)."""
    return f">{label(stream)}<"


def as_(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def body_of(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return str(response.content.decode())


def tamper(sql: str, params: list[Any]) -> None:
    """As the database owner would: with the append-only guard's triggers disabled."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def exports() -> int:
    return TrailEvent.objects.filter(stream__name="system", action="trail_export").count()


def db_rows(qs: Any) -> list[dict[str, Any]]:
    """The events as the downloads must show them, chain by chain."""
    return [
        {
            "stream": e.stream.name,
            "seq": e.seq,
            "at": e.at.astimezone(WIB).isoformat(),
            "actor": e.actor_name,
            "role": e.role,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "note": e.note,
            "files": [{"name": x["name"], "sha256": x["sha256"]} for x in e.files],
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in qs.select_related("stream").order_by("stream__name", "seq")
    ]


@pytest.fixture
def private_draft(operator: Any) -> Submission:
    """Never submitted: private to its body, on every page including the trail."""
    return f.make_draft(operator, title="Draf rahasia")


@pytest.fixture
def elsewhere(other_operator: Any, people: dict[str, Any]) -> Submission:
    """A submitted submission of another body (dinsos)."""
    draft = f.make_draft(other_operator, "program", title="Forum Anak Dinsos")
    return f.advance(draft, "submitted", **{**people, "operator": other_operator})


# --- who may open the trail page ------------------------------------------------------------------


def test_auditor_sees_submission_body_and_system_events(
    client: Client, auditor: Any, submitted: Submission
) -> None:
    response = as_(client, auditor).get(TRAIL)
    assert response.status_code == 200
    page = body_of(response)
    assert shown(submitted.stream) in page
    # role grants of the fixtures are system events: auditors alone read that stream
    assert "Peran diberikan" in page and ">Sistem<" in page
    assert f'href="{TRAIL}"' in page  # the navigation link
    assert 'href="/jejak/unduh/csv/' in page


@pytest.mark.parametrize("who", ["verifier", "consolidator"])
def test_reviewers_read_only_the_submission_events_they_see(
    client: Client, people: dict[str, Any], submitted: Submission, who: str
) -> None:
    response = as_(client, people[who]).get(TRAIL)
    assert response.status_code == 200
    page = body_of(response)
    assert shown(submitted.stream) in page
    assert ">Sistem<" not in page and "Peran diberikan" not in page
    assert f'href="{TRAIL}"' in page
    assert "/jejak/unduh/" not in page  # no download links: the page is read-only for them


@pytest.mark.parametrize("who", ["verifier", "consolidator"])
@pytest.mark.parametrize("url", [CSV, JSONL])
def test_reviewers_may_not_download_the_trail(
    client: Client, people: dict[str, Any], submitted: Submission, who: str, url: str
) -> None:
    response = as_(client, people[who]).get(url)
    assert response.status_code == 403
    assert "Hanya auditor" in body_of(response)
    assert exports() == 0


def test_scoped_verifier_sees_only_the_bodies_in_scope(
    client: Client, other_body: Any, submitted: Submission, elsewhere: Submission
) -> None:
    scoped = f.make_scoped_verifier([other_body], "verif-dinsos")
    page = body_of(as_(client, scoped).get(TRAIL))
    assert shown(elsewhere.stream) in page
    assert shown(submitted.stream) not in page


@pytest.mark.parametrize("who", ["operator", "other_operator", "outsider", "superuser"])
@pytest.mark.parametrize("url", [TRAIL, CSV, JSONL])
def test_people_without_a_reviewing_role_get_404(
    client: Client, request: Any, submitted: Submission, who: str, url: str
) -> None:
    user = request.getfixturevalue(who)
    response = as_(client, user).get(url)
    assert response.status_code == 404
    assert exports() == 0


def test_operator_has_no_trail_link(client: Client, operator: Any, submitted: Submission) -> None:
    page = body_of(as_(client, operator).get(reverse("tasks")))
    assert f'href="{TRAIL}"' not in page


@pytest.mark.parametrize("url", [TRAIL, CSV, JSONL])
def test_anonymous_is_sent_to_login(client: Client, submitted: Submission, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert exports() == 0


def test_a_private_draft_never_shows_in_the_trail(
    client: Client, auditor: Any, submitted: Submission, private_draft: Submission
) -> None:
    as_(client, auditor)
    assert shown(private_draft.stream) not in body_of(client.get(TRAIL))
    streams = {json.loads(line)["stream"] for line in body_of(client.get(JSONL)).splitlines()}
    assert submitted.stream in streams
    assert private_draft.stream not in streams


def test_only_get_is_allowed(client: Client, auditor: Any) -> None:
    assert as_(client, auditor).post(TRAIL).status_code == 405


# --- filters --------------------------------------------------------------------------------------


def test_filter_by_body(
    client: Client, auditor: Any, submitted: Submission, elsewhere: Submission
) -> None:
    page = body_of(as_(client, auditor).get(TRAIL, {"agency": "dinsos"}))
    assert shown(elsewhere.stream) in page
    assert shown(submitted.stream) not in page


def test_filter_by_actor_and_action(
    client: Client, auditor: Any, people: dict[str, Any], submitted: Submission
) -> None:
    f.advance(submitted, "verified", **people)
    lines = body_of(as_(client, auditor).get(JSONL, {"actor": "VERIFIKATOR"})).splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["actor"], r["action"]) for r in rows] == [("verifikator", "approve")]
    rows = [json.loads(x) for x in body_of(client.get(JSONL, {"action": "submit"})).splitlines()]
    assert [(r["stream"], r["actor"]) for r in rows] == [(submitted.stream, "op-dinkes")]


def test_filter_by_wib_dates(client: Client, auditor: Any, submitted: Submission) -> None:
    today = timezone.now().astimezone(WIB).date()
    as_(client, auditor)
    page = body_of(client.get(TRAIL, {"date_from": today.isoformat()}))
    assert shown(submitted.stream) in page
    page = body_of(client.get(TRAIL, {"date_to": today.isoformat()}))
    assert shown(submitted.stream) in page
    later = (today + dt.timedelta(days=1)).isoformat()
    assert shown(submitted.stream) not in body_of(client.get(TRAIL, {"date_from": later}))
    earlier = (today - dt.timedelta(days=1)).isoformat()
    assert shown(submitted.stream) not in body_of(client.get(TRAIL, {"date_to": earlier}))


@pytest.mark.postgres
def test_a_day_is_a_wib_day(client: Client, auditor: Any, submitted: Submission) -> None:
    """An event at 23:30 UTC belongs to the next WIB day (06:30 WIB)."""
    event = TrailEvent.objects.filter(submission=submitted).order_by("seq").first()
    assert event is not None
    at = dt.datetime(2020, 3, 24, 23, 30, tzinfo=dt.UTC)
    tamper("UPDATE workflows_trailevent SET at = %s WHERE id = %s", [at, event.pk])
    as_(client, auditor)
    on = {"date_from": "2020-03-25", "date_to": "2020-03-25"}
    rows = [json.loads(x) for x in body_of(client.get(JSONL, on)).splitlines()]
    assert [(r["stream"], r["seq"], r["at"]) for r in rows] == [
        (submitted.stream, event.seq, "2020-03-25T06:30:00+07:00")
    ]
    before = {"date_from": "2020-03-24", "date_to": "2020-03-24"}
    assert body_of(client.get(JSONL, before)) == ""


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"agency": "tidak-ada"}, "tidak dikenal"),
        ({"action": "bakar"}, "tidak dikenal"),
        ({"date_from": "2026-13-45"}, "Tanggal tidak valid"),
        ({"date_to": "kemarin"}, "Tanggal tidak valid"),
        ({"date_from": "0001-01-01"}, "Tanggal harus antara"),
        ({"date_to": "9999-12-31"}, "Tanggal harus antara"),
        ({"date_from": "2026-03-25", "date_to": "2026-03-01"}, "sebelum tanggal awal"),
        ({"actor": "x" * 151}, "paling banyak 150"),
        ({"actor": "nul\x00byte"}, "Null"),
    ],
)
def test_bad_filters_answer_400_with_a_clear_message(
    client: Client, auditor: Any, submitted: Submission, params: dict[str, str], message: str
) -> None:
    as_(client, auditor)
    response = client.get(TRAIL, params)
    assert response.status_code == 400
    page = body_of(response)
    assert "Saringan tidak valid" in page
    assert message.lower() in page.lower()
    for url in (CSV, JSONL):
        assert client.get(url, params).status_code == 400
    assert exports() == 0


@pytest.mark.parametrize("value", ["abc", "0", "-1", "999999999999999999999"])
def test_any_page_number_shows_a_page(client: Client, auditor: Any, value: str) -> None:
    assert as_(client, auditor).get(TRAIL, {"halaman": value}).status_code == 200


def test_the_trail_is_paginated_newest_first(client: Client, auditor: Any) -> None:
    with transaction.atomic():
        for n in range(60):
            trail_append(stream="system", action="body_change", actor=None, note=f"catatan-{n:02d}")
    as_(client, auditor)
    first = body_of(client.get(TRAIL, {"action": "body_change"}))
    assert "50 peristiwa di halaman ini" in first and "Lebih baru" not in first
    assert "catatan-59" in first and "catatan-10" in first and "catatan-09" not in first
    older = re.search(r'href="\?(action=body_change&amp;kursor=[\w-]+)">Lebih lama', first)
    assert older, first  # the pager keeps the filters
    second = body_of(client.get(f"{TRAIL}?{older.group(1).replace('&amp;', '&')}"))
    assert "catatan-09" in second and "catatan-00" in second and "catatan-10" not in second
    assert "Lebih baru" in second and "Lebih lama" not in second


def test_unknown_download_format_is_404(client: Client, auditor: Any) -> None:
    assert as_(client, auditor).get(reverse("trail-download", args=["xml"])).status_code == 404
    assert exports() == 0


# --- downloads ------------------------------------------------------------------------------------


def test_csv_matches_the_database_events_and_hashes(
    client: Client, auditor: Any, submitted: Submission, elsewhere: Submission
) -> None:
    response = as_(client, auditor).get(CSV, {"agency": "dinkes"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="jejak-')
    raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert raw.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    header, *rows = list(reader)
    assert header == [
        "Alur",
        "Nomor urut",
        "Waktu (WIB)",
        "Pelaku",
        "Peran",
        "Aksi",
        "Dari status",
        "Ke status",
        "Catatan",
        "Berkas",
        "Hash sebelumnya",
        "Hash",
    ]
    # the body's own stream (its memberships) and its submissions' streams
    expected = db_rows(
        TrailEvent.objects.filter(Q(body__code="dinkes") | Q(submission__body__code="dinkes"))
    )
    assert {r["stream"] for r in expected} == {"body:dinkes", submitted.stream}
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        got = dict(zip(header, row, strict=True))
        assert (got["Nomor urut"], got["Hash sebelumnya"], got["Hash"]) == (
            str(want["seq"]),
            want["prev_hash"],
            want["hash"],
        )
        assert got["Pelaku"] == want["actor"] and got["Catatan"] == want["note"]
        wall = dt.datetime.fromisoformat(want["at"]).strftime("%Y-%m-%d %H:%M:%S")
        assert got["Waktu (WIB)"] == wall  # the WIB wall clock, a spreadsheet's date
        for file in want["files"]:
            assert f"{file['name']} (SHA-256 {file['sha256']})" in got["Berkas"]
    words = {(r[0], r[4], r[5], r[7]) for r in rows}
    assert (f"Pengajuan #{submitted.pk}", "Operator", "Diajukan", "Menunggu verifikasi") in words
    assert elsewhere.stream not in {r[0] for r in rows}
    assert f"Pengajuan #{elsewhere.pk}" not in {r[0] for r in rows}


def test_jsonl_matches_the_database_events_and_links_each_chain(
    client: Client, auditor: Any, submitted: Submission
) -> None:
    response = as_(client, auditor).get(JSONL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in body_of(response).splitlines()]
    # everything the auditor reads, the export's own event included (it is recorded first)
    assert rows == db_rows(TrailEvent.objects.all())
    chain = [r for r in rows if r["stream"] == submitted.stream]
    assert chain[0]["prev_hash"] == "0" * 64
    for before, after in itertools.pairwise(chain):
        assert after["prev_hash"] == before["hash"]
    submit = next(r for r in chain if r["action"] == "submit")
    assert submit["files"][0]["sha256"] == submitted.evidence.get().sha256


def test_a_download_is_a_system_event_naming_who_and_what(
    client: Client, auditor: Any, submitted: Submission
) -> None:
    body_of(as_(client, auditor).get(CSV, {"agency": "dinkes", "action": "submit"}))
    event = TrailEvent.objects.get(stream__name="system", action="trail_export")
    assert (event.actor_name, event.role, event.submission_id) == ("inspektorat", "auditor", None)
    assert event.data == {"format": "csv", "filters": {"agency": "dinkes", "action": "submit"}}
    page = body_of(client.get(TRAIL, {"action": "trail_export"}))
    assert "Jejak diunduh" in page and "inspektorat" in page


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(
    client: Client, auditor: Any, people: dict[str, Any], submitted: Submission
) -> None:
    submission_act(
        user=people["verifier"],
        submission_id=submitted.pk,
        action="return",
        note='=HYPERLINK("http://jahat.example","klik")',
    )
    text = body_of(as_(client, auditor).get(CSV))
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    returned = next(r for r in rows if r["Ke status"] == "Dikembalikan untuk perbaikan")
    assert returned["Catatan"] == '\'=HYPERLINK("http://jahat.example","klik")'
    jsonl = body_of(client.get(JSONL, {"action": "return"}))
    assert json.loads(jsonl)["note"].startswith("=HYPERLINK")  # JSON Lines stays exact


# --- chain status ---------------------------------------------------------------------------------


def test_auditor_sees_hashes_and_an_intact_chain_on_the_submission_page(
    client: Client, auditor: Any, submitted: Submission
) -> None:
    events = list(TrailEvent.objects.filter(submission=submitted).order_by("seq"))
    page = body_of(as_(client, auditor).get(reverse("submission-detail", args=[submitted.pk])))
    assert f"Rantai jejak {label(submitted.stream)} utuh ({len(events)} peristiwa)" in page
    for event in events:
        assert f'title="{event.hash}">{event.hash[:12]}…</code>' in page
        assert f'title="{event.prev_hash}"' in page
    assert "rusak" not in page


@pytest.mark.parametrize("who", ["verifier", "consolidator"])
def test_reviewers_see_the_chain_on_the_submission_page(
    client: Client, people: dict[str, Any], submitted: Submission, who: str
) -> None:
    page = body_of(as_(client, people[who]).get(reverse("submission-detail", args=[submitted.pk])))
    assert f"Rantai jejak {label(submitted.stream)} utuh" in page


def test_operators_timeline_has_no_hashes(
    client: Client, operator: Any, submitted: Submission
) -> None:
    page = body_of(as_(client, operator).get(reverse("submission-detail", args=[submitted.pk])))
    assert "Riwayat" in page
    assert "Rantai jejak" not in page and "ev-chain" not in page


@pytest.mark.postgres
def test_tampering_shows_broken_at_seq_n(
    client: Client, auditor: Any, submitted: Submission, elsewhere: Submission
) -> None:
    target = TrailEvent.objects.get(submission=submitted, seq=3)
    tamper("UPDATE workflows_trailevent SET note = 'palsu' WHERE id = %s", [target.pk])
    as_(client, auditor)
    page = body_of(client.get(reverse("submission-detail", args=[submitted.pk])))
    assert f"Rantai jejak {label(submitted.stream)} rusak pada peristiwa nomor urut 3." in page
    assert "content does not match its hash" in page
    assert "rantai rusak di sini" in page
    trail = body_of(client.get(TRAIL))
    assert f"Rantai jejak {label(submitted.stream)} rusak pada peristiwa nomor urut 3." in trail
    assert f"Rantai jejak {label(elsewhere.stream)} rusak" not in trail  # only the broken one
    other = body_of(client.get(reverse("submission-detail", args=[elsewhere.pk])))
    assert f"Rantai jejak {label(elsewhere.stream)} utuh" in other


@pytest.mark.postgres
def test_a_removed_last_event_shows_broken(
    client: Client, auditor: Any, submitted: Submission
) -> None:
    last = TrailEvent.objects.filter(submission=submitted).order_by("seq").last()
    assert last is not None
    tamper("DELETE FROM workflows_trailevent WHERE id = %s", [last.pk])
    page = body_of(as_(client, auditor).get(reverse("submission-detail", args=[submitted.pk])))
    assert f"rusak pada peristiwa nomor urut {last.seq}." in page
