"""Brute force (DESIGN, Interfaces: OWASP ASVS level 2).

A lock starts after at most 10 failures in a row for an account or from an address; further
attempts, the right password included, are refused with 429 for up to 15 minutes, the lock
growing with the failures (1, 2, 4, 8, then 15 minutes); only failures count, a success
forgets them, and successes are never throttled. Alike on the page, the admin and the API's
token endpoint (django-axes, ``kla.web.lockout``). Password reset: at most 3 requests per
address and 10 per client address in 15 minutes, the same answer for unknown addresses, and
still working when the cache is down (``kla.web.views.password``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

import axes.attempts
import axes.handlers.proxy
import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from kla.web import lockout
from kla.web.views import password as reset_view
from tests import factories as f

PASSWORD = f.PASSWORD
WRONG = "bukan-sandinya"
HERE = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
LIMIT = 10

# Where each sign-in posts, and what it answers: a success, a wrong password.
SIGNINS: dict[str, tuple[str, int, int]] = {
    "page": ("/masuk/", 302, 200),
    "admin": ("/admin/login/", 302, 200),
    "api": ("/api/v1/auth/token/", 200, 400),
}


class Clock:
    """``timezone.now`` as the test says: axes reads it, also under the name it imported."""

    def __init__(self) -> None:
        self.at = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(timezone, "now", moved)
    monkeypatch.setattr(axes.handlers.proxy, "now", moved)
    monkeypatch.setattr(axes.attempts, "now", moved)
    return moved


@pytest.fixture(autouse=True)
def _own_cache(settings: Any, tmp_path: Any) -> None:
    """A file cache of the test's own (Redis, where the lane has it, stays the shared one)."""
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }


@pytest.fixture
def kadis(db: Any) -> Any:
    """The account under attack; staff, so the admin lets it in too."""
    user = f.UserFactory(username="kadis", email="kadis@example.test")
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def colleague(db: Any) -> Any:
    user = f.UserFactory(username="kabid", email="kabid@example.test")
    user.is_staff = True
    user.save()
    return user


Attempt = Callable[..., Any]


@pytest.fixture(params=sorted(SIGNINS))
def signin(request: pytest.FixtureRequest) -> Attempt:
    """``signin(username, password, ip=HERE)``: one attempt on this sign-in, a fresh client."""
    kind = request.param
    path = SIGNINS[kind][0]

    def attempt(username: str, password: str, ip: str = HERE, **extra: Any) -> Any:
        if kind == "api":
            api = APIClient(REMOTE_ADDR=ip)
            return api.post(
                path, {"username": username, "password": password}, format="json", **extra
            )
        return Client(REMOTE_ADDR=ip).post(
            path, {"username": username, "password": password}, **extra
        )

    attempt.kind = kind  # type: ignore[attr-defined]
    return attempt


def succeeded(signin: Attempt, response: Any) -> bool:
    return bool(response.status_code == SIGNINS[signin.kind][1])  # type: ignore[attr-defined]


def failed(signin: Attempt, response: Any) -> bool:
    return bool(response.status_code == SIGNINS[signin.kind][2])  # type: ignore[attr-defined]


def fail(signin: Attempt, times: int, username: str = "kadis", ip: str = HERE) -> list[Any]:
    return [signin(username, WRONG, ip) for _ in range(times)]


def locked(response: Any) -> bool:
    return bool(response.status_code == 429)


def retry_after(response: Any) -> int:
    return int(response["Retry-After"])


# The lock


