"""``Idempotency-Key`` on every POST of the API: a client may retry safely after any error."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from kla.models import Submission
from tests import factories as f
from tests.concurrency import race
from workflows.models import TrailEvent

from .conftest import url

pytestmark = pytest.mark.django_db

NEW = {
    "category": "regulation",
    "title": "Perwali KTR",
    "years": [2025],
    "indicators": [17],
    "details": {"kind": "perwali", "number": "12", "enacted_on": "2025-02-01"},
}


def _post(client: Any, path: str, body: Any, key: str | None, **kwargs: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    kwargs.setdefault("format", "json")
    return client.post(path, body, **headers, **kwargs)


def test_the_same_key_and_body_answer_the_first_result_again(api: Any, operator: User) -> None:
    f.InstructionFactory()
    client = api.as_(operator)
    first = _post(client, url(), NEW, "buat-perwali-1")
    again = _post(client, url(), NEW, "buat-perwali-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotency-Replayed"] == "true"
    assert Submission.objects.count() == 1


def test_the_same_key_with_another_body_is_409_and_changes_nothing(
    api: Any, operator: User
) -> None:
    f.InstructionFactory()
    client = api.as_(operator)
    assert _post(client, url(), NEW, "k").status_code == 201
    other = _post(client, url(), NEW | {"title": "Lain"}, "k")
    assert other.status_code == 409
    assert "detail" in other.json()
    assert list(Submission.objects.values_list("title", flat=True)) == ["Perwali KTR"]


def test_an_action_sent_twice_with_its_key_is_taken_once(
    api: Any, verifier: User, submitted: Submission
) -> None:
    client = api.as_(verifier)
    first = _post(client, url(submitted, "actions"), {"action": "approve"}, "setujui-1")
    again = _post(client, url(submitted, "actions"), {"action": "approve"}, "setujui-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert TrailEvent.objects.filter(submission=submitted, action="approve").count() == 1


def test_a_refusal_is_answered_again_with_its_status(
    api: Any, operator: User, submitted: Submission
) -> None:
    client = api.as_(operator)
    first = _post(client, url(submitted, "actions"), {"action": "approve"}, "coba")
    again = _post(client, url(submitted, "actions"), {"action": "approve"}, "coba")
    assert first.status_code == again.status_code == 403
    assert again.json() == first.json()


def test_without_a_key_every_post_is_its_own(api: Any, operator: User) -> None:
    f.InstructionFactory()
    client = api.as_(operator)
    assert _post(client, url(), NEW, None).status_code == 201
    assert _post(client, url(), NEW, None).status_code == 201
    assert Submission.objects.count() == 2


def test_keys_belong_to_their_person(api: Any, operator: User, other_operator: User) -> None:
    f.InstructionFactory()
    assert _post(api.as_(operator), url(), NEW, "sama").status_code == 201
    assert _post(api.as_(other_operator), url(), NEW, "sama").status_code == 201
    assert Submission.objects.count() == 2


def test_an_upload_sent_twice_with_its_key_stores_one_file(
    api: Any, operator: User, draft: Submission
) -> None:
    client = api.as_(operator)
    before = draft.evidence.count()

    def upload() -> Any:
        body = {"file": f.pdf_upload("ulang.pdf")}
        return _post(client, url(draft, "evidence"), body, "unggah-1", format="multipart")

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert draft.evidence.count() == before + 1


@pytest.mark.parametrize("key", ["", "x" * 201, "baris\nbaru"])
def test_a_key_that_is_not_one_is_400(api: Any, operator: User, key: str) -> None:
    f.InstructionFactory()
    response = _post(api.as_(operator), url(), NEW, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Submission.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sends_of_one_key_at_the_same_moment_do_the_work_once(operator: User) -> None:
    f.InstructionFactory()
    token = f.api_token(operator)

    def send() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        status: int = _post(client, url(), NEW, "bersamaan").status_code
        return status

    assert race([send, send]) == [201, 201]
    assert Submission.objects.count() == 1
