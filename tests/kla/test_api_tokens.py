"""API tokens as OWASP ASVS level 2 asks: several per person, revoked by their owner, expiring
after hours without use, and all dying when the person's password changes, however."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework.test import APIClient

from kla.api.authentication import expired_token
from tests import factories as f

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens/"
TTL: dt.timedelta = knox_settings.TOKEN_TTL
NEW_PASSWORD = "sandi-baru-yang-panjang-9"


class QuickPBKDF2(PBKDF2PasswordHasher):
    """A cheap preferred hasher, so that signing in upgrades an MD5 hash."""

    iterations = 2


def sign_in(username: str, password: str = f.PASSWORD) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    """Whether the token signs in now (401 else; anything else is a failure)."""
    status = with_token(token).get(TOKENS).status_code
    assert status in (200, 401)
    return status == 200


def key(token: str) -> str:
    return token[:15]


def row(token: str) -> Any:
    return AuthToken.objects.get(token_key=key(token))


Clock = Callable[[dt.timedelta], dt.datetime]


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``later(delta)``: the clock set to ``delta`` after the test began; that moment."""
    start = timezone.now()

    def move(delta: dt.timedelta) -> dt.datetime:
        moment = start + delta
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return move


# Several per person


def test_two_tokens_of_one_person_both_work(operator: User) -> None:
    first, second = sign_in("op-dinkes"), sign_in("op-dinkes")
    assert first != second
    assert works(first) and works(second)
    assert AuthToken.objects.filter(user=operator).count() == 2


def test_the_list_shows_the_callers_live_tokens_and_which_is_current(
    operator: User, outsider: User
) -> None:
    first, second = sign_in("op-dinkes"), sign_in("op-dinkes")
    expired = f.api_token(operator)
    AuthToken.objects.filter(token_key=key(expired)).update(expiry=timezone.now())
    theirs = f.api_token(outsider)
    response = with_token(first).get(TOKENS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    listed = {item["id"]: item for item in body["results"]}
    assert set(listed) == {key(first), key(second)}
    assert key(theirs) not in listed and key(expired) not in listed
    assert listed[key(first)]["current"] is True
    assert listed[key(second)]["current"] is False
    for item in body["results"]:
        assert set(item) == {"id", "created", "expiry", "current"}
        assert first not in str(item) and row(first).digest not in str(item)
        assert dt.datetime.fromisoformat(item["expiry"]) > timezone.now()


def test_revoking_ones_own_token_ends_it_and_only_it(operator: User) -> None:
    first, second = sign_in("op-dinkes"), sign_in("op-dinkes")
    assert with_token(first).delete(f"{TOKENS}{key(second)}/").status_code == 204
    assert not works(second)
    assert works(first)
    assert list(AuthToken.objects.filter(user=operator).values_list("token_key", flat=True)) == [
        key(first)
    ]


def test_revoking_somebody_elses_or_an_unknown_token_is_404_and_changes_nothing(
    operator: User, outsider: User
) -> None:
    mine, theirs = f.api_token(outsider), f.api_token(operator)
    client = with_token(mine)
    assert client.delete(f"{TOKENS}{key(theirs)}/").status_code == 404
    assert client.delete(f"{TOKENS}0123456789abcde/").status_code == 404
    assert client.delete(f"{TOKENS}{theirs}/").status_code == 404
    assert works(theirs) and works(mine)
    assert AuthToken.objects.count() == 2


def test_logout_revokes_the_token_of_the_request(operator: User) -> None:
    first, second = sign_in("op-dinkes"), sign_in("op-dinkes")
    assert with_token(first).post("/api/v1/auth/logout/").status_code == 204
    assert not works(first)
    assert works(second)


def test_logout_all_revokes_every_token_of_the_caller_only(operator: User, outsider: User) -> None:
    first, second = sign_in("op-dinkes"), sign_in("op-dinkes")
    theirs = f.api_token(outsider)
    assert with_token(first).post("/api/v1/auth/logout-all/").status_code == 204
    assert not works(first) and not works(second)
    assert works(theirs)


def test_a_session_may_list_and_revoke_but_has_no_token_to_log_out(operator: User) -> None:
    token = f.api_token(operator)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator)
    listed = client.get(TOKENS).json()["results"]
    assert [(t["id"], t["current"]) for t in listed] == [(key(token), False)]
    csrf = {"X-CSRFToken": "x" * 32}
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    refused = client.post("/api/v1/auth/logout/", headers=csrf)
    assert refused.status_code == 400
    assert works(token)
    assert client.delete(f"{TOKENS}{key(token)}/", headers=csrf).status_code == 204
    assert not works(token)


