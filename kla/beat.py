"""One beat at a time: the lock a ``celery beat`` takes before it schedules anything.

Two beats would send every periodic task twice. Each beat takes the lock as it starts
(Celery's ``beat_init`` signal, wired in ``kla.celery``); one that finds it held stands by,
saying so, and takes over when the holder is gone. With Redis (``REDIS_URL``) the lock is a
key set with ``SET NX PX`` and renewed by a thread of the holder: a beat that dies stops
renewing and the key expires after ``BEAT_LOCK_SECONDS``; one that finds its key taken (it
was paused past the expiry) stops itself. Without Redis (the embedded demo, one machine) it
is an exclusive ``flock`` on a file in ``KLA_VAR_DIR``, which the system lets go of when the
process ends, however it ends.

Not a PostgreSQL advisory lock: a session lock would not survive PgBouncer's transaction
mode (docs/scale-out.md).
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "kla:beat:lock"
POLL_SECONDS = 1.0

# Extend the key only while it is still ours; delete it only while it is still ours.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLock(Protocol):
    holder: str

    def acquire(self) -> bool:
        """Take the lock if it is free; ``False`` when another beat holds it."""
        ...

    def release(self) -> None: ...


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RedisBeatLock:
    """The lock as a Redis key with an expiry, renewed by the holder every third of it."""

    def __init__(self, url: str, *, seconds: int, key: str = KEY) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.key = key
        self.ttl_ms = seconds * 1000
        self.holder = _holder()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = threading.Event()

    def acquire(self) -> bool:
        if not self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            return False
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="beat-lock", daemon=True)
        self._renewer.start()
        return True

    def current(self) -> str | None:
        """Who holds the lock now, if anyone."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else None

    def renew(self) -> bool:
        """Extend the lock while it is ours; ``False`` when it is not any more."""
        return bool(self.client.eval(RENEW, 1, self.key, self.holder, self.ttl_ms))

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if self.renew():
                    continue
            except Exception:  # Redis away for a moment: try again, the key outlives it
                logger.warning("beat lock: could not renew, trying again", exc_info=True)
                continue
            logger.error("beat lock: %s lost the lock to another beat; stopping", self.holder)
            self.lost.set()
            os.kill(os.getpid(), signal.SIGTERM)
            return

    def release(self) -> None:
        self._stop.set()
        try:
            self.client.eval(RELEASE, 1, self.key, self.holder)
        except Exception:  # pragma: no cover - it expires by itself
            logger.warning("beat lock: could not release; it expires by itself", exc_info=True)


class FileBeatLock:
    """The lock as an exclusive ``flock`` on a file: one machine only (the demo)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.holder = _holder()
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(self.holder + "\n")
        handle.flush()
        self._handle = handle
        return True

    def current(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def beat_lock() -> RedisBeatLock | FileBeatLock:
    """The lock of this deployment: Redis when it has one, else a file of this machine."""
    if settings.REDIS_URL:
        return RedisBeatLock(settings.REDIS_URL, seconds=settings.BEAT_LOCK_SECONDS)
    return FileBeatLock(Path(settings.VAR_DIR) / "beat.lock")


def _try(lock: RedisBeatLock | FileBeatLock) -> bool:
    try:
        return lock.acquire()
    except Exception:
        logger.warning("beat lock: could not ask for the lock; trying again", exc_info=True)
        return False


def hold(lock: RedisBeatLock | FileBeatLock, *, standby: bool = True) -> bool:
    """Take the lock, standing by until it is free (or, ``standby=False``, giving up at once).

    Says once that it stands by and whom for, and when it takes over. A lock that cannot be
    asked (Redis unreachable) counts as held: no beat schedules without it.
    """
    if _try(lock):
        logger.info("beat lock: %s holds the lock; this beat schedules", lock.holder)
        return True
    try:
        holder = lock.current() or "unknown"
    except Exception:
        holder = "unknown"
    logger.warning(
        "beat lock: another beat (%s) holds the lock; %s",
        holder,
        "standing by until it stops" if standby else "this one does not start",
    )
    if not standby:
        return False
    while not _try(lock):
        time.sleep(POLL_SECONDS)
    logger.warning("beat lock: the other beat is gone; %s takes over", lock.holder)
    return True


def on_beat_init(sender: Any = None, **kwargs: Any) -> None:
    """``beat_init``: hold the lock for the beat's lifetime, or stop (``BEAT_LOCK_STANDBY``).

    Celery logs and swallows a receiver's ``Exception``: only ``SystemExit`` stops the beat, so
    nothing here may fail but by raising it.
    """
    if not settings.BEAT_LOCK:
        return
    try:
        lock = beat_lock()
    except Exception:
        logger.critical("beat lock: no lock could be made; this beat does not start", exc_info=True)
        raise SystemExit(1) from None
    if not hold(lock, standby=settings.BEAT_LOCK_STANDBY):
        raise SystemExit(1)
    atexit.register(lock.release)
