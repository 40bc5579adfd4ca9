"""Shared fixtures: the people of every rights test, on PostgreSQL and Redis.

The cast follows healthchecks' Alice, Bob and Charlie: for every page and endpoint a test
covers the person allowed to act, the person who may look but not act, and the outsider.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from kla.celery import app as celery_app
from roles.roles import Role
from workflows.trail.note import Signer

from . import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Test runners flush between transactional tests; a deployment never sets this.
os.environ.setdefault("TRAIL_FLUSH_ALLOWED", "1")


@pytest.fixture(scope="session")
def trail_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signing key for the session's checkpoints (``trail_keygen``'s format)."""
    path = tmp_path_factory.mktemp("trail-key") / "trail-signing.key"
    path.write_text(Signer.generate(django_settings.TRAIL_ORIGIN).serialise(), encoding="ascii")
    return path


@pytest.fixture(autouse=True)
def _trail_key(settings: Any, tmp_path: Any, trail_key_file: Path) -> None:
    """Checkpoints are signed with the session's key and written into the test's folder."""
    settings.TRAIL_SIGNING_KEY_FILE = trail_key_file
    settings.TRAIL_CHECKPOINT_DIR = tmp_path / "checkpoints"


@pytest.fixture(autouse=True)
def _eager_celery(settings: Any, tmp_path: Any) -> Any:
    """Tasks run inline unless a test starts a real worker; evidence goes to a temp folder."""
    celery_app.conf.task_always_eager = True
    # A fast hasher: the real one costs a third of a second per test user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        },
    }
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache: the sign-in and reset throttles count in it."""
    cache.clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Reference data, committed once for the session: the 24 indicators, which no test varies.

    The instruction and the bodies stay each test's own: tests vary them (no current
    instruction, another deadline, the bodies of a matrix).
    """
    with django_db_blocker.unblock():
        f.load_reference_data()


def _flushes(item: pytest.Item) -> bool:
    """A transactional test empties every table when it ends."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a transactional test's flush, the reference data is committed again."""
    yield
    # After the last test the session's database is gone (nextitem None): nothing to reload.
    if nextitem is not None and _flushes(item) and blocking_manager_key in item.config.stash:
        with item.config.stash[blocking_manager_key].unblock():
            f.load_reference_data()


@pytest.fixture
def instruction(db: Any) -> Any:
    """Instruksi 2/2026, current, addressed to every body made before or after it."""
    return f.InstructionFactory()


@pytest.fixture
def body(db: Any) -> Any:
    return f.BodyFactory(code="dinkes", name="Dinas Kesehatan")


@pytest.fixture
def other_body(db: Any) -> Any:
    return f.BodyFactory(code="dinsos", name="Dinas Sosial")


@pytest.fixture
def operator(body: Any) -> Any:
    """Alice: operator of the submission's body."""
    return f.make_operator(body, "op-dinkes")


@pytest.fixture
def other_operator(other_body: Any) -> Any:
    """Charlie: an operator of another body, an outsider to the submission."""
    return f.make_operator(other_body, "op-dinsos")


@pytest.fixture
def verifier(db: Any) -> Any:
    return f.make_role(Role.VERIFIER, "verifikator")


@pytest.fixture
def verifier2(db: Any) -> Any:
    return f.make_role(Role.VERIFIER, "verifikator2")


@pytest.fixture
def consolidator(db: Any) -> Any:
    return f.make_role(Role.CONSOLIDATOR, "bapperida")


@pytest.fixture
def auditor(db: Any) -> Any:
    return f.make_role(Role.AUDITOR, "inspektorat")


@pytest.fixture
def outsider(db: Any) -> Any:
    """Somebody with an account and no role at all."""
    return f.UserFactory(username="warga")


@pytest.fixture
def superuser(db: Any) -> Any:
    user = f.UserFactory(username="root-admin")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def people(operator: Any, verifier: Any, consolidator: Any, auditor: Any) -> dict[str, Any]:
    return {
        "operator": operator,
        "verifier": verifier,
        "consolidator": consolidator,
        "auditor": auditor,
    }


@pytest.fixture
def draft(operator: Any) -> Any:
    return f.make_draft(operator)


@pytest.fixture
def submitted(draft: Any, people: dict[str, Any]) -> Any:
    return f.advance(draft, "submitted", **people)


@pytest.fixture
def api() -> Any:
    """An API client; ``api.as_(user)`` authenticates it with the user's token."""
    client = APIClient()

    def as_(user: Any) -> APIClient:
        client.credentials(HTTP_AUTHORIZATION=f"Token {f.api_token(user)}")
        return client

    client.as_ = as_  # type: ignore[attr-defined]
    return client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
