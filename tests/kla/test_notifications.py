"""Notifications in the app: the bell, /notifikasi/, opening one, marking read (pages and API)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests import factories as f
from workflows.models import Notification
from workflows.notifications.inbox import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_unread_count,
)
from workflows.services import submission_act

from .world import logged_in

pytestmark = pytest.mark.django_db


def api_of(user: User) -> Any:

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(user)}")
    return client


@pytest.fixture
def told(operator: User, verifier: User, verifier2: User) -> Any:
    """Two submissions submitted: each verifier is told twice (newest last)."""
    first = f.make_draft(operator, title="Perwali pertama")
    submission_act(user=operator, submission_id=first.pk, action="submit")
    second = f.make_draft(operator, title="Perwali kedua")
    submission_act(user=operator, submission_id=second.pk, action="submit")
    mine = list(Notification.objects.filter(user=verifier).order_by("created_at", "id"))
    theirs = Notification.objects.filter(user=verifier2).first()
    assert len(mine) == 2 and theirs is not None
    return {"mine": mine, "theirs": theirs, "submissions": (first, second)}


def notification_queries(queries: Any) -> int:
    return sum(1 for q in queries if "workflows_notification" in q["sql"])


class TestServices:
    def test_marking_read_keeps_the_first_time(self, told: Any, verifier: User) -> None:
        n = told["mine"][0]
        first = notification_mark_read(user=verifier, notification_id=n.pk).read_at
        assert first is not None
        assert notification_mark_read(user=verifier, notification_id=n.pk).read_at == first
        assert notifications_unread_count(user=verifier) == 1

    def test_someone_elses_notification_is_not_visible(self, told: Any, verifier: User) -> None:
        from kla.errors import NotVisible

        with pytest.raises(NotVisible):
            notification_mark_read(user=verifier, notification_id=told["theirs"].pk)
        told["theirs"].refresh_from_db()
        assert told["theirs"].read_at is None

    def test_mark_all_read_touches_only_the_persons_own(
        self, told: Any, verifier: User, verifier2: User
    ) -> None:
        assert notifications_mark_all_read(user=verifier) == 2
        assert notifications_mark_all_read(user=verifier) == 0
        assert notifications_unread_count(user=verifier) == 0
        assert notifications_unread_count(user=verifier2) == 2


class TestBell:
    def test_the_bell_shows_the_unread_count_on_every_page(self, told: Any, verifier: User) -> None:
        client = logged_in(verifier)
        for url in ("/tugas/", "/pengajuan/", "/notifikasi/"):
            page = client.get(url).content.decode()
            assert 'class="bell has-unread" href="/notifikasi/"' in page, url
            assert '<span class="bell-count"' in page and ">2</span>" in page

    def test_no_count_when_everything_is_read(self, told: Any, verifier: User) -> None:
        notifications_mark_all_read(user=verifier)
        page = logged_in(verifier).get("/tugas/").content.decode()
        assert 'class="bell" href="/notifikasi/"' in page
        assert "bell-count" not in page

    def test_the_bell_costs_one_query(self, told: Any, verifier: User) -> None:
        client = logged_in(verifier)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/tugas/").status_code == 200
        assert notification_queries(ctx.captured_queries) == 1

    def test_anonymous_visitors_get_no_bell_and_no_query(self, told: Any) -> None:
        with CaptureQueriesContext(connection) as ctx:
            page = Client().get("/masuk/")
        assert page.status_code == 200
        assert 'class="bell' not in page.content.decode()
        assert notification_queries(ctx.captured_queries) == 0


class TestPages:
    def test_the_list_shows_the_persons_own_newest_first_in_wib(
        self, told: Any, verifier: User
    ) -> None:
        page = logged_in(verifier).get("/notifikasi/").content.decode()
        second, first = told["submissions"][1], told["submissions"][0]
        newest, oldest = f"#{second.pk} Perwali kedua", f"#{first.pk} Perwali pertama"
        assert page.index(newest) < page.index(oldest)
        assert f'href="/notifikasi/{told["mine"][0].pk}/"' in page
        assert f'href="/notifikasi/{told["theirs"].pk}/"' not in page
        assert " WIB" in page
        assert "Tandai semua sudah dibaca" in page

    def test_opening_one_marks_it_read_and_goes_to_its_submission(
        self, told: Any, verifier: User
    ) -> None:
        n = told["mine"][0]
        response = logged_in(verifier).get(f"/notifikasi/{n.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"/pengajuan/{n.submission_id}/"
        n.refresh_from_db()
        assert n.read_at is not None
        page = logged_in(verifier).get("/notifikasi/").content.decode()
        assert '<li class="read">' in page and '<li class="unread">' in page

    def test_one_without_a_submission_goes_back_to_the_list(self, outsider: User) -> None:
        n = Notification.objects.create(user=outsider, kind="reminder", title="Pengingat")
        response = logged_in(outsider).get(f"/notifikasi/{n.pk}/")
        assert (response.status_code, response["Location"]) == (302, "/notifikasi/")

    def test_someone_elses_notification_is_404_and_stays_unread(
        self, told: Any, verifier: User
    ) -> None:
        theirs = told["theirs"]
        client = logged_in(verifier)
        assert client.get(f"/notifikasi/{theirs.pk}/").status_code == 404
        assert client.get("/notifikasi/999999/").status_code == 404
        assert client.get(f"/notifikasi/{2**70}/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_mark_all_read_is_a_post_for_the_persons_own(
        self, told: Any, verifier: User, verifier2: User
    ) -> None:
        client = logged_in(verifier)
        assert client.get("/notifikasi/baca-semua/").status_code == 405
        response = client.post("/notifikasi/baca-semua/")
        assert (response.status_code, response["Location"]) == (302, "/notifikasi/")
        assert notifications_unread_count(user=verifier) == 0
        assert notifications_unread_count(user=verifier2) == 2

    def test_someone_with_no_notifications_sees_an_empty_list(self, outsider: User) -> None:
        page = logged_in(outsider).get("/notifikasi/").content.decode()
        assert "Belum ada notifikasi." in page
        assert "Tandai semua sudah dibaca" not in page

    @pytest.mark.parametrize("url", ["/notifikasi/", "/notifikasi/1/"])
    def test_anonymous_visitors_are_sent_to_the_login(self, url: str) -> None:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/masuk/")

    def test_anonymous_mark_all_goes_to_the_login_and_changes_nothing(self, told: Any) -> None:
        response = Client().post("/notifikasi/baca-semua/")
        assert response.status_code == 302
        assert Notification.objects.filter(read_at__isnull=False).count() == 0


class TestAPI:
    def test_marking_one_read_returns_it_with_read_at(self, told: Any, verifier: User) -> None:
        n = told["mine"][0]
        response = api_of(verifier).post(f"/api/v1/notifications/{n.pk}/read/")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == n.pk and body["read_at"].endswith("+07:00")
        listed = api_of(verifier).get("/api/v1/notifications/").json()["results"]
        assert [x["read_at"] is not None for x in listed] == [False, True]  # newest first

    @pytest.mark.parametrize("bad", ["abc", "0", "-1", str(2**70), "1.5"])
    def test_ids_that_name_nothing_are_404(self, told: Any, verifier: User, bad: Any) -> None:
        assert api_of(verifier).post(f"/api/v1/notifications/{bad}/read/").status_code == 404

    def test_someone_elses_id_is_404_and_stays_unread(self, told: Any, verifier: User) -> None:
        theirs = told["theirs"]
        response = api_of(verifier).post(f"/api/v1/notifications/{theirs.pk}/read/")
        assert response.status_code == 404 and "detail" in response.json()
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_mark_all_read_marks_only_the_callers(
        self, told: Any, verifier: User, verifier2: User
    ) -> None:
        response = api_of(verifier).post("/api/v1/notifications/read/")
        assert (response.status_code, response.json()) == (200, {"marked": 2})
        assert notifications_unread_count(user=verifier2) == 2

    def test_reading_is_a_post_get_is_405(self, told: Any, verifier: User) -> None:
        n = told["mine"][0]
        assert api_of(verifier).get(f"/api/v1/notifications/{n.pk}/read/").status_code == 405

    def test_anonymous_callers_get_401(self, told: Any) -> None:
        n = told["mine"][0]
        assert APIClient().post(f"/api/v1/notifications/{n.pk}/read/").status_code == 401
        assert APIClient().post("/api/v1/notifications/read/").status_code == 401
        n.refresh_from_db()
        assert n.read_at is None
