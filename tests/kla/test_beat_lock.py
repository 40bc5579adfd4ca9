"""One beat at a time: a second beat stands by (or refuses) while the first holds the lock, and
takes over once the holder is gone, however it went."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from kla.beat import FileBeatLock, RedisBeatLock, hold

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_file_lock_is_refused_until_the_first_is_released(tmp_path: Path) -> None:
    first, second = FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")
    assert first.acquire()
    assert not second.acquire()
    assert second.current() == first.holder
    first.release()
    assert second.acquire()
    second.release()


def test_a_beat_that_may_not_stand_by_says_who_holds_the_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")
    assert first.acquire()
    with caplog.at_level(logging.WARNING, logger="kla.beat"):
        assert not hold(second, standby=False)
    assert f"another beat ({first.holder}) holds the lock; this one does not start" in caplog.text
    first.release()


def test_a_lock_that_cannot_be_asked_counts_as_held(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = RedisBeatLock(f"redis://127.0.0.1:{port}/0", seconds=3)
    with caplog.at_level(logging.WARNING, logger="kla.beat"):
        assert not hold(unreachable, standby=False)
    assert "could not ask for the lock" in caplog.text
    assert "another beat (unknown) holds the lock; this one does not start" in caplog.text


def _beat(var: Path, name: str) -> subprocess.Popen[bytes]:
    """A real ``celery beat`` on the demo's settings (no Redis: the file lock), its output in
    ``<name>.log``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env |= {"KLA_DEMO": "1", "KLA_VAR_DIR": str(var), "LOG_FORMAT": "text"}
    with (var / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kla",
                "beat",
                "--loglevel=INFO",
                f"--schedule={var / name}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait_for(var: Path, name: str, words: str, seconds: float = 30) -> None:
    """Until the beat's log says ``words``."""
    deadline = time.monotonic() + seconds
    seen = ""
    while time.monotonic() < deadline:
        seen = (var / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        if words in seen:
            return
        time.sleep(0.1)
    raise AssertionError(f"no {words!r} in {name}'s log:\n{seen}")


def test_a_second_real_beat_stands_by_and_takes_over_when_the_first_is_killed(
    tmp_path: Path,
) -> None:
    first = _beat(tmp_path, "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(tmp_path, "first", "holds the lock; this beat schedules")
        second = _beat(tmp_path, "second")
        _wait_for(tmp_path, "second", "holds the lock; standing by until it stops")
        time.sleep(1.5)
        assert second.poll() is None  # still waiting, not scheduling
        first.send_signal(signal.SIGKILL)  # no clean-up at all: the system drops the flock
        first.wait(10)
        _wait_for(tmp_path, "second", "the other beat is gone;")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.mark.postgres
def test_the_redis_lock_is_refused_while_held_renewed_and_expires_when_its_holder_dies() -> None:
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the Redis beat lock needs a Redis server")
    key = f"kla:test:beat:{uuid.uuid4().hex}"
    first = RedisBeatLock(settings.REDIS_URL, seconds=3, key=key)
    second = RedisBeatLock(settings.REDIS_URL, seconds=3, key=key)
    try:
        assert first.acquire()
        assert not second.acquire()
        assert second.current() == first.holder
        time.sleep(3.5)  # past the expiry: the holder's thread renewed it
        assert not second.acquire()
        assert first._renewer is not None and first._renewer.is_alive()
        first._stop.set()  # the holder dies: nobody renews
        first._renewer.join(5)
        deadline = time.monotonic() + 5
        while not second.acquire():
            assert time.monotonic() < deadline, "the dead holder's lock never expired"
            time.sleep(0.2)
        second._stop.set()  # the test, not a beat: no renewer that could stop the runner
        assert not first.renew()  # the first, were it to wake up, knows it lost the lock
    finally:
        first._stop.set()
        second._stop.set()
        first.client.delete(key)