def test_a_session_without_the_csrf_token_cannot_revoke(operator: User) -> None:
    token = f.api_token(operator)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.delete(f"{TOKENS}{key(token)}/").status_code == 403
    assert client.post("/api/v1/auth/logout-all/").status_code == 403
    assert works(token)


def test_anonymous_callers_get_401_with_the_token_challenge(db: Any) -> None:
    for method, path in [
        ("get", TOKENS),
        ("delete", f"{TOKENS}0123456789abcde/"),
        ("post", "/api/v1/auth/logout/"),
        ("post", "/api/v1/auth/logout-all/"),
    ]:
        response = getattr(APIClient(), method)(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"] == "Token"


def test_options_on_the_token_endpoints_never_fail(operator: User) -> None:
    client = with_token(f.api_token(operator))
    for path in (TOKENS, f"{TOKENS}x/", "/api/v1/auth/logout/", "/api/v1/auth/logout-all/"):
        assert client.options(path).status_code == 200, path


# The limit per person


def test_the_token_endpoint_answers_409_at_the_limit_until_one_is_revoked(
    settings: Any, operator: User
) -> None:
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    first = sign_in("op-dinkes")
    sign_in("op-dinkes")
    refused = APIClient().post(
        "/api/v1/auth/token/", {"username": "op-dinkes", "password": f.PASSWORD}, format="json"
    )
    assert refused.status_code == 409
    assert "token" not in refused.json()
    assert "2 token API" in refused.json()["detail"]
    assert AuthToken.objects.filter(user=operator).count() == 2
    assert with_token(first).post("/api/v1/auth/logout/").status_code == 204
    assert works(sign_in("op-dinkes"))


def test_expired_tokens_do_not_count_towards_the_limit(settings: Any, operator: User) -> None:
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 1}
    old = sign_in("op-dinkes")
    AuthToken.objects.filter(token_key=key(old)).update(expiry=timezone.now())
    assert works(sign_in("op-dinkes"))
    assert not AuthToken.objects.filter(token_key=key(old)).exists()


# Expiry after hours without use


