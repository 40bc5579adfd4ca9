"""Sessions that end when idle and after a while in any case, a form's text kept across the
new sign-in for the same person only, private responses never stored, long passwords."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kla.models import Submission
from kla.web import sessions
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "kata-sandi-panjang-2025"


class Clock:
    def __init__(self, monkeypatch: Any) -> None:
        self.now = 1_800_000_000
        monkeypatch.setattr(sessions, "_now", lambda: self.now)

    def forward(self, minutes: float) -> None:
        self.now += int(minutes * 60)


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    return Clock(monkeypatch)


def signed_in(client: Client, user: User) -> Client:
    user.set_password(PASSWORD)
    user.save()
    response = client.post(
        reverse("login"), {"username": user.get_username(), "password": PASSWORD}
    )
    assert response.status_code == 302, response.content
    return client


def test_a_session_ends_after_the_idle_time_and_says_so(
    client: Client, verifier: User, clock: Clock
) -> None:
    signed_in(client, verifier)
    clock.forward(settings.SESSION_IDLE_MINUTES - 1)
    assert client.get(reverse("tasks")).status_code == 200
    clock.forward(settings.SESSION_IDLE_MINUTES - 1)  # each request moves the idle time on
    assert client.get(reverse("tasks")).status_code == 200
    clock.forward(settings.SESSION_IDLE_MINUTES + 1)
    response = client.get(reverse("tasks"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=%2Ftugas%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Sesi Anda berakhir" in page
    # Signed out for good: the old session no longer opens anything.
    assert client.get(reverse("tasks")).status_code == 302


def test_a_session_ends_after_its_absolute_time_however_busy(
    client: Client, verifier: User, clock: Clock
) -> None:
    signed_in(client, verifier)
    for _ in range(settings.SESSION_MAX_HOURS * 60 // 20):
        clock.forward(20)
        assert client.get(reverse("tasks")).status_code == 200
    clock.forward(21)
    assert client.get(reverse("tasks")).status_code == 302
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_MAX_HOURS * 3600
    assert settings.SESSION_IDLE_MINUTES >= 30 and settings.SESSION_COOKIE_HTTPONLY


def _return_form(submission: Submission) -> dict[str, str]:
    return {"action": "return", "note": "Lampiran SK belum ditandatangani", "version": "1"}


def test_a_form_sent_after_the_session_ended_is_offered_again_after_signing_in(
    client: Client, verifier: User, submitted: Submission, clock: Clock
) -> None:
    signed_in(client, verifier)
    clock.forward(settings.SESSION_IDLE_MINUTES + 5)
    action = reverse("submission-action", args=[submitted.pk])
    form = {**_return_form(submitted), "version": str(submitted.version)}
    response = client.post(action, form)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=%2Fsesi%2Flanjut%2F"
    submitted.refresh_from_db()
    assert submitted.state == "submitted"  # nothing was done by the stale session
    after = client.post(
        response["Location"], {"username": verifier.get_username(), "password": PASSWORD}
    )
    assert after["Location"] == reverse("session-resume")
    page = client.get(after["Location"]).content.decode()
    assert "Lampiran SK belum ditandatangani" in page
    assert f'action="{action}"' in page
    # Sending it again does what the person meant to do.
    client.post(action, form)
    submitted.refresh_from_db()
    assert submitted.state == "returned"
    # Offered once.
    assert client.get(reverse("session-resume"))["Location"] == reverse("tasks")


def test_another_person_signing_in_never_sees_the_kept_form(
    client: Client, verifier: User, verifier2: User, submitted: Submission, clock: Clock
) -> None:
    signed_in(client, verifier)
    clock.forward(settings.SESSION_IDLE_MINUTES + 5)
    client.post(reverse("submission-action", args=[submitted.pk]), _return_form(submitted))
    signed_in(client, verifier2)
    response = client.get(reverse("session-resume"))
    assert response.status_code == 302 and response["Location"] == reverse("tasks")


def test_an_htmx_request_of_an_ended_session_is_sent_to_the_login(
    client: Client, verifier: User, clock: Clock
) -> None:
    signed_in(client, verifier)
    clock.forward(settings.SESSION_IDLE_MINUTES + 1)
    response = client.get(reverse("notifications"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_private_pages_api_answers_and_downloads_are_never_stored(
    client: Client, api: Any, operator: User, draft: Submission
) -> None:
    client.force_login(operator)
    evidence = draft.evidence.get()
    for url in (
        reverse("tasks"),
        reverse("submission-detail", args=[draft.pk]),
        reverse("evidence-download", args=[draft.pk, evidence.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    answer = api.as_(operator).get(f"/api/v1/submissions/{draft.pk}/")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    assert "no-store" in Client().get(reverse("login"))["Cache-Control"]


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("Pendek-2025", True),  # 11 characters
        ("playstation3", True),  # 12, but one of the common ones
        ("sungai-way-kanan", False),
    ],
)
def test_a_password_has_twelve_characters_and_is_not_a_common_one(
    operator: User, password: str, refused: bool
) -> None:
    form = SetPasswordForm(operator, {"new_password1": password, "new_password2": password})
    assert form.is_valid() is not refused, form.errors


def test_the_factories_user_can_still_sign_in(client: Client, db: Any) -> None:
    person = f.UserFactory(username="op-baru")
    assert signed_in(client, person).get(reverse("tasks")).status_code == 200
