"""The API's contract where it slipped (OWASP ASVS L2 review): OPTIONS never a 500 on any
route, a body too large is 413 in JSON (never an HTML page), a download is named with the
extension of what the file is."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kla.evidence import download_name
from kla.models import Submission
from tests import factories as f

from .conftest import url

pytestmark = pytest.mark.django_db


def _api_routes() -> list[str]:
    api = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/"
    )
    routes = []
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        routes.append("/api/v1/" + re.sub(r"<[^>]+>", "1", str(pattern.pattern)))
    return routes


ROUTES = _api_routes()


def test_every_api_route_is_listed() -> None:
    assert len(ROUTES) > 30 and "/api/v1/notifications/read/" in ROUTES


@pytest.mark.parametrize("route", ROUTES)
def test_options_is_never_a_server_error(
    api: Any, operator: Any, draft: Submission, route: str
) -> None:
    signed_in = api.as_(operator).options(route)
    assert signed_in.status_code < 500, (route, signed_in.content[:300])
    api.credentials()
    anonymous = api.options(route)
    assert anonymous.status_code < 500, route


def test_a_json_body_too_large_is_413_in_json_and_changes_nothing(
    api: Any, operator: Any, draft: Submission, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = '{"title": "' + "x" * 200_000 + '"}'
    for method, path in (("PATCH", url(draft)), ("POST", url(draft, "actions"))):
        response = api.as_(operator).generic(
            method, path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert "97 KB" in response.json()["detail"]
    assert Submission.objects.get(pk=draft.pk).title == draft.title


@pytest.mark.parametrize(
    ("name", "content_type", "served"),
    [
        ("x.html", "application/pdf", "x.pdf"),
        ("laporan.PDF", "application/pdf", "laporan.PDF"),
        ("foto.jpeg", "image/jpeg", "foto.jpeg"),
        ("foto", "image/png", "foto.png"),
        (".htaccess", "application/pdf", ".htaccess.pdf"),
        ("rekap.xlsx.exe", "application/vnd.ms-excel", "rekap.xlsx.xls"),
    ],
)
def test_a_download_has_the_extension_of_what_it_is(
    name: str, content_type: str, served: str
) -> None:
    assert download_name(name, content_type) == served


def test_a_pdf_uploaded_as_html_is_downloaded_as_pdf(api: Any, operator: Any) -> None:
    draft = f.make_draft(operator, with_evidence=False)
    uploaded = api.as_(operator).post(
        url(draft, "evidence"), {"file": f.pdf_upload("x.html")}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    response = api.as_(operator).get(url(draft, "evidence", uploaded.json()["id"]))
    assert response.status_code == 200
    assert 'filename="x.pdf"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]


def test_a_token_is_never_kept_to_be_answered_again(api: Any, operator: Any) -> None:
    from kla.models import IdempotentRequest

    operator.set_password("sandi-yang-cukup-panjang")
    operator.save()
    client = api.as_(operator)
    response = client.post(
        "/api/v1/auth/token/",
        {"username": operator.get_username(), "password": "sandi-yang-cukup-panjang"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="masuk-1",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert not any(
        token.encode() in bytes(row.body or b"") for row in IdempotentRequest.objects.all()
    )
