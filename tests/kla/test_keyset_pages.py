"""Every list a page at a time, at the same cost whatever the number of rows.

The trail page (``/jejak/``) goes by key on ``(at, id)``, newest first, with "Lebih baru" and
"Lebih lama" links carrying an opaque cursor; a bad cursor is a 400 that lists nothing; it
never counts the trail, and its action filter offers the known actions without reading the
events. The submissions, "Tugas saya" and their API count at most ``COUNT_CAP`` rows (the
API's ``count`` is null beyond), 50 rows a page, and cost the same number of queries for 5
rows as for 60.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kla.listing import BoundedPaginator, Cursor
from kla.web.views import trail as trail_views
from tests import factories as f
from workflows.services import submission_act
from workflows.trail.append import trail_append

pytestmark = pytest.mark.django_db

TRAIL = reverse("trail-list")
ACTION = "body_change"  # a known action nothing else in these tests writes
LINK = r'href="\?([^"]*kursor=[\w-]+)">(?:&larr; )?{}'


def _append(n: int, *, at: dt.datetime | None = None, start: int = 0) -> None:
    with transaction.atomic():
        for i in range(start, start + n):
            if at is None:
                trail_append(stream="system", action=ACTION, actor=None, note=f"catatan-{i:03d}")
                continue
            with mock.patch("django.utils.timezone.now", return_value=at):
                trail_append(stream="system", action=ACTION, actor=None, note=f"catatan-{i:03d}")


def _page(client: Client, query: str = "") -> tuple[int, str]:
    response = client.get(f"{TRAIL}?action={ACTION}{'&' + query if query else ''}")
    return response.status_code, response.content.decode()


def _link(page: str, label: str) -> str:
    found = re.search(LINK.format(label), page)
    assert found, f"no {label} link"
    return found.group(1).replace("&amp;", "&").removeprefix(f"action={ACTION}&")


def _notes(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"catatan-(\d{3})\b", page)]


# --- the trail page, by key -----------------------------------------------------------------------


def test_the_trail_goes_older_and_newer_by_cursor_50_rows_a_page(
    client: Client, auditor: User
) -> None:
    _append(120)
    client.force_login(auditor)
    status, first = _page(client)
    assert status == 200
    assert _notes(first) == list(range(119, 69, -1))
    assert "Lebih baru" not in first and "Halaman pertama" not in first
    assert "peristiwa di halaman ini" in first and " dari " not in first  # no count
    status, second = _page(client, _link(first, "Lebih lama"))
    assert status == 200 and _notes(second) == list(range(69, 19, -1))
    status, third = _page(client, _link(second, "Lebih lama"))
    assert _notes(third) == list(range(19, -1, -1))
    assert "Lebih lama" not in third and "Halaman pertama" in third
    status, back = _page(client, _link(third, "Lebih baru"))
    assert _notes(back) == list(range(69, 19, -1))
    status, top = _page(client, _link(back, "Lebih baru"))
    assert _notes(top) == list(range(119, 69, -1))
    assert "Lebih baru" not in top  # back at the newest: nothing newer


def test_equal_times_are_told_apart_by_the_id_at_the_page_boundary(
    client: Client, auditor: User
) -> None:
    same = dt.datetime(2025, 3, 17, 7, 0, tzinfo=dt.UTC)
    _append(30, at=same - dt.timedelta(seconds=1))
    _append(40, at=same, start=30)  # rows 20..69 fill page one; 30..49 share its last time
    client.force_login(auditor)
    _status, first = _page(client)
    assert _notes(first) == list(range(69, 19, -1))
    _status, second = _page(client, _link(first, "Lebih lama"))
    assert _notes(second) == list(range(19, -1, -1))
    _status, back = _page(client, _link(second, "Lebih baru"))
    assert _notes(back) == list(range(69, 19, -1))


def test_oldest_first_goes_by_key_too(client: Client, auditor: User) -> None:
    _append(60)
    client.force_login(auditor)
    _status, first = _page(client, "ordering=at")
    assert _notes(first) == list(range(50))
    assert "Lebih lama" not in first
    _status, second = _page(client, f"ordering=at&{_link(first, 'Lebih baru')}")
    assert _notes(second) == list(range(50, 60))
    _status, back = _page(client, f"ordering=at&{_link(second, 'Lebih lama')}")
    assert _notes(back) == list(range(50))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!!",
        "a" * 201,
        _b64("o|2025-03-17T07:00:00+00:00"),
        _b64("x|2025-03-17T07:00:00+00:00|5"),
        _b64("o|2025-03-17T07:00:00|5"),  # no offset
        _b64("o|kemarin|5"),
        _b64("o|2025-03-17T07:00:00+00:00|-5"),
        _b64("o|2025-03-17T07:00:00+00:00|0"),
        _b64("o|2025-03-17T07:00:00+00:00|99999999999999999999"),
        _b64("o|2025-03-17T07:00:00+00:00| 5"),
        _b64("o|0001-01-01T00:00:00+14:00|5"),  # before the first day in UTC
        _b64("n|9999-12-31T23:59:59-14:00|5"),  # after the last
        base64.urlsafe_b64encode(b"\xff\xfe|").decode(),
    ],
)
def test_a_bad_cursor_is_400_with_a_clear_message_and_lists_nothing(
    client: Client, auditor: User, cursor: str
) -> None:
    _append(3)
    client.force_login(auditor)
    status, page = _page(client, f"kursor={cursor}")
    assert status == 400
    assert "Penanda halaman tidak valid" in page and "halaman pertama" in page
    assert _notes(page) == [] and "peristiwa di halaman ini" not in page


def test_a_cursor_round_trips_and_refuses_what_it_did_not_make() -> None:
    at = dt.datetime(2025, 3, 17, 7, 0, 0, 123456, tzinfo=dt.UTC)
    cursor = Cursor(newer=False, at=at, pk=42)
    assert Cursor.decode(cursor.encode()) == cursor
    wib = Cursor(newer=True, at=at.astimezone(dt.timezone(dt.timedelta(hours=7))), pk=42)
    assert Cursor.decode(wib.encode()).at == at
    with pytest.raises(ValueError):
        Cursor.decode(cursor.encode() + "!")


def test_an_old_page_number_shows_the_first_page(client: Client, auditor: User) -> None:
    _append(3)
    client.force_login(auditor)
    status, page = _page(client, "halaman=7")
    assert status == 200 and _notes(page) == [2, 1, 0]


def test_the_action_filter_offers_the_known_actions_without_reading_the_events(
    client: Client, auditor: User, verifier: User
) -> None:
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(TRAIL).content.decode()
    assert f'value="{ACTION}"' in page  # offered though no such event exists yet
    assert not [q for q in ctx.captured_queries if "DISTINCT" in q["sql"].upper()]
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counts if "workflows_trailevent" in sql]
    client.force_login(verifier)
    page = client.get(TRAIL).content.decode()
    assert 'value="submit"' in page and f'value="{ACTION}"' not in page  # not their streams
    assert client.get(TRAIL, {"action": ACTION}).status_code == 400


def test_a_long_stream_is_left_to_verify_trail(
    client: Client, auditor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(5)
    monkeypatch.setattr(trail_views, "CHAIN_WALK_MAX", 3)
    client.force_login(auditor)
    _status, page = _page(client)
    assert "tidak diperiksa ulang di sini" in page and "verify_trail" in page
    assert _notes(page) == [4, 3, 2, 1, 0]


def test_the_trail_page_costs_the_same_queries_for_5_rows_as_for_60(
    client: Client, auditor: User
) -> None:
    _append(5)
    client.force_login(auditor)
    client.get(TRAIL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(TRAIL).status_code == 200
    _append(60, start=5)
    with CaptureQueriesContext(connection) as many:
        page = client.get(TRAIL)
    assert page.status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    assert len(page.content) < 512 * 1024


# --- submissions and tasks: bounded counts --------------------------------------------------------


def _submitted(operator: User, n: int) -> None:
    for _ in range(n):
        draft = f.make_draft(operator)
        submission_act(user=operator, submission_id=draft.pk, action="submit")


def _queries(client: Any, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


LISTS = [
    reverse("submission-list"),
    reverse("tasks"),
    "/api/v1/submissions/",
    "/api/v1/tasks/",
]


def test_lists_cost_the_same_queries_for_5_rows_as_for_60_and_show_50(
    client: Client, api: Any, people: dict[str, Any]
) -> None:
    operator, verifier = people["operator"], people["verifier"]
    _submitted(operator, 5)
    client.force_login(verifier)
    token = api.as_(verifier)
    few = {}
    for url in LISTS:
        caller = token if url.startswith("/api/") else client
        caller.get(url)
        few[url] = _queries(caller, url)[0]
    _submitted(operator, 55)
    for url in LISTS:
        caller = token if url.startswith("/api/") else client
        many, response = _queries(caller, url)
        assert many == few[url], url
        assert len(response.content) < 512 * 1024, url
        if url.startswith("/api/"):
            body = response.json()
            assert body["count"] == 60 and len(body["results"]) == 50 and body["next"]
    body = token.get("/api/v1/submissions/", {"page_size": 500}).json()
    assert len(body["results"]) == 50  # no way to ask for more


def test_past_the_cap_the_count_is_not_known(
    client: Client, api: Any, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BoundedPaginator, "cap", 3)
    operator, verifier = people["operator"], people["verifier"]
    _submitted(operator, 5)
    body = api.as_(verifier).get("/api/v1/submissions/").json()
    assert body["count"] is None and len(body["results"]) == 5 and body["next"] is None
    client.force_login(verifier)
    page = client.get(reverse("submission-list")).content.decode()
    assert "Lebih dari 3 pengajuan" in page
    body = api.as_(verifier).get("/api/v1/submissions/", {"page": 9}).json()
    assert body["count"] is None and body["results"] == [] and body["previous"]
    assert client.get(reverse("submission-list"), {"halaman": "9"}).status_code == 200
    huge = str(10**20)
    assert client.get(reverse("submission-list"), {"halaman": huge}).status_code == 200
    assert api.as_(verifier).get("/api/v1/submissions/", {"page": huge}).status_code == 404
    submission = f.make_draft(operator)
    trail = api.as_(operator).get(f"/api/v1/submissions/{submission.pk}/trail/").json()
    assert trail["count"] == len(trail["results"]) > 0  # exact while it is small


def test_a_bounded_page_knows_its_neighbours(
    client: Client, people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BoundedPaginator, "cap", 1)
    operator = people["operator"]
    _submitted(operator, 3)
    from kla.models import Submission

    paginator = BoundedPaginator(Submission.objects.order_by("pk"), 2)
    first = paginator.get_page("1")
    assert not paginator.exact and first.has_next() and not first.has_previous()
    assert (first.start_index(), first.end_index()) == (1, 2)
    second = paginator.get_page(2)
    assert not second.has_next() and second.has_previous() and len(second) == 1
    assert paginator.get_page("abc").number == 1 and paginator.get_page("-3").number == 1
    assert len(paginator.get_page(50)) == 0