@pytest.mark.django_db
def test_ten_failures_lock_the_account_the_right_password_included(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    answers = fail(signin, LIMIT - 1)
    assert all(failed(signin, r) for r in answers)
    tenth = signin("kadis", WRONG)
    assert locked(tenth)
    assert retry_after(tenth) == 60
    assert locked(signin("kadis", PASSWORD))
    clock.move(seconds=59)
    assert locked(signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_the_lock_is_per_account_from_another_address_too(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    fail(signin, LIMIT)
    assert locked(signin("kadis", PASSWORD, ip=ELSEWHERE))


@pytest.mark.django_db
def test_the_lock_is_per_address_for_another_account_too(
    signin: Attempt, kadis: Any, colleague: Any, clock: Clock
) -> None:
    # Guessing across accounts: one failure each, every one from the same address.
    for n in range(LIMIT):
        signin(f"tebakan{n}", WRONG)
    assert locked(signin("kabid", PASSWORD))
    assert succeeded(signin, signin("kabid", PASSWORD, ip=ELSEWHERE))


@pytest.mark.django_db
def test_after_the_lock_the_right_password_works(signin: Attempt, kadis: Any, clock: Clock) -> None:
    fail(signin, LIMIT)
    assert locked(signin("kadis", PASSWORD))
    clock.move(minutes=1)
    assert succeeded(signin, signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_the_lock_grows_with_the_failures_and_stops_at_15_minutes(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    answer = fail(signin, LIMIT)[-1]
    seen = []
    for _ in range(6):
        seen.append(retry_after(answer))
        clock.move(seconds=retry_after(answer) - 1)
        assert locked(signin("kadis", PASSWORD)), "still locked a second before the end"
        clock.move(seconds=1)
        answer = signin("kadis", WRONG)  # the first failure after the lock: a longer one
        assert locked(answer)
    assert seen == [60, 120, 240, 480, 900, 900]
    clock.move(minutes=15)
    assert succeeded(signin, signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_attempts_during_a_lock_neither_count_nor_lengthen_it(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    fail(signin, 40)  # 30 of them refused while the first lock held
    clock.move(seconds=30)
    refused = signin("kadis", WRONG)
    assert locked(refused)
    assert retry_after(refused) == 30
    clock.move(seconds=30)
    assert succeeded(signin, signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_forty_failures_never_lock_longer_than_15_minutes(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    waits = [retry_after(fail(signin, LIMIT)[-1])]
    for _ in range(40 - LIMIT):
        clock.move(seconds=waits[-1])
        answer = signin("kadis", WRONG)
        assert locked(answer)
        waits.append(retry_after(answer))
    counted = AccessAttempt.objects.filter(username="kadis").aggregate(
        n=Sum("failures_since_start")
    )
    assert counted["n"] == 40
    assert max(waits) == 15 * 60
    clock.move(seconds=15 * 60 - 1)
    assert locked(signin("kadis", PASSWORD))
    clock.move(seconds=1)
    assert succeeded(signin, signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_a_success_forgets_the_failures(signin: Attempt, kadis: Any, clock: Clock) -> None:
    fail(signin, LIMIT - 1)
    assert succeeded(signin, signin("kadis", PASSWORD))
    assert all(failed(signin, r) for r in fail(signin, LIMIT - 1))
    assert succeeded(signin, signin("kadis", PASSWORD))


@pytest.mark.django_db
def test_another_accounts_success_does_not_forget_the_guessed_accounts_failures(
    signin: Attempt, kadis: Any, colleague: Any, clock: Clock
) -> None:
    fail(signin, LIMIT - 1, ip=ELSEWHERE)
    assert succeeded(signin, signin("kabid", PASSWORD, ip=ELSEWHERE))
    assert locked(signin("kadis", WRONG, ip=ELSEWHERE))


@pytest.mark.django_db
def test_fifty_successes_in_a_row_are_never_throttled(
    signin: Attempt, kadis: Any, clock: Clock
) -> None:
    for _ in range(50):
        assert succeeded(signin, signin("kadis", PASSWORD))
        AuthToken.objects.filter(user=kadis).delete()  # the API's limit of tokens aside


# What a lock answers


@pytest.mark.django_db
def test_the_locked_page_is_indonesian_and_says_when(client: Client, kadis: Any) -> None:
    for _ in range(LIMIT):
        response = client.post("/masuk/", {"username": "kadis", "password": WRONG})
    assert response.status_code == 429
    assert "registration/locked.html" in [t.name for t in response.templates]
    text = response.content.decode()
    assert "Coba lagi dalam 1 menit, pukul" in text
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_api_answers_429_json_with_a_detail(kadis: Any) -> None:
    api = APIClient()
    for _ in range(LIMIT):
        response = api.post(
            "/api/v1/auth/token/", {"username": "kadis", "password": WRONG}, format="json"
        )
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Terlalu banyak percobaan masuk yang gagal.")
    assert response["Retry-After"] == "60"


def test_the_address_behind_proxies_is_read_from_the_right(settings: Any) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    settings.AXES_IPWARE_PROXY_COUNT = None
    assert lockout.client_ip(request) == "10.0.0.1"
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert lockout.client_ip(request) == "203.0.113.7"
    settings.AXES_IPWARE_PROXY_COUNT = 3  # fewer hops than proxies: not through them all
    assert lockout.client_ip(request) == "10.0.0.1"
    bad = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="bogus")
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert lockout.client_ip(bad) == "10.0.0.1"


# Password reset


def same_page(response: Any) -> str:
    """The page without what differs on every answer (the language switch's CSRF token)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def reset(address: str, ip: str = HERE) -> Any:
    return Client(REMOTE_ADDR=ip).post("/sandi/lupa/", {"email": address})


@pytest.mark.django_db
def test_three_resets_per_address_then_429_the_same_for_unknown_addresses(kadis: Any) -> None:
    known = [reset("kadis@example.test", ip=f"192.0.2.{n}") for n in range(4)]
    unknown = [reset("tidak-ada@example.test", ip=f"192.0.2.{n + 10}") for n in range(4)]
    assert [r.status_code for r in known] == [302, 302, 302, 429]
    assert [r.status_code for r in unknown] == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    assert same_page(known[3]) == same_page(unknown[3])
    assert 0 < int(known[3]["Retry-After"]) <= 15 * 60
    assert "Terlalu banyak permintaan atur ulang kata sandi." in known[3].content.decode()


@pytest.mark.django_db
def test_the_address_is_counted_whatever_its_case(kadis: Any) -> None:
    for n, address in enumerate(["kadis@example.test", "KADIS@example.test", "Kadis@Example.Test"]):
        assert reset(address, ip=f"192.0.2.{n}").status_code == 302
    assert reset("kadis@EXAMPLE.test", ip="192.0.2.99").status_code == 429


@pytest.mark.django_db
def test_ten_resets_per_client_address(kadis: Any) -> None:
    answers = [reset(f"orang{n}@example.test") for n in range(10)]
    assert {r.status_code for r in answers} == {302}
    refused = reset("kadis@example.test")
    assert refused.status_code == 429
    assert not mail.outbox
    assert reset("kadis@example.test", ip=ELSEWHERE).status_code == 302
    assert len(mail.outbox) == 1


class BrokenCache:
    """A cache whose server refuses the connection."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionRefusedError(111, "Connection refused")

        return refuse


@pytest.mark.django_db
def test_reset_works_unthrottled_and_logged_when_the_cache_is_down(
    kadis: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(reset_view, "cache", BrokenCache())
    with caplog.at_level(logging.ERROR, logger="kla.web.views.password"):
        answers = [reset("kadis@example.test") for _ in range(5)]
    assert [r.status_code for r in answers] == [302] * 5
    assert len(mail.outbox) == 5
    assert "cache cannot be reached" in caplog.text


@pytest.mark.django_db
def test_reset_works_when_redis_refuses(kadis: Any, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    assert reset("kadis@example.test").status_code == 302
    assert len(mail.outbox) == 1
    cache.close()
