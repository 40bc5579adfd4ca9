"""Through PgBouncer in transaction mode (``DATABASE_POOLER=transaction``, docs/scale-out.md):
a real PgBouncer in front of the test database, one server connection for two clients, so
every transaction of either lands on the one the other just used. With the pooler settings the
service, the trail's log and the ``.iterator()`` walks work; what the settings turn off
(prepared statements) and what the code must not do (a session ``SET``) visibly break."""

from __future__ import annotations

import copy
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend
from django.test import override_settings

from kla.models import Submission
from tests import factories as f
from workflows.models import TrailEvent
from workflows.services import submission_act
from workflows.trail.guard import flush_allowed
from workflows.trail.log import log_sequence
from workflows.trail.reading import trail_chain_status, verify_database

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        PGBOUNCER is None,
        reason="pgbouncer is not installed (apt-get install pgbouncer; scripts/services.sh does)",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pgbouncer() -> Iterator[int]:
    """PgBouncer in transaction mode on a free port, one server connection per database."""
    with running_pgbouncer(pool_size=1) as port:
        yield port


@contextmanager
def running_pgbouncer(*, pool_size: int) -> Iterator[int]:
    """PgBouncer in transaction mode in front of the test database's server; its port."""
    if connection.vendor != "postgresql":
        pytest.skip("PgBouncer stands in front of PostgreSQL: DATABASE_URL names none")
    real = connection.settings_dict
    port = _free_port()
    # PgBouncer will not run as root: as root it drops to nobody, who must read its files.
    folder = Path(tempfile.mkdtemp(prefix="kla-pgbouncer-"))
    folder.chmod(0o777)
    (folder / "users.txt").write_text(f'"{real["USER"]}" "{real["PASSWORD"]}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={real['HOST'] or '127.0.0.1'} port={real['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\nmax_client_conn = 20\n"
        f"default_pool_size = {pool_size}\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    command = [str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", pwd.getpwnam("nobody").pw_name]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    out = process.stdout.read() if process.stdout else b""
                    log = folder / "pgbouncer.log"
                    pytest.fail(
                        f"pgbouncer did not start: {out.decode(errors='replace')}"
                        f"{log.read_text() if log.exists() else ''}"
                    )
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def pooled(port: int) -> BaseDatabaseWrapper:
    """A connection of the test database through the pooler, as DATABASE_POOLER sets it."""
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict |= {"HOST": "127.0.0.1", "PORT": str(port), "DISABLE_SERVER_SIDE_CURSORS": True}
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "prepare_threshold": None}
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, alias="default")  # type: ignore[no-any-return]


@contextmanager
def on(wrapper: BaseDatabaseWrapper) -> Iterator[None]:
    """Let the code under test use this connection as ``default`` for a while."""
    real = connections["default"]
    connections["default"] = wrapper
    try:
        yield
    finally:
        connections["default"] = real


@override_settings(DATABASE_PREPARED_STATEMENTS=False)  # as DATABASE_POOLER=transaction sets it
def test_the_service_the_log_and_iterator_walks_through_the_pooler(
    pgbouncer: int, operator: Any, people: dict[str, Any]
) -> None:
    drafts = [f.make_draft(operator, title=f"Perwali {n}") for n in range(3)]
    first, second = pooled(pgbouncer), pooled(pgbouncer)
    try:
        with on(first):
            walk = Submission.objects.order_by("pk").iterator(chunk_size=1)
            assert next(walk).pk == drafts[0].pk
        for draft in drafts:
            # Between two rows of the first client's walk, the other's transactions, on the
            # same server connection.
            with on(second):
                submission_act(user=operator, submission_id=draft.pk, action="submit")
                assert log_sequence() >= 1  # under pg_advisory_xact_lock: transaction-scoped
            with on(first):
                status = trail_chain_status(stream=f"submission:{draft.pk}")
                assert status.intact and status.events >= 2
                submission_act(user=people["verifier"], submission_id=draft.pk, action="approve")
        with on(first):
            assert [s.pk for s in walk] == [d.pk for d in drafts[1:]]
            assert {s.state for s in Submission.objects.iterator(chunk_size=1)} == {"verified"}
        with on(second):
            _checker, breaks = verify_database()
            assert breaks == []
            assert TrailEvent.objects.filter(action="approve").count() == 3
    finally:
        first.close()
        second.close()


def test_what_transaction_mode_breaks(pgbouncer: int) -> None:
    """A session setting leaks to the next client of the server connection, which is why the
    trail's flush switch is refused there; a server-side cursor is lost between transactions;
    prepared statements collide unless turned off."""
    name = connection.settings_dict["NAME"]
    params: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": pgbouncer,
        "dbname": name,
        "user": connection.settings_dict["USER"],
        "autocommit": True,
    }
    with psycopg.connect(**params) as a, psycopg.connect(**params) as b:
        a.execute("SET kla.trail_flush = 'on'")
        leaked = b.execute("SELECT current_setting('kla.trail_flush', true)").fetchone()
        assert leaked == ("on",)  # b never set it
        a.execute("RESET kla.trail_flush")
    wrapper = pooled(pgbouncer)
    with pytest.raises(RuntimeError, match="transaction-mode pooler"), flush_allowed(wrapper):
        pass  # pragma: no cover
    wrapper.close()

    # A cursor declared WITH HOLD (what ``.iterator()`` does outside a transaction with
    # server-side cursors on) stays on the server connection it was declared on; the next FETCH
    # goes to whichever is free.
    with running_pgbouncer(pool_size=2) as port:
        two = params | {"port": port}
        with psycopg.connect(**two) as a, psycopg.connect(**two) as b:
            a.execute("DECLARE walk NO SCROLL CURSOR WITH HOLD FOR SELECT generate_series(1, 3)")
            b.execute("BEGIN")  # b now holds the server connection a declared on
            b.execute("SELECT 1")
            with pytest.raises(psycopg.errors.InvalidCursorName):
                a.execute("FETCH 1 FROM walk")
            b.execute("ROLLBACK")

    always = params | {"prepare_threshold": 0}
    with psycopg.connect(**always) as a, psycopg.connect(**always) as b:
        a.execute("SELECT 1")
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            b.execute("SELECT 1")  # same name, same server connection
    never = params | {"prepare_threshold": None}
    with psycopg.connect(**never) as a, psycopg.connect(**never) as b:
        for _ in range(10):
            assert a.execute("SELECT 1").fetchone() == b.execute("SELECT 1").fetchone()
