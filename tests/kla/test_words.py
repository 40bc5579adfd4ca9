"""Words people read (DESIGN, "Words"): one date style with "WIB" on every time, no field
name said twice, the admin's object-permission pages in Indonesian, English through the
switch."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from kla.models import Body
from kla.time import WIB, long_date, long_moment
from kla.web.templatetags.kla_time import tanggal, waktu

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# What a template may still hand to Django's |date: a machine format (``datetime=`` attributes).
MACHINE_FORMATS = {"c", "Y-m-d", "U"}


def test_dates_and_times_read_one_way_in_wib() -> None:
    moment = dt.datetime(2026, 3, 31, 17, 5, 9, tzinfo=dt.UTC)  # 00:05 WIB on 1 April
    with translation.override("id"):
        assert long_date(dt.date(2026, 3, 17)) == "17 Maret 2026"
        assert long_date(moment) == "1 April 2026"  # the WIB day, not UTC's
        assert long_moment(moment) == "1 April 2026 00:05 WIB"
        assert waktu(moment, "detik") == "1 April 2026 00:05:09 WIB"
        assert tanggal(dt.date(2026, 3, 17), "hari") == "Selasa, 17 Maret 2026"
        assert waktu(None) == "" and tanggal(None) == ""
    with translation.override("en"):
        assert long_moment(moment.astimezone(WIB)) == "1 April 2026 00:05 WIB"
        assert tanggal(dt.date(2026, 3, 17), "hari") == "Tuesday, 17 March 2026"


def test_no_template_writes_a_date_its_own_way() -> None:
    strays = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for fmt in re.findall(r"\|date:[\"']([^\"']*)[\"']", text):
            if fmt not in MACHINE_FORMATS:
                strays.append(f"{path.relative_to(TEMPLATES)}: |date:{fmt!r}")
        if "WIB WIB" in text or re.search(r"\|waktu[^}]*}}\s*WIB", text):
            strays.append(f"{path.relative_to(TEMPLATES)}: WIB said twice")
    assert strays == [], "use |tanggal or |waktu (kla_time): " + "; ".join(strays)


@pytest.mark.django_db
def test_a_wrong_password_says_the_field_once(client: Client) -> None:
    User.objects.create_user("op-dinkes", password="benar-sekali-2026")
    page = client.post(
        "/masuk/", {"username": "op-dinkes", "password": "salah"}, HTTP_ACCEPT_LANGUAGE="id"
    ).content.decode()
    assert "Masukkan nama pengguna dan sandi yang benar" in page
    assert "nama pengguna nama pengguna" not in page


@pytest.mark.django_db
def test_guardians_admin_pages_are_in_indonesian(
    client: Client, superuser: User, body: Body, verifier: Any
) -> None:
    client.force_login(superuser)
    base = f"/admin/kla/body/{body.pk}/permissions/"
    page = client.get(base, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Izin per objek" in page and "Izin pengguna" in page and "Kelola grup" in page
    for english in ("Object permissions", "User permissions", "Manage user", "Group permissions"):
        assert english not in page
    user_page = client.get(
        f"{base}user-manage/{verifier.pk}/", HTTP_ACCEPT_LANGUAGE="id"
    ).content.decode()
    assert "Simpan" in user_page and "Object permissions" not in user_page
