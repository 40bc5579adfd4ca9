"""The settings fail closed: no SECRET_KEY of its own, no start, unless it is the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "a-secret-of-this-deployment-only-7Gq2vX9kLmP4sR8tW1yZ3bN6cD0fH5jK",
    "ALLOWED_HOSTS": "kla.example.go.id",
    "DATABASE_URL": "postgres://kla:kla@127.0.0.1:5432/kla",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS > 0)"
)


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KLA_DEMO", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"  # the test runner's, never a deployment's
    }
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "kla.settings", **env},
        timeout=120,
        check=False,
    )


def test_without_a_secret_key_of_its_own_it_refuses_to_start() -> None:
    result = _run("-c", PROBE)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_makemigrations_alone_runs_without_a_key_and_serving_still_refuses() -> None:
    """Checking models against migrations needs no environment; everything else does."""
    checked = _run("manage.py", "makemigrations", "--check", "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert "No changes detected" in checked.stdout
    refused = _run("manage.py", "check")
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr


def test_the_demo_runs_on_plain_http_with_its_own_key() -> None:
    result = _run("-c", PROBE, KLA_DEMO="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "False"]


def test_production_is_https_only() -> None:
    result = _run("-c", PROBE, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True"]


@pytest.mark.parametrize("value", ["yes", "1", "benar", "on"])
def test_a_boolean_it_does_not_understand_stops_the_start(value: str) -> None:
    result = _run("-c", PROBE, KLA_DEMO="1", DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_check_deploy_is_clean_with_the_production_settings() -> None:
    result = _run(
        str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SESSION_IDLE_MINUTES": "10"}, "SESSION_IDLE_MINUTES must be at least 30"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or text"),
    ],
)
def test_a_session_shorter_than_a_form_or_an_unknown_log_format_stops_the_start(
    env: dict[str, str], words: str
) -> None:
    result = _run("-c", PROBE, KLA_DEMO="1", **env)
    assert result.returncode != 0
    assert words in result.stderr


# --- several processes (docs/scale-out.md) ----------------------------------------------------

DATABASE_PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps({'cursors': d.get('DISABLE_SERVER_SIDE_CURSORS',"
    " False), 'options': d['OPTIONS'], 'age': d['CONN_MAX_AGE'], "
    "'checks': d['CONN_HEALTH_CHECKS'], 'prepared': s.DATABASE_PREPARED_STATEMENTS}))"
)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_transaction_mode_pooler_turns_off_server_side_cursors_and_prepared_statements() -> None:
    pooled = _json(_run("-c", DATABASE_PROBE, DATABASE_POOLER="transaction", **PRODUCTION))
    assert pooled["cursors"] is True
    assert (
        "prepare_threshold" in pooled["options"] and pooled["options"]["prepare_threshold"] is None
    )
    assert pooled["prepared"] is False  # the compiled statements are not prepared either
    assert (pooled["age"], pooled["checks"]) == (60, True)  # persistent, checked: to the pooler
    direct = _json(_run("-c", DATABASE_PROBE, **PRODUCTION))
    assert direct["cursors"] is False
    # Directly, the compiled statements run prepared (Django's own cursors never prepare).
    assert direct["prepared"] is True and direct["options"]["prepare_threshold"] == 5
    session = _json(_run("-c", DATABASE_PROBE, DATABASE_POOLER="session", **PRODUCTION))
    assert session == direct
    # A pooler that carries prepared statements over (PgBouncer 1.21 and newer) may have them.
    carried = _json(
        _run(
            "-c",
            DATABASE_PROBE,
            DATABASE_POOLER="transaction",
            DATABASE_PREPARED_STATEMENTS="true",
            **PRODUCTION,
        )
    )
    assert carried["prepared"] is True and carried["options"]["prepare_threshold"] == 5


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DATABASE_POOLER": "statement"}, "DATABASE_POOLER must be transaction or session"),
        ({"DATABASE_POOLER": "transaction", "DATABASE_URL": ""}, "needs a PostgreSQL"),
        ({"BEAT_LOCK_SECONDS": "1"}, "BEAT_LOCK_SECONDS must be at least 3"),
    ],
)
def test_a_pooler_it_does_not_know_or_a_pooler_without_postgres_stops_the_start(
    env: dict[str, str], words: str
) -> None:
    result = _run("-c", PROBE, KLA_DEMO="1", **env)
    assert result.returncode != 0
    assert words in result.stderr


STORAGE_PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps(s.STORAGES['default']))"
)
S3 = {
    "STORAGE_S3_BUCKET": "kla-bukti",
    "STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "STORAGE_S3_ACCESS_KEY_ID": "kla",
    "STORAGE_S3_SECRET_ACCESS_KEY": "rahasia-penyimpanan",
    "STORAGE_S3_REGION": "ap-southeast-3",
}


def test_the_local_folder_by_default_and_the_bucket_when_one_is_named() -> None:
    local = _json(_run("-c", STORAGE_PROBE, KLA_DEMO="1"))
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert local["OPTIONS"]["location"].endswith("evidence")
    bucket = _json(_run("-c", STORAGE_PROBE, KLA_DEMO="1", **S3))
    assert bucket["BACKEND"] == "storages.backends.s3.S3Storage"
    assert bucket["OPTIONS"] | {"location": ""} == {
        "bucket_name": "kla-bukti",
        "endpoint_url": "http://127.0.0.1:9000",
        "access_key": "kla",
        "secret_key": "rahasia-penyimpanan",
        "region_name": "ap-southeast-3",
        "location": "",
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        "addressing_style": "path",
    }