def test_an_expired_token_gets_401_with_a_clear_indonesian_message(operator: User) -> None:
    token = f.api_token(operator)
    AuthToken.objects.filter(token_key=key(token)).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )
    response = with_token(token).get(TOKENS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": expired_token()}
    assert "kedaluwarsa" in response.json()["detail"]
    assert not AuthToken.objects.filter(token_key=key(token)).exists()


def test_a_token_unused_for_longer_than_the_ttl_gets_401(operator: User, later: Clock) -> None:
    token = f.api_token(operator)
    later(TTL + dt.timedelta(minutes=1))
    response = with_token(token).get(TOKENS)
    assert response.status_code == 401
    assert "kedaluwarsa" in response.json()["detail"]


def test_the_ttl_is_hours_not_minutes() -> None:
    assert dt.timedelta(hours=1) <= TTL
    assert settings.REST_KNOX["AUTO_REFRESH"] is True


def test_each_use_moves_the_expiry_on(operator: User, later: Clock) -> None:
    token = f.api_token(operator)
    issued = row(token).expiry
    now = later(TTL - dt.timedelta(hours=1))  # one hour before it would expire
    assert works(token)
    assert row(token).expiry == now + TTL
    assert row(token).expiry > issued
    later(TTL + dt.timedelta(hours=1))  # past the first expiry, not the moved one
    assert works(token)


def test_uses_close_together_do_not_write_the_expiry_each_time(
    operator: User, later: Clock
) -> None:
    token = f.api_token(operator)
    issued = row(token).expiry
    interval = dt.timedelta(seconds=knox_settings.MIN_REFRESH_INTERVAL)
    later(interval - dt.timedelta(seconds=5))
    with CaptureQueriesContext(connection) as queries:
        assert works(token)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert row(token).expiry == issued
    later(interval + dt.timedelta(seconds=5))
    with CaptureQueriesContext(connection) as queries:
        assert works(token)
    assert [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert row(token).expiry > issued


def test_a_use_drops_the_persons_other_expired_tokens(operator: User, later: Clock) -> None:
    token, stale = f.api_token(operator), f.api_token(operator)
    AuthToken.objects.filter(token_key=key(stale)).update(expiry=timezone.now())
    later(dt.timedelta(hours=1))
    assert works(token)
    assert not AuthToken.objects.filter(token_key=key(stale)).exists()


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token \u00e9\u00e9", "Token " + "f" * 64, "Token zz"]
)
def test_malformed_or_unknown_tokens_get_401(operator: User, header: str) -> None:
    f.api_token(operator)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(TOKENS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# Every token dies when the password changes, however it changes


def test_set_password_and_save_kills_every_token(operator: User, outsider: User) -> None:
    first, second, theirs = sign_in("op-dinkes"), f.api_token(operator), f.api_token(outsider)
    operator.set_password(NEW_PASSWORD)
    operator.save()
    assert not works(first) and not works(second)
    assert works(theirs)
    assert works(sign_in("op-dinkes", NEW_PASSWORD))


def test_saving_only_the_password_field_kills_every_token(operator: User) -> None:
    token = f.api_token(operator)
    operator.set_password(NEW_PASSWORD)
    operator.save(update_fields=["password"])
    assert not works(token)


def test_an_unusable_password_kills_every_token(operator: User) -> None:
    token = f.api_token(operator)
    operator.set_unusable_password()
    operator.save()
    assert not works(token)


def test_saving_the_person_without_a_new_password_keeps_the_tokens(operator: User) -> None:
    token = f.api_token(operator)
    operator.first_name = "Alice"
    operator.save()
    person = User.objects.get(pk=operator.pk)
    person.email = "alice@example.org"
    person.save()
    assert works(token)
    assert works(sign_in("op-dinkes"))  # signing in writes last_login only
    assert works(token)


def test_the_upgrade_of_a_hash_on_sign_in_keeps_the_tokens(settings: Any, operator: User) -> None:
    token = f.api_token(operator)
    assert operator.password.startswith("md5$")
    settings.PASSWORD_HASHERS = [
        "tests.kla.test_api_tokens.QuickPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert works(sign_in("op-dinkes"))
    operator.refresh_from_db()
    assert operator.password.startswith("pbkdf2_sha256$")
    assert works(token)
    operator.set_password(NEW_PASSWORD)  # a real change under the same hasher still counts
    operator.save()
    assert not works(token)


def test_the_password_reset_page_kills_every_token(client: Client, operator: User) -> None:
    token = f.api_token(operator)
    uid = urlsafe_base64_encode(force_bytes(operator.pk))
    link = reverse(
        "password_reset_confirm", args=[uid, default_token_generator.make_token(operator)]
    )
    form = client.get(link)
    assert form.status_code == 302  # to the same page without the token in its address
    done = client.post(
        form["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302, done.content
    assert done["Location"] == reverse("password_reset_complete")
    assert not works(token)


def test_the_admins_password_form_kills_every_token(
    client: Client, superuser: User, operator: User
) -> None:
    token, own = f.api_token(operator), f.api_token(superuser)
    client.force_login(superuser)
    response = client.post(
        f"/admin/auth/user/{operator.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD)
    assert not works(token)
    assert works(own)


# The admin


def test_the_admin_lists_tokens_read_only_and_deletes_them(
    client: Client, superuser: User, operator: User
) -> None:
    token = f.api_token(operator)
    client.force_login(superuser)
    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert key(token) in page and "op-dinkes" in page
    assert token not in page
    assert "Pemilik" in page and "Pengenal token" in page
    assert "Digest" not in page  # the digest is the row's key in links, never a column
    assert client.get("/admin/knox/authtoken/add/").status_code == 403
    delete = f"/admin/knox/authtoken/{row(token).pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not works(token)


def test_the_token_admin_is_for_administrators_only(
    client: Client, verifier: User, operator: User
) -> None:
    token = f.api_token(operator)
    verifier.is_staff = True
    verifier.save()
    client.force_login(verifier)
    assert client.get("/admin/knox/authtoken/").status_code == 403
    delete = f"/admin/knox/authtoken/{row(token).pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert works(token)
